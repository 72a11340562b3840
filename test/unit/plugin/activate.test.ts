/**
 * The load-time flow with everything injected: env, argv, cwd, clock, output and the exchange.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { activate, type Io } from '../../../src/plugin/activate.ts'
import { detect } from '../../../src/plugin/detect.ts'
import { ExchangeError, type ExchangeRequest } from '../../../src/shared/sts.ts'
import { PluginError } from '../../../src/shared/problem.ts'
import { formatProblem } from '../../../src/report/format.ts'

const PROD = 'arn:aws:iam::111111111111:role/app-production'
const STAGING = 'arn:aws:iam::111111111111:role/app-staging'
const now = new Date('2026-11-26T12:00:00Z')
const t = Math.floor(now.getTime() / 1000)
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
const claims = {
  iss: 'https://gitlab.example.com', sub: 'project_path:acme/shop:ref_type:branch:ref:main', aud: 'https://gitlab.example.com',
  exp: t + 300, nbf: t - 5, iat: t - 5, project_path: 'acme/shop', project_id: '42', pipeline_id: '1001', job_id: '5005',
  ref: 'main', ref_type: 'branch', ref_protected: 'true', user_email: 'dev@example.com', environment: 'production',
}
const token = (over: object = {}) => `${b64({ alg: 'RS256', kid: 'k' })}.${b64({ ...claims, ...over })}.c2lnbmF0dXJlLXNlY3JldA`

function app (arc = `@app\nshop\n@gitlab-oidc\nproduction-role ${PROD}\nstaging-role ${STAGING}\n`) {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-activate-'))
  writeFileSync(join(dir, 'app.arc'), arc)
  return dir
}

function harness (env: NodeJS.ProcessEnv, cwd = app()) {
  const out: string[] = []
  const requests: ExchangeRequest[] = []
  const io: Io = {
    env, cwd, now: () => now,
    out: s => out.push(s), err: s => out.push(s),
    exchange: async request => {
      requests.push(request)
      return {
        accessKeyId: 'ASIAISSUED', secretAccessKey: 'issued-secret', sessionToken: 'issued-session-token',
        expiration: new Date(now.getTime() + 3600_000), assumedRoleArn: 'arn:aws:sts::111111111111:assumed-role/app-production/gitlab-42-1001-5005',
        attempts: 1, elapsedMs: 5,
      }
    },
  }
  return { io, out, requests }
}
const job = (over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ GITLAB_CI: 'true', CI: 'true', CI_SERVER_URL: 'https://gitlab.example.com', GITLAB_OIDC_TOKEN: token(), ...over })
const arc = (...args: string[]) => detect(job(), ['/n', '/b/node_modules/.bin/arc', ...args])

async function problem (env: NodeJS.ProcessEnv, args: string[], cwd?: string): Promise<string> {
  const h = harness(env, cwd)
  try { await activate(detect(env, ['/n', '/b/node_modules/.bin/arc', ...args]), h.io) }
  catch (err) {
    assert.ok(err instanceof PluginError, String(err))
    assert.equal(h.requests.length, 0, 'nothing was sent to STS')
    const text = formatProblem(err.problem)
    assert.ok(!text.includes(String(env.GITLAB_OIDC_TOKEN ?? 'never')), 'the token is never printed')
    assert.ok(!text.includes('dev@example.com'), 'user_email is never printed')
    return text
  }
  assert.fail('expected a PluginError')
}

test('exchanges for the stage being deployed and hands over the credentials', async () => {
  const env = job({ AWS_ACCESS_KEY_ID: 'AKIAOLD', AWS_SECRET_ACCESS_KEY: 'old', AWS_PROFILE: 'dev' })
  const h = harness(env)
  const outcome = await activate(arc('deploy', '--production'), h.io)
  assert.equal(outcome.kind, 'assumed')
  assert.equal(h.requests.length, 1)
  assert.equal(h.requests[0]!.roleArn, PROD)
  assert.equal(h.requests[0]!.sessionName, 'gitlab-42-1001-5005')
  assert.equal(h.requests[0]!.durationSeconds, 3600)
  assert.equal(env.AWS_ACCESS_KEY_ID, 'ASIAISSUED')
  assert.equal(env.AWS_SECRET_ACCESS_KEY, 'issued-secret')
  assert.equal(env.AWS_SESSION_TOKEN, 'issued-session-token')
  assert.equal(env.AWS_CREDENTIAL_EXPIRATION, '2026-11-26T13:00:00.000Z')
  assert.equal(env.AWS_PROFILE, undefined)
  const printed = h.out.join('\n')
  assert.match(printed, /Assumed arn:aws:sts::111111111111:assumed-role\/app-production/)
  assert.match(printed, /replaced: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY/)
  assert.match(printed, /unset .*AWS_PROFILE/)
  for (const secret of ['issued-secret', 'issued-session-token', token()]) assert.ok(!printed.includes(secret))

  const staging = harness(job())
  await activate(arc('deploy'), staging.io)
  assert.equal(staging.requests[0]!.roleArn, STAGING)
})

test('does nothing off GitLab or for commands that do not talk to AWS', async () => {
  const h = harness({ GITLAB_OIDC_TOKEN: token(), ARC_ROLE_ARN: PROD })
  assert.equal((await activate(detect({}, ['/n', '/b/arc', 'deploy']), h.io)).kind, 'idle')
  assert.equal((await activate(arc('version'), h.io)).kind, 'idle')
  assert.equal((await activate(arc('help'), h.io)).kind, 'idle')
  assert.equal(h.requests.length, 0)
  assert.deepEqual(h.out, [])
})

test('pre-flight problems stop before STS with the fix', async () => {
  assert.match(await problem(job(), ['deploy', 'production']), /would deploy the STAGING stack[\s\S]*arc deploy --production/)
  assert.match(await problem(job({ GITLAB_OIDC_TOKEN: undefined }), ['deploy', '--production']), /no ID token[\s\S]*id_tokens:\n.*GITLAB_OIDC_TOKEN:\n.*aud: https:\/\/gitlab\.example\.com/)
  assert.match(await problem(job(), ['deploy'], app('@app\nshop\n')), /ID token but no IAM role[\s\S]*@gitlab-oidc[\s\S]*ARC_ROLE_ARN[\s\S]*protected/)
  assert.match(await problem(job({ GITLAB_OIDC_TOKEN: 'garbage' }), ['deploy']), /not a JWT/)
  assert.match(await problem(job({ GITLAB_OIDC_TOKEN: token({ exp: t - 3600 }) }), ['deploy']), /expired at[\s\S]*subject .* project_path:acme\/shop/)
  assert.match(await problem(job({ GITLAB_OIDC_TOKEN: token({ aud: undefined }) }), ['deploy']), /no audience/)
  assert.match(await problem(job({ ARC_ROLE_DURATION: '100' }), ['deploy']), /CI variable ARC_ROLE_DURATION must be a whole number/)
  assert.match(await problem(job({ ARC_ALLOWED_ACCOUNTS: '222222222222' }), ['deploy']), /account 111111111111, which is not an allowed account/)
  assert.match(await problem(job({ GITLAB_OIDC_TOKEN: token({ ref: 'feature', ref_protected: 'false' }) }), ['deploy', '--production']), /Refusing a production deploy from branch `feature`[\s\S]*allow-unprotected-production/)
})

test('unprotected production can be allowed explicitly', async () => {
  const h = harness(job({ GITLAB_OIDC_TOKEN: token({ ref_protected: 'false' }), ARC_ALLOW_UNPROTECTED_PRODUCTION: 'true' }))
  assert.equal((await activate(arc('deploy', '--production'), h.io)).kind, 'assumed')
})

test('existing keys and no role: the job keeps its keys', async () => {
  const env = job({ GITLAB_OIDC_TOKEN: undefined, AWS_ACCESS_KEY_ID: 'AKIAKEEP', AWS_SECRET_ACCESS_KEY: 's' })
  const h = harness(env, app('@app\nshop\n'))
  assert.equal((await activate(arc('deploy'), h.io)).kind, 'existing-credentials')
  assert.equal(env.AWS_ACCESS_KEY_ID, 'AKIAKEEP')
})

test('an STS refusal is explained next to what GitLab asserted', async () => {
  const h = harness(job())
  h.io.exchange = async () => { throw new ExchangeError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403, [{ code: 'AccessDenied', message: 'x', status: 403 }], false, 10) }
  await assert.rejects(activate(arc('deploy', '--production'), h.io), (err: unknown) => {
    assert.ok(err instanceof PluginError)
    const text = formatProblem(err.problem)
    assert.match(text, /trust policy does not match/)
    assert.match(text, /gitlab\.example\.com:sub/)
    assert.match(text, /project_path:acme\/shop:ref_type:branch:ref:main/)
    assert.match(text, /ref protected .* true/)
    assert.ok(!text.includes('dev@example.com'))
    return true
  })
})

// Off GitLab, AWS's standard web-identity variables (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE).

import { stripVTControlCharacters } from 'node:util'

/** A token as another platform issues it: generic claims only. */
const platformToken = (over: object = {}) => token({
  iss: 'https://oidc.eks.us-west-2.amazonaws.com/id/ABC', sub: 'system:serviceaccount:ci:deployer', aud: 'sts.amazonaws.com',
  project_path: undefined, project_id: undefined, pipeline_id: undefined, job_id: undefined, ref: undefined, ref_type: undefined,
  ref_protected: undefined, user_email: undefined, environment: undefined, ...over,
})
function tokenFile (content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'oidc-web-identity-')), 'token')
  writeFileSync(file, `${content}\n`)
  return file
}
const standard = (over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv =>
  ({ AWS_ROLE_ARN: STAGING, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile(platformToken()), ...over })
const offGitLab = (env: NodeJS.ProcessEnv, ...args: string[]) => detect(env, ['/n', '/b/node_modules/.bin/arc', ...args])

test('web identity: exchanges the token from AWS_WEB_IDENTITY_TOKEN_FILE for AWS_ROLE_ARN', async () => {
  const fileToken = platformToken()
  const env = standard({ AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile(fileToken), GITLAB_OIDC_TOKEN: token({ sub: 'gitlab-token-must-not-be-used' }), ARC_OIDC_TOKEN_VARIABLE: 'GITLAB_OIDC_TOKEN' })
  const h = harness(env)
  const outcome = await activate(offGitLab(env, 'deploy'), h.io)
  assert.equal(h.requests.length, 1)
  assert.equal(h.requests[0]!.token, fileToken, 'the file\'s token, not GITLAB_OIDC_TOKEN')
  assert.equal(h.requests[0]!.roleArn, STAGING)
  assert.equal(outcome.kind, 'assumed')
  if (outcome.kind !== 'assumed') return
  assert.equal(outcome.origin, 'web-identity')
  assert.equal(outcome.stage, 'staging')
  assert.equal(outcome.claims.sub, 'system:serviceaccount:ci:deployer')
  assert.equal(env.AWS_ACCESS_KEY_ID, 'ASIAISSUED')
  assert.equal(env.AWS_SESSION_TOKEN, 'issued-session-token')
  const printed = stripVTControlCharacters(h.out.join('\n'))
  assert.match(printed, /role from \.+ CI variable AWS_ROLE_ARN/)
  assert.match(printed, new RegExp(`token from \\.+ file ${env.AWS_WEB_IDENTITY_TOKEN_FILE!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(named by AWS_WEB_IDENTITY_TOKEN_FILE\\)`))
  assert.match(printed, /subject \.+ system:serviceaccount:ci:deployer/)
  for (const secret of ['issued-secret', 'issued-session-token', fileToken]) assert.ok(!printed.includes(secret))
})

test('web identity: session name from AWS_ROLE_SESSION_NAME, else arc-web-identity-<seconds>', async () => {
  const named = harness(standard({ AWS_ROLE_SESSION_NAME: 'bitbucket-build-77' }))
  const outcome = await activate(offGitLab(named.io.env, 'deploy'), named.io)
  assert.equal(named.requests[0]!.sessionName, 'bitbucket-build-77')
  assert.equal(outcome.kind === 'assumed' && outcome.sessionName, 'bitbucket-build-77')

  const unnamed = harness(standard())
  await activate(offGitLab(unnamed.io.env, 'deploy'), unnamed.io)
  assert.match(unnamed.requests[0]!.sessionName, /^arc-web-identity-\d+$/)
  assert.equal(unnamed.requests[0]!.sessionName, `arc-web-identity-${t}`, 'the time of the run, in seconds')
})

test('web identity: no protected-ref or environment tier guard off GitLab', async () => {
  const file = tokenFile(platformToken({ ref: 'feature', ref_type: 'branch', ref_protected: 'false', environment: 'staging', deployment_tier: 'staging' }))
  const env = standard({ AWS_WEB_IDENTITY_TOKEN_FILE: file, AWS_ROLE_ARN: PROD, CI_COMMIT_REF_PROTECTED: 'false' })
  const h = harness(env)
  const outcome = await activate(offGitLab(env, 'deploy', '--production'), h.io)
  assert.equal(outcome.kind, 'assumed')
  assert.equal(h.requests[0]!.roleArn, PROD)
})

test('web identity: allowed accounts still apply', async () => {
  assert.match(await problem(standard({ ARC_ALLOWED_ACCOUNTS: '222222222222' }), ['deploy']), /account 111111111111, which is not an allowed account/)
})

test('web identity: a missing, unreadable or empty token file is refused, naming AWS_WEB_IDENTITY_TOKEN_FILE', async () => {
  const missing = join(tmpdir(), `oidc-no-such-token-${process.pid}`)
  const text = await problem(standard({ AWS_WEB_IDENTITY_TOKEN_FILE: missing }), ['deploy'])
  assert.match(text, new RegExp(`AWS_WEB_IDENTITY_TOKEN_FILE names ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, which cannot be read: ENOENT`))
  assert.match(text, /OIDC token your platform issues/)
  assert.match(text, /unset AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN/)
  const dir = mkdtempSync(join(tmpdir(), 'oidc-web-identity-dir-'))
  assert.match(await problem(standard({ AWS_WEB_IDENTITY_TOKEN_FILE: dir }), ['deploy']), /AWS_WEB_IDENTITY_TOKEN_FILE names .*, which is a directory, not a regular file/)
  const empty = join(dir, 'empty')
  writeFileSync(empty, '\n')
  assert.match(await problem(standard({ AWS_WEB_IDENTITY_TOKEN_FILE: empty }), ['deploy']), /AWS_WEB_IDENTITY_TOKEN_FILE names .*empty, which is empty/)
})

test('web identity: an AccessDenied is explained with what the token asserted', async () => {
  const h = harness(standard())
  h.io.exchange = async () => { throw new ExchangeError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403, [{ code: 'AccessDenied', message: 'x', status: 403 }], false, 10) }
  await assert.rejects(activate(offGitLab(h.io.env, 'deploy'), h.io), (err: unknown) => {
    assert.ok(err instanceof PluginError)
    assert.equal(err.problem.origin, 'web-identity')
    const text = stripVTControlCharacters(formatProblem(err.problem))
    assert.match(text, /The token asserted \(ID token claims\):/)
    assert.doesNotMatch(text, /GitLab asserted/)
    assert.match(text, /issuer \.+ https:\/\/oidc\.eks\.us-west-2\.amazonaws\.com\/id\/ABC/)
    assert.match(text, /subject \.+ system:serviceaccount:ci:deployer/)
    assert.match(text, /audience \.+ sts\.amazonaws\.com/)
    return true
  })
})

