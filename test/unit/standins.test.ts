// The loopback stand-ins behave like GitLab and AWS where the plugin and Architect can tell.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { SignatureV4 } from '@smithy/signature-v4'
import { decodeJwt, verifyRs256 } from '../support/jwt.ts'
import { startGitLab, type GitLabStandIn } from '../support/gitlab.ts'
import { gitlabTrustPolicy, signRequest, startAws, type AwsStandIn, type Credentials } from '../support/aws.ts'
import { evaluateTrustPolicy, type PolicyDocument } from '../support/aws/iam-policy.ts'
import { unescapeXml } from '../support/aws/protocol.ts'
import { sha256Hex, signingKey, toAmzDate } from '../support/aws/sigv4.ts'
import { cleanEnv, NODE22, stripPragmas } from '../support/harness.ts'

const require = createRequire(import.meta.url)
const awsLite = require('@aws-lite/client') as (config: Record<string, unknown>) => Promise<Record<string, any>>

const SUB_MAIN = 'project_path:acme/oidc-example:ref_type:branch:ref:main'

interface Wire { status: number, body: string, code?: string, message?: string }

async function wire (res: Response): Promise<Wire> {
  const body = await res.text()
  return {
    status: res.status,
    body,
    code: /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? /"__type":"([^"]+)"/.exec(body)?.[1],
    message: unescapeXml(/<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? /"message":"([^"]*)"/.exec(body)?.[1] ?? ''),
  }
}

/** A raw AssumeRoleWithWebIdentity form POST, exactly as @aws-sdk/client-sts sends it. */
async function assume (endpoint: string, params: Record<string, string>, signal?: AbortSignal): Promise<Wire> {
  const body = new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', ...params }).toString()
  return wire(await fetch(endpoint + '/', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, signal }))
}

const xmlText = (body: string, tag: string): string | undefined => {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(body)
  return m ? unescapeXml(m[1]!) : undefined
}

/** Sign a request with our signer and send it. */
async function signed (aws: AwsStandIn, creds: Credentials, req: { service: string, method?: string, path?: string, headers?: Record<string, string>, body?: string, contentSha256?: string, date?: Date, tamper?: (h: Record<string, string>) => void }): Promise<Wire> {
  const url = aws.endpoint + (req.path ?? '/')
  const headers = signRequest({ method: req.method ?? 'POST', url, service: req.service, region: 'us-west-2', headers: req.headers, body: req.body, credentials: creds, contentSha256: req.contentSha256, date: req.date })
  req.tamper?.(headers)
  const { host: _host, ...sendHeaders } = headers
  return wire(await fetch(url, { method: req.method ?? 'POST', headers: sendHeaders, body: req.body }))
}

const ssmCall = (target: string, body: object): { service: string, headers: Record<string, string>, body: string } =>
  ({ service: 'ssm', headers: { 'x-amz-target': `AmazonSSM.${target}`, 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) })

const toBytes = (d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof d === 'string' ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d)
/** aws-lite plugin modules (untyped ESM), loaded the way Architect passes them. */
const litePlugin = (name: string): Promise<unknown> => import(name)

