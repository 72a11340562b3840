/**
 * Issue 22 item 1, end to end: `arc-gitlab-oidc exec` from the installed package runs a real
 * command with the deploy role's credentials. The command here is a Node script that signs an STS
 * GetCallerIdentity with aws-lite (Architect's own client, from the app's install) against the
 * AWS stand-in, which checks the signature and records the key: it must be the session STS issued
 * for that very exchange. A refusal runs nothing (a marker file the command would write stays
 * absent), calls nothing and loads no AWS SDK module. The command's exit code passes through; a
 * command killed by a signal kills exec with the same signal; a signal sent to exec reaches the
 * command.
 *
 * Robust in a full-suite run: no fixed port (the stand-ins pick free ones), no sleep or timing
 * (the signal is sent once the command has said it is ready, on its stdout), every process in a
 * group of its own that the test kills in `finally`, every file under a temporary directory.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cleanEnv, installApp, nodeBinary, stripAnsi, type App } from '../support/harness.ts'
import { lastSeq, secretsOf, startSuite, stsCallsSince, awsCallsSince, type Suite } from './e2e.ts'

let suite: Suite
let app: App
const scratch = mkdtempSync(join(tmpdir(), 'arc-exec-'))
const TRACE = join(import.meta.dirname, 'module-trace.mjs')

/** The command: signs GetCallerIdentity with aws-lite and prints the caller's ARN; writes a marker first. */
const CALLER = `import { writeFileSync } from 'node:fs'
import awsLite from '@aws-lite/client'
writeFileSync(process.argv[2], 'ran')
const aws = await awsLite({ autoloadPlugins: false, region: process.env.AWS_REGION })
const r = await aws({ service: 'sts', method: 'POST', path: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: 'Action=GetCallerIdentity&Version=2011-06-15' })
const arn = /arn:aws:sts::\\d{12}:assumed-role\\/[^"<]+/.exec(JSON.stringify(r.payload))?.[0]
console.log(JSON.stringify({ arn, expiration: process.env.AWS_CREDENTIAL_EXPIRATION }))
`
/** The command for signals: says it is ready, then exits 42 on SIGTERM (it has its own handler). */
const WAITER = `process.on('SIGTERM', () => process.exit(42))
setInterval(() => {}, 1000)
console.log('ready')
`

before(async () => {
  suite = await startSuite()
  app = await installApp({ files: { 'caller.mjs': CALLER, 'waiter.mjs': WAITER } })
})
after(async () => {
  app?.remove()
  await suite?.close()
  rmSync(scratch, { recursive: true, force: true })
})

interface Exec { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, output: string }

/**
 * `npx arc-gitlab-oidc exec <args>` as a job runs it: the installed bin, a clean environment with
 * the job's variables. `onStdout` may act on the command's output as it comes (with the process).
 */
function runExec (args: string[], env: Record<string, string | undefined>, onStdout?: (text: string, pid: number) => void): Promise<Exec> {
  const node = nodeBinary(suite.node)
  const bin = join(app.dir, 'node_modules', '.bin', 'arc-gitlab-oidc')
  const child = spawn(node, [bin, 'exec', ...args], {
    cwd: app.dir, env: cleanEnv(node, { env, endpoint: suite.s.aws.endpoint }), stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  })
  let stdout = '', stderr = ''
  child.stdout.setEncoding('utf8').on('data', d => { stdout += d; onStdout?.(stdout, child.pid!) })
  child.stderr.setEncoding('utf8').on('data', d => { stderr += d })
  // A safety net, not an assertion: a hung run is ended (and fails) instead of hanging the suite.
  const guard = setTimeout(() => {
    try { process.kill(-child.pid!, 'SIGKILL') }
    catch { /* gone */ }
  }, 120_000)
  guard.unref()
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      // Whatever happened, nothing of the group outlives the test.
      try { process.kill(-child.pid!, 'SIGKILL') }
      catch { /* already gone */ }
      const output = stripAnsi(stdout + stderr)
      for (const secret of secretsOf(suite.s, env)) assert.ok(!output.includes(secret), 'no token or issued secret in exec\'s output')
      resolve({ code, signal, stdout, stderr, output })
    })
  })
}

