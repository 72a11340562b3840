/**
 * src/plugin/refusals.ts: the setup refusals (settings, manifest, no role, no token), each with
 * a title that names where the bad value is and the fix.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { stripVTControlCharacters as plain } from 'node:util'
import { REFUSALS } from '../../../src/plugin/refusals.ts'
import { ManifestError } from '../../../src/plugin/manifest.ts'
import { SettingsError, resolveSettings } from '../../../src/plugin/settings.ts'
import { formatProblem } from '../../../src/report/format.ts'

const PROD = 'arn:aws:iam::111111111111:role/shop-production'

/** The SettingsError resolveSettings throws for these inputs (real problems, real wording). */
function settingsError (env: NodeJS.ProcessEnv, lines: Array<Array<string | number>> = []): SettingsError {
  try { resolveSettings({ env, manifest: { file: 'app.arc', arc: { 'gitlab-oidc': lines } }, stage: 'production' }) }
  catch (err) { assert.ok(err instanceof SettingsError); return err }
  assert.fail('expected a SettingsError')
}

test('SettingsError.where: variables, manifest or both', () => {
  assert.equal(settingsError({ ARC_ROLE_ARN: 'nope' }).where, 'variables')
  assert.equal(settingsError({}, [['production-role', 'nope']]).where, 'manifest')
  assert.equal(settingsError({ ARC_ROLE_DURATION: '1' }, [['production-role', 'nope']]).where, 'both')
  assert.equal(new SettingsError(['CI variable A is bad', 'CI variable B is bad']).where, 'variables')
})

test('settingsProblem: a CI variable is not called an @gitlab-oidc setting', () => {
  const one = REFUSALS.settings(settingsError({ ARC_ROLE_ARN: 'nope' }), 'gitlab')
  assert.equal(one.title, 'Invalid CI variable')
  assert.deepEqual(one.facts?.map(f => f[0]), ['problem 1'])
  assert.match(one.facts![0]![1], /^CI variable ARC_ROLE_ARN is not an IAM role ARN: "nope"/)
  assert.deepEqual(one.fix, ['Correct the values above in Settings → CI/CD → Variables (or the job\'s variables: in .gitlab-ci.yml).'])
  const two = REFUSALS.settings(settingsError({ ARC_ROLE_ARN: 'nope', ARC_ROLE_DURATION: '1' }), 'gitlab')
  assert.equal(two.title, 'Invalid CI variables')
  assert.deepEqual(two.facts?.map(f => f[0]), ['problem 1', 'problem 2'])
})

test('settingsProblem: manifest settings, and both', () => {
  const one = REFUSALS.settings(settingsError({}, [['production-role', 'nope']]), 'gitlab')
  assert.equal(one.title, 'Invalid @gitlab-oidc setting')
  assert.deepEqual(one.fix, ['Correct the values above in @gitlab-oidc of the app manifest.'])
  const two = REFUSALS.settings(settingsError({}, [['production-role', 'nope'], ['duration', 5]]), 'gitlab')
  assert.equal(two.title, 'Invalid @gitlab-oidc settings')
  const both = REFUSALS.settings(settingsError({ ARC_ROLE_DURATION: '1' }, [['production-role', 'nope']]), 'gitlab')
  assert.equal(both.title, 'Invalid CI variables and @gitlab-oidc settings')
  assert.deepEqual(both.fix, ['Correct the values above (CI variables: Settings → CI/CD → Variables; or the app manifest).'])
  const text = plain(formatProblem(both))
  assert.match(text, /problem 1 \.+ `production-role` in @gitlab-oidc \(app\.arc\) is not an IAM role ARN: "nope"/)
  assert.match(text, /problem 2 \.+ CI variable ARC_ROLE_DURATION must be a whole number/)
})

test('settingsProblem: a manifest Architect cannot read', () => {
  const problem = REFUSALS.manifest(new ManifestError('app.arc: unknown pragma syntax on line 3'))
  assert.equal(problem.title, 'Cannot read the app manifest: app.arc: unknown pragma syntax on line 3')
  assert.deepEqual(problem.fix, ['Fix the manifest so that `arc` can read it.'])
  assert.equal(problem.facts, undefined)
})

test('noRole names the other stage\'s role and the id_tokens hint only without a token', () => {
  const settings = resolveSettings({ env: {}, manifest: { file: 'app.arc', arc: { 'gitlab-oidc': [['production-role', PROD]] } }, stage: 'staging' })
  const withToken = plain(formatProblem(REFUSALS.noRole(settings, true)))
  assert.match(withToken, /This job has an ID token but no IAM role to assume for staging/)
  assert.match(withToken, /production role \.+ arn:aws:iam::111111111111:role\/shop-production \(from `production-role` in @gitlab-oidc \(app\.arc\)\)/)
  assert.match(withToken, /staging-role arn:aws:iam::<account>:role\/<name>/)
  assert.doesNotMatch(withToken, /id_tokens/)
  const noToken = plain(formatProblem(REFUSALS.noRole(settings, false)))
  assert.match(noToken, /No IAM role to assume for staging, no ID token/)
  assert.match(noToken, /declare the ID token under id_tokens:/)
  const bare = plain(formatProblem(REFUSALS.noRole(resolveSettings({ env: {}, manifest: undefined, stage: 'production' }), true)))
  assert.match(bare, /manifest \.+ \(none found\)/)
  assert.doesNotMatch(bare, /staging role/)
})

test('noToken: the id_tokens block to add, with the variable and the audience', () => {
  const settings = resolveSettings({ env: {}, manifest: { file: 'app.arc', arc: { 'gitlab-oidc': [['production-role', PROD]] } }, stage: 'production' })
  const text = plain(formatProblem(REFUSALS.noToken(settings, { CI_SERVER_URL: 'https://gitlab.example.com', CI_JOB_NAME: 'deploy' }, settings.role!)))
  assert.match(text, /A role is configured for production but this job has no ID token/)
  assert.match(text, /job \.+ deploy/)
  assert.match(text, /id_tokens:\n.*GITLAB_OIDC_TOKEN:\n.*aud: https:\/\/gitlab\.example\.com/)
  const named = resolveSettings({ env: { ARC_OIDC_TOKEN_VARIABLE: 'MY_TOKEN' }, manifest: { file: 'app.arc', arc: { 'gitlab-oidc': [['production-role', PROD]] } }, stage: 'production' })
  const text2 = plain(formatProblem(REFUSALS.noToken(named, {}, named.role!)))
  assert.match(text2, /No ID token in MY_TOKEN \(named by CI variable ARC_OIDC_TOKEN_VARIABLE\)/)
  assert.match(text2, /MY_TOKEN:\n.*aud: https:\/\/gitlab\.com/)
})
