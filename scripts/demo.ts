/**
 * `npm run demo`: a simulated GitLab job deploys example-app with the real `arc` CLI.
 *
 * 1. Build and `npm pack` the plugin, install it next to @architect/architect 12 in a temporary
 *    copy of example-app (offline, from npm's cache), exactly as a user's `npm ci` would.
 * 2. Start the loopback stand-ins: a GitLab OIDC issuer, and AWS in example-app's layout, one
 *    account per stage (STS verifying the token against the role's account's OIDC provider and the
 *    role's trust policy; SSM, S3, CloudFormation checking every call's signature).
 * 3. Run `arc deploy --production` in a job on the default branch, with no AWS keys.
 * 4. Show what AWS saw and the report GitLab reads the app's URL from; then the same job from an
 *    unrelated branch, which AWS refuses.
 *
 *   npm run demo                       production deploy from main, then a refused feature-branch deploy
 *   npm run demo -- --stage staging    a staging deploy from a feature branch
 *   npm run demo -- --node node24      run arc on Node 24
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { installApp, installBase, packPlugin, runArc } from '../test/support/harness.ts'
import { startStandIns } from '../test/support/standins.ts'

const { values } = parseArgs({
  options: {
    stage: { type: 'string', default: 'production' },
    node: { type: 'string', default: 'node22' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log('Usage: npm run demo [-- --stage production|staging] [--node node22|node24]')
  process.exit(0)
}
const production = values.stage !== 'staging'
const node = values.node === 'node24' ? 'node24' : 'node22'

const rule = (title: string) => console.log(`\n\x1b[1m── ${title} ${'─'.repeat(Math.max(0, 72 - title.length))}\x1b[0m`)

rule('Packing the plugin and installing it in a copy of example-app')
const tarball = await packPlugin()
// The install step: npm may fetch package metadata that a lockfile `npm install` left out of its cache.
await installBase(tarball, { online: true })
const app = await installApp({ tarball })
console.log(`app: ${app.dir}`)
const s = await startStandIns()
let exitCode = 0
try {
  console.log(`GitLab issuer (loopback): ${s.gitlab.issuer}`)
  console.log(`AWS endpoint (loopback):  ${s.aws.endpoint}`)
  console.log(`IAM roles (one AWS account per stage, as example-app's app.arc names them):`)
  console.log(`  production (account ${s.accounts.production}): ${s.roles.production}`)
  console.log(`  staging    (account ${s.accounts.staging}): ${s.roles.staging}`)

  const job = production ? s.job() : s.job({ ref: 'feature/login', ref_protected: 'false', environment: 'staging' })
  const args = production ? ['deploy', '--production'] : ['deploy']
  rule(`GitLab job on ${job.claims.ref_type} ${job.claims.ref}: arc ${args.join(' ')} (no AWS keys in the job)`)
  // The role ARNs in example-app's app.arc are the stand-ins' (production 111111111111, staging 222222222222).
  const r = await runArc(app.dir, args, { env: job.env, endpoint: s.aws.endpoint, node })
  process.stdout.write(r.stdout + r.stderr)
  console.log(`exit code ${r.code} in ${r.durationMs} ms`)
  if (r.code !== 0) exitCode = 1

  rule('What AWS saw')
  const sts = s.aws.stsCalls()
  for (const c of sts) console.log(`sts:${c.action} role=${c.assume?.roleArn} session=${c.assume?.sessionName} duration=${c.assume?.durationSeconds}s → ${c.status}`)
  const session = s.aws.sessions.at(-1)
  if (session) console.log(`assumed: ${session.assumedRoleArn}`)
  const counts = new Map<string, number>()
  for (const c of s.aws.awsCalls()) counts.set(`${c.service}:${c.action}`, (counts.get(`${c.service}:${c.action}`) ?? 0) + 1)
  for (const [name, n] of counts) console.log(`${name}${n > 1 ? ` × ${n}` : ''}`)
  const signedBySession = s.aws.awsCalls().every(c => session && c.accessKeyId === session.accessKeyId && c.sessionToken)
  console.log(`\n${s.aws.awsCalls().length} AWS calls, ${signedBySession ? 'all' : 'NOT all'} signed with the key and session token STS issued to ${session?.sessionName ?? '?'}`)
  console.log(`stacks: ${s.aws.stacks.join(', ') || '(none)'}`)

  rule('What GitLab learns: the dotenv report (artifacts: reports: dotenv:, environment: url: $ARC_DEPLOY_URL)')
  const report = join(app.dir, 'arc-deploy.env')
  console.log(existsSync(report) ? readFileSync(report, 'utf8').trimEnd() : '(no report was written)')

  if (production) {
    rule('The same deploy from an unrelated protected branch: AWS refuses, the plugin explains')
    const other = s.job({ ref: 'release-candidate', ref_protected: 'true' })
    const before = s.aws.awsCalls().length
    const denied = await runArc(app.dir, ['deploy', '--production'], { env: other.env, endpoint: s.aws.endpoint, node })
    process.stdout.write(denied.stdout + denied.stderr)
    console.log(`exit code ${denied.code}; AWS calls made by Architect: ${s.aws.awsCalls().length - before}`)
  }
}
finally {
  await s.close()
  app.remove()
}
process.exit(exitCode)
