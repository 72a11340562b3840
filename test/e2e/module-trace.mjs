// Preloaded into `arc` by the end-to-end tests (NODE_OPTIONS=--import): records every AWS SDK
// module the process resolves, whether by import or require, and writes the list on exit to
// the file named by ARC_E2E_MODULE_TRACE. Architect itself uses aws-lite, never the AWS SDK,
// so any @aws-sdk/ or @smithy/ module in the list was loaded by the plugin.
import { registerHooks } from 'node:module'
import { writeFileSync } from 'node:fs'

const seen = new Set()
registerHooks({
  resolve (specifier, context, nextResolve) {
    const result = nextResolve(specifier, context)
    if (/[\\/]node_modules[\\/]@(aws-sdk|smithy)[\\/]/.test(result.url)) seen.add(result.url.replace(/^.*node_modules[\\/]/, ''))
    return result
  },
})
process.on('exit', () => {
  if (process.env.ARC_E2E_MODULE_TRACE) writeFileSync(process.env.ARC_E2E_MODULE_TRACE, [...seen].join('\n'))
})
