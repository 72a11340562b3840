// The AWS stand-in as a whole serves aws-lite, the client Architect uses, for S3, SSM and CloudFormation.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { startAws, type AwsStandIn, type Credentials } from '../../support/aws.ts'

const require = createRequire(import.meta.url)
const awsLite = require('@aws-lite/client') as (config: Record<string, unknown>) => Promise<Record<string, any>>
/** aws-lite plugin modules (untyped ESM), loaded the way Architect passes them. */
const litePlugin = (name: string): Promise<unknown> => import(name)

describe('AWS stand-in: with aws-lite', () => {
  let aws: AwsStandIn
  let dev: Credentials

  before(async () => {
    aws = await startAws()
    dev = aws.addDeveloperKey()
  })
  after(() => aws.close())

  it('works with aws-lite, the client Architect uses', async () => {
    const lite = await awsLite({
      region: 'us-west-2', endpoint: aws.endpoint, accessKeyId: dev.accessKeyId, secretAccessKey: dev.secretAccessKey, retries: 0,
      plugins: [ litePlugin('@aws-lite/s3'), litePlugin('@aws-lite/ssm'), litePlugin('@aws-lite/cloudformation') ],
    })
    await lite.s3.CreateBucket({ Bucket: 'lite-bucket', CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } })
    await lite.s3.PutObject({ Bucket: 'lite-bucket', Key: 'static/café & co.css', Body: 'body{}', ContentType: 'text/css', CacheControl: 'max-age=60' })
    const head = await lite.s3.HeadObject({ Bucket: 'lite-bucket', Key: 'static/café & co.css' })
    assert.equal(head.CacheControl, 'max-age=60')
    await assert.rejects(lite.s3.HeadObject({ Bucket: 'lite-bucket', Key: 'missing' }), (e: any) => e.statusCode === 404 && e.code === 'NotFound')
    const listed = await lite.s3.ListObjectsV2({ Bucket: 'lite-bucket', paginate: true })
    assert.deepEqual(listed.Contents.map((c: any) => c.Key), [ 'static/café & co.css' ])
    await lite.s3.DeleteObjects({ Bucket: 'lite-bucket', Delete: { Objects: [ { Key: 'static/café & co.css' } ] } })
    assert.equal(aws.state.buckets.get('lite-bucket')!.objects.size, 0)

    await lite.ssm.PutParameter({ Name: '/app/production/KEY', Value: 'v', Type: 'SecureString', Overwrite: true })
    for (let i = 0; i < 12; i++) await lite.ssm.PutParameter({ Name: `/app/staging/K${i}`, Value: String(i), Type: 'String' })
    const params = await lite.ssm.GetParametersByPath({ Path: '/app', Recursive: true, MaxResults: 10, paginate: true })
    assert.equal(params.Parameters.length, 13)
    await assert.rejects(lite.ssm.GetParameter({ Name: '/nope' }), (e: any) => e.code === 'ParameterNotFound')
    await assert.rejects(lite.cloudformation.DescribeStackResources({ StackName: 'AppStaging', LogicalResourceId: 'X' }),
      (e: any) => e.message.includes('Stack with id AppStaging does not exist'))
  })
})
