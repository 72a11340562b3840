/**
 * The steps activate.ts and doctor share (src/plugin/steps.ts): the token by origin, the session
 * name, the exchange request and the context a refusal is explained with.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exchangeContext, exchangeRequest, findTokenFor, maxAttempts, readSettings, sessionNameFor } from '../../../src/plugin/steps.ts'
import { resolveSettings } from '../../../src/plugin/settings.ts'

const ROLE = 'arn:aws:iam::111111111111:role/app-staging'
const settings = (env: NodeJS.ProcessEnv = {}) => resolveSettings({ env: { ARC_ROLE_ARN: ROLE, ...env }, manifest: undefined, stage: 'staging' })

test('the token by origin: a GitLab job reads its variables; elsewhere only AWS_WEB_IDENTITY_TOKEN_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-steps-'))
  try {
    const file = join(dir, 'token')
    writeFileSync(file, 'from-file')
    const env = { GITLAB_OIDC_TOKEN: 'from-variable', AWS_WEB_IDENTITY_TOKEN_FILE: file }
    assert.deepEqual(findTokenFor(env, settings(), 'gitlab'),
      { token: 'from-variable', source: 'CI variable GITLAB_OIDC_TOKEN', variable: 'GITLAB_OIDC_TOKEN', legacy: false })
    const elsewhere = findTokenFor(env, settings(), 'web-identity')
    assert.equal(elsewhere?.token, 'from-file')
    assert.equal(elsewhere?.variable, undefined)
    assert.equal(findTokenFor({ GITLAB_OIDC_TOKEN: 'x' }, settings(), 'web-identity'), undefined)
  }
  finally { rmSync(dir, { recursive: true, force: true }) }
})

test('the settings of the app in cwd (none: the variables alone)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-steps-'))
  try {
    assert.equal(readSettings({ ARC_ROLE_ARN: ROLE }, dir, 'staging').role?.value, ROLE)
    writeFileSync(join(dir, 'app.arc'), '@app\nshop\n\n@gitlab-oidc\nstaging-role arn:aws:iam::222222222222:role/s\n')
    assert.equal(readSettings({}, dir, 'staging').role?.value, 'arn:aws:iam::222222222222:role/s')
  }
  finally { rmSync(dir, { recursive: true, force: true }) }
})

test('the session name: the setting wins; else the GitLab job\'s ids, or a dated name elsewhere', () => {
  const now = new Date('2026-11-26T12:00:00Z')
  const claims = { project_id: '7', pipeline_id: '8', job_id: '9' }
  assert.equal(sessionNameFor(settings(), claims, {}, 'gitlab', now), 'gitlab-7-8-9')
  assert.equal(sessionNameFor(settings(), claims, {}, 'web-identity', now), `arc-web-identity-${now.getTime() / 1000}`)
  assert.equal(sessionNameFor(settings({ ARC_ROLE_SESSION_NAME: 'mine' }), claims, {}, 'web-identity', now), 'mine')
})

test('the exchange request: settings, the SDK\'s endpoint variables and AWS_MAX_ATTEMPTS', () => {
  const s = settings({ ARC_ROLE_DURATION: '900', ARC_OIDC_TIMEOUT: '30', AWS_REGION: 'eu-west-1' })
  assert.deepEqual(exchangeRequest('t', ROLE, 'n', s, { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:2', AWS_MAX_ATTEMPTS: '2' }),
    { token: 't', roleArn: ROLE, sessionName: 'n', durationSeconds: 900, region: 'eu-west-1', timeoutMs: 30_000, maxAttempts: 2, endpoint: 'http://127.0.0.1:2' })
  assert.equal(exchangeRequest('t', ROLE, 'n', s, {}).endpoint, undefined)
  for (const bad of [ '0', '21', '1.5', 'x', undefined ]) assert.equal(maxAttempts({ AWS_MAX_ATTEMPTS: bad }), 5, String(bad))
})

test('the context a refusal is explained with carries the origin and the token\'s variable', () => {
  const s = settings()
  const found = { token: 't', source: 'CI variable MY_TOKEN', variable: 'MY_TOKEN', legacy: false }
  const ctx = exchangeContext({ found, role: s.role!, settings: s, sessionName: 'n', claims: { sub: 'x' }, origin: 'gitlab' })
  assert.deepEqual(ctx, {
    roleArn: ROLE, roleSource: 'CI variable ARC_ROLE_ARN', sessionName: 'n', durationSeconds: 3600, durationSource: 'default 3600',
    region: 'us-west-2', claims: { sub: 'x' }, tokenSource: 'CI variable MY_TOKEN', tokenVariable: 'MY_TOKEN', origin: 'gitlab',
  })
  const fromFile = exchangeContext({ found: { token: 't', source: 'file', legacy: false }, role: s.role!, settings: s, sessionName: 'n', claims: {}, origin: 'web-identity' })
  assert.equal('tokenVariable' in fromFile, false)
  assert.equal(fromFile.origin, 'web-identity')
})