test('web identity is not used in a GitLab job: GitLab\'s own token and guards', async () => {
  const env = job({ AWS_ROLE_ARN: STAGING, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile(platformToken()) })
  const h = harness(env)
  const outcome = await activate(detect(env, ['/n', '/b/node_modules/.bin/arc', 'deploy']), h.io)
  assert.equal(outcome.kind === 'assumed' && outcome.origin, 'gitlab')
  assert.equal(h.requests[0]!.token, token(), 'GITLAB_OIDC_TOKEN comes first in a GitLab job')
  assert.equal(h.requests[0]!.sessionName, 'gitlab-42-1001-5005')
})

// A token from elsewhere is not GitLab's: format.ts's Problem.assertedBy ("a token from elsewhere
// says so"), as the AccessDenied explanation above does. These refusals come before the exchange.

async function refusedOffGitLab (env: NodeJS.ProcessEnv): Promise<PluginError> {
  const h = harness(env)
  try { await activate(offGitLab(env, 'deploy'), h.io) }
  catch (err) {
    assert.ok(err instanceof PluginError, String(err))
    assert.equal(h.requests.length, 0)
    return err
  }
  assert.fail('expected a PluginError')
}

test('web identity: an expired token is refused with what the token (not GitLab) asserted, and no GitLab fix', async () => {
  const err = await refusedOffGitLab(standard({ AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile(platformToken({ exp: t - 3600 })) }))
  const text = stripVTControlCharacters(formatProblem(err.problem))
  assert.match(text, /The ID token cannot be used: it expired at 2026-11-26T11:00:00\.000Z/)
  assert.match(text, /subject \.+ system:serviceaccount:ci:deployer/)
  assert.equal(err.problem.origin, 'web-identity')
  assert.doesNotMatch(text, /GitLab asserted/)
  assert.doesNotMatch(err.problem.fix.join('\n'), /id_tokens|GitLab issues/, 'GitLab-specific hints stay in GitLab (issue 9)')
})

test('web identity: the allowed-accounts refusal shows what the token (not GitLab) asserted', async () => {
  const err = await refusedOffGitLab(standard({ ARC_ALLOWED_ACCOUNTS: '222222222222' }))
  assert.match(err.problem.title, /not an allowed account/)
  assert.equal(err.problem.origin, 'web-identity')
  assert.doesNotMatch(stripVTControlCharacters(formatProblem(err.problem)), /GitLab asserted/)
})
