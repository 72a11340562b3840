/**
 * Issue 22 item 2, end to end: a job behind a proxy. A real forwarding proxy on loopback
 * (test/support/proxy.ts) between the real `arc` and the AWS stand-in:
 * - plain HTTP (HTTP_PROXY, an http endpoint): a whole `arc deploy`, and every AWS request of it
 *   (the exchange and each of Architect's calls) arrives with the proxy's `Via` header, as many as
 *   the proxy forwarded; with NO_PROXY covering the endpoint, none does and the proxy sees nothing;
 * - CONNECT (HTTPS_PROXY, an https endpoint: a TLS front with a self-signed loopback certificate
 *   the job trusts through NODE_EXTRA_CA_CERTS): every request reaches the stand-in through the TLS
 *   front, whose every connection came through the proxy's tunnels; with NO_PROXY, no tunnel.
 * - `doctor` shows the proxy in use; the job log says when a proxy variable would be ignored.
 * No fixed port, no timing: the proxy and the TLS front listen on free loopback ports.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { assertSignedBySession, lastSeq, stsCallsSince, type Suite, startSuite, sessionOf } from './e2e.ts'
import { cleanEnv, installApp, nodeBinary, stripAnsi } from '../support/harness.ts'
import { LOOPBACK_CERT, VIA, startProxy, startTlsFront, type TestProxy, type TlsFront } from '../support/proxy.ts'

let suite: Suite
let proxy: TestProxy
let tls: TlsFront
before(async () => {
  suite = await startSuite()
  proxy = await startProxy()
  tls = await startTlsFront(suite.s.aws.endpoint)
})
after(async () => {
  await tls?.close()
  await proxy?.close()
  await suite?.close()
})

const staging = () => suite.s.job({ ref: 'fix', ref_protected: 'false', environment: 'staging' })
const callsSince = (from: number) => suite.s.aws.calls.filter(c => c.seq > from)

describe('plain HTTP through HTTP_PROXY', () => {
  test('every AWS request of a deploy passes through the proxy', async () => {
    const { s } = suite
    const job = staging()
    const from = lastSeq(s), forwarded = proxy.forwarded.length
    const r = await suite.arc(['deploy'], { env: { ...job.env, HTTP_PROXY: proxy.url } })
    assert.equal(r.code, 0, r.output)
    assertSignedBySession(s, from, s.roles.staging, sessionOf(job.claims))
    const calls = callsSince(from)
    assert.ok(calls.some(c => c.action === 'CreateStack' || c.action === 'UpdateStack'), 'deployed')
    for (const call of calls) assert.equal(call.via, VIA, `${call.service}:${call.action} came through the proxy`)
    assert.equal(proxy.forwarded.length - forwarded, calls.length, 'the proxy forwarded exactly those requests')
    assert.match(r.output, /proxy \.+ http:\/\/127\.0\.0\.1:\d+ \(HTTP_PROXY\)/)
  })

  test('NO_PROXY covering the endpoint: no request passes through the proxy', async () => {
    const { s } = suite
    const from = lastSeq(s), forwarded = proxy.forwarded.length
    const r = await suite.arc(['deploy', '--dry-run'], { env: { ...staging().env, HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' } })
    assert.equal(r.code, 0, r.output)
    const calls = callsSince(from)
    assert.ok(calls.length > 1, 'the exchange and Architect called AWS')
    for (const call of calls) assert.equal(call.via, undefined, `${call.service}:${call.action} went straight to AWS`)
    assert.equal(proxy.forwarded.length, forwarded)
  })
})

describe('HTTPS through HTTPS_PROXY (CONNECT)', () => {
  const tlsEnv = () => ({ AWS_ENDPOINT_URL: tls.url, NODE_EXTRA_CA_CERTS: LOOPBACK_CERT })

  test('every AWS request of a deploy goes through a CONNECT tunnel', async () => {
    const { s } = suite
    const job = staging()
    const from = lastSeq(s), forwarded = proxy.forwarded.length, accepted = tls.acceptedFrom.length
    const r = await suite.arc(['deploy', '--dry-run'], { env: { ...job.env, ...tlsEnv(), HTTPS_PROXY: proxy.url } })
    assert.equal(r.code, 0, r.output)
    assertSignedBySession(s, from, s.roles.staging, sessionOf(job.claims))
    const calls = callsSince(from)
    for (const call of calls) assert.ok(tls.upstreamPorts.has(call.remotePort ?? -1), `${call.service}:${call.action} came through the TLS front`)
    const connections = tls.acceptedFrom.slice(accepted)
    assert.ok(connections.length > 0)
    for (const port of connections) assert.ok(proxy.upstreamPorts.has(port), 'each TLS connection came through a proxy tunnel')
    const tunnels = proxy.forwarded.slice(forwarded)
    assert.ok(tunnels.length > 0 && tunnels.every(f => f.method === 'CONNECT' && f.target === new URL(tls.url).host), JSON.stringify(tunnels))
  })

  test('NO_PROXY covering the endpoint: no tunnel', async () => {
    const { s } = suite
    const from = lastSeq(s), forwarded = proxy.forwarded.length, accepted = tls.acceptedFrom.length
    const r = await suite.arc(['deploy', '--dry-run'], { env: { ...staging().env, ...tlsEnv(), HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' } })
    assert.equal(r.code, 0, r.output)
    assert.ok(callsSince(from).length > 1)
    assert.equal(proxy.forwarded.length, forwarded)
    for (const port of tls.acceptedFrom.slice(accepted)) assert.ok(!proxy.upstreamPorts.has(port), 'straight to the endpoint')
  })

  test('HTTP_PROXY alone for an https endpoint: the job log says it is ignored, and the deploy goes direct', async () => {
    const { s } = suite
    const from = lastSeq(s), forwarded = proxy.forwarded.length
    const r = await suite.arc(['deploy', '--dry-run'], { env: { ...staging().env, ...tlsEnv(), HTTP_PROXY: proxy.url } })
    assert.equal(r.code, 0, r.output)
    assert.match(r.output, /A proxy variable is set but would be ignored/)
    assert.match(r.output, /HTTP_PROXY is set but not HTTPS_PROXY: requests to https:\/\/127\.0\.0\.1:\d+ \(https\) do not use it/)
    assert.equal(proxy.forwarded.length, forwarded)
    assert.equal(stsCallsSince(s, from).length, 1)
  })
})

test('doctor shows the proxy in use (its credentials never)', async () => {
  const node = nodeBinary(suite.node)
  const { s } = suite
  const job = staging()
  const proxyWithUser = proxy.url.replace('http://', 'http://ci-user:pr0xy-pass@')
  const dir = await installApp()
  try {
    // doctor without --exchange calls nothing: a synchronous run cannot starve the stand-ins.
    const r = spawnSync(node, ['node_modules/.bin/arc-gitlab-oidc', 'doctor'], {
      cwd: dir.dir, encoding: 'utf8', env: cleanEnv(node, { env: { ...job.env, HTTP_PROXY: proxyWithUser }, endpoint: s.aws.endpoint }),
    })
    const out = stripAnsi(r.stdout + r.stderr)
    assert.equal(r.status, 0, out)
    assert.match(out, /proxy \.+ http:\/\/\*\*\*@127\.0\.0\.1:\d+ \(from HTTP_PROXY\) for http:\/\/127\.0\.0\.1:\d+/)
    assert.ok(!out.includes('pr0xy-pass'))
  }
  finally { dir.remove() }
})
