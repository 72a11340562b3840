/**
 * Property tests of the boundary rewriter (deploy.start) and the deploy.services check, over
 * templates with every resource type that makes a role, `Role` absent, null, "", an intrinsic or
 * an ARN, and resources that are null or not objects.
 * Contract: applyBoundary never throws anything but BoundaryConflict; every role the template or
 * SAM would create carries the boundary afterwards (and the deploy.services check accepts the
 * result), nothing else changes; on the template before the rewrite, the check refuses exactly
 * when a role would be created without the boundary.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { BoundaryConflict, applyBoundary, unbounded, type Template } from '../../../src/hooks/boundary.ts'
import { checkBoundaries } from '../../../src/hooks/deploy-services.ts'
import type { Outcome } from '../../../src/plugin/activate.ts'
import { resolveSettings } from '../../../src/plugin/settings.ts'
import { PluginError } from '../../../src/shared/problem.ts'
import { params } from '../../support/property.ts'

const ARN = 'arn:aws:iam::111111111111:policy/shop-staging-boundary'
const OTHER = 'arn:aws:iam::111111111111:policy/other'

/** SAM's rule, as its documentation and transform state it: the oracle of these tests. */
function samCreatesRole (r: unknown): boolean {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return false
  const { Type, Properties } = r as { Type?: unknown, Properties?: unknown }
  const props = Properties !== null && typeof Properties === 'object' && !Array.isArray(Properties) ? Properties as Record<string, unknown> : {}
  const role = props.Role
  if (Type === 'AWS::IAM::Role') return true
  if (Type === 'AWS::Serverless::Function') return role === undefined || role === null
  if (Type === 'AWS::Serverless::StateMachine') return role === undefined || role === null || role === ''
  return false
}

const role = fc.constantFrom(undefined, null, '', 'arn:aws:iam::111111111111:role/existing', { Ref: 'Role' }, { 'Fn::GetAtt': ['Role', 'Arn'] }, { 'Fn::Sub': 'arn:aws:iam::${AWS::AccountId}:role/x' })
const boundary = fc.constantFrom(undefined, null, ARN, OTHER, { Ref: 'Boundary' })
const properties = fc.oneof(
  fc.record({ Role: role, PermissionsBoundary: boundary, Handler: fc.constant('index.handler') }, { requiredKeys: ['Handler'] }),
  fc.constantFrom(undefined, null, 'text', 42, []),
)
const resource = fc.oneof(
  { weight: 6, arbitrary: fc.record({ Type: fc.constantFrom('AWS::IAM::Role', 'AWS::Serverless::Function', 'AWS::Serverless::StateMachine', 'AWS::DynamoDB::Table', 'AWS::Serverless::HttpApi', 'AWS::IAM::ManagedPolicy'), Properties: properties }, { requiredKeys: ['Type'] }) },
  fc.constantFrom(null, 'text', 7, [], {}),
)
const template = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), resource, { maxKeys: 8 })
      .map(Resources => ({ Resources } as unknown as Template)),
  },
  fc.constantFrom({}, { Resources: null }, { Resources: [] }, { Resources: 'x' }) as fc.Arbitrary<unknown> as fc.Arbitrary<Template>,
)

function outcome (): Extract<Outcome, { kind: 'existing-credentials' }> {
  const settings = resolveSettings({ env: { ARC_PERMISSIONS_BOUNDARY: ARN }, manifest: undefined, stage: 'staging' })
  return { kind: 'existing-credentials', stage: 'staging', settings }
}

const resources = (t: Template): Array<[string, unknown]> => t.Resources !== null && typeof t.Resources === 'object' && !Array.isArray(t.Resources) ? Object.entries(t.Resources) : []

test('the boundary on every role SAM or the template would create; the deploy.services check sees the same roles', () => {
  fc.assert(fc.property(template, t => {
    const before = structuredClone(t)
    const boundaryOf = (r: unknown) => (r as { Properties?: { PermissionsBoundary?: unknown } }).Properties?.PermissionsBoundary
    const escaping = resources(t).filter(([, r]) => samCreatesRole(r) && boundaryOf(r) !== ARN)
    // deploy.services on the template as it is: refused exactly when a role would escape.
    let refused = false
    try { checkBoundaries(outcome(), { cloudformation: t }, undefined) }
    catch (err) {
      assert.ok(err instanceof PluginError, String(err))
      refused = true
    }
    assert.equal(refused, escaping.length > 0, 'deploy.services refuses exactly the templates with an unbounded role')

    let result: ReturnType<typeof applyBoundary>
    try { result = applyBoundary(t, ARN) }
    catch (err) {
      assert.ok(err instanceof BoundaryConflict, `only a BoundaryConflict, got ${String(err)}`)
      for (const c of err.conflicts) assert.ok(c.current !== undefined && c.current !== null && c.current !== ARN)
      return
    }
    assert.equal(JSON.stringify(t), JSON.stringify(before), 'the input template is not changed')
    const after = new Map(resources(result.template))
    for (const [id, r] of resources(t)) {
      if (samCreatesRole(r)) assert.equal((after.get(id) as { Properties: { PermissionsBoundary?: unknown } }).Properties.PermissionsBoundary, ARN, `${id} is bounded`)
      else assert.equal(JSON.stringify(after.get(id)), JSON.stringify(r), `${id} is unchanged`)
    }
    assert.deepEqual(unbounded(result.template, ARN), [])
    checkBoundaries(outcome(), { cloudformation: result.template }, undefined)
  }), params(500))
})

// Fixed bugs, kept as examples.

test('example: SAM makes a role for a Function whose Role is null, and for a StateMachine whose Role is null or ""', () => {
  const t = { Resources: {
    F: { Type: 'AWS::Serverless::Function', Properties: { Role: null } },
    S1: { Type: 'AWS::Serverless::StateMachine', Properties: { Role: null } },
    S2: { Type: 'AWS::Serverless::StateMachine', Properties: { Role: '' } },
    G: { Type: 'AWS::Serverless::Function', Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
  } } as unknown as Template
  assert.deepEqual(applyBoundary(t, ARN).roles, ['F', 'S1', 'S2'])
  assert.throws(() => checkBoundaries(outcome(), { cloudformation: t }, undefined), /3 roles of the template would be created without the permissions boundary/)
})

test('example: Resources: {A: null} does not throw', () => {
  const t = { Resources: { A: null, B: { Type: 'AWS::IAM::Role' } } } as unknown as Template
  assert.deepEqual(applyBoundary(t, ARN).roles, ['B'])
  assert.deepEqual(unbounded(t, ARN).map(r => r.id), ['B'])
})
