/**
 * The AWS stand-in authorizes each call as the requests AWS forms for it (request-resources.ts):
 * the resource ARN of the action, the condition keys the service sets, identity ∩ boundary, an
 * explicit deny winning, and AccessDenied worded as each protocol words it.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startAws, type AwsStandIn } from '../../../support/aws.ts'
import { signed, ssmCall } from '../../../support/aws-client.ts'
import { iamAccount } from '../../../support/aws/state.ts'
import type { PolicyDocument } from '../../../support/aws/iam-policy.ts'

let aws: AwsStandIn
before(async () => { aws = await startAws() })
after(async () => { await aws.close() })

const doc = (...Statement: PolicyDocument['Statement'][]): PolicyDocument => ({ Version: '2012-10-17', Statement: Statement.flat() })

/** A role with policies as CloudFormation creates them, and a session of it (signed calls use its keys). */
function sessionOf (identity: PolicyDocument, boundary?: PolicyDocument) {
  const account = iamAccount(aws.state, aws.accountId)
  const name = `r${account.roles.size}`
  const arn = `arn:aws:iam::${aws.accountId}:role/${name}`
  const boundaryArn = `arn:aws:iam::${aws.accountId}:policy/${name}-boundary`
  if (boundary) account.policies.set(boundaryArn, boundary)
  account.roles.set(arn, {
    arn, name, roleId: 'AROATEST', trustPolicy: doc(), maxSessionDuration: 3600, permissions: [],
    policies: { inline: new Map([ [ 'p', identity ] ]), attached: [], ...(boundary ? { boundary: boundaryArn } : {}) },
  })
  const creds = { accessKeyId: `ASIA${name.toUpperCase()}TEST`, secretAccessKey: 'secret', sessionToken: 'token' }
  aws.state.sessions.set(creds.accessKeyId, {
    ...creds, expiration: Date.now() + 3_600_000, roleArn: arn, roleName: name, sessionName: 's', durationSeconds: 3600,
    assumedRoleArn: `arn:aws:sts::${aws.accountId}:assumed-role/${name}/s`, assumedRoleId: 'AROATEST:s', subject: 'x', audience: 'x', provider: 'x', issuedAt: Date.now(),
  })
  return creds
}

describe('SSM: parameter ARNs, the path of GetParametersByPath', () => {
  it('allowed on the path\'s ARN; denied elsewhere with AccessDeniedException naming action and resource', async () => {
    const creds = sessionOf(doc({ Effect: 'Allow', Action: 'ssm:GetParametersByPath', Resource: `arn:aws:ssm:*:${aws.accountId}:parameter/shop` }))
    assert.equal((await signed(aws, creds, ssmCall('GetParametersByPath', { Path: '/shop', Recursive: true }))).status, 200)
    const denied = await signed(aws, creds, ssmCall('GetParametersByPath', { Path: '/other' }))
    assert.equal(denied.code, 'AccessDeniedException')
    assert.equal(denied.message, `User: arn:aws:sts::${aws.accountId}:assumed-role/r0/s is not authorized to perform: ssm:GetParametersByPath on resource: ` +
      `arn:aws:ssm:us-west-2:${aws.accountId}:parameter/other because no identity-based policy allows the ssm:GetParametersByPath action`)
  })
  it('the boundary caps what the identity policy allows; an explicit deny wins', async () => {
    const all = { Effect: 'Allow' as const, Action: 'ssm:*', Resource: '*' }
    const bounded = sessionOf(doc(all), doc({ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' }))
    assert.equal((await signed(aws, bounded, ssmCall('GetParametersByPath', { Path: '/a' }))).message?.endsWith('because no permissions boundary allows the ssm:GetParametersByPath action'), true)
    const denying = sessionOf(doc(all, { Effect: 'Deny', Action: 'ssm:GetParametersByPath', Resource: '*' }))
    assert.match((await signed(aws, denying, ssmCall('GetParametersByPath', { Path: '/a' }))).message ?? '', /with an explicit deny in an identity-based policy$/)
  })
})

describe('S3: bucket and object ARNs, s3:ResourceAccount', () => {
  it('an object call is authorized on bucket/key; a deny on another account\'s bucket applies through s3:ResourceAccount', async () => {
    aws.state.buckets.set('theirs', { name: 'theirs', region: 'us-west-2', created: 0, objects: new Map(), owner: '999999999999' })
    const creds = sessionOf(doc(
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { StringNotEquals: { 's3:ResourceAccount': aws.accountId } } },
    ))
    const put = await signed(aws, creds, { service: 's3', method: 'PUT', path: '/theirs/k', body: 'x', contentSha256: 'UNSIGNED-PAYLOAD' })
    assert.equal(put.code, 'AccessDenied')
    assert.match(put.message ?? '', /s3:PutObject on resource: "arn:aws:s3:::theirs\/k" with an explicit deny/)
  })
})
