// Manual proof that the AWS stand-in carries a real `arc deploy`: example-app without the
// plugin (@plugins and @gitlab-oidc removed), long-term developer keys, Architect's own CLI.
// Prints every AWS call of a dry run, a first deploy and a redeploy, with timings.
//
//   node test/support/arc-calls.ts [--node node24]
import { parseArgs } from 'node:util'
import { startAws } from './aws.ts'
import { installApp, runArc, stripAnsi } from './harness.ts'

const { values } = parseArgs({ options: { node: { type: 'string', default: 'node22' }, verbose: { type: 'boolean', default: false } } })
const aws = await startAws()
const key = aws.addDeveloperKey()
const app = await installApp({ tarball: null, stripPlugin: true })
const env = { AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey }
let failed = false
try {
  for (const args of [ [ 'deploy', '--production', '--dry-run' ], [ 'deploy', '--production' ], [ 'deploy', '--production' ] ]) {
    aws.clearCalls()
    const r = await runArc(app.dir, args, { endpoint: aws.endpoint, env, node: values.node })
    console.log(`\n$ arc ${args.join(' ')}  → exit ${r.code} in ${r.durationMs} ms (${values.node})`)
    if (values.verbose || r.code !== 0) console.log(stripAnsi(r.stdout + r.stderr))
    for (const c of aws.calls) {
      const p = Object.entries(c.params).filter(([ k ]) => k !== 'TemplateURL').map(([ k, v ]) => `${k}=${v.length > 40 ? v.slice(0, 12) + '…' : v}`).join(' ')
      console.log(`  ${`${c.service}:${c.action}`.padEnd(42)} ${c.status}${c.errorCode ? ' ' + c.errorCode : ''}  ${p}`)
    }
    failed ||= r.code !== 0
  }
  console.log(`\nStacks: ${aws.stacks.join(', ')}; buckets: ${[ ...aws.state.buckets.keys() ].join(', ')}`)
}
finally {
  await aws.close()
  app.remove()
}
process.exitCode = failed ? 1 : 0
