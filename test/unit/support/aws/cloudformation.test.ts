// The CloudFormation stand-in refuses templates over CloudFormation's size quotas, with its errors
// (test/support/aws/cloudformation.ts): TemplateBody over 51,200 bytes (bytes, not characters),
// a template in S3 (TemplateURL) over 1 MB. What a stack creates meets IAM's policy size quotas
// (test/support/aws/cfn-provision.ts), and names it generates are shortened past a service's limit.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { signed, type Wire } from '../../../support/aws-client.ts'
import { TEMPLATE_BODY_MAX_BYTES, TEMPLATE_URL_MAX_BYTES } from '../../../support/aws/cloudformation.ts'
import { createBucket } from '../../../support/aws/s3.ts'
import { generatedName } from '../../../support/aws/cfn-provision.ts'
import { MANAGED_POLICY_MAX, ROLE_INLINE_POLICIES_MAX, TRUST_POLICY_MAX, policySize } from '../../../support/aws/iam-quotas.ts'
import { startAws, type AwsStandIn, type Credentials } from '../../../support/aws.ts'

let aws: AwsStandIn
let creds: Credentials
before(async () => {
  aws = await startAws()
  creds = aws.addDeveloperKey()
})
after(() => aws.close())

/** A JSON template of exactly `bytes` UTF-8 bytes (its Description padded with `pad`). */
function templateOf (bytes: number, pad = 'x'): string {
  const base = JSON.stringify({ Description: '', Resources: {} })
  const room = bytes - Buffer.byteLength(base)
  const body = JSON.stringify({ Description: pad.repeat(Math.floor(room / Buffer.byteLength(pad))) + 'x'.repeat(room % Buffer.byteLength(pad)), Resources: {} })
  assert.equal(Buffer.byteLength(body), bytes)
  return body
}

let n = 0
const createStack = (template: Record<string, string>): Promise<Wire> => signed(aws, creds, {
  service: 'cloudformation',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ Action: 'CreateStack', Version: '2010-05-15', StackName: `Quota${++n}`, ...template }).toString(),
})

describe('CloudFormation stand-in: template size quotas', () => {
  it('creates a stack from a TemplateBody of exactly 51,200 bytes', async () => {
    const res = await createStack({ TemplateBody: templateOf(TEMPLATE_BODY_MAX_BYTES) })
    assert.equal(res.status, 200, res.body)
  })

  it('refuses a TemplateBody of 51,201 bytes with the API\'s ValidationError', async () => {
    const body = templateOf(TEMPLATE_BODY_MAX_BYTES + 1)
    const res = await createStack({ TemplateBody: body })
    assert.equal(res.status, 400)
    assert.equal(res.code, 'ValidationError')
    assert.equal(res.message, `1 validation error detected: Value '${body}' at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to 51200`)
    assert.equal(aws.stacks.includes(`Quota${n}`), false)
  })

  it('counts bytes, not characters: 51,200 characters of which some take two bytes are refused', async () => {
    const body = templateOf(TEMPLATE_BODY_MAX_BYTES + 2, 'é')
    assert.ok(body.length <= TEMPLATE_BODY_MAX_BYTES, `${body.length} characters`)
    const res = await createStack({ TemplateBody: body })
    assert.equal(res.code, 'ValidationError')
  })

  it('takes a bigger template from S3 (TemplateURL), up to 1 MB, and refuses a bigger one', async () => {
    const bucket = createBucket(aws.state.buckets, 'templates-1a2b', 'us-west-2')
    const put = (key: string, body: string): string => {
      bucket.objects.set(key, { body: Buffer.from(body), etag: '"0"', lastModified: Date.now(), metadata: {} })
      return `https://templates-1a2b.s3.us-west-2.amazonaws.com/${key}`
    }
    assert.equal((await createStack({ TemplateURL: put('ok.json', templateOf(TEMPLATE_BODY_MAX_BYTES * 4)) })).status, 200)
    const res = await createStack({ TemplateURL: put('big.json', templateOf(TEMPLATE_URL_MAX_BYTES + 1)) })
    assert.equal(res.code, 'ValidationError')
    assert.equal(res.message, 'Template may not exceed 1000000 bytes in size.')
  })
})

/** A policy document IAM counts as exactly `size` characters (its Resource padded). */
function policyOf (size: number, action = 's3:GetObject'): object {
  const base = { Version: '2012-10-17', Statement: [ { Effect: 'Allow', Action: action, Resource: 'arn:aws:s3:::' } ] }
  const pad = size - policySize(base)
  assert.ok(pad >= 0)
  const doc = { Version: '2012-10-17', Statement: [ { Effect: 'Allow', Action: action, Resource: `arn:aws:s3:::${'x'.repeat(pad)}` } ] }
  assert.equal(policySize(doc), size)
  return doc
}

