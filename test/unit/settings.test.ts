import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolveSettings, SettingsError, describeSource, accountOf } from '../../src/plugin/settings.ts'
import type { Manifest } from '../../src/plugin/manifest.ts'

const PROD = 'arn:aws:iam::111111111111:role/app-production'
const STAGING = 'arn:aws:iam::111111111111:role/app-staging'
const arc = (lines: Array<Array<string | number>>, extra: Record<string, unknown[]> = {}): Manifest =>
  ({ file: 'app.arc', arc: { app: ['x'], 'gitlab-oidc': lines, ...extra } as Manifest['arc'] })

test('per-stage roles from the pragma; CI variables win', () => {
  const manifest = arc([['production-role', PROD], ['staging-role', STAGING]])
  assert.equal(resolveSettings({ env: {}, manifest, stage: 'production' }).role?.value, PROD)
  assert.equal(resolveSettings({ env: {}, manifest, stage: 'staging' }).role?.value, STAGING)
  const other = 'arn:aws:iam::222222222222:role/override'
  const s = resolveSettings({ env: { AWS_ROLE_ARN: STAGING, ARC_ROLE_ARN: other }, manifest, stage: 'production' })
  assert.equal(s.role?.value, other)
  assert.equal(describeSource(s.role!.source), 'CI variable ARC_ROLE_ARN')
  assert.equal(resolveSettings({ env: { AWS_ROLE_ARN: STAGING }, manifest, stage: 'production' }).role?.value, STAGING)
})

test('`role` is the fallback for both stages', () => {
  const manifest = arc([['role', PROD], ['staging-role', STAGING]])
  assert.equal(resolveSettings({ env: {}, manifest, stage: 'production' }).role?.value, PROD)
  assert.equal(resolveSettings({ env: {}, manifest, stage: 'staging' }).role?.value, STAGING)
  assert.equal(resolveSettings({ env: {}, manifest: undefined, stage: 'staging' }).role, undefined)
})

test('JSON/YAML manifests give maps; all forms read alike', () => {
  const manifest: Manifest = { file: 'arc.json', arc: { 'gitlab-oidc': [{ 'production-role': PROD }, ['duration', 900], { 'allowed-accounts': ['111111111111'] }] } }
  const s = resolveSettings({ env: {}, manifest, stage: 'production' })
  assert.equal(s.role?.value, PROD)
  assert.equal(s.duration.value, 900)
  assert.deepEqual(s.allowedAccounts?.value, ['111111111111'])
  assert.equal(describeSource(s.role!.source), '`production-role` in @gitlab-oidc (arc.json)')
})

test('defaults: duration 3600, timeout 60, region from @aws then env then us-west-2', () => {
  const s = resolveSettings({ env: {}, manifest: arc([]), stage: 'staging' })
  assert.equal(s.duration.value, 3600)
  assert.equal(s.timeout.value, 60)
  assert.equal(s.region.value, 'us-west-2')
  assert.equal(resolveSettings({ env: { AWS_DEFAULT_REGION: 'eu-north-1' }, manifest: arc([]), stage: 'staging' }).region.value, 'eu-north-1')
  assert.equal(resolveSettings({ env: { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'x' }, manifest: arc([]), stage: 'staging' }).region.value, 'eu-west-1')
  const withAws = arc([], { aws: [['region', 'ap-southeast-2']] })
  assert.equal(resolveSettings({ env: { AWS_REGION: 'eu-west-1' }, manifest: withAws, stage: 'staging' }).region.value, 'ap-southeast-2')
})

test('bad values are named with the setting they came from', () => {
  const problems = (env: NodeJS.ProcessEnv, lines: Array<Array<string | number>> = []) => {
    try { resolveSettings({ env, manifest: arc(lines), stage: 'production' }) }
    catch (err) { assert.ok(err instanceof SettingsError); return err.problems.join('\n') }
    return ''
  }
  assert.match(problems({ ARC_ROLE_ARN: 'arn:aws:iam::123:role/x' }), /CI variable ARC_ROLE_ARN is not an IAM role ARN/)
  assert.match(problems({}, [['production-role', 'arn:aws:iam::111111111111:user/bob']]), /`production-role` in @gitlab-oidc \(app\.arc\) is not an IAM role ARN/)
  assert.match(problems({ ARC_ROLE_DURATION: '60' }), /CI variable ARC_ROLE_DURATION must be a whole number of seconds from 900 to 43200/)
  assert.match(problems({}, [['duration', 50000]]), /`duration` in @gitlab-oidc/)
  assert.match(problems({ ARC_ROLE_DURATION: '1h' }), /got "1h"/)
  assert.match(problems({ ARC_ROLE_SESSION_NAME: 'has spaces in it' }), /ARC_ROLE_SESSION_NAME is not a valid STS session name/)
  assert.match(problems({ AWS_ROLE_SESSION_NAME: 'x' }), /AWS_ROLE_SESSION_NAME/)
  assert.match(problems({ ARC_ALLOWED_ACCOUNTS: '1234' }), /ARC_ALLOWED_ACCOUNTS must list 12-digit/)
  assert.match(problems({ ARC_ALLOW_UNPROTECTED_PRODUCTION: 'yes' }), /must be true or false/)
  assert.match(problems({}, [['prodution-role', PROD]]), /Unknown setting `prodution-role`/)
  assert.match(problems({}, [['role', PROD, STAGING]]), /takes exactly one value/)
  assert.match(problems({ ARC_OIDC_TOKEN_VARIABLE: 'not a name' }), /is not a variable name/)
})

test('account IDs the .arc parser turned into numbers get their leading zeros back', () => {
  const s = resolveSettings({ env: {}, manifest: arc([['allowed-accounts', 12345678901, 111111111111]]), stage: 'staging' })
  assert.deepEqual(s.allowedAccounts?.value, ['012345678901', '111111111111'])
  assert.deepEqual(resolveSettings({ env: { ARC_ALLOWED_ACCOUNTS: '111111111111, 222222222222' }, manifest: arc([]), stage: 'staging' }).allowedAccounts?.value, ['111111111111', '222222222222'])
  assert.equal(accountOf(PROD), '111111111111')
  assert.equal(accountOf('nope'), undefined)
})
