/**
 * src/hooks/boundary.ts: the permissions boundary on every role of a template (pure functions).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BoundaryConflict, applyBoundary, pluginsAfter, roleResources, unbounded, type HookFunction, type Template } from '../../../src/hooks/boundary.ts'

const ARN = 'arn:aws:iam::111111111111:policy/shop-staging-boundary'
const OTHER = 'arn:aws:iam::111111111111:policy/someone-elses-boundary'

/** The shapes Architect's generated SAM template has, plus the SAM resources that create roles themselves. */
function template (): Template {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Transform: 'AWS::Serverless-2016-10-31',
    Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Statement: [] }, Policies: [{ PolicyName: 'ArcGlobalPolicy' }] } },
      GetIndexHTTPLambda: { Type: 'AWS::Serverless::Function', Properties: { Handler: 'index.handler', Role: { 'Fn::Sub': ['arn:aws:iam::${AWS::AccountId}:role/${roleName}', { roleName: { Ref: 'Role' } }] } } },
      OwnRoleFunction: { Type: 'AWS::Serverless::Function', Properties: { Handler: 'index.handler' } },
      Flow: { Type: 'AWS::Serverless::StateMachine', Properties: { DefinitionUri: 's3://x/y' } },
      FlowWithRole: { Type: 'AWS::Serverless::StateMachine', Properties: { Role: 'arn:aws:iam::111111111111:role/existing' } },
      DataTable: { Type: 'AWS::DynamoDB::Table', Properties: { BillingMode: 'PAY_PER_REQUEST' } },
      HTTP: { Type: 'AWS::Serverless::HttpApi', Properties: {} },
      Managed: { Type: 'AWS::IAM::ManagedPolicy', Properties: { PolicyDocument: {} } },
    },
    Outputs: { API: { Value: 'x' } },
  }
}

test('roleResources: IAM roles, and SAM functions and state machines without a Role', () => {
  const found = roleResources(template())
  assert.deepEqual(found.map(t => [t.id, t.type]), [
    ['Role', 'AWS::IAM::Role'],
    ['OwnRoleFunction', 'AWS::Serverless::Function'],
    ['Flow', 'AWS::Serverless::StateMachine'],
  ])
  assert.ok(found.every(t => t.current === undefined))
  assert.deepEqual(roleResources({}), [], 'a template without Resources has no roles')
  assert.deepEqual(roleResources({ Resources: { Bare: { Type: 'AWS::Serverless::Function' } } }).map(t => t.id), ['Bare'], 'no Properties at all: SAM creates a role')
})

test('applyBoundary sets PermissionsBoundary on each role resource and nothing else', () => {
  const input = template()
  const { template: out, roles } = applyBoundary(input, ARN)
  assert.deepEqual(roles, ['Role', 'OwnRoleFunction', 'Flow'])
  const r = out.Resources!
  assert.equal(r.Role!.Properties!.PermissionsBoundary, ARN)
  assert.equal(r.OwnRoleFunction!.Properties!.PermissionsBoundary, ARN)
  assert.equal(r.Flow!.Properties!.PermissionsBoundary, ARN)
  // Other properties are kept.
  assert.deepEqual(r.Role!.Properties!.Policies, [{ PolicyName: 'ArcGlobalPolicy' }])
  assert.equal(r.OwnRoleFunction!.Properties!.Handler, 'index.handler')
  // Resources that use an existing role, and resources that are not roles, are untouched.
  for (const id of ['GetIndexHTTPLambda', 'FlowWithRole', 'DataTable', 'HTTP', 'Managed']) {
    assert.deepEqual(r[id], template().Resources![id], id)
    assert.equal(r[id]!.Properties!.PermissionsBoundary, undefined, id)
  }
  assert.deepEqual(out.Outputs, input.Outputs)
  assert.equal(out.Transform, 'AWS::Serverless-2016-10-31')
})

test('applyBoundary does not mutate the input template', () => {
  const input = template()
  const before = structuredClone(input)
  const { template: out } = applyBoundary(input, ARN)
  assert.deepEqual(input, before)
  assert.notEqual(out, input)
  assert.notEqual(out.Resources, input.Resources)
  assert.notEqual(out.Resources!.Role!.Properties, input.Resources!.Role!.Properties)
})

