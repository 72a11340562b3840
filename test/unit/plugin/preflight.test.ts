/**
 * One answer per question (src/plugin/preflight.ts): `arc` (activate) and `arc-gitlab-oidc doctor`
 * run the same preflight, so every refusal the plugin can give is given by both, with the same
 * title, before any call to STS; a healthy job passes both, and both exchange the same way.
 *
 * The parity table has a row for every entry of REFUSALS (src/plugin/refusals.ts) and every guard
 * of GUARDS (src/plugin/guards.ts): a refusal or guard added without a row here fails the first
 * test. Each row is checked three ways: the preflight names that refusal; `arc`'s load-time flow
 * throws it; `doctor` prints it (same title) and exits 1.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stripVTControlCharacters as plain } from 'node:util'
import { activate } from '../../../src/plugin/activate.ts'
import { detect } from '../../../src/plugin/detect.ts'
import { GUARDS } from '../../../src/plugin/guards.ts'
import { exchangeContext, exchangeRequest, maxAttempts, preflight } from '../../../src/plugin/preflight.ts'
import { REFUSALS, type RefusalName } from '../../../src/plugin/refusals.ts'
import { resolveSettings } from '../../../src/plugin/settings.ts'
import { PluginError } from '../../../src/shared/problem.ts'
import { main } from '../../../src/cli/main.ts'
import { startGitLab, type ClaimOverrides, type GitLabStandIn, type MintOptions } from '../../support/gitlab.ts'
import { gitlabTrustPolicy, startAws, type AwsStandIn } from '../../support/aws.ts'

const ACCOUNT = '111111111111'
let gitlab: GitLabStandIn
let aws: AwsStandIn
let production: string
let staging: string
const dirs: string[] = []

before(async () => {
  gitlab = await startGitLab()
  aws = await startAws({ accountId: ACCOUNT })
  aws.addOidcProvider({ url: gitlab.issuer, clientIds: [gitlab.audience] })
  const trust = (ref: string) => gitlabTrustPolicy({ accountId: aws.accountId, providerUrl: gitlab.providerUrl, aud: gitlab.audience, sub: `project_path:acme/oidc-example:ref_type:branch:ref:${ref}` })
  production = aws.addRole({ name: 'shop-production', trustPolicy: trust('main') })
  // The staging role trusts another ref only: a job on main gets AccessDenied from STS for it.
  staging = aws.addRole({ name: 'shop-staging', trustPolicy: trust('release') })
})
after(async () => {
  await aws.close()
  await gitlab.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

interface Case {
  /** The refusal this row must produce. */
  refusal: RefusalName | 'exchange'
  what: string
  /** The arc command line (after `arc`). */
  argv: string[]
  claims?: ClaimOverrides
  mint?: MintOptions
  /** Variables over the job's (undefined removes one). */
  env?: Record<string, string | undefined>
  /** The app's manifest (app.arc), roles added unless `bare`. */
  arc?: string
  bare?: boolean
  /** The installed Architect's engines.node (a package in the app's node_modules), when not the repository's. */
  engines?: string
}

const CASES: Case[] = [
  { refusal: 'nodeTooOld', what: 'an installed Architect whose engines need a newer Node than this one', argv: ['deploy'], engines: '>=99.1' },
  { refusal: 'bareProduction', what: 'a boolean flag before the bare word', argv: ['deploy', '--verbose', 'production'] },
  { refusal: 'bareProduction', what: 'destroy with the bare word last', argv: ['destroy', '--app', 'shop', '--force', 'production'] },
  { refusal: 'manifest', what: 'a manifest Architect cannot read', argv: ['deploy'], arc: '@app\nshop\n@gitlab-oidc\nfoo {\n', bare: true },
  { refusal: 'settings', what: 'a duration out of range', argv: ['deploy'], env: { ARC_ROLE_DURATION: '5' } },
  { refusal: 'unreadableToken', what: 'a token file that does not exist', argv: ['deploy'], env: { GITLAB_OIDC_TOKEN: undefined, AWS_WEB_IDENTITY_TOKEN_FILE: '/nonexistent/token' } },
  { refusal: 'noRole', what: 'no role for the stage, no other credentials', argv: ['deploy', '--production'], arc: `@app\nshop\n@gitlab-oidc\nstaging-role arn:aws:iam::${ACCOUNT}:role/shop-staging\n`, bare: true },
  { refusal: 'noToken', what: 'a role but no ID token', argv: ['deploy'], env: { GITLAB_OIDC_TOKEN: undefined } },
  { refusal: 'notAJwt', what: 'a token that is not a JWT', argv: ['deploy'], mint: { malformed: 'not-a-jwt' } },
  { refusal: 'unusableToken', what: 'an expired token', argv: ['deploy'], mint: { expired: true } },
  { refusal: 'forkMergeRequest', what: 'a merge request from a fork', argv: ['deploy'], env: { CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: 'alice/oidc-example', CI_MERGE_REQUEST_PROJECT_PATH: 'acme/oidc-example' } },
  { refusal: 'forkMergeRequest', what: 'a fork\'s token (job_project_path, GitLab 18.4) with variables that say nothing of a fork', argv: ['deploy'], claims: { project_path: 'alice/oidc-example', job_project_path: 'acme/oidc-example' } },
  { refusal: 'allowedAccount', what: 'allowed accounts excluding the role\'s', argv: ['deploy', '--production'], env: { ARC_ALLOWED_ACCOUNTS: '222222222222' } },
  { refusal: 'unprotectedProduction', what: 'production from an unprotected branch', argv: ['deploy', '--production'], claims: { ref: 'feature', ref_protected: 'false' } },
  { refusal: 'unprotectedProduction', what: 'production by -p=1, as Architect reads it', argv: ['deploy', '-p=1'], claims: { ref_protected: 'false' } },
  { refusal: 'environmentTier', what: 'production from an environment of tier development', argv: ['deploy', '--production'], claims: { environment: 'dev', deployment_tier: 'development' } },
  { refusal: 'environmentTier', what: 'staging from a production-tier job', argv: ['deploy'], claims: { environment: 'production', deployment_tier: 'production' } },
  { refusal: 'exchange', what: 'STS refuses the role (AccessDenied)', argv: ['deploy'], claims: { environment: 'staging', deployment_tier: 'staging' } },
]