const stagingJob = () => suite.s.job({ ref: 'fix', ref_protected: 'false', environment: 'staging' })

describe('arc-gitlab-oidc exec', () => {
  test('a real command signs with the issued session: GetCallerIdentity answers the assumed role, signed with that session\'s key', async () => {
    const { s } = suite
    const job = stagingJob()
    const marker = join(scratch, 'ran-1')
    const from = lastSeq(s)
    const r = await runExec(['--', nodeBinary(suite.node), 'caller.mjs', marker], job.env)
    assert.equal(r.code, 0, r.output)
    const sts = stsCallsSince(s, from)
    assert.deepEqual(sts.map(c => c.action), ['AssumeRoleWithWebIdentity', 'GetCallerIdentity'])
    assert.equal(sts[0]!.assume?.roleArn, s.roles.staging)
    const session = s.aws.sessions.at(-1)!
    assert.equal(sts[1]!.principal, 'session')
    assert.equal(sts[1]!.accessKeyId, session.accessKeyId, 'signed with the key STS issued')
    assert.equal(sts[1]!.sessionToken, true)
    assert.equal(sts[1]!.status, 200)
    const printed = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { arn: string, expiration: string }
    assert.match(printed.arn, /^arn:aws:sts::222222222222:assumed-role\/oidc-example-staging-deploy\//)
    assert.match(printed.expiration, /^\d{4}-\d\d-\d\dT/)
    assert.deepEqual(awsCallsSince(s, from), [], 'no other AWS call')
    assert.match(r.stderr, /GitLab OIDC Assuming arn:aws:iam::222222222222:role\/oidc-example-staging-deploy for staging/)
    assert.ok(!r.stdout.includes('GitLab OIDC'), 'exec\'s own lines go to stderr; stdout is the command\'s')
  })

  test('a refusal runs nothing, calls nothing, loads no AWS SDK module', async () => {
    const { s } = suite
    const expired = suite.s.job({ ref: 'fix', ref_protected: 'false', environment: 'staging' }, { expired: true })
    const marker = join(scratch, 'ran-2')
    const trace = join(scratch, 'modules-2.txt')
    const from = lastSeq(s)
    const r = await runExec(['--', nodeBinary(suite.node), 'caller.mjs', marker], { ...expired.env, NODE_OPTIONS: `--import=${TRACE}`, ARC_E2E_MODULE_TRACE: trace })
    assert.equal(r.code, 1, r.output)
    assert.match(r.output, /× GitLab OIDC: The ID token cannot be used: it expired at/)
    assert.match(r.output, /was not run\./)
    assert.equal(existsSync(marker), false, 'the command did not run')
    assert.equal(lastSeq(s), from, 'no AWS call at all')
    // The trace also names builtins the plugin's modules import (`import node:...` lines): not SDK modules.
    assert.deepEqual(readFileSync(trace, 'utf8').split('\n').filter(line => line && !line.startsWith('import ')), [], 'no AWS SDK module loaded')
  })

  test('the command\'s exit code passes through', async () => {
    const r = await runExec(['--', nodeBinary(suite.node), '-e', 'process.exit(42)'], stagingJob().env)
    assert.deepEqual([r.code, r.signal], [42, null], r.output)
  })

  test('a command killed by a signal kills exec with the same signal', async () => {
    const r = await runExec(['--', nodeBinary(suite.node), '-e', 'process.kill(process.pid, "SIGTERM")'], stagingJob().env)
    assert.deepEqual([r.code, r.signal], [null, 'SIGTERM'], r.output)
  })

  test('a signal sent to exec reaches the command, whose exit code is exec\'s', async () => {
    let sent = false
    const r = await runExec(['--', nodeBinary(suite.node), 'waiter.mjs'], stagingJob().env, (out, pid) => {
      if (sent || !out.includes('ready')) return
      sent = true
      process.kill(pid, 'SIGTERM')
    })
    assert.ok(sent, r.output)
    assert.deepEqual([r.code, r.signal], [42, null], r.output)
  })
})