describe('GitLab OIDC issuer stand-in', () => {
  let gitlab: GitLabStandIn
  before(async () => { gitlab = await startGitLab() })
  after(() => gitlab.close())

  it('serves discovery and a JWKS that verifies the tokens it mints', async () => {
    const discovery = await (await fetch(`${gitlab.issuer}/.well-known/openid-configuration`)).json() as Record<string, any>
    assert.equal(discovery.issuer, gitlab.issuer)
    assert.deepEqual(discovery.id_token_signing_alg_values_supported, [ 'RS256' ])
    const jwks = await (await fetch(discovery.jwks_uri)).json() as { keys: any[] }
    assert.equal(jwks.keys.length, 1)
    assert.equal(jwks.keys[0].kid, gitlab.key.kid)

    const jwt = decodeJwt(gitlab.mint())!
    assert.deepEqual(jwt.header, { kid: gitlab.key.kid, typ: 'JWT', alg: 'RS256' })
    assert.ok(verifyRs256(jwt, jwks.keys[0]))
    assert.ok(!verifyRs256(decodeJwt(gitlab.mint({}, { signWith: 'unknown-key-same-kid' }))!, jwks.keys[0]))
  })

  it("mints GitLab's claim set with consistent derived claims", () => {
    const c = decodeJwt(gitlab.mint({ project_path: 'team/sub/app', ref: 'v1.2.0', ref_type: 'tag', ref_protected: 'false' }, { aud: [ 'a', 'b' ] }))!.payload
    assert.equal(c.sub, 'project_path:team/sub/app:ref_type:tag:ref:v1.2.0')
    assert.equal(c.namespace_path, 'team/sub')
    assert.equal(c.ref_path, 'refs/tags/v1.2.0')
    assert.equal(c.ref_protected, 'false')
    assert.deepEqual(c.aud, [ 'a', 'b' ])
    assert.equal(c.iss, gitlab.issuer)
    assert.equal(c.nbf, (c.iat as number) - 5)
    assert.equal(c.exp, (c.iat as number) + 3600)
    for (const claim of [ 'namespace_id', 'project_id', 'user_id', 'pipeline_id', 'job_id' ]) assert.equal(typeof c[claim], 'string', claim)
    assert.equal(typeof c.runner_id, 'number')
    assert.match(String(c.ci_config_ref_uri), /^127\.0\.0\.1:\d+\/team\/sub\/app\/\/\.gitlab-ci\.yml@refs\/tags\/v1\.2\.0$/)
    const noEnv = decodeJwt(gitlab.mint({}, { omit: [ 'environment', 'environment_protected', 'deployment_tier', 'environment_action' ] }))!.payload
    assert.equal(noEnv.environment, undefined)
  })

  it('builds the job environment GitLab would set for those claims', () => {
    const claims = gitlab.claims({ ref: 'main', environment: 'staging', deployment_tier: 'staging' })
    const env = gitlab.jobEnv(claims, { idTokens: { GITLAB_OIDC_TOKEN: 'tok' } })
    assert.equal(env.GITLAB_CI, 'true')
    assert.equal(env.CI, 'true')
    assert.equal(env.CI_PROJECT_PATH, claims.project_path)
    assert.equal(env.CI_PROJECT_ID, claims.project_id)
    assert.equal(env.CI_PIPELINE_ID, claims.pipeline_id)
    assert.equal(env.CI_JOB_ID, claims.job_id)
    assert.equal(env.CI_COMMIT_REF_NAME, 'main')
    assert.equal(env.CI_COMMIT_BRANCH, 'main')
    assert.equal(env.CI_COMMIT_REF_PROTECTED, 'true')
    assert.equal(env.CI_DEFAULT_BRANCH, 'main')
    assert.equal(env.CI_ENVIRONMENT_NAME, 'staging')
    assert.equal(env.CI_SERVER_URL, gitlab.issuer)
    assert.equal(env.CI_JOB_URL, `${gitlab.issuer}/${claims.project_path}/-/jobs/${claims.job_id}`)
    assert.equal(env.GITLAB_OIDC_TOKEN, 'tok')
  })

  it('can make discovery fail', async () => {
    gitlab.setFault('error')
    assert.equal((await fetch(`${gitlab.issuer}/oauth/discovery/keys`)).status, 500)
    gitlab.setFault(null)
    assert.equal((await fetch(`${gitlab.issuer}/oauth/discovery/keys`)).status, 200)
  })
})

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

