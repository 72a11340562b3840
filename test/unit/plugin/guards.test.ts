/**
 * src/plugin/guards.ts and their words in src/plugin/refusals.ts: the plugin's own refusals before
 * the exchange: allowed accounts, an unprotected production deploy, a GitLab environment tier that
 * contradicts the stage, and `arc deploy production` (the bare word).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Origin } from '../../../src/shared/id-token.ts'
import { stripVTControlCharacters as plain } from 'node:util'
import { runGuards as checkGuards, type GuardInputs } from '../../../src/plugin/guards.ts'
import { REFUSALS } from '../../../src/plugin/refusals.ts'
import type { Invocation } from '../../../src/plugin/detect.ts'
import { detect, type Stage } from '../../../src/plugin/detect.ts'
import type { Manifest } from '../../../src/plugin/manifest.ts'
import { resolveSettings } from '../../../src/plugin/settings.ts'
import { chooseStage } from '../../../src/plugin/stage.ts'
import type { Claims } from '../../../src/shared/id-token.ts'
import { PluginError } from '../../../src/shared/problem.ts'
import { formatProblem } from '../../../src/report/format.ts'

const PROD = 'arn:aws:iam::111111111111:role/shop-production'
const STAGING = 'arn:aws:iam::111111111111:role/shop-staging'
const manifest: Manifest = { file: 'app.arc', arc: { 'gitlab-oidc': [['production-role', PROD], ['staging-role', STAGING]] } }
const base: Claims = { sub: 'project_path:acme/shop:ref_type:branch:ref:main', ref: 'main', ref_type: 'branch', ref_protected: 'true', user_email: 'dev@example.com' }

function inputs (stage: Stage, over: { claims?: Claims, env?: NodeJS.ProcessEnv, origin?: Origin } = {}): GuardInputs {
  const env = over.env ?? {}
  const settings = resolveSettings({ env, manifest, stage })
  return {
    settings,
    role: settings.role!,
    claims: { ...base, ...over.claims },
    choice: { stage, reason: stage === 'production' ? '--production' : 'no --production flag', bareProduction: false },
    env,
    origin: over.origin ?? 'gitlab',
  }
}

/** The guards as the preflight runs them: the first refusal, thrown as the preflight raises it. */
function runGuards (inputs: GuardInputs): void {
  const refused = checkGuards(inputs)
  if (refused) throw new PluginError(refused.problem)
}

/** The preflight's first check, on the command line alone (src/plugin/preflight.ts). */
function bareProduction (invocation: Invocation, choice: { bareProduction: boolean }): void {
  if (choice.bareProduction) throw new PluginError(REFUSALS.bareProduction({ command: invocation.command!, args: invocation.args }))
}

function refusal (fn: () => void): string {
  try { fn() }
  catch (err) {
    assert.ok(err instanceof PluginError, String(err))
    const text = plain(formatProblem(err.problem))
    assert.ok(!text.includes('dev@example.com'), 'user_email is never printed')
    assert.ok(text.trimEnd().endsWith('Architect was stopped before any AWS call.'))
    return text
  }
  assert.fail('expected a PluginError')
}

test('a protected production deploy and a staging deploy pass', () => {
  assert.doesNotThrow(() => runGuards(inputs('production')))
  assert.doesNotThrow(() => runGuards(inputs('staging', { claims: { ref_protected: 'false', ref: 'feature' } })))
})

test('allowed accounts: the role\'s account must be listed', () => {
  assert.doesNotThrow(() => runGuards(inputs('production', { env: { ARC_ALLOWED_ACCOUNTS: '222222222222 111111111111' } })))
  const text = refusal(() => runGuards(inputs('staging', { env: { ARC_ALLOWED_ACCOUNTS: '222222222222,333333333333' } })))
  assert.match(text, /The role is in AWS account 111111111111, which is not an allowed account/)
  assert.match(text, /role \.+ arn:aws:iam::111111111111:role\/shop-staging \(from `staging-role` in @gitlab-oidc \(app\.arc\)\)/)
  assert.match(text, /allowed \.+ 222222222222, 333333333333 \(from CI variable ARC_ALLOWED_ACCOUNTS\)/)
  // Off GitLab (web identity) the account list still applies.
  assert.match(refusal(() => runGuards(inputs('staging', { env: { ARC_ALLOWED_ACCOUNTS: '222222222222' }, origin: 'web-identity' }))), /not an allowed account/)
})

test('production from an unprotected ref is refused', () => {
  const text = refusal(() => runGuards(inputs('production', { claims: { ref: 'feature', ref_protected: 'false' } })))
  assert.match(text, /Refusing a production deploy from branch `feature`, which is not protected/)
  assert.match(text, /stage \.+ production \(--production\)/)
  assert.match(text, /allow-unprotected-production true.*ARC_ALLOW_UNPROTECTED_PRODUCTION=true/)
})

test('protected ref: the ref_protected claim, else CI_COMMIT_REF_PROTECTED', () => {
  const noClaim = { ref_protected: undefined }
  assert.doesNotThrow(() => runGuards(inputs('production', { claims: noClaim, env: { CI_COMMIT_REF_PROTECTED: 'true' } })))
  assert.match(refusal(() => runGuards(inputs('production', { claims: { ...noClaim, ref: undefined, ref_type: undefined }, env: { CI_COMMIT_REF_PROTECTED: 'false', CI_COMMIT_REF_NAME: 'topic' } }))),
    /Refusing a production deploy from ref `topic`, which is not protected/)
  assert.match(refusal(() => runGuards(inputs('production', { claims: noClaim }))), /not protected/, 'neither claim nor variable: not protected')
  // The claim wins over the variable, both ways.
  assert.match(refusal(() => runGuards(inputs('production', { claims: { ref_protected: 'false' }, env: { CI_COMMIT_REF_PROTECTED: 'true' } }))), /not protected/)
  assert.doesNotThrow(() => runGuards(inputs('production', { claims: { ref_protected: 'true' }, env: { CI_COMMIT_REF_PROTECTED: 'false' } })))
})