test('a resource without Properties gets some', () => {
  const { template: out, roles } = applyBoundary({ Resources: { Bare: { Type: 'AWS::IAM::Role' } } }, ARN)
  assert.deepEqual(roles, ['Bare'])
  assert.deepEqual(out.Resources!.Bare!.Properties, { PermissionsBoundary: ARN })
})

test('a template with no role resources comes back equal, with no roles', () => {
  const input: Template = { Resources: { DataTable: { Type: 'AWS::DynamoDB::Table', Properties: {} } } }
  const { template: out, roles } = applyBoundary(input, ARN)
  assert.deepEqual(roles, [])
  assert.deepEqual(out, input)
  assert.deepEqual(applyBoundary({}, ARN), { template: {}, roles: [] })
})

test('the same boundary already present is fine', () => {
  const input = template()
  input.Resources!.Role!.Properties!.PermissionsBoundary = ARN
  const { template: out, roles } = applyBoundary(input, ARN)
  assert.deepEqual(roles, ['Role', 'OwnRoleFunction', 'Flow'])
  assert.equal(out.Resources!.Role!.Properties!.PermissionsBoundary, ARN)
  // Applying twice gives the same template.
  assert.deepEqual(applyBoundary(out, ARN).template, out)
})

test('a different boundary is a BoundaryConflict listing every conflicting role', () => {
  const input = template()
  input.Resources!.Role!.Properties!.PermissionsBoundary = OTHER
  input.Resources!.Flow!.Properties!.PermissionsBoundary = { Ref: 'SomePolicy' }
  const before = structuredClone(input)
  assert.throws(() => applyBoundary(input, ARN), (err: unknown) => {
    assert.ok(err instanceof BoundaryConflict)
    assert.deepEqual(err.conflicts, [
      { id: 'Role', type: 'AWS::IAM::Role', current: OTHER },
      { id: 'Flow', type: 'AWS::Serverless::StateMachine', current: { Ref: 'SomePolicy' } },
    ])
    assert.equal(err.message, '2 role(s) already name another permissions boundary')
    return true
  })
  assert.deepEqual(input, before, 'a refused template is not touched either')
})

test('unbounded lists the roles that do not carry the boundary', () => {
  assert.deepEqual(unbounded(template(), ARN).map(t => t.id), ['Role', 'OwnRoleFunction', 'Flow'])
  const bounded = applyBoundary(template(), ARN).template
  assert.deepEqual(unbounded(bounded, ARN), [])
  // A plugin adds a role after ours, and another changes one.
  bounded.Resources!.Added = { Type: 'AWS::IAM::Role', Properties: {} }
  bounded.Resources!.Flow!.Properties!.PermissionsBoundary = OTHER
  assert.deepEqual(unbounded(bounded, ARN), [
    { id: 'Flow', type: 'AWS::Serverless::StateMachine', current: OTHER },
    { id: 'Added', type: 'AWS::IAM::Role', current: undefined },
  ])
})

test('pluginsAfter: the plugins whose deploy.start follows ours, by the function identity', () => {
  const tag = (name: string | undefined): HookFunction => {
    const fn: HookFunction = () => undefined
    if (name !== undefined) fn._plugin = name
    return fn
  }
  const before = tag('arc-plugin-before')
  const self = tag('arc-plugin-gitlab-oidc')
  const after1 = tag('arc-plugin-roles')
  const after2 = tag(undefined)
  assert.deepEqual(pluginsAfter([before, self, after1, after2], self), ['arc-plugin-roles', '(unnamed plugin)'])
  assert.deepEqual(pluginsAfter([before, self], self), [], 'ours is last')
  assert.deepEqual(pluginsAfter([self, before], self), ['arc-plugin-before'])
  // Found by identity, not by name: a copy with the same name is not ours.
  const lookalike = tag('arc-plugin-gitlab-oidc')
  assert.deepEqual(pluginsAfter([before, after1], self), [], 'not in the list')
  assert.deepEqual(pluginsAfter([lookalike, after1], self), [], 'same name, other function')
  assert.deepEqual(pluginsAfter(undefined, self), [])
  assert.deepEqual(pluginsAfter([], self), [])
})