const TRUST_BASE = { Version: '2012-10-17', Statement: [ { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': '' } } } ] }
/** A trust policy of exactly `size` characters. */
function trustOf (size: number): object {
  const doc = structuredClone(TRUST_BASE)
  doc.Statement[0]!.Condition.StringEquals['aws:SourceAccount'] = 'x'.repeat(size - policySize(TRUST_BASE))
  assert.equal(policySize(doc), size)
  return doc
}

const iamStack = (resources: object, parameters = true): Promise<Wire> => signed(aws, creds, {
  service: 'cloudformation',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({
    Action: 'CreateStack', Version: '2010-05-15', StackName: `Iam${++n}`, 'Capabilities.member.1': 'CAPABILITY_NAMED_IAM',
    TemplateBody: JSON.stringify({ ...(parameters ? { Parameters: { Unused: { Type: 'String', Default: '' } } } : {}), Resources: resources }),
  }).toString(),
})

/** The stack's status and the reason its failed resource gives. */
function outcome (name: string): { status: string, reason: string | undefined } {
  const stack = aws.stack(name)!
  return { status: stack.StackStatus, reason: stack.events.find(e => e.ResourceStatus === 'CREATE_FAILED')?.ResourceStatusReason }
}

/** Created (or still creating: the stand-in finishes on the next DescribeStacks polls), no resource failed. */
function assertCreated (name: string): void {
  const { status, reason } = outcome(name)
  assert.match(status, /^CREATE_(IN_PROGRESS|COMPLETE)$/, reason)
  assert.equal(reason, undefined)
}

describe('CloudFormation stand-in: IAM\'s size quotas on what a stack creates', () => {
  const policyArns = () => [ ...aws.state.accounts.get(aws.state.accountId)!.policies.keys() ]

  it('creates a managed policy of exactly 6,144 characters; one of 6,145 fails the stack with IAM\'s LimitExceeded', async () => {
    assert.equal((await iamStack({ Fits: { Type: 'AWS::IAM::ManagedPolicy', Properties: { ManagedPolicyName: 'fits-6144', PolicyDocument: policyOf(MANAGED_POLICY_MAX) } } })).status, 200)
    assertCreated(`Iam${n}`)
    assert.ok(policyArns().some(a => a.endsWith(':policy/fits-6144')))
    const res = await iamStack({ Big: { Type: 'AWS::IAM::ManagedPolicy', Properties: { ManagedPolicyName: 'big-6145', PolicyDocument: policyOf(MANAGED_POLICY_MAX + 1) } } })
    assert.equal(res.status, 200, 'CreateStack itself succeeds: the resource fails')
    const { status, reason } = outcome(`Iam${n}`)
    assert.equal(status, 'ROLLBACK_COMPLETE')
    assert.match(reason ?? '', /^Resource handler returned message: "Cannot exceed quota for PolicySize: 6144 \(Service: Iam, Status Code: 409, Request ID: [0-9a-f-]+\)" \(HandlerErrorCode: ServiceLimitExceeded\)$/)
    assert.ok(!policyArns().some(a => a.endsWith(':policy/big-6145')), 'nothing of the stack was created')
  })

  it('fails a role whose trust policy is over 2,048 characters', async () => {
    await iamStack({ Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: `trust-${n}`, AssumeRolePolicyDocument: trustOf(TRUST_POLICY_MAX) } } })
    assertCreated(`Iam${n}`)
    await iamStack({ Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: `trust-${n}`, AssumeRolePolicyDocument: trustOf(TRUST_POLICY_MAX + 1) } } })
    assert.equal(outcome(`Iam${n}`).status, 'ROLLBACK_COMPLETE')
    assert.match(outcome(`Iam${n}`).reason ?? '', /Cannot exceed quota for ACLSizePerRole: 2048/)
  })

  it('counts a role\'s inline policies together, its own and AWS::IAM::Policy ones, in an Architect-style template too', async () => {
    const role = (extra: number) => ({
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: trustOf(200), Policies: [ { PolicyName: 'own', PolicyDocument: policyOf(6000) } ] } },
      More: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'more', Roles: [ { Ref: 'Role' } ], PolicyDocument: policyOf(ROLE_INLINE_POLICIES_MAX - 6000 + extra, 's3:PutObject') } },
    })
    await iamStack(role(0), false)
    assertCreated(`Iam${n}`)
    await iamStack(role(1), false)
    assert.equal(outcome(`Iam${n}`).status, 'ROLLBACK_COMPLETE')
    assert.match(outcome(`Iam${n}`).reason ?? '', /Maximum policy size of 10240 bytes exceeded for role Iam\d+-Role-/)
  })
})

describe('CloudFormation stand-in: generated names past a service\'s limit', () => {
  const random = 'A1B2C3D4E5F6'

  it('leaves a name within the limit as <stack>-<logical>-<random>', () => {
    assert.equal(generatedName('OidcExampleProduction', 'GetIndexHTTPLambda', random, 64), `OidcExampleProduction-GetIndexHTTPLambda-${random}`)
  })

  it('cuts the stack and logical-ID parts, never the random suffix, to the limit', () => {
    for (const [ stack, logical ] of [ [ 'S'.repeat(40), 'L'.repeat(40) ], [ 'Short', 'L'.repeat(80) ], [ 'S'.repeat(80), 'Short' ] ]) {
      for (const max of [ 63, 64 ]) {
        const name = generatedName(stack!, logical!, random, max)
        assert.equal(name.length, max, name)
        assert.ok(name.endsWith(`-${random}`), name)
      }
    }
  })

  it('a long stack name loses its end (so the `<stack>-` prefix the deploy roles require); a short one keeps it', () => {
    const long = 'GrunetreeRemixStackProduction'
    assert.ok(!generatedName(long, 'AnyCatchallHTTPLambdaFunction', random, 64).startsWith(`${long}-`))
    assert.ok(generatedName('ShortProduction', 'L'.repeat(60), random, 64).startsWith('ShortProduction-'))
  })
})
