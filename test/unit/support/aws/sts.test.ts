// The STS stand-in answers AssumeRoleWithWebIdentity as AWS does, and injects AWS's faults.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { startGitLab, type GitLabStandIn } from '../../../support/gitlab.ts'
import { gitlabTrustPolicy, startAws, type AwsStandIn } from '../../../support/aws.ts'
import { assume, signed, ssmCall, xmlText } from '../../../support/aws-client.ts'

const SUB_MAIN = 'project_path:acme/oidc-example:ref_type:branch:ref:main'

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
    // Each limit of the STS API reference (AssumeRoleWithWebIdentity, Request Parameters), at its edge.
    [ 'token under 4 characters', () => ({ WebIdentityToken: 'abc' }), 400, 'ValidationError', "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4" ],
    [ 'token over 20,000 characters', () => ({ WebIdentityToken: 'a'.repeat(20001) }), 400, 'ValidationError', "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length less than or equal to 20000" ],
    [ 'session name under 2 characters', () => ({ RoleSessionName: 'x', WebIdentityToken: gitlab.mint() }), 400, 'ValidationError', "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2" ],
    [ 'duration above 43,200', () => ({ DurationSeconds: '43201', WebIdentityToken: gitlab.mint() }), 400, 'ValidationError', "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200" ],
    [ 'role ARN over 2048 characters', () => ({ RoleArn: `arn:aws:iam::111111111111:role/${'p/'.repeat(1010)}x`, WebIdentityToken: gitlab.mint() }), 400, 'ValidationError', /at 'roleArn' failed to satisfy constraint: Member must have length less than or equal to 2048$/ ],
    [ 'two problems at once, in one message', () => ({ RoleSessionName: 'x', DurationSeconds: '60', WebIdentityToken: gitlab.mint() }), 400, 'ValidationError', /^2 validation errors detected: Value 'x' at 'roleSessionName' .*; Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900$/ ],
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

describe('AWS stand-in: one IAM per account (a role and its OIDC provider in each)', () => {
  const PROD = '111111111111'
  const STAGING = '222222222222'
  const SUB = 'project_path:acme/oidc-example:ref_type:branch:ref:feature/x'
  let gitlab: GitLabStandIn
  let aws: AwsStandIn
  before(async () => {
    gitlab = await startGitLab({ audience: 'sts.amazonaws.com' })
    aws = await startAws({ accountId: PROD })
  })
  after(async () => {
    await aws.close()
    await gitlab.close()
  })
  const trust = (accountId: string) => gitlabTrustPolicy({ accountId, providerUrl: gitlab.providerUrl, aud: 'sts.amazonaws.com', sub: 'project_path:acme/oidc-example:*' })
  const credentialsOf = (body: string) => ({ accessKeyId: xmlText(body, 'AccessKeyId')!, secretAccessKey: xmlText(body, 'SecretAccessKey')!, sessionToken: xmlText(body, 'SessionToken')! })

  it('finds the issuer among the providers of the role\'s account only', async () => {
    aws.addOidcProvider({ url: gitlab.issuer, clientIds: [ 'sts.amazonaws.com' ] })
    const roleArn = aws.addRole({ name: 'staging-deploy', trustPolicy: trust(STAGING), accountId: STAGING })
    assert.equal(roleArn, `arn:aws:iam::${STAGING}:role/staging-deploy`)
    const res = await assume(aws.endpoint, { RoleArn: roleArn, RoleSessionName: 'gitlab-1', WebIdentityToken: gitlab.mint({ ref: 'feature/x' }) })
    assert.deepEqual([ res.status, res.code, res.message ], [ 400, 'InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${gitlab.issuer}` ])
  })

  it('issues credentials for a role of another account, in that account, and signs calls with them', async () => {
    const providerArn = aws.addOidcProvider({ url: gitlab.issuer, clientIds: [ 'sts.amazonaws.com' ], accountId: STAGING })
    assert.equal(providerArn, `arn:aws:iam::${STAGING}:oidc-provider/${gitlab.providerUrl}`)
    const roleArn = `arn:aws:iam::${STAGING}:role/staging-deploy`
    const res = await assume(aws.endpoint, { RoleArn: roleArn, RoleSessionName: 'gitlab-2', WebIdentityToken: gitlab.mint({ ref: 'feature/x' }) })
    assert.equal(res.status, 200, res.body)
    assert.equal(xmlText(res.body, 'Arn'), `arn:aws:sts::${STAGING}:assumed-role/staging-deploy/gitlab-2`)
    assert.equal(xmlText(res.body, 'SubjectFromWebIdentityToken'), SUB)
    const creds = credentialsOf(res.body)
    const me = await signed(aws, creds, { service: 'sts', body: 'Action=GetCallerIdentity&Version=2011-06-15', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    assert.deepEqual([ me.status, xmlText(me.body, 'Account'), xmlText(me.body, 'Arn') ], [ 200, STAGING, `arn:aws:sts::${STAGING}:assumed-role/staging-deploy/gitlab-2` ])
    assert.equal((await signed(aws, creds, ssmCall('GetParametersByPath', { Path: '/x' }))).status, 200)
    assert.equal((await signed(aws, { ...creds, sessionToken: creds.sessionToken.slice(0, -4) + 'AAAA' }, ssmCall('GetParametersByPath', { Path: '/x' }))).code, 'UnrecognizedClientException')
  })

  it('evaluates the trust policy in the role\'s account: another account\'s provider does not count', async () => {
    // A role in the staging account whose trust policy names the production account's provider
    const roleArn = aws.addRole({ name: 'misnamed', trustPolicy: trust(PROD), accountId: STAGING })
    const res = await assume(aws.endpoint, { RoleArn: roleArn, RoleSessionName: 'gitlab-3', WebIdentityToken: gitlab.mint({ ref: 'feature/x' }) })
    assert.deepEqual([ res.status, res.code ], [ 403, 'AccessDenied' ])
    // A role ARN in an account the stand-in does not serve: no provider there
    const unknown = await assume(aws.endpoint, { RoleArn: 'arn:aws:iam::333333333333:role/staging-deploy', RoleSessionName: 'gitlab-4', WebIdentityToken: gitlab.mint({ ref: 'feature/x' }) })
    assert.deepEqual([ unknown.status, unknown.code ], [ 400, 'InvalidIdentityToken' ])
  })

  it('refuses an account ID that is not 12 digits', () => {
    assert.throws(() => aws.addRole({ name: 'x', trustPolicy: trust(PROD), accountId: '1234' }), /not an AWS account ID: 1234/)
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
