// The stand-ins refuse IAM policies over IAM's size quotas, with IAM's errors (test/support/aws/iam-quotas.ts):
// the account model's CreateRole, UpdateAssumeRolePolicy, PutRolePolicy and CreatePolicyVersion,
// and the stand-in's own roles. White space is not counted, as IAM documents.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Account } from '../../../support/aws/iam-account.ts'
import type { PolicyDocument } from '../../../support/aws/iam-policy.ts'
import { MANAGED_POLICY_MAX, ROLE_INLINE_POLICIES_MAX, TRUST_POLICY_MAX, checkInlinePolicies, checkManagedPolicy, checkTrustPolicy, policySize } from '../../../support/aws/iam-quotas.ts'
import { AwsError } from '../../../support/aws/protocol.ts'
import { startAws, type AwsStandIn } from '../../../support/aws.ts'

/** A policy document of exactly `size` characters as IAM counts them (no white space). */
function policyOfSize (size: number, sid = 'S'): PolicyDocument {
  const base = { Version: '2012-10-17', Statement: [ { Sid: sid, Effect: 'Allow' as const, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/' } ] }
  const pad = size - JSON.stringify(base).length
  assert.ok(pad >= 0, `a policy of ${size} characters`)
  base.Statement[0]!.Resource += 'x'.repeat(pad)
  assert.equal(policySize(base), size)
  return base
}

const refusedWith = (code: string, message: string | RegExp, status: number) => (e: unknown): boolean => {
  assert.ok(e instanceof AwsError, String(e))
  assert.equal(e.code, code)
  assert.equal(e.status, status)
  if (typeof message === 'string') assert.equal(e.message, message)
  else assert.match(e.message, message)
  return true
}

describe('IAM quotas: what IAM counts', () => {
  it('counts characters without white space, inside a JSON text too', () => {
    const doc = policyOfSize(500)
    assert.equal(policySize(JSON.stringify(doc, null, 4)), 500)
    assert.equal(policySize(JSON.stringify(doc).replace(/,/g, ',\n\t ')), 500)
  })

  it('refuses a document that is not JSON as MalformedPolicyDocument', () => {
    assert.throws(() => checkTrustPolicy('{"Version": '), refusedWith('MalformedPolicyDocument', 'This policy contains invalid Json', 400))
  })

  it('takes each quota up to its limit and refuses one character more, with IAM\'s code and message', () => {
    checkManagedPolicy(policyOfSize(MANAGED_POLICY_MAX))
    assert.throws(() => checkManagedPolicy(policyOfSize(MANAGED_POLICY_MAX + 1)), refusedWith('LimitExceeded', 'Cannot exceed quota for PolicySize: 6144', 409))
    checkTrustPolicy(policyOfSize(TRUST_POLICY_MAX))
    assert.throws(() => checkTrustPolicy(policyOfSize(TRUST_POLICY_MAX + 1)), refusedWith('LimitExceeded', 'Cannot exceed quota for ACLSizePerRole: 2048', 409))
    checkInlinePolicies('r', [ policyOfSize(ROLE_INLINE_POLICIES_MAX - 3000), policyOfSize(3000) ])
    assert.throws(() => checkInlinePolicies('r', [ policyOfSize(ROLE_INLINE_POLICIES_MAX - 3000), policyOfSize(3001) ]), refusedWith('LimitExceeded', 'Maximum policy size of 10240 bytes exceeded for role r', 409))
  })
})

describe('IAM quotas in the account model', () => {
  const admin = { identity: [ { Version: '2012-10-17', Statement: [ { Effect: 'Allow' as const, Action: '*', Resource: '*' } ] } as PolicyDocument ] }

  it('CreateRole and UpdateAssumeRolePolicy: a trust policy over 2,048 characters is refused and changes nothing', () => {
    const account = new Account('111111111111')
    assert.throws(() => account.call(admin, { api: 'CreateRole', role: 'big', trust: policyOfSize(TRUST_POLICY_MAX + 1) }), refusedWith('LimitExceeded', /ACLSizePerRole: 2048/, 409))
    assert.equal(account.roles.has('big'), false)
    assert.equal(account.call(admin, { api: 'CreateRole', role: 'ok', trust: policyOfSize(TRUST_POLICY_MAX) }).decision, 'allow')
    assert.throws(() => account.call(admin, { api: 'UpdateAssumeRolePolicy', role: 'ok', trust: policyOfSize(TRUST_POLICY_MAX + 1) }), refusedWith('LimitExceeded', /ACLSizePerRole/, 409))
    assert.equal(policySize(account.roles.get('ok')!.trust), TRUST_POLICY_MAX)
  })

  it('PutRolePolicy: the role\'s inline policies together, a replaced policy counted once', () => {
    const account = new Account('111111111111')
    account.call(admin, { api: 'CreateRole', role: 'r', trust: policyOfSize(200) })
    assert.equal(account.call(admin, { api: 'PutRolePolicy', role: 'r', policyName: 'a', document: policyOfSize(6000) }).decision, 'allow')
    assert.throws(() => account.call(admin, { api: 'PutRolePolicy', role: 'r', policyName: 'b', document: policyOfSize(ROLE_INLINE_POLICIES_MAX - 6000 + 1) }), refusedWith('LimitExceeded', 'Maximum policy size of 10240 bytes exceeded for role r', 409))
    assert.deepEqual([ ...account.roles.get('r')!.inline.keys() ], [ 'a' ])
    assert.equal(account.call(admin, { api: 'PutRolePolicy', role: 'r', policyName: 'b', document: policyOfSize(ROLE_INLINE_POLICIES_MAX - 6000) }).decision, 'allow')
    assert.equal(account.call(admin, { api: 'PutRolePolicy', role: 'r', policyName: 'a', document: policyOfSize(6000) }).decision, 'allow', 'replacing a counts it once')
  })

  it('CreatePolicyVersion: a managed policy (a boundary) over 6,144 characters is refused', () => {
    const account = new Account('111111111111')
    const arn = 'arn:aws:iam::111111111111:policy/b'
    account.policies.set(arn, policyOfSize(200))
    assert.throws(() => account.call(admin, { api: 'CreatePolicyVersion', policyArn: arn, document: policyOfSize(MANAGED_POLICY_MAX + 1) }), refusedWith('LimitExceeded', /PolicySize: 6144/, 409))
    assert.equal(policySize(account.policies.get(arn)!), 200)
  })
})

describe('IAM quotas in the AWS stand-in', () => {
  let aws: AwsStandIn
  before(async () => { aws = await startAws() })
  after(() => aws.close())

  it('a role whose trust policy IAM would refuse cannot be registered', () => {
    assert.throws(() => aws.addRole({ name: 'big', trustPolicy: policyOfSize(TRUST_POLICY_MAX + 1) }), refusedWith('LimitExceeded', /ACLSizePerRole/, 409))
    assert.throws(() => aws.addRole({ name: 'bad', trustPolicy: '{' }), refusedWith('MalformedPolicyDocument', 'This policy contains invalid Json', 400))
    assert.match(aws.addRole({ name: 'ok', trustPolicy: JSON.stringify(policyOfSize(TRUST_POLICY_MAX), null, 2) }), /:role\/ok$/)
  })
})
