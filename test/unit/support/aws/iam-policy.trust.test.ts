// The trust policy evaluator the STS stand-in uses applies IAM's condition semantics.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { evaluateTrustPolicy, type PolicyDocument } from '../../../support/aws/iam-policy.ts'

const SUB_MAIN = 'project_path:acme/oidc-example:ref_type:branch:ref:main'

describe('trust policy evaluation', () => {
  const fed = 'arn:aws:iam::111111111111:oidc-provider/gitlab.example.com'
  const policy = (condition: Record<string, Record<string, string | string[]>>): PolicyDocument => ({
    Statement: { Effect: 'Allow', Principal: { Federated: fed }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: condition },
  })
  const ctx = (sub: string, aud = 'sts.amazonaws.com') => ({ federatedPrincipal: fed, action: 'sts:AssumeRoleWithWebIdentity', keys: { 'gitlab.example.com:sub': sub, 'gitlab.example.com:aud': aud } })

  it('applies StringEquals/StringLike/negations with IAM semantics', () => {
    const like = policy({ StringLike: { 'gitlab.example.com:sub': 'project_path:acme/*:ref_type:branch:ref:ma?n' } })
    assert.equal(evaluateTrustPolicy(like, ctx(SUB_MAIN)), 'allow')
    assert.equal(evaluateTrustPolicy(like, ctx('project_path:acme/x:ref_type:branch:ref:dev')), 'implicit-deny')
    const anyOf = policy({ StringEquals: { 'GitLab.example.com:SUB': [ 'x', SUB_MAIN ], 'gitlab.example.com:aud': 'sts.amazonaws.com' } })
    assert.equal(evaluateTrustPolicy(anyOf, ctx(SUB_MAIN)), 'allow', 'key names are case-insensitive, any listed value matches')
    assert.equal(evaluateTrustPolicy(anyOf, ctx(SUB_MAIN, 'other')), 'implicit-deny', 'every condition key must match')
    const not = policy({ StringNotLike: { 'gitlab.example.com:sub': '*:ref:dev*' } })
    assert.equal(evaluateTrustPolicy(not, ctx(SUB_MAIN)), 'allow')
    assert.equal(evaluateTrustPolicy(not, ctx('project_path:a/b:ref_type:branch:ref:dev-1')), 'implicit-deny')
    const absent = policy({ StringEquals: { 'gitlab.example.com:project_path': 'acme/oidc-example' } })
    assert.equal(evaluateTrustPolicy(absent, ctx(SUB_MAIN)), 'implicit-deny', 'a key missing from the request never equals')
    const absentNot = policy({ StringNotEquals: { 'gitlab.example.com:project_path': 'x' } })
    assert.equal(evaluateTrustPolicy(absentNot, ctx(SUB_MAIN)), 'allow', 'a negated operator on a missing key holds')
    const forAny = policy({ 'ForAnyValue:StringLike': { 'gitlab.example.com:aud': [ 'nope', 'sts.*' ] } })
    assert.equal(evaluateTrustPolicy(forAny, ctx(SUB_MAIN)), 'allow')
    const deny: PolicyDocument = { Statement: [ ...[ like.Statement ].flat(), { Effect: 'Deny', Principal: '*', Action: 'sts:*', Condition: { StringLike: { 'gitlab.example.com:sub': '*ref:main' } } } ] }
    assert.equal(evaluateTrustPolicy(deny, ctx(SUB_MAIN)), 'explicit-deny')
    const otherPrincipal: PolicyDocument = { Statement: { Effect: 'Allow', Principal: { Federated: fed + 'x' }, Action: 'sts:AssumeRoleWithWebIdentity' } }
    assert.equal(evaluateTrustPolicy(otherPrincipal, ctx(SUB_MAIN)), 'implicit-deny')
  })
})
