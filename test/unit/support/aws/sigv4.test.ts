// The AWS stand-in checks SigV4 signatures and credentials as AWS does, for every service.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, createHash } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import { startGitLab, type GitLabStandIn } from '../../../support/gitlab.ts'
import { gitlabTrustPolicy, signRequest, startAws, type AwsStandIn, type Credentials } from '../../../support/aws.ts'
import { assume, signed, ssmCall, wire, xmlText } from '../../../support/aws-client.ts'
import { sha256Hex, signingKey, toAmzDate } from '../../../support/aws/sigv4.ts'

const toBytes = (d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof d === 'string' ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d)

describe('AWS stand-in: SigV4 and credentials', () => {
  let gitlab: GitLabStandIn
  let aws: AwsStandIn
  let dev: Credentials
  let session: Credentials

  before(async () => {
    gitlab = await startGitLab({ audience: 'sts.amazonaws.com' })
    aws = await startAws()
    aws.addOidcProvider({ url: gitlab.issuer, clientIds: [ 'sts.amazonaws.com' ] })
    const roleArn = aws.addRole({
      name: 'ssm-only',
      trustPolicy: gitlabTrustPolicy({ accountId: aws.accountId, providerUrl: gitlab.providerUrl, aud: 'sts.amazonaws.com', sub: 'project_path:acme/*' }),
      permissions: [ 'ssm:*', 's3:*' ],
    })
    dev = aws.addDeveloperKey()
    const res = await assume(aws.endpoint, { RoleArn: roleArn, RoleSessionName: 'gitlab-7', WebIdentityToken: gitlab.mint() })
    session = { accessKeyId: xmlText(res.body, 'AccessKeyId')!, secretAccessKey: xmlText(res.body, 'SecretAccessKey')!, sessionToken: xmlText(res.body, 'SessionToken')! }
  })
  after(async () => {
    await aws.close()
    await gitlab.close()
  })

  it('accepts a request signed by the SDK signer (@smithy/signature-v4)', async () => {
    class Sha256 {
      private readonly h
      constructor (secret?: string | ArrayBuffer | ArrayBufferView) { this.h = secret ? createHmac('sha256', toBytes(secret)) : createHash('sha256') }
      update (data: string | ArrayBuffer | ArrayBufferView): void { this.h.update(toBytes(data)) }
      async digest (): Promise<Uint8Array> { return this.h.digest() }
    }
    const signer = new SignatureV4({ service: 'ssm', region: 'us-west-2', credentials: session as Required<Credentials>, sha256: Sha256 })
    const url = new URL(aws.endpoint)
    const body = JSON.stringify({ Path: '/oidc-example', Recursive: true, WithDecryption: true })
    const req = await signer.sign({
      method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', query: {},
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParametersByPath' },
      body,
    })
    const { host: _h, ...headers } = req.headers
    const res = await wire(await fetch(aws.endpoint + '/', { method: 'POST', headers, body }))
    assert.equal(res.status, 200, res.body)
    assert.deepEqual(JSON.parse(res.body), { Parameters: [] })
    const call = aws.awsCalls().at(-1)!
    assert.equal(call.action, 'GetParametersByPath')
    assert.equal(call.principal, 'session')
    assert.equal(call.sessionToken, true)
    assert.equal(call.session?.sessionName, 'gitlab-7')
  })

  it('accepts our own signer, for S3 keys and query strings that need encoding', async () => {
    assert.equal((await signed(aws, dev, { service: 's3', method: 'PUT', path: '/my-bucket' })).status, 200)
    const key = '/my-bucket/dir/a%20file%2B%28v1%29.txt'
    const put = await signed(aws, dev, { service: 's3', method: 'PUT', path: key, body: 'hello', headers: { 'content-type': 'text/plain' } })
    assert.equal(put.status, 200, put.body)
    assert.ok(aws.state.buckets.get('my-bucket')!.objects.has('dir/a file+(v1).txt'))
    const list = await signed(aws, dev, { service: 's3', method: 'GET', path: '/my-bucket?list-type=2&prefix=dir%2Fa%20' })
    assert.equal(list.status, 200, list.body)
    assert.match(list.body, /<Key>dir\/a file\+\(v1\)\.txt<\/Key>/)
    const cfn = await signed(aws, dev, { service: 'cloudformation', method: 'GET', path: '/?Action=DescribeStacks&StackName=Nope%20Stack' })
    assert.equal(cfn.code, 'ValidationError')
    assert.equal(cfn.message, 'Stack with id Nope Stack does not exist')
  })

  it('refuses a wrong secret with each service\'s SignatureDoesNotMatch', async () => {
    const bad = { ...dev, secretAccessKey: dev.secretAccessKey + 'x' }
    const ssm = await signed(aws, bad, ssmCall('GetParametersByPath', { Path: '/x' }))
    assert.deepEqual([ ssm.status, ssm.code ], [ 400, 'InvalidSignatureException' ])
    const cfn = await signed(aws, bad, { service: 'cloudformation', method: 'GET', path: '/?Action=DescribeStacks' })
    assert.deepEqual([ cfn.status, cfn.code ], [ 403, 'SignatureDoesNotMatch' ])
    const s3 = await signed(aws, bad, { service: 's3', method: 'GET', path: '/' })
    assert.deepEqual([ s3.status, s3.code ], [ 403, 'SignatureDoesNotMatch' ])
    assert.match(s3.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>SignatureDoesNotMatch<\/Code>/)
  })

  it('refuses a body changed after signing', async () => {
    const res = await signed(aws, dev, { ...ssmCall('GetParametersByPath', { Path: '/x' }), tamper: h => { h['x-amz-target'] = 'AmazonSSM.DeleteParameter' } })
    assert.equal(res.code, 'InvalidSignatureException')
    const s3 = await signed(aws, dev, { service: 's3', method: 'PUT', path: '/my-bucket/k', body: 'data', contentSha256: createHash('sha256').update('other').digest('hex') })
    assert.equal(s3.code, 'XAmzContentSHA256Mismatch')
  })

  it('refuses unknown keys', async () => {
    const stranger = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
    assert.equal((await signed(aws, stranger, ssmCall('GetParametersByPath', { Path: '/x' }))).code, 'UnrecognizedClientException')
    assert.equal((await signed(aws, stranger, { service: 'cloudformation', method: 'GET', path: '/?Action=DescribeStacks' })).code, 'InvalidClientTokenId')
    const s3 = await signed(aws, stranger, { service: 's3', method: 'GET', path: '/' })
    assert.deepEqual([ s3.status, s3.code, s3.message ], [ 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.' ])
  })

  it('insists on the session token STS issued with the key', async () => {
    const noToken = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey }
    const missing = await signed(aws, noToken, ssmCall('GetParametersByPath', { Path: '/x' }))
    assert.deepEqual([ missing.status, missing.code, missing.message ], [ 400, 'UnrecognizedClientException', 'The security token included in the request is invalid.' ])
    const wrong = { ...session, sessionToken: session.sessionToken!.slice(0, -4) + 'AAAA' }
    assert.equal((await signed(aws, wrong, { service: 'cloudformation', method: 'GET', path: '/?Action=DescribeStacks' })).code, 'InvalidClientTokenId')
    assert.equal((await signed(aws, wrong, { service: 's3', method: 'GET', path: '/' })).code, 'InvalidToken')
    const devWithToken = { ...dev, sessionToken: session.sessionToken }
    assert.equal((await signed(aws, devWithToken, ssmCall('GetParametersByPath', { Path: '/x' }))).code, 'UnrecognizedClientException')
    const ok = await signed(aws, session, ssmCall('GetParametersByPath', { Path: '/x' }))
    assert.equal(ok.status, 200)
  })

  it('answers GetCallerIdentity for the session', async () => {
    const res = await signed(aws, session, { service: 'sts', body: 'Action=GetCallerIdentity&Version=2011-06-15', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    assert.equal(res.status, 200, res.body)
    assert.equal(xmlText(res.body, 'Arn'), `arn:aws:sts::${aws.accountId}:assumed-role/ssm-only/gitlab-7`)
  })

  it('refuses requests signed too long ago, and the role\'s missing permissions', async () => {
    const old = await signed(aws, dev, { ...ssmCall('GetParametersByPath', { Path: '/x' }), date: new Date(Date.now() - 20 * 60_000) })
    assert.equal(old.code, 'InvalidSignatureException')
    assert.match(old.message!, /^Signature expired: /)
    const denied = await signed(aws, session, { service: 'cloudformation', method: 'GET', path: '/?Action=DescribeStacks&StackName=S' })
    assert.equal(denied.code, 'AccessDenied')
    assert.match(denied.message!, /assumed-role\/ssm-only\/gitlab-7 is not authorized to perform: cloudformation:DescribeStacks/)
  })

  it('refuses expired STS credentials', async () => {
    aws.expireCredentials(session.accessKeyId)
    const res = await signed(aws, session, ssmCall('GetParametersByPath', { Path: '/x' }))
    assert.deepEqual([ res.status, res.code ], [ 400, 'ExpiredTokenException' ])
    const s3 = await signed(aws, session, { service: 's3', method: 'GET', path: '/' })
    assert.equal(s3.code, 'ExpiredToken')
  })

  it('verifies and unwraps signed aws-chunked uploads', async () => {
    const data = Buffer.alloc(20_000, 'x')
    const chunks = [ data.subarray(0, 8192), data.subarray(8192, 16384), data.subarray(16384), Buffer.alloc(0) ]
    const date = new Date()
    const amzDate = toAmzDate(date)
    const frame = (c: Buffer, sig: string): Buffer => Buffer.concat([ Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), c, Buffer.from('\r\n') ])
    const encodedLength = chunks.reduce((n, c) => n + frame(c, '0'.repeat(64)).length, 0)
    const headers = signRequest({
      method: 'PUT', url: `${aws.endpoint}/my-bucket/big.bin`, service: 's3', region: 'us-west-2', credentials: dev, date,
      contentSha256: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(data.length), 'content-length': String(encodedLength) },
    })
    const key = signingKey(dev.secretAccessKey, amzDate.slice(0, 8), 'us-west-2', 's3')
    let previous = /Signature=([0-9a-f]{64})/.exec(headers.authorization!)![1]!
    const framed = chunks.map(c => {
      const toSign = [ 'AWS4-HMAC-SHA256-PAYLOAD', amzDate, `${amzDate.slice(0, 8)}/us-west-2/s3/aws4_request`, previous, sha256Hex(''), sha256Hex(c) ].join('\n')
      previous = createHmac('sha256', key).update(toSign).digest('hex')
      return frame(c, previous)
    })
    const { host: _h, ...send } = headers
    const ok = await wire(await fetch(`${aws.endpoint}/my-bucket/big.bin`, { method: 'PUT', headers: send, body: Buffer.concat(framed) }))
    assert.equal(ok.status, 200, ok.body)
    assert.ok(aws.state.buckets.get('my-bucket')!.objects.get('big.bin')!.body.equals(data))
    framed[1] = frame(chunks[1]!, 'f'.repeat(64))
    const bad = await wire(await fetch(`${aws.endpoint}/my-bucket/big.bin`, { method: 'PUT', headers: send, body: Buffer.concat(framed) }))
    assert.equal(bad.code, 'SignatureDoesNotMatch')
  })
})