test('allow-unprotected-production lets it through', () => {
  assert.doesNotThrow(() => runGuards(inputs('production', { claims: { ref_protected: 'false' }, env: { ARC_ALLOW_UNPROTECTED_PRODUCTION: 'true' } })))
  assert.match(refusal(() => runGuards(inputs('production', { claims: { ref_protected: 'false' }, env: { ARC_ALLOW_UNPROTECTED_PRODUCTION: 'false' } }))), /not protected/)
})

test('environment tier: a production deploy from a job of another tier is refused', () => {
  const text = refusal(() => runGuards(inputs('production', { claims: { environment: 'staging', environment_protected: 'false', deployment_tier: 'staging' } })))
  assert.match(text, /Refusing a production deploy from a job whose GitLab environment is not production: staging \(deployment tier staging\)/)
  assert.match(text, /environment \.+ staging \(deployment tier staging\)/)
  assert.match(text, /deployment_tier: production/)
  assert.match(text, /drop --production/)
  assert.match(text, /`environment-check false` in @gitlab-oidc or ARC_ENVIRONMENT_CHECK=false/)
})

test('environment tier: a staging deploy from a production-tier job is refused', () => {
  const text = refusal(() => runGuards(inputs('staging', { claims: { environment: 'prod', environment_protected: 'true', deployment_tier: 'production' } })))
  assert.match(text, /Refusing a staging deploy from a job in GitLab environment prod \(deployment tier production\)/)
  assert.match(text, /stage \.+ staging \(no --production flag\)/)
  assert.match(text, /Add --production to the command/)
  assert.match(text, /ARC_ENVIRONMENT_CHECK=false/)
})

test('environment tier: matching tiers pass; no deployment_tier claim, no check', () => {
  assert.doesNotThrow(() => runGuards(inputs('production', { claims: { environment: 'production', deployment_tier: 'production' } })))
  for (const tier of ['staging', 'testing', 'development', 'other']) {
    assert.doesNotThrow(() => runGuards(inputs('staging', { claims: { environment: 'review/mr-7', deployment_tier: tier } })), tier)
  }
  assert.doesNotThrow(() => runGuards(inputs('staging', { claims: { environment: 'production' } })), 'an environment without a tier claim')
  assert.doesNotThrow(() => runGuards(inputs('production', { claims: { environment: 'staging' } })))
})

test('environment tier: turned off by the setting or the CI variable', () => {
  const claims = { environment: 'prod', deployment_tier: 'production' }
  assert.doesNotThrow(() => runGuards(inputs('staging', { claims, env: { ARC_ENVIRONMENT_CHECK: 'false' } })))
  assert.doesNotThrow(() => runGuards(inputs('production', { claims: { deployment_tier: 'development' }, env: { ARC_ENVIRONMENT_CHECK: 'false' } })))
  const off = resolveSettings({ env: {}, manifest: { file: 'app.arc', arc: { 'gitlab-oidc': [['staging-role', STAGING], ['environment-check', 'false']] } }, stage: 'staging' })
  assert.doesNotThrow(() => runGuards({ ...inputs('staging', { claims }), settings: off, role: off.role! }))
  assert.match(refusal(() => runGuards(inputs('staging', { claims, env: { ARC_ENVIRONMENT_CHECK: 'true' } }))), /in GitLab environment prod/)
})

test('off GitLab: no protected-ref or tier guard', () => {
  assert.doesNotThrow(() => runGuards(inputs('production', { claims: { ref_protected: 'false' }, origin: 'web-identity' })))
  assert.doesNotThrow(() => runGuards(inputs('staging', { claims: { deployment_tier: 'production' }, origin: 'web-identity' })))
  assert.doesNotThrow(() => runGuards(inputs('production', { claims: { ref_protected: undefined, deployment_tier: 'staging' }, origin: 'web-identity' })))
})

test('bareProduction: `arc deploy production` is refused with the flag to write', () => {
  const job = { GITLAB_CI: 'true' }
  const invocation = detect(job, ['/n', '/b/node_modules/.bin/arc', 'deploy', 'production', '--dry-run'])
  const choice = chooseStage(invocation, {})
  const text = refusal(() => bareProduction(invocation, choice))
  assert.match(text, /`arc deploy production` would deploy the STAGING stack: Architect ignores a bare `production` argument/)
  assert.match(text, /command \.+ arc deploy production --dry-run/)
  assert.match(text, /Write the flag: arc deploy --production --dry-run$/m)

  const destroy = detect(job, ['/n', '/b/node_modules/.bin/arc', 'destroy', 'production'])
  assert.match(refusal(() => bareProduction(destroy, chooseStage(destroy, {}))), /Write the flag: arc destroy --production$/m)

  const fine = detect(job, ['/n', '/b/node_modules/.bin/arc', 'deploy', '--production'])
  assert.doesNotThrow(() => bareProduction(fine, chooseStage(fine, {})))
})
