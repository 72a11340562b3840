/**
 * Property tests of the whole load-time flow (detect → settings → token → guards → exchange),
 * with every CI variable the plugin reads set to anything: any string, inherited property names,
 * the token itself, `Bearer <token>`, file paths.
 * Contract: the normal outcome or exactly one PluginError (never another exception); after a
 * refusal no STS call (a recording exchange); the token, whatever its shape, and the issued
 * secrets are never in the message or in anything printed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { activate, type Io } from '../../../src/plugin/activate.ts'
import { detect } from '../../../src/plugin/detect.ts'
import { ExchangeError, type ExchangeRequest } from '../../../src/shared/sts.ts'
import { PluginError } from '../../../src/shared/problem.ts'
import { formatProblem } from '../../../src/report/format.ts'
import { anyToken, anyValue, jwt, params } from '../../support/property.ts'

const PROD = 'arn:aws:iam::111111111111:role/app-production'
const STAGING = 'arn:aws:iam::111111111111:role/app-staging'
const now = new Date('2026-11-26T12:00:00Z')
const t = Math.floor(now.getTime() / 1000)
const claims = {
  iss: 'https://gitlab.example.com', sub: 'project_path:acme/shop:ref_type:branch:ref:main', aud: 'https://gitlab.example.com',
  exp: t + 300, iat: t - 5, project_path: 'acme/shop', project_id: '42', pipeline_id: '1001', job_id: '5005',
  ref: 'main', ref_type: 'branch', ref_protected: 'true', user_email: 'dev@example.com',
}
const ISSUED = { accessKeyId: 'ASIAISSUEDKEY', secretAccessKey: 'issued-secret-access-key', sessionToken: 'issued-session-token-value' }

function app (name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-activate-prop-'))
  writeFileSync(join(dir, name), content)
  return dir
}
const APPS = [
  app('app.arc', `@app\nshop\n@gitlab-oidc\nproduction-role ${PROD}\nstaging-role ${STAGING}\n`),
  app('arc.json', JSON.stringify({ app: 'shop', 'gitlab-oidc': { role: { toString: 1 }, duration: [1, { a: 2 }] }, aws: { region: { a: 1 } } })),
  app('arc.yaml', `app: shop\ngitlab-oidc:\n  role: ${STAGING}\n  constructor: x\n  toString: ${PROD}\n`),
  mkdtempSync(join(tmpdir(), 'oidc-activate-prop-empty-')),
]

/** Every variable the plugin reads, and what a well-configured job would put there. */
const VARIABLES: Record<string, string> = {
  ARC_ROLE_ARN: STAGING, AWS_ROLE_ARN: PROD, ARC_PERMISSIONS_BOUNDARY: 'arn:aws:iam::111111111111:policy/b', ARC_OIDC_TOKEN_VARIABLE: 'GITLAB_OIDC_TOKEN',
  ARC_ROLE_DURATION: '3600', ARC_ROLE_SESSION_NAME: 'deploy-1', AWS_ROLE_SESSION_NAME: 'deploy-2', ARC_ALLOW_UNPROTECTED_PRODUCTION: 'false',
  ARC_ENVIRONMENT_CHECK: 'true', ARC_ALLOWED_ACCOUNTS: '111111111111', ARC_OIDC_TIMEOUT: '30', ARC_DEPLOY_DOTENV: 'arc-deploy.env',
  ARC_DEPLOY_ANNOTATIONS: 'a.json', AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-1', AWS_WEB_IDENTITY_TOKEN_FILE: '/nonexistent/token',
  CI_JOB_JWT_V2: 'legacy', ARC_OIDC_STAGE: 'production', CI_COMMIT_REF_PROTECTED: 'true',
}

const GOOD = Symbol('a well-configured value')
const token = fc.oneof(
  { weight: 2, arbitrary: fc.constant(jwt(claims)) },
  { weight: 2, arbitrary: fc.record({
    ref_protected: fc.constantFrom('true', 'false', 1, { toString: 1 }), deployment_tier: fc.constantFrom('production', 'staging', undefined, ['production']),
    exp: fc.constantFrom(t + 300, t - 3600, 1e13, -1, '1e13'), ref_type: fc.constantFrom('branch', 'tag', { toString: 1 }, [[['x']]]),
    environment: fc.constantFrom(undefined, 'production', 'review/x', { name: 'production' }), sub: fc.constantFrom(claims.sub, 42, null),
  }, { requiredKeys: [] }).map(over => jwt({ ...claims, ...over })) },
  { weight: 1, arbitrary: anyToken },
)
interface Job { token: string, variables: Record<string, string | typeof GOOD>, cwd: string, production: boolean, exchangeFails: boolean }
const job: fc.Arbitrary<Job> = token.chain(tok => fc.record({
  token: fc.constant(tok),
  // A few variables a job sets, each well configured or anything (inherited names, the token, paths...).
  variables: fc.dictionary(
    fc.constantFrom(...Object.keys(VARIABLES)),
    fc.oneof({ weight: 2, arbitrary: fc.constant<typeof GOOD>(GOOD) }, anyValue(tok)),
    { maxKeys: 4 },
  ),
  cwd: fc.oneof({ weight: 3, arbitrary: fc.constant(APPS[0]!) }, fc.constantFrom(...APPS)),
  production: fc.boolean(),
  exchangeFails: fc.boolean(),
}))

