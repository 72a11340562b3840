import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolveSettings, SettingsError } from '../../../src/plugin/settings.ts'
import { describeSource } from '../../../src/shared/setting-source.ts'
import { accountOf } from '../../../src/iam/arns.ts'
import type { Manifest } from '../../../src/plugin/manifest.ts'

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
  // One partition rule with src/iam/arns.ts: a made-up partition is refused here, not later by the trust-policy builder.
  assert.match(problems({ ARC_ROLE_ARN: 'arn:awsx:iam::123456789012:role/x' }), /CI variable ARC_ROLE_ARN is not an IAM role ARN/)
  assert.match(problems({ ARC_PERMISSIONS_BOUNDARY: 'arn:awsx:iam::123456789012:policy/b' }), /CI variable ARC_PERMISSIONS_BOUNDARY is not an IAM managed policy ARN/)
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

// Permissions boundaries, the environment check and the deploy reports.

import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const PROD_BOUNDARY = 'arn:aws:iam::111111111111:policy/app-production-boundary'
const STAGING_BOUNDARY = 'arn:aws:iam::111111111111:policy/app-staging-boundary'
const settingsProblems = (env: NodeJS.ProcessEnv, lines: Array<Array<string | number>> = [], stage: 'production' | 'staging' = 'production') => {
  try { resolveSettings({ env, manifest: arc(lines), stage }) }
  catch (err) { assert.ok(err instanceof SettingsError); return err.problems }
  return []
}

test('boundaries per stage: the stage\'s own key, then the shared key; ARC_PERMISSIONS_BOUNDARY wins', () => {
  const both = arc([['production-role', PROD], ['staging-role', STAGING], ['production-permissions-boundary', PROD_BOUNDARY], ['staging-permissions-boundary', STAGING_BOUNDARY]])
  const prod = resolveSettings({ env: {}, manifest: both, stage: 'production' })
  assert.equal(prod.boundary?.value, PROD_BOUNDARY)
  assert.equal(describeSource(prod.boundary!.source), '`production-permissions-boundary` in @gitlab-oidc (app.arc)')
  assert.equal(prod.boundaries.staging?.value, STAGING_BOUNDARY, 'the other stage\'s boundary is known too (for doctor)')
  const staging = resolveSettings({ env: {}, manifest: both, stage: 'staging' })
  assert.equal(staging.boundary?.value, STAGING_BOUNDARY)
  assert.equal(describeSource(staging.boundary!.source), '`staging-permissions-boundary` in @gitlab-oidc (app.arc)')

  const shared = 'arn:aws:iam::111111111111:policy/app-boundary'
  const withShared = arc([['role', PROD], ['permissions-boundary', shared], ['staging-permissions-boundary', STAGING_BOUNDARY]])
  assert.equal(resolveSettings({ env: {}, manifest: withShared, stage: 'production' }).boundary?.value, shared)
  assert.equal(describeSource(resolveSettings({ env: {}, manifest: withShared, stage: 'production' }).boundary!.source), '`permissions-boundary` in @gitlab-oidc (app.arc)')
  assert.equal(resolveSettings({ env: {}, manifest: withShared, stage: 'staging' }).boundary?.value, STAGING_BOUNDARY)

  const variable = 'arn:aws:iam::111111111111:policy/from-ci'
  for (const stage of ['production', 'staging'] as const) {
    const s = resolveSettings({ env: { ARC_PERMISSIONS_BOUNDARY: variable }, manifest: both, stage })
    assert.equal(s.boundary?.value, variable, stage)
    assert.equal(describeSource(s.boundary!.source), 'CI variable ARC_PERMISSIONS_BOUNDARY')
  }
  const none = resolveSettings({ env: {}, manifest: arc([['role', PROD]]), stage: 'staging' })
  assert.equal(none.boundary, undefined)
  assert.deepEqual(none.boundaries, { production: undefined, staging: undefined })
})

