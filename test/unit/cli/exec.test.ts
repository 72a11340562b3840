/**
 * `arc-gitlab-oidc exec` (src/cli/exec.ts), in-process with its I/O and the command's runner
 * passed in, against the loopback GitLab issuer and STS stand-ins: the command gets the issued
 * session in its environment (and nothing else does), exec prints what a deploy prints (on
 * stderr) and never a secret; a refusal runs nothing; exit codes and signals map as documented.
 * test/e2e/exec.test.ts runs the installed bin with real commands.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stripVTControlCharacters as plain } from 'node:util'
import { EXEC_HELP, exec, exitCodeOf, runChild, type ChildExit, type RunChild } from '../../../src/cli/exec.ts'
import { main } from '../../../src/cli/main.ts'
import type { CliIo } from '../../../src/cli/io.ts'
import { startGitLab, type GitLabStandIn } from '../../support/gitlab.ts'
import { gitlabTrustPolicy, startAws, type AwsStandIn } from '../../support/aws.ts'

let gitlab: GitLabStandIn
let aws: AwsStandIn
let role: string
const dir = mkdtempSync(join(tmpdir(), 'oidc-exec-'))

before(async () => {
  gitlab = await startGitLab()
  aws = await startAws({ accountId: '111111111111' })
  aws.addOidcProvider({ url: gitlab.issuer, clientIds: [gitlab.audience] })
  role = aws.addRole({ name: 'shop-staging', trustPolicy: gitlabTrustPolicy({ accountId: aws.accountId, providerUrl: gitlab.providerUrl, aud: gitlab.audience, sub: 'project_path:acme/oidc-example:ref_type:branch:ref:*' }) })
  writeFileSync(join(dir, 'app.arc'), `@app\nshop\n@gitlab-oidc\nstaging-role ${role}\n`)
})
after(async () => {
  await aws.close()
  await gitlab.close()
  rmSync(dir, { recursive: true, force: true })
})

const jobEnv = (mint: Parameters<GitLabStandIn['mint']>[1] = {}): NodeJS.ProcessEnv => {
  const claims = { ref: 'fix', ref_protected: 'false' as const, environment: 'staging' }
  return { ...gitlab.jobEnv(gitlab.claims(claims), { idTokens: { GITLAB_OIDC_TOKEN: gitlab.mint(claims, mint) } }), AWS_ENDPOINT_URL: aws.endpoint, AWS_MAX_ATTEMPTS: '1' }
}

interface Call { command: string, args: string[], env: NodeJS.ProcessEnv }
interface Ran { result: ChildExit | number, stdout: string, stderr: string, calls: Call[] }

async function runExec (args: string[], env: NodeJS.ProcessEnv, exit: ChildExit = { code: 0, signal: null }): Promise<Ran> {
  let stdout = '', stderr = ''
  const calls: Ran['calls'] = []
  const run: RunChild = async (command, childArgs, childEnv) => {
    calls.push({ command, args: childArgs, env: childEnv })
    return exit
  }
  const io: CliIo = { env, cwd: dir, now: () => new Date(), stdout: s => { stdout += `${s}\n` }, stderr: s => { stderr += `${s}\n` } }
  const result = await exec(args, io, run)
  return { result, stdout: plain(stdout), stderr: plain(stderr), calls }
}

describe('exec', () => {
  it('the command gets the issued session in its environment only; exec prints what a deploy prints, on stderr, and no secret', async () => {
    const env = jobEnv()
    const before = { ...env }
    const r = await runExec(['--', 'aws', 's3', 'ls'], env)
    assert.deepEqual(r.result, { code: 0, signal: null })
    assert.equal(r.calls.length, 1)
    const { command, args, env: child } = r.calls[0]!
    assert.deepEqual([command, args], ['aws', ['s3', 'ls']])
    const session = aws.sessions.at(-1)!
    assert.equal(child.AWS_ACCESS_KEY_ID, session.accessKeyId)
    assert.equal(child.AWS_SECRET_ACCESS_KEY, session.secretAccessKey)
    assert.equal(child.AWS_SESSION_TOKEN, session.sessionToken)
    assert.match(child.AWS_CREDENTIAL_EXPIRATION ?? '', /^\d{4}-\d\d-\d\dT/)
    assert.equal(child.AWS_REGION, 'us-west-2', 'the region the plugin used, as the job set none')
    assert.deepEqual(env, before, 'the caller\'s environment is untouched')
    assert.equal(r.stdout, '', 'stdout is the command\'s')
    assert.match(r.stderr, /GitLab OIDC Assuming arn:aws:iam::111111111111:role\/shop-staging for staging/)
    assert.match(r.stderr, /Assumed arn:aws:sts::111111111111:assumed-role\/shop-staging\//)
    for (const secret of [session.secretAccessKey, session.sessionToken, env.GITLAB_OIDC_TOKEN!]) assert.ok(!r.stderr.includes(secret))
  })

  it('--stage production assumes production\'s role, as arc deploy --production would (here: refused, the ref is not protected)', async () => {
    const r = await runExec(['--stage', 'production', '--', 'true'], jobEnv())
    assert.equal(r.result, 1)
    assert.equal(r.calls.length, 0)
  })

  it('a refusal runs nothing: the deploy\'s message, "was not run", exit 1, no STS call', async () => {
    const from = aws.calls.length
    const r = await runExec(['--', 'aws', 's3', 'ls'], jobEnv({ expired: true }))
    assert.equal(r.result, 1)
    assert.equal(r.calls.length, 0)
    assert.match(r.stderr, /× GitLab OIDC: The ID token cannot be used: it expired at/)
    assert.match(r.stderr, /aws was not run\./)
    assert.equal(aws.calls.length, from, 'no call to STS')
  })

  it('off GitLab: nothing to exchange, nothing run, exit 1', async () => {
    let stderr = ''
    const code = await main(['exec', '--', 'true'], { env: { PATH: process.env.PATH }, cwd: dir, now: () => new Date(), stdout: () => {}, stderr: s => { stderr += s } })
    assert.equal(code, 1)
    assert.match(plain(stderr), /Nothing to exchange here, so true was not run: not a GitLab job/)
  })

  it('exit codes: the command\'s own; 128 + n for a signal; usage 2; a missing command 127', async () => {
    assert.equal(exitCodeOf({ code: 3, signal: null }), 3)
    assert.equal(exitCodeOf({ code: null, signal: 'SIGTERM' }), 143)
    assert.equal(exitCodeOf({ code: null, signal: 'SIGKILL' }), 137)
    const io = (raised: string[]): CliIo => ({
      env: jobEnv(), cwd: dir, now: () => new Date(), stdout: () => {}, stderr: () => {}, raise: s => { raised.push(s) },
    })
    const none: string[] = []
    assert.equal(await main(['exec'], io(none)), 2, 'no command')
    assert.equal(await main(['exec', '--stage', 'prod', '--', 'true'], io(none)), 2)
    assert.equal(await main(['exec', 'true'], io(none)), 2, 'the command goes after --')
    assert.equal(await main(['exec', '--', join(dir, 'no-such-command')], io(none)), 127)
    assert.deepEqual(none, [])
  })

  it('--help prints the usage on stdout', async () => {
    let stdout = ''
    assert.equal(await main(['exec', '--help'], { env: {}, cwd: dir, now: () => new Date(), stdout: s => { stdout += s }, stderr: () => {} }), 0)
    assert.equal(stdout, EXEC_HELP)
  })

  it('the real runner: exit code through, a signal reported as such', async () => {
    const env = { PATH: process.env.PATH }
    assert.deepEqual(await runChild(process.execPath, ['-e', 'process.exit(7)'], env, dir), { code: 7, signal: null })
    assert.deepEqual(await runChild(process.execPath, ['-e', 'process.kill(process.pid, "SIGTERM")'], env, dir), { code: null, signal: 'SIGTERM' })
  })
})
