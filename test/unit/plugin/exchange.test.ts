/**
 * The exchange through the real AWS SDK against a scripted loopback STS: retries, timeouts,
 * the overall bound, and which errors are final. (The full STS stand-in that verifies tokens
 * is exercised end to end in test/e2e.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { assumeRole as exchange, attemptTimeouts } from '../../../src/plugin/exchange.ts'
import { ExchangeError } from '../../../src/shared/sts.ts'

type Step = (res: ServerResponse) => void
const error = (status: number, code: string, message: string): Step => res => {
  res.writeHead(status, { 'content-type': 'text/xml' })
  res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`)
}
/** STS's answer for request(): the session of role deploy named gitlab-1-2-3, expiring in 15 min (whole seconds). */
const EXPIRES = () => new Date(Math.floor(Date.now() / 1000) * 1000 + 900_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
const ok: Step = res => {
  res.writeHead(200, { 'content-type': 'text/xml' })
  res.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>
<SubjectFromWebIdentityToken>project_path:g/p:ref_type:branch:ref:main</SubjectFromWebIdentityToken><Audience>https://gitlab.com</Audience>
<AssumedRoleUser><Arn>arn:aws:sts::111111111111:assumed-role/deploy/gitlab-1-2-3</Arn><AssumedRoleId>AROAEXAMPLE:gitlab-1-2-3</AssumedRoleId></AssumedRoleUser>
<Credentials><AccessKeyId>ASIAEXAMPLEEXAMPLE12</AccessKeyId><SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey><SessionToken>IQoJb3JpZ2luX2VjEXAMPLE+session/token==</SessionToken><Expiration>${EXPIRES()}</Expiration></Credentials>
<Provider>https://gitlab.com</Provider></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`)
}
const hang: Step = () => {}

async function sts (steps: Step[]) {
  const bodies: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', c => { body += c })
    req.on('end', () => {
      bodies.push(body)
      const step = steps.length > 1 ? steps.shift()! : steps[0]!
      step(res)
    })
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { endpoint, bodies, close: () => { server.closeAllConnections(); server.close() } }
}
const request = (endpoint: string, timeoutMs = 20_000) => ({
  token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig', roleArn: 'arn:aws:iam::111111111111:role/deploy',
  sessionName: 'gitlab-1-2-3', durationSeconds: 900, region: 'us-west-2', timeoutMs, maxAttempts: 5, endpoint,
})

test('sends AssumeRoleWithWebIdentity and returns the credentials and assumed role', async () => {
  const s = await sts([ok])
  try {
    const c = await exchange(request(s.endpoint))
    assert.equal(c.accessKeyId, 'ASIAEXAMPLEEXAMPLE12')
    assert.equal(c.assumedRoleArn, 'arn:aws:sts::111111111111:assumed-role/deploy/gitlab-1-2-3')
    assert.ok(c.expiration.getTime() > Date.now() && c.expiration.getTime() <= Date.now() + 900_000)
    assert.equal(c.attempts, 1)
    const form = new URLSearchParams(s.bodies[0])
    assert.equal(form.get('Action'), 'AssumeRoleWithWebIdentity')
    assert.equal(form.get('RoleSessionName'), 'gitlab-1-2-3')
    assert.equal(form.get('DurationSeconds'), '900')
  }
  finally { s.close() }
})

test('transient faults are retried by the SDK: 503, Throttling, IDPCommunicationError, verification key', async () => {
  const s = await sts([
    error(503, 'ServiceUnavailable', 'down'),
    error(400, 'Throttling', 'Rate exceeded'),
    error(400, 'IDPCommunicationError', 'could not reach'),
    error(400, 'InvalidIdentityToken', "Couldn't retrieve verification key from your identity provider"),
    ok,
  ])
  try {
    const c = await exchange(request(s.endpoint))
    assert.equal(c.attempts, 5)
    assert.equal(s.bodies.length, 5)
  }
  finally { s.close() }
})

test('a refusal is final: no retry of AccessDenied', async () => {
  const s = await sts([error(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity'), ok])
  try {
    await assert.rejects(exchange(request(s.endpoint)), (e: unknown) => {
      assert.ok(e instanceof ExchangeError)
      assert.equal(e.code, 'AccessDenied')
      assert.equal(e.status, 403)
      assert.equal(e.attempts.length, 1)
      return true
    })
    assert.equal(s.bodies.length, 1)
  }
  finally { s.close() }
})

test('a silent STS is abandoned within the bound, with every attempt counted', async () => {
  const s = await sts([hang])
  try {
    await assert.rejects(exchange(request(s.endpoint, 5_000)), (e: unknown) => {
      assert.ok(e instanceof ExchangeError)
      // The overall bound ended it, not a refusal or a network error...
      assert.deepEqual([ e.code, e.message, e.status, e.timedOut ], [ 'Timeout', 'STS did not answer within 5 s', undefined, true ])
      // ...after attempts that each hit their own request timeout (a quarter of the bound) and were retried.
      const perAttempt = e.attempts.slice(0, -1)
      assert.ok(perAttempt.length >= 1, `attempts: ${JSON.stringify(e.attempts)}`)
      for (const a of perAttempt) assert.deepEqual([ a.code, /exceeded the configured 1250 ms requestTimeout/.test(a.message) ], [ 'ETIMEDOUT', true ], a.message)
      assert.deepEqual(e.attempts.at(-1), { code: 'Timeout', message: 'no answer within the 5 s bound' })
      assert.ok(s.bodies.length >= perAttempt.length, 'every attempt that timed out had reached STS')
      return true
    })
  }
  finally { s.close() }
})

test('persistent faults end after the attempts run out, saying why', async () => {
  const s = await sts([error(503, 'ServiceUnavailable', 'down')])
  try {
    await assert.rejects(exchange({ ...request(s.endpoint), maxAttempts: 3 }), (e: unknown) => {
      assert.ok(e instanceof ExchangeError)
      assert.equal(e.attempts.length, 3)
      assert.ok(e.attempts.every(a => a.status === 503))
      return true
    })
  }
  finally { s.close() }
})

test('per-attempt timeouts leave room for retries inside the bound', () => {
  assert.deepEqual(attemptTimeouts(60_000), { connectionTimeout: 3_000, requestTimeout: 10_000 })
  assert.deepEqual(attemptTimeouts(6_000), { connectionTimeout: 1_500, requestTimeout: 1_500 })
})

const page = (status: number, headers: Record<string, string> = {}): Step => res => {
  res.writeHead(status, { 'content-type': 'text/html', ...headers })
  res.end('<html><body><h1>Bad Gateway</h1></body></html>')
}

test('answers that are not STS\'s are named so: a proxy\'s HTML 5xx and a cut-off body retried, a redirect not; never taken for STS\'s refusal', async () => {
  const cut: Step = res => {
    res.writeHead(200, { 'content-type': 'text/xml' })
    res.end('<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials>')
  }
  const s1 = await sts([page(502), cut, ok])
  try {
    const c = await exchange(request(s1.endpoint))
    assert.equal(c.attempts, 3, 'the gateway page and the cut-off answer were retried')
  }
  finally { s1.close() }
  for (const [step, pattern, attempts] of [
    [page(302, { location: 'https://login.example/' }), /^not an STS answer: a redirect \(HTTP 302 to login\.example\)$/, 1],
    [page(502), /^not an STS answer: an HTML page \(HTTP 502\)$/, 5],
    [page(403), /^not an STS answer: an HTML page \(HTTP 403\)$/, 1],
  ] as const) {
    const s = await sts([step])
    try {
      await assert.rejects(exchange(request(s.endpoint)), (e: unknown) => {
        assert.ok(e instanceof ExchangeError)
        assert.equal(e.code, 'NotAnStsAnswer')
        assert.match(e.message, pattern)
        assert.equal(s.bodies.length, attempts)
        return true
      })
    }
    finally { s.close() }
  }
})

test('a success that does not check out is not returned (fail closed, one error)', async () => {
  const tampered = (from: string, to: string): Step => res => {
    const body: string[] = []
    ok({ writeHead: () => {}, end: (b: string) => { body.push(b) } } as unknown as ServerResponse)
    res.writeHead(200, { 'content-type': 'text/xml' })
    res.end(body[0]!.replace(from, to))
  }
  for (const [from, to, pattern] of [
    ['111111111111:assumed-role', '999999999999:assumed-role', /session is in account 999999999999/],
    ['assumed-role/deploy/', 'assumed-role/admin/', /session is of role admin, not deploy/],
    ['<AccessKeyId>ASIAEXAMPLEEXAMPLE12', '<AccessKeyId>AKIAEXAMPLEEXAMPLE12', /access key ID does not have the shape/],
  ] as const) {
    const s = await sts([tampered(from, to)])
    try {
      await assert.rejects(exchange(request(s.endpoint)), (e: unknown) => e instanceof ExchangeError && e.code === 'InvalidStsAnswer' && pattern.test(e.message))
    }
    finally { s.close() }
  }
})