describe('AWS stand-in: STS AssumeRoleWithWebIdentity', () => {
  let gitlab: GitLabStandIn
  let aws: AwsStandIn
  let roleArn: string
  let longRoleArn: string

  before(async () => {
    gitlab = await startGitLab({ audience: 'sts.amazonaws.com' })
    aws = await startAws()
    aws.addOidcProvider({ url: gitlab.issuer, clientIds: [ 'sts.amazonaws.com' ] })
    const trustPolicy = gitlabTrustPolicy({ accountId: aws.accountId, providerUrl: gitlab.providerUrl, aud: 'sts.amazonaws.com', sub: SUB_MAIN })
    roleArn = aws.addRole({ name: 'oidc-example-production-deploy', trustPolicy })
    longRoleArn = aws.addRole({ name: 'long-sessions', trustPolicy, maxSessionDuration: 7200 })
  })
  after(async () => {
    await aws.close()
    await gitlab.close()
  })

  it('issues fresh credentials for a token the trust policy accepts (SDK client)', async () => {
    const sts = new STSClient({ region: 'us-west-2', endpoint: aws.endpoint, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } })
    const out = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'gitlab-123', WebIdentityToken: gitlab.mint(), DurationSeconds: 900 }))
    assert.match(out.Credentials!.AccessKeyId!, /^ASIA[A-Z2-7]{16}$/)
    assert.equal(out.AssumedRoleUser!.Arn, `arn:aws:sts::${aws.accountId}:assumed-role/oidc-example-production-deploy/gitlab-123`)
    assert.match(out.AssumedRoleUser!.AssumedRoleId!, /^AROA[A-Z2-7]{17}:gitlab-123$/)
    assert.equal(out.SubjectFromWebIdentityToken, SUB_MAIN)
    assert.equal(out.Audience, 'sts.amazonaws.com')
    const lifetime = out.Credentials!.Expiration!.getTime() - Date.now()
    assert.ok(lifetime > 890_000 && lifetime <= 900_000, `lifetime ${lifetime}`)

    const again = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'gitlab-124', WebIdentityToken: gitlab.mint() }))
    assert.notEqual(again.Credentials!.AccessKeyId, out.Credentials!.AccessKeyId)
    assert.equal(aws.sessions.at(-1)!.durationSeconds, 3600)
    const call = aws.stsCalls().at(-1)!
    assert.equal(call.status, 200)
    assert.deepEqual(call.session, { roleArn, roleName: 'oidc-example-production-deploy', sessionName: 'gitlab-124', durationSeconds: 3600, accessKeyId: again.Credentials!.AccessKeyId })
    // The issuer's keys are fetched once and cached
    assert.equal(aws.issuerFetches.length, 2)
  })

  it('surfaces refusals to the SDK with their code, message and status', async () => {
    const sts = new STSClient({ region: 'us-west-2', endpoint: aws.endpoint, maxAttempts: 1 })
    await assert.rejects(
      sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'gitlab-1', WebIdentityToken: gitlab.mint({ ref: 'feature' }) })),
      (err: any) => err.name === 'AccessDenied' && err.message === 'Not authorized to perform sts:AssumeRoleWithWebIdentity' && err.$metadata.httpStatusCode === 403)
  })

  const cases: Array<[string, () => Record<string, string>, number, string, RegExp | string]> = [
    [ 'wrong audience', () => ({ WebIdentityToken: gitlab.mint({}, { aud: 'https://vault.example.com' }) }), 400, 'InvalidIdentityToken', 'Incorrect token audience' ],
    [ 'expired token', () => ({ WebIdentityToken: gitlab.mint({}, { expired: true }) }), 400, 'ExpiredTokenException', /^Token expired: current date\/time \d+ must be before the expiration date\/time \d+$/ ],
    [ 'unknown issuer', () => ({ WebIdentityToken: gitlab.mint({}, { iss: 'https://gitlab.example.com' }) }), 400, 'InvalidIdentityToken', 'No OpenIDConnect provider found in your account for https://gitlab.example.com' ],
    [ 'signature by an unknown key', () => ({ WebIdentityToken: gitlab.mint({}, { signWith: 'unknown-key' }) }), 400, 'InvalidIdentityToken', /could not be validated/ ],
    [ 'wrong signature under the right kid', () => ({ WebIdentityToken: gitlab.mint({}, { signWith: 'unknown-key-same-kid' }) }), 400, 'InvalidIdentityToken', /could not be validated/ ],
    [ 'not a JWT', () => ({ WebIdentityToken: gitlab.mint({}, { malformed: 'not-a-jwt' }) }), 400, 'InvalidIdentityToken', /not a valid JWT/ ],
    [ 'trust policy mismatch (other branch)', () => ({ WebIdentityToken: gitlab.mint({ ref: 'dev' }) }), 403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity' ],
    [ 'trust policy mismatch (other project)', () => ({ WebIdentityToken: gitlab.mint({ project_path: 'evil/oidc-example' }) }), 403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity' ],
    [ 'unknown role', () => ({ RoleArn: 'arn:aws:iam::111111111111:role/nope', WebIdentityToken: gitlab.mint() }), 403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity' ],
    [ 'bad session name', () => ({ RoleSessionName: 'has space', WebIdentityToken: gitlab.mint() }), 400, 'ValidationError', "1 validation error detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*" ],
    [ 'session name too long', () => ({ RoleSessionName: 'x'.repeat(65), WebIdentityToken: gitlab.mint() }), 400, 'ValidationError', /Member must have length less than or equal to 64/ ],
    [ 'duration below 900', () => ({ DurationSeconds: '600', WebIdentityToken: gitlab.mint() }), 400, 'ValidationError', /Value '600' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900/ ],
    [ 'duration above the role maximum', () => ({ DurationSeconds: '7200', WebIdentityToken: gitlab.mint() }), 400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.' ],
  ]
  for (const [ name, params, status, code, message ] of cases) {
    it(`refuses: ${name}`, async () => {
      const res = await assume(aws.endpoint, { RoleArn: roleArn, RoleSessionName: 'gitlab-1', ...params() })
      assert.equal(res.status, status, res.body)
      assert.equal(res.code, code)
      if (typeof message === 'string') assert.equal(res.message, message)
      else assert.match(res.message ?? '', message)
      assert.match(res.body, /<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type>/)
      assert.match(res.body, /<RequestId>[0-9a-f-]{36}<\/RequestId>/)
      assert.equal(aws.stsCalls().at(-1)!.errorCode, code)
    })
  }

  it('allows a longer session when the role permits it', async () => {
    const res = await assume(aws.endpoint, { RoleArn: longRoleArn, RoleSessionName: 'gitlab-1', DurationSeconds: '7200', WebIdentityToken: gitlab.mint() })
    assert.equal(res.status, 200, res.body)
  })

  it("reports a verification-key error when it cannot reach the issuer's keys", async () => {
    aws.clearKeyCache()
    gitlab.setFault('error')
    try {
      const res = await assume(aws.endpoint, { RoleArn: roleArn, RoleSessionName: 'gitlab-1', WebIdentityToken: gitlab.mint() })
      assert.equal(res.code, 'InvalidIdentityToken')
      assert.match(res.message!, /^Couldn't retrieve verification key from your identity provider/)
    }
    finally {
      gitlab.setFault(null)
    }
  })
})

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

describe('AWS stand-in: STS faults', () => {
  let gitlab: GitLabStandIn
  let aws: AwsStandIn
  let params: () => Record<string, string>

  before(async () => {
    gitlab = await startGitLab({ audience: 'sts.amazonaws.com' })
    aws = await startAws()
    aws.addOidcProvider({ url: gitlab.issuer, clientIds: [ 'sts.amazonaws.com' ] })
    const roleArn = aws.addRole({ name: 'deploy', trustPolicy: gitlabTrustPolicy({ accountId: aws.accountId, providerUrl: gitlab.providerUrl, aud: 'sts.amazonaws.com', sub: '*' }) })
    params = () => ({ RoleArn: roleArn, RoleSessionName: 'gitlab-1', WebIdentityToken: gitlab.mint() })
  })
  after(async () => {
    await aws.close()
    await gitlab.close()
  })

  it('applies queued faults to the next requests, in order', async () => {
    aws.injectStsFaults('unavailable', 'throttling', 'idp-communication', 'verification-key', 'idp-rejected')
    const got = []
    for (let i = 0; i < 6; i++) {
      const r = await assume(aws.endpoint, params())
      got.push([ r.status, r.code ?? 'OK' ])
    }
    assert.deepEqual(got, [ [ 503, 'ServiceUnavailable' ], [ 400, 'Throttling' ], [ 400, 'IDPCommunicationError' ], [ 400, 'InvalidIdentityToken' ], [ 403, 'IDPRejectedClaim' ], [ 200, 'OK' ] ])
    assert.deepEqual(aws.stsCalls().slice(-6).map(c => c.fault), [ 'unavailable', 'throttling', 'idp-communication', 'verification-key', 'idp-rejected', undefined ])
    const throttled = aws.stsCalls().at(-5)!
    assert.equal(throttled.errorMessage, 'Rate exceeded')
  })

  it('lets the SDK retry through transient faults', async () => {
    aws.injectStsFaults('unavailable', 'throttling')
    const before = aws.stsCalls().length
    const sts = new STSClient({ region: 'us-west-2', endpoint: aws.endpoint })
    const out = await sts.send(new AssumeRoleWithWebIdentityCommand(params() as any))
    assert.ok(out.Credentials?.AccessKeyId)
    assert.equal(aws.stsCalls().length - before, 3)
  })

  it('applies a permanent fault until cleared', async () => {
    aws.setStsFault('unavailable')
    assert.equal((await assume(aws.endpoint, params())).status, 503)
    assert.equal((await assume(aws.endpoint, params())).status, 503)
    aws.setStsFault(null)
    assert.equal((await assume(aws.endpoint, params())).status, 200)
  })

  it('can delay, reset and hang', async () => {
    aws.injectStsFaults({ delayMs: 150 })
    const t0 = Date.now()
    assert.equal((await assume(aws.endpoint, params())).status, 200)
    assert.ok(Date.now() - t0 >= 150)

    aws.injectStsFaults('reset')
    await assert.rejects(assume(aws.endpoint, params()), /fetch failed/)

    aws.injectStsFaults('hang')
    await assert.rejects(assume(aws.endpoint, params(), AbortSignal.timeout(200)), (e: any) => e.name === 'TimeoutError')
    const hung = aws.stsCalls().at(-1)!
    assert.deepEqual([ hung.fault, hung.status ], [ 'hang', 0 ])
  })

  it('closes cleanly with a request still hanging', async () => {
    const other = await startAws()
    other.setStsFault('hang')
    const pending = assume(other.endpoint, params()).then(() => 'answered', () => 'connection dropped')
    while (other.stsCalls().length === 0) await new Promise(r => setTimeout(r, 10))
    const t0 = Date.now()
    await other.close()
    assert.equal(await pending, 'connection dropped')
    assert.ok(Date.now() - t0 < 1000)
  })
})

describe('e2e harness helpers', () => {
  it('strips the plugin pragmas from a manifest', () => {
    const arc = '@app\nx\n\n@http\nget /\n\n@plugins\narc-plugin-gitlab-oidc\n\n@gitlab-oidc\nproduction-role arn:aws:iam::1:role/r\n\n@aws\nregion us-west-2\n'
    assert.equal(stripPragmas(arc), '@app\nx\n\n@http\nget /\n\n@aws\nregion us-west-2\n')
  })

  it('builds a clean environment for arc: nothing inherited, no AWS config, no network helpers', () => {
    const saved = process.env.AWS_ACCESS_KEY_ID
    process.env.AWS_ACCESS_KEY_ID = 'AKIALEAKED'
    try {
      const env = cleanEnv(NODE22, { endpoint: 'http://127.0.0.1:1', env: { CI: 'true', LANG: undefined } })
      assert.equal(env.AWS_ACCESS_KEY_ID, undefined)
      assert.equal(env.AWS_ENDPOINT_URL, 'http://127.0.0.1:1')
      assert.equal(env.AWS_EC2_METADATA_DISABLED, 'true')
      assert.equal(env.NO_UPDATE_NOTIFIER, '1')
      assert.equal(env.CI, 'true')
      assert.equal(env.LANG, undefined)
      assert.ok(env.AWS_CONFIG_FILE!.startsWith(env.HOME!))
      assert.ok(!Object.keys(env).some(k => /^(GITLAB|CI_)|PROXY/i.test(k)))
    }
    finally {
      if (saved === undefined) delete process.env.AWS_ACCESS_KEY_ID
      else process.env.AWS_ACCESS_KEY_ID = saved
    }
  })
})
