/**
 * 3. The whole command: `arc deploy --production --dry-run` of example-app with the real arc
 * CLI (Architect 12), the way a job runs it. A dry run still does everything that needs AWS
 * credentials (Inventory reads SSM, deploy creates its aws-lite client, reads CloudFormation);
 * it only skips the stack update.
 *
 *  - job: a simulated GitLab job with an ID token and no AWS keys; the plugin exchanges while
 *    Architect loads it, then confirms the stage at deploy.start.
 *  - keys: the same app, same install, same manifest, but a shell without GITLAB_CI that
 *    already has credentials (AWS_ACCESS_KEY_ID/SECRET/SESSION_TOKEN of a session the stand-in
 *    STS issued): the plugin is loaded but stays idle. This is the cost of the deploy itself.
 *
 * Alternating, N runs each; every run is checked (exit 0; one STS call in the job, none with
 * keys; every AWS call signed by an STS session), so a failure cannot pass for a fast run.
 */
import { runArc, stripAnsi } from '../../test/support/harness.ts'
import { verdict, type Context, type Row } from './context.ts'
import { describe, interleave, median, progress, progressDone, seconds } from './util.ts'

// Issue 23: under 1.07 (it was 1.1 before).
const TARGET_RATIO = 1.07
const ARGS = ['deploy', '--production', '--dry-run']
const AUTH_ERRORS = ['AccessDenied', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'ExpiredToken']

export async function benchDeploy (ctx: Context, runs: number): Promise<Row[]> {
  const { s } = ctx
  const endpoint = s.aws.endpoint

  // Credentials for the `keys` runs: a session the stand-in's STS issues to a job's token.
  const issue = ctx.jobEnv()
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: s.roles.production, RoleSessionName: 'bench-keys', WebIdentityToken: issue.token }),
  })
  if (res.status !== 200) throw new Error(`STS stand-in refused the token for the keys runs: ${await res.text()}`)
  const session = s.aws.sessions.at(-1)!
  const keys = {
    AWS_ACCESS_KEY_ID: session.accessKeyId, AWS_SECRET_ACCESS_KEY: session.secretAccessKey, AWS_SESSION_TOKEN: session.sessionToken,
  }

  const arc = async (kind: 'job' | 'keys'): Promise<number> => {
    const from = s.aws.calls.at(-1)?.seq ?? 0
    // runArc starts from a clean environment (no inherited AWS_* or CI variables) and adds these.
    const env = kind === 'job' ? ctx.jobEnv().env : keys
    const r = await runArc(ctx.app.dir, ARGS, { env, endpoint })
    const output = stripAnsi(r.stdout + r.stderr)
    const calls = s.aws.calls.filter(c => c.seq > from)
    const sts = calls.filter(c => c.service === 'sts')
    const others = calls.filter(c => c.service !== 'sts')
    const problems = [
      r.code !== 0 && `exit ${r.code ?? r.signal}`,
      kind === 'job' && sts.length !== 1 && `${sts.length} STS calls (expected 1)`,
      kind === 'job' && !/GitLab OIDC Assumed/.test(output) && 'no "Assumed" line',
      kind === 'keys' && sts.length !== 0 && `${sts.length} STS calls (expected none)`,
      kind === 'keys' && /GitLab OIDC/.test(output) && 'the plugin printed something',
      !others.length && 'no AWS call',
      others.some(c => c.principal !== 'session' || c.status >= 500 || AUTH_ERRORS.includes(c.errorCode ?? '')) && 'an AWS call was refused or not signed by a session',
    ].filter(Boolean)
    if (problems.length) throw new Error(`arc ${ARGS.join(' ')} (${kind}): ${problems.join('; ')}\n${output}`)
    return r.durationMs
  }

  const results = await interleave(runs, { job: () => arc('job'), keys: () => arc('keys') },
    i => progress(`3/4 arc deploy: round ${i + 1}/${runs}`))
  progressDone()
  const job = median(results.job!)
  const withKeys = median(results.keys!)
  const ratio = job / withKeys

  console.log('\n## 3. Whole command: `arc deploy --production --dry-run` (example-app, Architect 12, Node 22)')
  console.log('   alternating; job = simulated GitLab job, plugin exchanges; keys = same app, credentials already in env, plugin idle')
  console.log(`   job    ${describe(results.job!, 'ms', 0)}`)
  console.log(`   keys   ${describe(results.keys!, 'ms', 0)}`)
  console.log(`   ratio  ${ratio.toFixed(3)} (job − keys: ${(job - withKeys).toFixed(0)} ms)`)

  return [{
    measure: `3. \`arc ${ARGS.join(' ')}\`: in a job / keys in env`,
    value: `${ratio.toFixed(2)} (${seconds(job)} vs ${seconds(withKeys)}, n=${runs})`,
    target: `< ${TARGET_RATIO}`,
    result: verdict(ratio < TARGET_RATIO),
  }]
}
