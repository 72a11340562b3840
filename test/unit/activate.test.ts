/**
 * The load-time flow with everything injected: env, argv, cwd, clock, output and the exchange.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { activate, type Io } from '../../src/plugin/activate.ts'
import { detect } from '../../src/plugin/detect.ts'
import { ExchangeError, type ExchangeRequest } from '../../src/plugin/exchange.ts'
import { PluginError, formatProblem } from '../../src/report/format.ts'

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