function appDir (c: Pick<Case, 'arc' | 'bare' | 'engines'>): string {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-parity-'))
  dirs.push(dir)
  if (c.engines) {
    mkdirSync(join(dir, 'node_modules', '@architect', 'architect'), { recursive: true })
    writeFileSync(join(dir, 'node_modules', '@architect', 'architect', 'package.json'), JSON.stringify({ name: '@architect/architect', version: '99.0.0', engines: { node: c.engines } }))
  }
  const roles = `production-role ${production}\nstaging-role ${staging}\n`
  writeFileSync(join(dir, 'app.arc'), c.bare ? c.arc! : `${c.arc ?? '@app\nshop\n@gitlab-oidc\n'}${roles}`)
  return dir
}

function jobEnv (c: Case): NodeJS.ProcessEnv {
  const token = gitlab.mint(c.claims, c.mint)
  const env: NodeJS.ProcessEnv = { ...gitlab.jobEnv(gitlab.claims(c.claims), { idTokens: { GITLAB_OIDC_TOKEN: token } }), AWS_ENDPOINT_URL: aws.endpoint, AWS_MAX_ATTEMPTS: '1' }
  for (const [name, value] of Object.entries(c.env ?? {})) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }
  return env
}

/** `arc <argv>` loading the plugin: the message it stops with (the real exchange, against the stand-in STS). */
async function arcTitle (c: Case, env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  const invocation = detect(env, ['node', '/app/node_modules/.bin/arc', ...c.argv])
  try { await activate(invocation, { env: { ...env }, cwd, now: () => new Date(), out: () => {}, err: () => {} }) }
  catch (err) {
    assert.ok(err instanceof PluginError, String(err))
    return err.problem.title
  }
  assert.fail('arc did not refuse')
}

async function doctorRun (args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number, stdout: string, stderr: string }> {
  let stdout = '', stderr = ''
  const code = await main(['doctor', ...args], { env, cwd, now: () => new Date(), stdout: s => { stdout += `${s}\n` }, stderr: s => { stderr += `${s}\n` } })
  return { code, stdout: plain(stdout), stderr: plain(stderr) }
}

describe('parity: every refusal, through arc and doctor', () => {
  it('the table has a row for every refusal and every guard', () => {
    const rows = new Set(CASES.map(c => c.refusal))
    assert.deepEqual(Object.keys(REFUSALS).filter(name => !rows.has(name as RefusalName)), [], 'refusals without a row')
    assert.deepEqual(GUARDS.map(g => g.name).filter(name => !rows.has(name)), [], 'guards without a row')
    for (const g of GUARDS) assert.ok(Object.hasOwn(REFUSALS, g.name), `guard ${g.name} has its words in REFUSALS`)
  })

  for (const c of CASES) {
    it(`${c.refusal}: ${c.what} (arc ${c.argv.join(' ')})`, async () => {
      const env = jobEnv(c)
      const cwd = appDir(c)
      const calls = aws.stsCalls().length
      const result = await preflight(detect(env, ['node', 'arc', ...c.argv]), { env, cwd, now: () => new Date() })
      if (c.refusal === 'exchange') assert.equal(result.kind, 'plan')
      else {
        assert.equal(result.kind, 'refused')
        assert.equal(result.kind === 'refused' && result.refusal, c.refusal)
      }
      assert.equal(aws.stsCalls().length, calls, 'the preflight calls no AWS service')

      const title = await arcTitle(c, env, cwd)
      const doctor = await doctorRun([...(c.refusal === 'exchange' ? ['--exchange'] : []), '--', ...c.argv], env, cwd)
      assert.equal(doctor.code, 1, doctor.stdout + doctor.stderr)
      assert.ok(doctor.stderr.includes(`× GitLab OIDC: ${title}\n`), `doctor shows the deploy's title: ${title}\n${doctor.stderr}`)
      assert.match(doctor.stdout, /\n1 problem found\.\n$/)
      if (c.refusal === 'exchange') assert.equal(aws.stsCalls().length, calls + 2, 'both exchanged, once each')
      else assert.equal(aws.stsCalls().length, calls, 'neither called STS')
      const printed = doctor.stdout + doctor.stderr
      assert.ok(!printed.includes(String(env.GITLAB_OIDC_TOKEN)), 'the token is never printed')
      assert.ok(!printed.includes('@example.com'), 'user_email is never printed')
    })
  }

  it('a healthy job passes both: arc assumes the role, doctor finds no problem and exchanges the same way', async () => {
    const c: Case = { refusal: 'exchange', what: 'healthy', argv: ['deploy', '--production'], claims: { environment: 'production', deployment_tier: 'production' } }
    const env = jobEnv(c)
    const cwd = appDir(c)
    const outcome = await activate(detect(env, ['node', 'arc', ...c.argv]), { env: { ...env }, cwd, now: () => new Date(), out: () => {}, err: () => {} })
    assert.equal(outcome.kind, 'assumed')
    assert.equal(outcome.kind === 'assumed' && outcome.roleArn, production)
    const doctor = await doctorRun(['--exchange', '--stage', 'production'], env, cwd)
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr)
    assert.match(doctor.stdout, /A production deploy would assume arn:aws:iam::111111111111:role\/shop-production/)
    assert.match(doctor.stdout, /Exchange for production: assumed arn:aws:sts::111111111111:assumed-role\/shop-production\//)
    assert.match(doctor.stdout, /\nNo problems found\.\n$/)
  })
})

