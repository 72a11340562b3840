/**
 * src/hooks/deploy-start.ts: the stage Architect deploys is the one the credentials are for, the
 * report of who deploys, and the permissions boundary on the template Architect will deploy.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { stripVTControlCharacters as plain } from 'node:util'
import { MIN_REMAINING_MS, deployStart, type DeployStartParams } from '../../../src/hooks/deploy-start.ts'
import type { Template } from '../../../src/hooks/boundary.ts'
import type { Outcome } from '../../../src/plugin/activate.ts'
import type { Stage } from '../../../src/plugin/detect.ts'
import type { Manifest } from '../../../src/plugin/manifest.ts'
import { resolveSettings } from '../../../src/plugin/settings.ts'
import type { Claims } from '../../../src/shared/id-token.ts'
import { hookRefusal } from '../../support/refusals.ts'

const PROD = 'arn:aws:iam::111111111111:role/shop-production'
const STAGING = 'arn:aws:iam::111111111111:role/shop-staging'
const PROD_BOUNDARY = 'arn:aws:iam::111111111111:policy/shop-production-boundary'
const STAGING_BOUNDARY = 'arn:aws:iam::111111111111:policy/shop-staging-boundary'
const now = new Date('2026-11-26T12:00:00Z')

const manifest = (withBoundaries: boolean): Manifest => ({
  file: 'app.arc',
  arc: {
    app: ['shop'],
    'gitlab-oidc': [
      ['production-role', PROD], ['staging-role', STAGING],
      ...(withBoundaries ? [['production-permissions-boundary', PROD_BOUNDARY], ['staging-permissions-boundary', STAGING_BOUNDARY]] : []),
    ],
  },
})

interface Over { claims?: Claims, expiresInMs?: number, boundaries?: boolean, env?: NodeJS.ProcessEnv }

function assumed (stage: Stage, over: Over = {}): Outcome {
  return {
    kind: 'assumed',
    origin: 'gitlab',
    stage,
    roleArn: stage === 'production' ? PROD : STAGING,
    assumedRoleArn: `arn:aws:sts::111111111111:assumed-role/shop-${stage}/gitlab-42-1001-5005`,
    sessionName: 'gitlab-42-1001-5005',
    expiration: new Date(now.getTime() + (over.expiresInMs ?? 3600_000)),
    claims: over.claims ?? { sub: 'project_path:acme/shop:ref_type:branch:ref:main', ref: 'main' },
    settings: resolveSettings({ env: over.env ?? {}, manifest: manifest(over.boundaries ?? false), stage }),
  }
}

// This file's roles share account 111111111111, so every deploy also warns about the account
// fence (tested in test/unit/iam/account-fence.test.ts); the other warnings are checked here.
const otherWarnings = (err: string[]): string[] => err.filter(e => !/both in AWS account \d{12}: any branch/.test(e))

function io () {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { now, out: (s: string) => out.push(plain(s)), err: (s: string) => err.push(plain(s)) } }
}

function cloudformation (): Template {
  return {
    Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
      Fn: { Type: 'AWS::Serverless::Function', Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
      Own: { Type: 'AWS::Serverless::Function', Properties: {} },
      Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    },
  }
}

test('idle: nothing to say, nothing returned', () => {
  const h = io()
  assert.equal(deployStart({ kind: 'idle', reason: 'not a GitLab job' }, { stage: 'production', cloudformation: cloudformation() }, h.io), undefined)
  assert.deepEqual(h.out, [])
  assert.deepEqual(h.err, [])
})

test('a stage mismatch is refused with the footer saying nothing was deployed', () => {
  const h = io()
  const text = hookRefusal(() => deployStart(assumed('staging'), { stage: 'production', stackName: 'ShopProduction' }, h.io))
  assert.match(text, /Architect is deploying production, but the credentials were obtained for staging/)
  assert.match(text, /role \.+ arn:aws:iam::111111111111:role\/shop-staging/)
  assert.match(text, /stack \.+ ShopProduction/)
  assert.match(text, /arc deploy --production/)
  assert.match(text, /ARC_OIDC_STAGE=production/)
  assert.ok(text.trimEnd().endsWith('Architect was stopped before it deployed anything.'))
  assert.deepEqual(h.out, [], 'no "Deploying" line for a refused deploy')

  // No stage in the params means staging (Architect's default).
  const text2 = hookRefusal(() => deployStart(assumed('production'), {}, io().io))
  assert.match(text2, /Architect is deploying staging, but the credentials were obtained for production/)
  assert.match(text2, /stack \.+ \?/)
})

test('the report line: stage, stack, dry run, assumed role, session and expiry', () => {
  const h = io()
  const result = deployStart(assumed('production'), { stage: 'production', stackName: 'ShopProduction', dryRun: true }, h.io)
  assert.equal(result, undefined, 'no boundary configured: the template is not replaced')
  assert.equal(h.out.length, 1)
  const [line] = h.out
  assert.match(line!, /Deploying production \(ShopProduction\) \[dry-run\] as arn:aws:sts::111111111111:assumed-role\/shop-production\/gitlab-42-1001-5005/)
  assert.match(line!, /session \.+ gitlab-42-1001-5005/)
  assert.match(line!, /expires \.+ .*\(UTC 2026-11-26T13:00:00Z\), in 60 min/)
  assert.doesNotMatch(line!, /environment/, 'no environment row without an environment claim')
  assert.deepEqual(otherWarnings(h.err), [], 'an hour is enough: no warning')

  const plainRun = io()
  deployStart(assumed('staging'), { stage: 'staging' }, plainRun.io)
  assert.match(plainRun.out[0]!, /Deploying staging as arn:aws:sts::/)
  assert.doesNotMatch(plainRun.out[0]!, /dry-run/)
})

test('the environment row: name, protection and tier from the token', () => {
  const env = (claims: Claims) => {
    const h = io()
    deployStart(assumed('production', { claims }), { stage: 'production' }, h.io)
    return /environment \.+ (.*)/.exec(h.out[0]!)?.[1]
  }
  assert.equal(env({ environment: 'production', environment_protected: 'true', deployment_tier: 'production' }), 'production (protected, tier production)')
  assert.equal(env({ environment: 'production', environment_protected: 'false', deployment_tier: 'production' }), 'production (not protected, tier production)')
  assert.equal(env({ environment: 'review/mr-7' }), 'review/mr-7 (not protected)')
  assert.equal(env({ environment_protected: 'true', deployment_tier: 'production' }), undefined, 'no environment name, no row')
})

test('less than 15 minutes left: a warning with the fix', () => {
  const h = io()
  deployStart(assumed('staging', { expiresInMs: 10 * 60_000 }), { stage: 'staging' }, h.io)
  const err = otherWarnings(h.err)
  assert.equal(err.length, 1)
  assert.match(err[0]!, /warning: The credentials expire in 10 min; a deploy can take longer\./)
  assert.match(err[0]!, /Raise `duration` in @gitlab-oidc \(or ARC_ROLE_DURATION\)/)

  const exactly = io()
  deployStart(assumed('staging', { expiresInMs: MIN_REMAINING_MS }), { stage: 'staging' }, exactly.io)
  assert.deepEqual(otherWarnings(exactly.err), [], 'exactly 15 minutes is enough')
  const justBelow = io()
  deployStart(assumed('staging', { expiresInMs: MIN_REMAINING_MS - 1000 }), { stage: 'staging' }, justBelow.io)
  assert.equal(otherWarnings(justBelow.err).length, 1)
})

test('the stage\'s boundary is applied to the template and reported with its source', () => {
  for (const [stage, arn] of [['production', PROD_BOUNDARY], ['staging', STAGING_BOUNDARY]] as const) {
    const h = io()
    const input = cloudformation()
    const out = deployStart(assumed(stage, { boundaries: true }), { stage, stackName: 'Shop', cloudformation: input }, h.io)
    assert.ok(out, stage)
    assert.equal(out.Resources!.Role!.Properties!.PermissionsBoundary, arn)
    assert.equal(out.Resources!.Own!.Properties!.PermissionsBoundary, arn)
    assert.equal(out.Resources!.Fn!.Properties!.PermissionsBoundary, undefined)
    assert.equal(out.Resources!.Table!.Properties!.PermissionsBoundary, undefined)
    assert.deepEqual(input, cloudformation(), 'the template Architect passed in is not changed')
    assert.equal(h.out.length, 2)
    assert.match(h.out[1]!, new RegExp(`Permissions boundary on 2 roles: ${arn}`))
    assert.match(h.out[1]!, new RegExp(`boundary from \\.+ \`${stage}-permissions-boundary\` in @gitlab-oidc \\(app\\.arc\\)`))
  }
  const one = io()
  deployStart(assumed('staging', { boundaries: true }), { stage: 'staging', cloudformation: { Resources: { R: { Type: 'AWS::IAM::Role' } } } }, one.io)
  assert.match(one.out[1]!, /Permissions boundary on 1 role: /)

  const fromVariable = io()
  const variable = 'arn:aws:iam::111111111111:policy/ci/override'
  deployStart(assumed('staging', { boundaries: true, env: { ARC_PERMISSIONS_BOUNDARY: variable } }), { stage: 'staging', cloudformation: cloudformation() }, fromVariable.io)
  assert.match(fromVariable.out[1]!, /Permissions boundary on 2 roles: arn:aws:iam::111111111111:policy\/ci\/override/)
  assert.match(fromVariable.out[1]!, /boundary from \.+ CI variable ARC_PERMISSIONS_BOUNDARY/)
})

test('no boundary configured, or no template: undefined', () => {
  assert.equal(deployStart(assumed('staging'), { stage: 'staging', cloudformation: cloudformation() }, io().io), undefined)
  const h = io()
  assert.equal(deployStart(assumed('staging', { boundaries: true }), { stage: 'staging' }, h.io), undefined)
  assert.equal(h.out.length, 1, 'only the Deploying line')
})

test('a role with another boundary is refused, each one listed', () => {
  const input = cloudformation()
  input.Resources!.Role!.Properties!.PermissionsBoundary = 'arn:aws:iam::111111111111:policy/wide-open'
  const one = hookRefusal(() => deployStart(assumed('staging', { boundaries: true }), { stage: 'staging', cloudformation: input }, io().io))
  assert.match(one, /A role of the template already names another permissions boundary than arn:aws:iam::111111111111:policy\/shop-staging-boundary/)
  assert.match(one, /Role \.+ AWS::IAM::Role, PermissionsBoundary "arn:aws:iam::111111111111:policy\/wide-open"/)
  assert.match(one, /boundary from \.+ `staging-permissions-boundary` in @gitlab-oidc \(app\.arc\)/)
  assert.match(one, /make the staging boundary setting name that policy/)

  input.Resources!.Own!.Properties!.PermissionsBoundary = { Ref: 'Other' }
  const two = hookRefusal(() => deployStart(assumed('staging', { boundaries: true }), { stage: 'staging', cloudformation: input }, io().io))
  assert.match(two, /2 roles of the template already name another permissions boundary/)
  assert.match(two, /Own \.+ AWS::Serverless::Function, PermissionsBoundary \{"Ref":"Other"\}/)
})

test('existing credentials: the boundary is applied with no stage check and no Deploying line', () => {
  const settings = resolveSettings({ env: {}, manifest: manifest(true), stage: 'staging' })
  const outcome: Outcome = { kind: 'existing-credentials', stage: 'staging', settings }
  const h = io()
  // Architect deploys production although the settings were read for staging: not checked here.
  const params: DeployStartParams = { stage: 'production', cloudformation: cloudformation() }
  const out = deployStart(outcome, params, h.io)
  assert.equal(out?.Resources!.Role!.Properties!.PermissionsBoundary, STAGING_BOUNDARY)
  assert.equal(h.out.length, 1)
  assert.match(h.out[0]!, /Permissions boundary on 2 roles/)
  assert.doesNotMatch(h.out[0]!, /Deploying/)
  assert.equal(deployStart({ kind: 'existing-credentials', stage: 'staging', settings: resolveSettings({ env: {}, manifest: manifest(false), stage: 'staging' }) }, params, io().io), undefined)
})
