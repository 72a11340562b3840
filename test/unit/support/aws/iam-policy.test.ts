/**
 * The test suite's IAM evaluator (test/support/aws/iam-policy.ts, iam-authz.ts) against IAM's
 * documented rules ("Policy evaluation logic", "Permissions boundaries for IAM entities",
 * "IAM JSON policy elements: Condition operators"), so that what the IAM template tests conclude
 * from it is what IAM would decide.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { NotModelled, arnMatch, conditionMatches, type PolicyDocument, type Statement } from '../../../support/aws/iam-policy.ts'
import { authorize, evaluatePolicies, isAllowed, resourceMatches } from '../../../support/aws/iam-authz.ts'

const doc = (...Statement: Statement[]): PolicyDocument => ({ Version: '2012-10-17', Statement })
const allowAll = doc({ Effect: 'Allow', Action: '*', Resource: '*' })
const role = 'arn:aws:iam::111111111111:role/AppStaging-Role-X'

describe('IAM evaluator: statements', () => {
  it('Action matches case-insensitively with * and ?; NotAction matches every other action', () => {
    const p = doc({ Effect: 'Allow', Action: 'S3:Get*', Resource: '*' })
    assert.equal(evaluatePolicies([ p ], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }), 'allow')
    assert.equal(evaluatePolicies([ p ], { action: 's3:PutObject', resource: 'arn:aws:s3:::b/k' }), 'implicit-deny')
    const q = doc({ Effect: 'Allow', Action: 'sqs:?endMessage', Resource: '*' })
    assert.equal(evaluatePolicies([ q ], { action: 'sqs:SendMessage', resource: '*' }), 'allow')
    assert.equal(evaluatePolicies([ q ], { action: 'sqs:SendMessageBatch', resource: '*' }), 'implicit-deny')
    const n = doc({ Effect: 'Allow', NotAction: [ 'iam:*', 'sts:*' ], Resource: '*' })
    assert.equal(evaluatePolicies([ n ], { action: 'dynamodb:GetItem', resource: '*' }), 'allow')
    assert.equal(evaluatePolicies([ n ], { action: 'iam:CreateRole', resource: role }), 'implicit-deny')
  })

  it('Resource matches ARNs component by component, case-sensitively; NotResource the others', () => {
    assert.ok(resourceMatches('arn:aws:logs:*:*:*', 'arn:aws:logs:us-west-2:111111111111:log-group:/aws/lambda/f:log-stream:s'), 'the last component keeps its colons')
    assert.ok(resourceMatches('arn:aws:iam::111111111111:role/AppStaging*', role))
    assert.ok(!resourceMatches('arn:aws:iam::111111111111:role/appstaging*', role), 'case-sensitive')
    assert.ok(!resourceMatches('arn:aws:iam::*:role/Other*', role))
    assert.ok(!resourceMatches('arn:aws:s3:::bucket', 'arn:aws:s3:::bucket/key'))
    assert.ok(resourceMatches('*', role))
    const p = doc({ Effect: 'Allow', Action: 'iam:GetRole', NotResource: 'arn:aws:iam::*:role/Admin' })
    assert.equal(evaluatePolicies([ p ], { action: 'iam:GetRole', resource: role }), 'allow')
    assert.equal(evaluatePolicies([ p ], { action: 'iam:GetRole', resource: 'arn:aws:iam::111111111111:role/Admin' }), 'implicit-deny')
  })

  it('rejects malformed identity statements instead of guessing', () => {
    assert.throws(() => evaluatePolicies([ doc({ Effect: 'Allow', Action: '*' } as Statement) ], { action: 's3:GetObject', resource: '*' }), /Resource/)
    assert.throws(() => evaluatePolicies([ doc({ Effect: 'Allow', Action: '*', NotAction: 'iam:*', Resource: '*' }) ], { action: 's3:GetObject', resource: '*' }), /Action/)
    assert.throws(() => evaluatePolicies([ doc({ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }) ], { action: 's3:GetObject', resource: '*' }), /Principal/)
  })

  it('an explicit Deny overrides any Allow; nothing allowed is an implicit deny', () => {
    const deny = doc({ Effect: 'Deny', Action: 'iam:DeleteRolePermissionsBoundary', Resource: '*' })
    assert.equal(evaluatePolicies([ allowAll, deny ], { action: 'iam:DeleteRolePermissionsBoundary', resource: role }), 'explicit-deny')
    assert.equal(evaluatePolicies([ allowAll, deny ], { action: 'iam:GetRole', resource: role }), 'allow')
    assert.equal(evaluatePolicies([], { action: 'iam:GetRole', resource: role }), 'implicit-deny')
  })
})

describe('IAM evaluator: conditions', () => {
  it('ArnLike / ArnEquals: per component, wildcards, no match for non-ARNs; ArnNotLike negates', () => {
    assert.ok(arnMatch('arn:aws:lambda:*:111111111111:function:AppStaging*', 'arn:aws:lambda:eu-west-1:111111111111:function:AppStaging-F-1'))
    assert.ok(!arnMatch('arn:aws:lambda:*:111111111111:function:AppStaging*', 'arn:aws:lambda:eu-west-1:222222222222:function:AppStaging-F-1'))
    assert.ok(!arnMatch('arn:aws:*', 'arn:aws:lambda:eu-west-1:1:function:f'), 'a wildcard does not span components')
    assert.ok(!arnMatch('arn:aws:iam::aws:policy/*', 'not-an-arn'))
    const ctx = { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' }
    assert.ok(conditionMatches('ArnEquals', { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/*' }, ctx))
    assert.ok(conditionMatches('ArnLike', { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/Admin*' }, ctx))
    assert.ok(!conditionMatches('ArnNotLike', { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/*' }, ctx))
    assert.ok(!conditionMatches('ArnLike', { 'iam:PolicyARN': '*' }, {}), 'absent key fails a positive operator')
    assert.ok(conditionMatches('ArnNotLike', { 'iam:PolicyARN': '*' }, {}), 'and satisfies a negated one')
  })

  it('iam:PermissionsBoundary with StringEquals: an absent boundary fails, another boundary fails', () => {
    const b = 'arn:aws:iam::111111111111:policy/app-staging-boundary'
    const p = doc({ Effect: 'Allow', Action: 'iam:CreateRole', Resource: 'arn:aws:iam::111111111111:role/AppStaging*', Condition: { StringEquals: { 'iam:PermissionsBoundary': b } } })
    assert.equal(evaluatePolicies([ p ], { action: 'iam:CreateRole', resource: role, context: { 'iam:PermissionsBoundary': b } }), 'allow')
    assert.equal(evaluatePolicies([ p ], { action: 'iam:CreateRole', resource: role }), 'implicit-deny')
    assert.equal(evaluatePolicies([ p ], { action: 'iam:CreateRole', resource: role, context: { 'iam:PermissionsBoundary': 'arn:aws:iam::aws:policy/AdministratorAccess' } }), 'implicit-deny')
  })

  it('iam:PassedToService: a list of values is an OR; condition key names are case-insensitive', () => {
    const p = doc({ Effect: 'Allow', Action: 'iam:PassRole', Resource: '*', Condition: { StringEquals: { 'iam:PassedToService': [ 'lambda.amazonaws.com', 'scheduler.amazonaws.com' ] } } })
    assert.equal(evaluatePolicies([ p ], { action: 'iam:PassRole', resource: role, context: { 'IAM:passedtoservice': 'scheduler.amazonaws.com' } }), 'allow')
    assert.equal(evaluatePolicies([ p ], { action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': 'ec2.amazonaws.com' } }), 'implicit-deny')
  })

  it('several operators, and several keys in one operator, are ANDed', () => {
    const cond = { StringEquals: { 'a:x': '1', 'a:y': '2' }, StringLike: { 'a:z': 'p*' } }
    assert.ok(Object.entries(cond).every(([ op, e ]) => conditionMatches(op, e, { 'a:x': '1', 'a:y': '2', 'a:z': 'pq' })))
    assert.ok(!Object.entries(cond).every(([ op, e ]) => conditionMatches(op, e, { 'a:x': '1', 'a:y': '3', 'a:z': 'pq' })))
    assert.ok(conditionMatches('Bool', { 'aws:SecureTransport': true } as never, { 'aws:SecureTransport': 'true' }))
  })
})

describe('IAM evaluator: permissions boundaries', () => {
  const boundary = doc({ Effect: 'Allow', Action: 'dynamodb:*', Resource: 'arn:aws:dynamodb:*:111111111111:table/AppStaging*' })
  const table = 'arn:aws:dynamodb:us-west-2:111111111111:table/AppStaging-T-1'

  it('effective permissions are the intersection of the identity policies and the boundary', () => {
    const r = { identity: [ allowAll ], boundary }
    assert.deepEqual(authorize(r, { action: 'dynamodb:GetItem', resource: table }), { decision: 'allow' })
    assert.deepEqual(authorize(r, { action: 'iam:CreateRole', resource: role }), { decision: 'implicit-deny', deniedBy: 'boundary' })
    assert.deepEqual(authorize(r, { action: 'dynamodb:GetItem', resource: 'arn:aws:dynamodb:us-west-2:111111111111:table/AppProduction-T-1' }), { decision: 'implicit-deny', deniedBy: 'boundary' })
  })

  it('a boundary grants nothing by itself', () => {
    assert.deepEqual(authorize({ identity: [], boundary }, { action: 'dynamodb:GetItem', resource: table }), { decision: 'implicit-deny', deniedBy: 'identity' })
  })

  it('an explicit Deny in the boundary or in an identity policy wins over both Allows', () => {
    const denying = doc(...boundary.Statement as Statement[], { Effect: 'Deny', Action: [ 'iam:*', 'sts:*' ], Resource: '*' })
    assert.equal(authorize({ identity: [ allowAll ], boundary: denying }, { action: 'sts:AssumeRole', resource: role }).decision, 'explicit-deny')
    const idDeny = doc({ Effect: 'Deny', Action: 'dynamodb:DeleteTable', Resource: '*' })
    assert.equal(authorize({ identity: [ allowAll, idDeny ], boundary }, { action: 'dynamodb:DeleteTable', resource: table }).decision, 'explicit-deny')
  })

  it('without a boundary, the identity policies alone decide', () => {
    assert.ok(isAllowed({ identity: [ allowAll ] }, { action: 'iam:CreateRole', resource: role }))
  })
})

describe('IAM evaluator: what it does not model is refused, never ignored', () => {
  const req = { action: 'lambda:CreateFunctionUrlConfig', resource: 'arn:aws:lambda:us-west-2:111111111111:function:AppStaging-F-1', context: { 'lambda:FunctionUrlAuthType': 'NONE' } }
  const denyWith = (Condition: Statement['Condition']) => [ allowAll, doc({ Effect: 'Deny', Action: 'lambda:*', Resource: '*', Condition }) ]

  it('an unknown condition operator throws (a Deny that uses it cannot silently not apply)', () => {
    for (const op of [ 'NumericLessThan', 'DateGreaterThan', 'IpAddress', 'BinaryEquals', 'StringMatches', 'ForAnyValue:NumericEquals', 'ForSomeValues:StringEquals' ]) {
      assert.throws(() => evaluatePolicies(denyWith({ [op]: { 'lambda:FunctionUrlAuthType': 'NONE' } }), req), NotModelled, op)
    }
  })

  it('IfExists and ForAnyValue/ForAllValues combinations it does not implement throw', () => {
    for (const op of [ 'NullIfExists', 'ForAnyValue:Null', 'ForAllValues:Bool', 'ForAnyValue:StringEqualsIfExists' ]) {
      assert.throws(() => conditionMatches(op, { 'lambda:FunctionUrlAuthType': 'NONE' }, req.context), NotModelled, op)
    }
    assert.throws(() => conditionMatches('Null', { 'lambda:FunctionUrlAuthType': 'maybe' }, req.context), NotModelled)
    // The ones it implements are evaluated, per IAM's rules for an absent key.
    assert.equal(conditionMatches('StringNotEqualsIfExists', { 'lambda:FunctionUrlAuthType': 'NONE' }, {}), true)
    assert.equal(conditionMatches('ForAllValues:StringEquals', { 'lambda:FunctionUrlAuthType': 'AWS_IAM' }, {}), true)
    assert.equal(conditionMatches('ForAnyValue:StringEquals', { 'lambda:FunctionUrlAuthType': 'AWS_IAM' }, {}), false)
    assert.equal(evaluatePolicies(denyWith({ StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE' } }), req), 'explicit-deny')
  })

  it('a global aws: key the request does not supply throws; one it supplies is evaluated', () => {
    assert.throws(() => evaluatePolicies(denyWith({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }), req), NotModelled)
    assert.throws(() => evaluatePolicies(denyWith({ StringNotEquals: { 'aws:ResourceAccount': '111111111111' } }), req), /aws:ResourceAccount/)
    assert.throws(() => conditionMatches('StringEquals', { 'aws:PrincipalTag/team': 'x' }, {}), NotModelled)
    assert.equal(conditionMatches('StringEquals', { 'aws:ResourceAccount': '111111111111' }, { 'aws:ResourceAccount': '111111111111' }), true)
  })
})