describe('the plan', () => {
  const ROLE = 'arn:aws:iam::111111111111:role/app-staging'
  const settings = (env: NodeJS.ProcessEnv = {}) => resolveSettings({ env: { ARC_ROLE_ARN: ROLE, ...env }, manifest: undefined, stage: 'staging' })

  it('the exchange request: settings, the SDK\'s endpoint variables and AWS_MAX_ATTEMPTS', () => {
    const s = settings({ ARC_ROLE_DURATION: '900', ARC_OIDC_TIMEOUT: '30', AWS_REGION: 'eu-west-1' })
    assert.deepEqual(exchangeRequest('t', ROLE, 'n', s, { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:2', AWS_MAX_ATTEMPTS: '2' }),
      { token: 't', roleArn: ROLE, sessionName: 'n', durationSeconds: 900, region: 'eu-west-1', timeoutMs: 30_000, maxAttempts: 2, endpoint: 'http://127.0.0.1:2' })
    assert.equal(exchangeRequest('t', ROLE, 'n', s, {}).endpoint, undefined)
    for (const bad of ['0', '21', '1.5', 'x', undefined]) assert.equal(maxAttempts({ AWS_MAX_ATTEMPTS: bad }), 5, String(bad))
  })

  it('the context an STS failure is explained with: worked out once, the claims without user_email', () => {
    const s = settings()
    const found = { token: 't', source: 'CI variable MY_TOKEN', variable: 'MY_TOKEN', legacy: false }
    const claims = { sub: 'x', iss: 'https://gitlab.example.com/', aud: ['a', 'b'], user_email: 'dev@example.com' }
    assert.deepEqual(exchangeContext({ found, role: s.role!, settings: s, sessionName: 'n', claims, origin: 'gitlab', stage: 'staging' }), {
      roleArn: ROLE, roleSource: 'CI variable ARC_ROLE_ARN', partition: 'aws', account: '111111111111', roleName: 'app-staging',
      sessionName: 'n', durationSeconds: 3600, durationSource: 'default 3600', region: 'us-west-2',
      claims: { sub: 'x', iss: 'https://gitlab.example.com/', aud: ['a', 'b'] }, issuer: 'https://gitlab.example.com/', issuerHost: 'gitlab.example.com',
      audiences: ['a', 'b'], tokenSource: 'CI variable MY_TOKEN', tokenVariable: 'MY_TOKEN', origin: 'gitlab', stage: 'staging',
    })
    const loose = { value: 'arn:aws-cn:iam::12:role/path/r', source: s.role!.source }
    const fromFile = exchangeContext({ found: { token: 't', source: 'file', legacy: false }, role: loose, settings: s, sessionName: 'n', claims: {}, origin: 'web-identity', stage: 'production' })
    assert.deepEqual([fromFile.tokenVariable, fromFile.origin, fromFile.partition, fromFile.account, fromFile.roleName], ['GITLAB_OIDC_TOKEN', 'web-identity', 'aws-cn', '<account>', 'r'])
  })

  it('off GitLab and without the web-identity variables, or for a command that does not talk to AWS: idle', async () => {
    const world = { env: {}, cwd: tmpdir(), now: () => new Date() }
    assert.deepEqual(await preflight(detect({}, ['node', 'arc', 'deploy']), world), { kind: 'idle', reason: 'not a GitLab job' })
    assert.deepEqual(await preflight(detect({ GITLAB_CI: 'true' }, ['node', 'arc', 'sandbox']), world), { kind: 'idle', reason: '`sandbox` does not talk to AWS' })
  })
})
