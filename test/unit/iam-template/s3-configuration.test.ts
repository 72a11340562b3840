/**
 * Issue 25: `s3:PutBucket*` does not match the S3 configuration actions whose names do not start
 * with PutBucket. CloudFormation's bucket handler calls them, as the deploy role, for a static
 * bucket with BucketEncryption or LifecycleConfiguration (test/support/aws/cfn-permissions.ts):
 * allowed on the stage's static bucket, not on another bucket, not on the other stage's.
 */
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { handlerRequests } from '../../support/aws/cfn-permissions.ts'
import { authorize } from '../../support/aws/iam-authz.ts'
import type { PolicyDocument } from '../../support/aws/iam-policy.ts'
import { Stack } from '../../support/cfn-template.ts'
import { actionAllowed } from '../../support/aws/iam-policy.ts'

const ACCOUNT = '111111111111'
const params = { AppName: 'shop', AppStackPrefix: 'Shop', ProjectPath: 'acme/shop', GitLabProjectId: '4242', Stages: 'both' }
const stack = new Stack({ account: ACCOUNT, partition: 'aws', params })
const statements = (Stage: string) => stack.permissions(`${Stage}DeployRole`)
const roleOf = (Stage: string) => ({ identity: [ { Version: '2012-10-17', Statement: statements(Stage) } as unknown as PolicyDocument ] })
const where = { partition: 'aws', region: 'us-west-2', account: ACCOUNT, boundaryOf: () => undefined }
const bucket = (physicalId: string) => ({
  logicalId: 'StaticBucket', type: 'AWS::S3::Bucket', physicalId,
  properties: {
    BucketEncryption: { ServerSideEncryptionConfiguration: [] }, LifecycleConfiguration: { Rules: [] }, WebsiteConfiguration: {},
  },
})

it('s3:PutBucket* does not cover them (what the issue found)', () => {
  for (const action of [ 's3:PutEncryptionConfiguration', 's3:PutLifecycleConfiguration' ]) assert.equal(actionAllowed([ 's3:PutBucket*' ], action), false)
})

it('a static bucket with encryption and lifecycle rules: every request CloudFormation makes is allowed for its stage, denied for the other', () => {
  for (const [ Stage, other ] of [ [ 'Staging', 'Production' ], [ 'Production', 'Staging' ] ] as const) {
    const requests = handlerRequests(bucket(`shop${Stage.toLowerCase()}-staticbucket-abc123`), 'create', where)
    assert.ok(requests.some(r => r.action === 's3:PutEncryptionConfiguration') && requests.some(r => r.action === 's3:PutLifecycleConfiguration'))
    for (const req of requests) assert.equal(authorize(roleOf(Stage), req).decision, 'allow', `${Stage} ${req.action}`)
    const denied = handlerRequests(bucket(`shop${other.toLowerCase()}-staticbucket-abc123`), 'create', where).filter(r => r.action.includes('Configuration'))
    for (const req of denied) assert.notEqual(authorize(roleOf(Stage), req).decision, 'allow', `${Stage} on ${other}'s bucket: ${req.action}`)
    const elsewhere = handlerRequests(bucket('someone-elses-bucket'), 'create', where).filter(r => r.action.includes('Configuration'))
    for (const req of elsewhere) assert.notEqual(authorize(roleOf(Stage), req).decision, 'allow', `${Stage} on another bucket: ${req.action}`)
  }
})