test('a boundary must be an IAM managed policy ARN (paths and partitions included)', () => {
  for (const good of [
    'arn:aws:iam::111111111111:policy/x',
    'arn:aws:iam::111111111111:policy/ci/x',
    'arn:aws:iam::111111111111:policy/ci/deep/app-staging-boundary',
    'arn:aws-cn:iam::111111111111:policy/x',
    'arn:aws-us-gov:iam::111111111111:policy/team+ops=1,a.b@c-d_e',
  ]) {
    assert.deepEqual(settingsProblems({ ARC_PERMISSIONS_BOUNDARY: good }, [['role', PROD.replace('arn:aws:', `arn:${good.split(':')[1]}:`)]]), [], good)
  }
  for (const bad of [
    'arn:aws:iam::111111111111:role/x',
    'arn:aws:iam::123:policy/x',
    'arn:aws:iam::aws:policy/PowerUserAccess',
    'arn:aws:iam::111111111111:policy/',
    'arn:aws:iam::111111111111:policy/ci/',
    'arn:aws:iam::111111111111:policy//x',
    'arn:aws:iam::111111111111:policy/has space',
    'app-staging-boundary',
  ]) {
    const problems = settingsProblems({ ARC_PERMISSIONS_BOUNDARY: bad })
    assert.equal(problems.length, 1, bad)
    assert.equal(problems[0], `CI variable ARC_PERMISSIONS_BOUNDARY is not an IAM managed policy ARN: "${bad}" (expected arn:aws:iam::<12-digit account>:policy/<path/name>)`)
  }
  // Named by the setting it came from; one problem per distinct value.
  assert.deepEqual(settingsProblems({}, [['permissions-boundary', 'nope']]), ['`permissions-boundary` in @gitlab-oidc (app.arc) is not an IAM managed policy ARN: "nope" (expected arn:aws:iam::<12-digit account>:policy/<path/name>)'])
  const two = settingsProblems({}, [['production-permissions-boundary', 'a'], ['staging-permissions-boundary', 'b']])
  assert.equal(two.length, 2)
  assert.match(two[0]!, /^`production-permissions-boundary`/)
  assert.match(two[1]!, /^`staging-permissions-boundary`/)
  // The staging boundary is checked on a production deploy too: one run reports every bad value.
  assert.equal(settingsProblems({}, [['production-role', PROD], ['staging-permissions-boundary', 'b']], 'production').length, 1)
})

test('a boundary in a GitLab File variable is named as such', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-settings-'))
  const file = join(dir, 'ARC_PERMISSIONS_BOUNDARY')
  writeFileSync(file, PROD_BOUNDARY)
  assert.deepEqual(settingsProblems({ ARC_PERMISSIONS_BOUNDARY: file }), [
    `CI variable ARC_PERMISSIONS_BOUNDARY is a GitLab *File* variable (the job gets the path ${file}, not the value): change its type to *Variable* in Settings → CI/CD → Variables (expected arn:aws:iam::<12-digit account>:policy/<path/name>)`,
  ])
})

test('a boundary in another account than the stage\'s role is refused', () => {
  const other = 'arn:aws:iam::222222222222:policy/app-staging-boundary'
  const problems = settingsProblems({}, [['production-role', PROD], ['staging-role', STAGING], ['staging-permissions-boundary', other]])
  assert.deepEqual(problems, [
    '`staging-permissions-boundary` in @gitlab-oidc (app.arc) is in account 222222222222, but the staging role (`staging-role` in @gitlab-oidc (app.arc)) is in 111111111111: a permissions boundary must be a policy of the role\'s own account',
  ])
  // Per stage: a production account for production, a staging account for staging is fine.
  const prodRole = 'arn:aws:iam::333333333333:role/app-production'
  assert.deepEqual(settingsProblems({}, [
    ['production-role', prodRole], ['staging-role', STAGING],
    ['production-permissions-boundary', 'arn:aws:iam::333333333333:policy/p'], ['staging-permissions-boundary', STAGING_BOUNDARY],
  ]), [])
  // A CI variable boundary is checked against the role of the stage being deployed.
  for (const stage of ['production', 'staging'] as const) {
    const viaVariable = settingsProblems({ ARC_PERMISSIONS_BOUNDARY: other }, [['production-role', PROD], ['staging-role', STAGING]], stage)
    assert.equal(viaVariable.length, 1, stage)
    assert.match(viaVariable[0]!, new RegExp(`^CI variable ARC_PERMISSIONS_BOUNDARY is in account 222222222222, but the ${stage} role`))
  }
  // One AWS account per stage (example-app's layout) with CI variables scoped to the job's GitLab
  // environment: a variable names only this job's role or boundary, so the other stage's manifest
  // pair is not compared with it (it is checked when that stage deploys).
  const twoAccounts: Array<Array<string | number>> = [
    ['production-role', PROD], ['production-permissions-boundary', PROD_BOUNDARY],
    ['staging-role', 'arn:aws:iam::222222222222:role/app-staging'], ['staging-permissions-boundary', other],
  ]
  assert.deepEqual(settingsProblems({}, twoAccounts, 'staging'), [])
  assert.deepEqual(settingsProblems({ ARC_ROLE_ARN: 'arn:aws:iam::222222222222:role/ci-staging' }, twoAccounts, 'staging'), [])
  assert.deepEqual(settingsProblems({ AWS_ROLE_ARN: PROD }, twoAccounts, 'production'), [])
  assert.deepEqual(settingsProblems({ ARC_PERMISSIONS_BOUNDARY: 'arn:aws:iam::222222222222:policy/ci' }, twoAccounts, 'staging'), [])
  // ...but the stage being deployed is always checked, whatever the source.
  assert.match(settingsProblems({ ARC_ROLE_ARN: 'arn:aws:iam::333333333333:role/ci-staging' }, twoAccounts, 'staging')[0]!,
    /^`staging-permissions-boundary` in @gitlab-oidc \(app\.arc\) is in account 222222222222, but the staging role \(CI variable ARC_ROLE_ARN\) is in 333333333333/)
  // No role for a stage: nothing to compare with.
  assert.deepEqual(settingsProblems({}, [['staging-permissions-boundary', other]], 'staging'), [])
})

