/**
 * Issue 3, faults: the STS stand-in misbehaves. Transient faults are retried (by the SDK's retry
 * strategy) and the deploy succeeds; persistent ones fail in bounded time with a message that
 * counts the attempts and says why. Never a hang.
 */
import { after, before, afterEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { StsFault } from '../support/aws.ts'
import { NODES, awsCallsSince, lastSeq, startSuite, stsCallsSince, type Suite } from './e2e.ts'

let suite: Suite
before(async () => { suite = await startSuite() })
after(async () => { await suite?.close() })
afterEach(() => {
  suite.s.aws.setStsFault(null)
  suite.s.gitlab.setFault(null)
})

const transient: Array<[string, StsFault]> = [
  ['HTTP 503', 'unavailable'],
  ['Throttling', 'throttling'],
  ['IDPCommunicationError', 'idp-communication'],
  ['InvalidIdentityToken: could not retrieve the verification key', 'verification-key'],
  ['a connection reset', 'reset'],
  ['a response that never comes', 'hang'],
]

for (const node of NODES) {
  describe(`arc on ${node}`, () => {
    before(() => { suite.node = node })

    for (const [name, fault] of transient) {
      test(`transient: ${name} twice, then the deploy succeeds`, async () => {
        const { s } = suite
        const job = s.job()
        s.aws.injectStsFaults(fault, fault)
        const from = lastSeq(s)
        // A short bound so that per-attempt timeouts are short too (2 s each for an 8 s bound).
        const r = await suite.arc(['deploy', '--production'], { env: { ...job.env, ARC_OIDC_TIMEOUT: '8' } })
        assert.equal(r.code, 0, r.output)
        const sts = stsCallsSince(s, from)
        assert.equal(sts.length, 3, 'two failed attempts and a good one')
        assert.equal(sts.filter(c => c.status === 200).length, 1)
        assert.match(r.output, /attempts \.+ 3 \(earlier ones failed transiently\)/)
        assert.ok(s.aws.stacks.includes('OidcExampleProduction'))
        const session = s.aws.sessions.at(-1)!
        assert.ok(awsCallsSince(s, from).every(c => c.accessKeyId === session.accessKeyId))
      })
    }

    test('persistent: STS never answers; the exchange gives up within its bound', async () => {
      const { s } = suite
      const job = s.job()
      s.aws.setStsFault('hang')
      const from = lastSeq(s)
      const r = await suite.arc(['deploy', '--production'], { env: { ...job.env, ARC_OIDC_TIMEOUT: '6' }, timeoutMs: 60_000 })
      assert.notEqual(r.code, 0)
      assert.equal(r.timedOut, false)
      assert.ok(r.durationMs < 12_000, `gave up after ${r.durationMs} ms`)
      assert.match(r.output, /Gave up on AWS STS after 6 s and \d+ failed attempts/)
      assert.ok(stsCallsSince(s, from).length >= 2, 'attempts timed out and were retried')
      assert.deepEqual(awsCallsSince(s, from), [])
    })

    for (const [name, fault, re] of [
      ['503 on every attempt', 'unavailable', /AWS STS kept failing: 5 attempts failed \(5 × ServiceUnavailable \(HTTP 503\)\)/],
      ['Throttling on every attempt', 'throttling', /AWS STS kept failing: 5 attempts failed \(5 × Throttling\)/],
      ['IDPCommunicationError on every attempt', 'idp-communication', /AWS STS kept failing: 5 attempts failed \(5 × IDPCommunicationError\)/],
    ] as Array<[string, StsFault, RegExp]>) {
      test(`persistent: ${name}`, async () => {
        const { s } = suite
        const job = s.job()
        s.aws.setStsFault(fault)
        const from = lastSeq(s)
        const r = await suite.arc(['deploy', '--production'], { env: job.env, timeoutMs: 90_000 })
        assert.notEqual(r.code, 0)
        assert.match(r.output, re)
        assert.ok(r.durationMs < 65_000, `took ${r.durationMs} ms`)
        assert.equal(stsCallsSince(s, from).length, 5)
        assert.deepEqual(awsCallsSince(s, from), [])
      })
    }

    test('the GitLab instance\'s keys are unreachable for AWS: retried, then explained', async () => {
      const { s } = suite
      const job = s.job()
      s.aws.clearKeyCache()
      s.gitlab.setFault('error')
      const from = lastSeq(s)
      const r = await suite.arc(['deploy', '--production'], { env: job.env, timeoutMs: 90_000 })
      assert.notEqual(r.code, 0)
      assert.match(r.output, /AWS could not fetch the signing keys of http:\/\/127\.0\.0\.1:\d+ \(InvalidIdentityToken\), even after retries/)
      assert.ok(stsCallsSince(s, from).length > 1, 'retried')
      assert.deepEqual(awsCallsSince(s, from), [])
    })
  })
}
