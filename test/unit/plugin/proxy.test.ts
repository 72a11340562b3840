/**
 * Proxies (src/plugin/proxy.ts): which variable wins, NO_PROXY as Node reads it, which Node
 * versions can use a proxy, what is said when a proxy variable would be ignored, proxy
 * credentials never shown; and the exchange itself (the SDK, the real assumeRole) through a
 * recording loopback proxy, or straight to STS when NO_PROXY covers it.
 * test/e2e/proxy.test.ts shows a whole deploy through the proxy, plain and CONNECT.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { assumeRole } from '../../../src/plugin/exchange.ts'
import { bypasses, describeProxy, ignoredProxies, proxiesOf, proxyEnvOf, proxyFor, shownProxy, supportsProxyEnv } from '../../../src/plugin/proxy.ts'
import { startGitLab, type GitLabStandIn } from '../../support/gitlab.ts'
import { gitlabTrustPolicy, startAws, type AwsStandIn } from '../../support/aws.ts'
import { VIA, startProxy, type TestProxy } from '../../support/proxy.ts'

describe('reading the proxy variables', () => {
  it('lower case wins, as in Node; blank is unset; proxyEnv only when a proxy is set', () => {
    const p = proxiesOf({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2', HTTP_PROXY: ' ', NO_PROXY: 'a', no_proxy: 'b' })
    assert.deepEqual(p, { https: { value: 'http://lower:2', variable: 'https_proxy' }, no: { value: 'b', variable: 'no_proxy' } })
    assert.deepEqual(proxyEnvOf(p), { HTTPS_PROXY: 'http://lower:2', NO_PROXY: 'b' })
    assert.equal(proxyEnvOf(proxiesOf({ NO_PROXY: '*' })), undefined)
  })

  it('Node can use a proxy from 22.21 and 24.5 (changelogs: "built-in proxy support in http/https.request and Agent")', () => {
    for (const v of ['22.21.0', 'v22.23.3', '24.5.0', '24.21.0', '25.0.0']) assert.ok(supportsProxyEnv(v), v)
    for (const v of ['20.20.2', '22.20.0', '23.11.0', '24.4.1']) assert.ok(!supportsProxyEnv(v), v)
  })

  it('NO_PROXY: *, hosts, domain suffixes, host:port', () => {
    const u = (s: string) => new URL(s)
    assert.ok(bypasses(u('https://sts.us-west-2.amazonaws.com'), 'example.com, .amazonaws.com'))
    assert.ok(bypasses(u('https://sts.us-west-2.amazonaws.com'), 'amazonaws.com'))
    assert.ok(bypasses(u('http://127.0.0.1:4567/x'), '127.0.0.1'))
    assert.ok(bypasses(u('http://127.0.0.1:4567/x'), '127.0.0.1:4567'))
    assert.ok(!bypasses(u('http://127.0.0.1:4567/x'), '127.0.0.1:80'))
    assert.ok(bypasses(u('https://anything.test'), '*'))
    assert.ok(!bypasses(u('https://notamazonaws.com'), 'amazonaws.com'))
    assert.ok(!bypasses(u('https://sts.amazonaws.com'), undefined))
  })

  it('the proxy for a URL goes by its scheme; doctor\'s line; credentials in a proxy URL are never shown', () => {
    const p = proxiesOf({ HTTPS_PROXY: 'http://alice:s3cret@proxy.corp:3128', NO_PROXY: 'internal.corp' })
    assert.equal(proxyFor(new URL('https://sts.us-west-2.amazonaws.com'), p)?.variable, 'HTTPS_PROXY')
    assert.equal(proxyFor(new URL('http://sts.us-west-2.amazonaws.com'), p), undefined)
    assert.equal(shownProxy('http://alice:s3cret@proxy.corp:3128'), 'http://***@proxy.corp:3128')
    const line = describeProxy(new URL('https://sts.us-west-2.amazonaws.com'), p, '22.23.3')
    assert.equal(line, 'http://***@proxy.corp:3128 (from HTTPS_PROXY) for https://sts.us-west-2.amazonaws.com')
    assert.ok(!line.includes('s3cret'))
    assert.equal(describeProxy(new URL('https://x.internal.corp'), p, '22.23.3'), 'none for https://x.internal.corp: NO_PROXY covers x.internal.corp')
    assert.equal(describeProxy(new URL('https://x'), {}, '22.23.3'), 'none')
  })

  it('says when a proxy variable would be ignored: an old Node, HTTP_PROXY alone for https AWS, a socks URL; nothing when it is used', () => {
    const aws = new URL('https://sts.us-west-2.amazonaws.com')
    assert.deepEqual(ignoredProxies(proxiesOf({ HTTPS_PROXY: 'http://p:1' }), aws, '22.23.3'), [])
    assert.deepEqual(ignoredProxies({}, aws, '20.0.0'), [])
    assert.match(ignoredProxies(proxiesOf({ HTTPS_PROXY: 'http://p:1' }), aws, '22.20.0')[0] ?? '', /HTTPS_PROXY is set, but Node 22\.20\.0 has no proxy support .* AWS is called directly/)
    assert.match(ignoredProxies(proxiesOf({ HTTP_PROXY: 'http://p:1' }), aws, '22.23.3')[0] ?? '', /HTTP_PROXY is set but not HTTPS_PROXY: requests to https:\/\/sts\.us-west-2\.amazonaws\.com \(https\) do not use it/)
    assert.match(ignoredProxies(proxiesOf({ HTTPS_PROXY: 'socks5://u:pw@p:1080' }), aws, '22.23.3')[0] ?? '', /HTTPS_PROXY is socks5:\/\/\*\*\*@p:1080: Node's proxy support takes http:\/\/ or https:\/\/ proxy URLs only/)
  })
})

describe('the exchange through a proxy (the SDK with Node\'s proxyEnv agents)', () => {
  let gitlab: GitLabStandIn
  let aws: AwsStandIn
  let proxy: TestProxy
  let role: string
  before(async () => {
    gitlab = await startGitLab()
    aws = await startAws()
    proxy = await startProxy()
    aws.addOidcProvider({ url: gitlab.issuer, clientIds: [gitlab.audience] })
    role = aws.addRole({ name: 'shop', trustPolicy: gitlabTrustPolicy({ accountId: aws.accountId, providerUrl: gitlab.providerUrl, aud: gitlab.audience, sub: 'project_path:acme/oidc-example:ref_type:branch:ref:main' }) })
  })
  after(async () => {
    await proxy.close()
    await aws.close()
    await gitlab.close()
  })
  const request = (proxyEnv?: { HTTP_PROXY?: string, NO_PROXY?: string }) => ({
    token: gitlab.mint(), roleArn: role, sessionName: 'proxied', durationSeconds: 900, region: 'us-west-2', timeoutMs: 10_000, maxAttempts: 1,
    endpoint: aws.endpoint, ...(proxyEnv ? { proxyEnv } : {}),
  })

  it('HTTP_PROXY: AssumeRoleWithWebIdentity reaches STS through the proxy', async () => {
    const from = proxy.forwarded.length
    const creds = await assumeRole(request({ HTTP_PROXY: proxy.url }))
    assert.match(creds.assumedRoleArn, /assumed-role\/shop\/proxied$/)
    assert.deepEqual(proxy.forwarded.slice(from).map(f => f.method), ['POST'])
    assert.equal(aws.stsCalls().at(-1)!.via, VIA)
  })

  it('NO_PROXY covering the endpoint: straight to STS', async () => {
    const from = proxy.forwarded.length
    await assumeRole(request({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }))
    assert.equal(proxy.forwarded.length, from)
    assert.equal(aws.stsCalls().at(-1)!.via, undefined)
  })
})