async function run (j: Job) {
  const env: NodeJS.ProcessEnv = { GITLAB_CI: 'true', CI: 'true', GITLAB_OIDC_TOKEN: j.token }
  for (const [name, value] of Object.entries(j.variables)) env[name] = value === GOOD ? VARIABLES[name] : value
  const requests: ExchangeRequest[] = []
  const printed: string[] = []
  const io: Io = {
    env, cwd: j.cwd, now: () => now, out: s => printed.push(s), err: s => printed.push(s),
    exchange: async request => {
      requests.push(request)
      if (j.exchangeFails) throw new ExchangeError('AccessDenied', `Not authorized (WebIdentityToken=${request.token})`, 403, [], false, 5)
      return { ...ISSUED, expiration: new Date(now.getTime() + 3600_000), assumedRoleArn: 'arn:aws:sts::111111111111:assumed-role/r/s', attempts: 1, elapsedMs: 5 }
    },
  }
  const argv = ['/n', '/b/node_modules/.bin/arc', 'deploy', ...(j.production ? ['--production'] : [])]
  let message = ''
  try {
    const outcome = await activate(detect(env, argv), io)
    assert.ok(['idle', 'existing-credentials', 'assumed'].includes(outcome.kind))
    if (outcome.kind === 'assumed') assert.equal(requests.length, 1)
  }
  catch (err) {
    assert.ok(err instanceof PluginError, `exactly one plugin error, got ${err instanceof Error ? err.stack : String(err)}`)
    if (!j.exchangeFails) assert.equal(requests.length, 0, 'no STS call after a refusal')
    message = formatProblem(err.problem)
    assert.equal(message.split('\n').filter(l => l.startsWith('×')).length, 1, 'one × line')
  }
  const output = [...printed, message].join('\n')
  const token = j.token.trim()
  if (token.length >= 8) assert.ok(!output.includes(token), `the token is never printed:\n${output}`)
  for (const secret of [ISSUED.secretAccessKey, ISSUED.sessionToken]) assert.ok(!output.includes(secret), 'no issued secret is printed')
  assert.ok(!output.includes('dev@example.com'), 'never user_email')
}

test('any CI variables, any token, any manifest: the outcome or one PluginError, no STS call after a refusal, no secret printed', async () => {
  await fc.assert(fc.asyncProperty(job, run), params(300))
})

test('example: a bad AWS_REGION is a settings problem, and nothing is sent to STS', async () => {
  const requests: ExchangeRequest[] = []
  const env: NodeJS.ProcessEnv = { GITLAB_CI: 'true', GITLAB_OIDC_TOKEN: jwt(claims), AWS_REGION: 'bad region' }
  const io: Io = { env, cwd: APPS[0]!, now: () => now, out: () => {}, err: () => {}, exchange: async r => { requests.push(r); throw new Error('unreachable') } }
  await assert.rejects(activate(detect(env, ['/n', '/b/arc', 'deploy']), io), (err: Error) =>
    err instanceof PluginError && /Invalid CI variable/.test(err.message) && /CI variable AWS_REGION is not an AWS region: "bad region"/.test(formatProblem(err.problem)))
  assert.equal(requests.length, 0)
})

test('example: the token in ARC_OIDC_TOKEN_VARIABLE, ARC_ROLE_ARN... is described, never shown', async () => {
  const token = jwt(claims)
  for (const name of ['ARC_OIDC_TOKEN_VARIABLE', 'ARC_ROLE_ARN', 'ARC_PERMISSIONS_BOUNDARY', 'ARC_ROLE_SESSION_NAME', 'ARC_ROLE_DURATION', 'ARC_ALLOWED_ACCOUNTS', 'ARC_ENVIRONMENT_CHECK', 'AWS_WEB_IDENTITY_TOKEN_FILE']) {
    // Off GitLab nothing masks logs: the token sits in an ordinary variable.
    const env: NodeJS.ProcessEnv = { GITLAB_CI: 'true', MY_VAR: 'x', [name]: token }
    const io: Io = { env, cwd: APPS[0]!, now: () => now, out: () => {}, err: () => {}, exchange: async () => { throw new Error('unreachable') } }
    await assert.rejects(activate(detect(env, ['/n', '/b/arc', 'deploy']), io), (err: Error) => {
      assert.ok(err instanceof PluginError, String(err))
      const text = formatProblem(err.problem)
      assert.ok(!text.includes(token), `${name}: ${text}`)
      assert.match(text, /a JWT, [\d,]+ characters/, name)
      return true
    })
  }
})

test('example: an inherited name in ARC_OIDC_TOKEN_VARIABLE reads as an unset variable', async () => {
  for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
    const env: NodeJS.ProcessEnv = { GITLAB_CI: 'true', ARC_OIDC_TOKEN_VARIABLE: name }
    const io: Io = { env, cwd: APPS[0]!, now: () => now, out: () => {}, err: () => {}, exchange: async () => { throw new Error('unreachable') } }
    await assert.rejects(activate(detect(env, ['/n', '/b/arc', 'deploy']), io), (err: Error) => err instanceof PluginError && new RegExp(`No ID token in ${name}`).test(err.message))
  }
})

test('example: a token variable that is a GitLab File variable: the message and the fix say so', async () => {
  const file = join(APPS[0]!, 'app.arc')
  const env: NodeJS.ProcessEnv = { GITLAB_CI: 'true', GITLAB_OIDC_TOKEN: file }
  const io: Io = { env, cwd: APPS[0]!, now: () => now, out: () => {}, err: () => {}, exchange: async () => { throw new Error('unreachable') } }
  await assert.rejects(activate(detect(env, ['/n', '/b/arc', 'deploy']), io), (err: Error) => {
    assert.ok(err instanceof PluginError, String(err))
    const text = formatProblem(err.problem)
    assert.match(text, /CI variable GITLAB_OIDC_TOKEN is a GitLab \*File\* variable/)
    assert.match(text, /Change the type of GITLAB_OIDC_TOKEN to \*Variable\*/)
    assert.doesNotMatch(text, /AWS_WEB_IDENTITY_TOKEN_FILE/)
    return true
  })
})