test('environment-check: on by default; off by the setting or ARC_ENVIRONMENT_CHECK', () => {
  const on = resolveSettings({ env: {}, manifest: arc([]), stage: 'staging' })
  assert.equal(on.environmentCheck.value, true)
  assert.equal(describeSource(on.environmentCheck.source), 'default true')
  const off = resolveSettings({ env: {}, manifest: arc([['environment-check', 'false']]), stage: 'staging' })
  assert.equal(off.environmentCheck.value, false)
  assert.equal(describeSource(off.environmentCheck.source), '`environment-check` in @gitlab-oidc (app.arc)')
  // The .arc parser gives booleans as booleans.
  assert.equal(resolveSettings({ env: {}, manifest: arc([['environment-check', false as unknown as string]]), stage: 'staging' }).environmentCheck.value, false)
  const variable = resolveSettings({ env: { ARC_ENVIRONMENT_CHECK: 'false' }, manifest: arc([['environment-check', 'true']]), stage: 'staging' })
  assert.equal(variable.environmentCheck.value, false)
  assert.equal(describeSource(variable.environmentCheck.source), 'CI variable ARC_ENVIRONMENT_CHECK')
  assert.deepEqual(settingsProblems({ ARC_ENVIRONMENT_CHECK: 'no' }), ['CI variable ARC_ENVIRONMENT_CHECK must be true or false, got "no"'])
})

test('dotenv-report and annotations-report: defaults, settings, CI variables', () => {
  const defaults = resolveSettings({ env: {}, manifest: arc([]), stage: 'staging' })
  assert.equal(defaults.dotenvReport.value, 'arc-deploy.env')
  assert.equal(defaults.annotationsReport.value, 'arc-deploy-annotations.json')
  assert.equal(describeSource(defaults.dotenvReport.source), 'default arc-deploy.env')
  const fromArc = resolveSettings({ env: {}, manifest: arc([['dotenv-report', 'out/deploy.env'], ['annotations-report', 'out/links.json']]), stage: 'staging' })
  assert.equal(fromArc.dotenvReport.value, 'out/deploy.env')
  assert.equal(fromArc.annotationsReport.value, 'out/links.json')
  const fromCi = resolveSettings({ env: { ARC_DEPLOY_DOTENV: 'ci.env', ARC_DEPLOY_ANNOTATIONS: 'ci.json' }, manifest: arc([['dotenv-report', 'out/deploy.env']]), stage: 'staging' })
  assert.equal(fromCi.dotenvReport.value, 'ci.env')
  assert.equal(describeSource(fromCi.dotenvReport.source), 'CI variable ARC_DEPLOY_DOTENV')
  assert.equal(fromCi.annotationsReport.value, 'ci.json')
  assert.deepEqual(settingsProblems({ ARC_DEPLOY_DOTENV: '/tmp/x.env' }, [['annotations-report', '../x.json']]), [
    'CI variable ARC_DEPLOY_DOTENV must be a path inside the app directory, got "/tmp/x.env"',
    '`annotations-report` in @gitlab-oidc (app.arc) must be a path inside the app directory, got "../x.json"',
  ])
})
