// The CloudFormation stand-in refuses templates over CloudFormation's size quotas, with its errors
// (test/support/aws/cloudformation.ts): TemplateBody over 51,200 bytes (bytes, not characters),
// a template in S3 (TemplateURL) over 1 MB.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { signed, type Wire } from '../../../support/aws-client.ts'
import { TEMPLATE_BODY_MAX_BYTES, TEMPLATE_URL_MAX_BYTES } from '../../../support/aws/cloudformation.ts'
import { createBucket } from '../../../support/aws/s3.ts'
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
