// Preloaded into `arc` by the end-to-end tests (NODE_OPTIONS=--import): records every AWS SDK
// module the process resolves, whether by import or require, and writes the list on exit to
// the file named by ARC_E2E_MODULE_TRACE. Architect itself uses aws-lite, never the AWS SDK,
// so any @aws-sdk/ or @smithy/ module in the list was loaded by the plugin; so was the plugin's
// own bundle of the SDK (dist/plugin/sts-sdk.cjs, scripts/bundle-sdk.ts), which the list names
// as `arc-plugin-gitlab-oidc/dist/plugin/sts-sdk.cjs`.
//
// It also records, as `import node:<name>` lines, every builtin the plugin's own modules take
// with an ES import (the `import` condition), as opposed to `require`: src/shared/builtins.ts
// says why some of them must be required.
import { registerHooks } from 'node:module'
import { writeFileSync } from 'node:fs'

const SDK = /[\\/]node_modules[\\/](@(aws-sdk|smithy)[\\/]|arc-plugin-gitlab-oidc[\\/]dist[\\/]plugin[\\/]sts-sdk\.cjs$)/
// The plugin's modules a deploy loads: all but the CLI's.
const PLUGIN = /[\\/]node_modules[\\/]arc-plugin-gitlab-oidc[\\/]dist[\\/](?!cli[\\/])/
const seen = new Set()
registerHooks({
  resolve (specifier, context, nextResolve) {
    const result = nextResolve(specifier, context)
    if (SDK.test(result.url)) seen.add(result.url.replace(/^.*node_modules[\\/]/, ''))
    if (result.url.startsWith('node:') && context.conditions?.includes('import') && PLUGIN.test(context.parentURL ?? '')) seen.add(`import ${result.url}`)
    return result
  },
})
process.on('exit', () => {
  if (process.env.ARC_E2E_MODULE_TRACE) writeFileSync(process.env.ARC_E2E_MODULE_TRACE, [...seen].join('\n'))
})
