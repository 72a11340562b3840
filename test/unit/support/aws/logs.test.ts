// The CloudWatch Logs stand-in answers what `arc logs` and `arc destroy` call, through aws-lite
// (the client Architect uses), and only for callers the stand-in authenticated.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { logGroupNames, putLogEvents } from '../../../support/aws/logs.ts'
import { startStandIns, type StandIns } from '../../../support/standins.ts'

const require = createRequire(import.meta.url)
const awsLite = require('@aws-lite/client') as (config: Record<string, unknown>) => Promise<Record<string, any>>
const litePlugin = (name: string): Promise<unknown> => import(name)

let s: StandIns
before(async () => { s = await startStandIns() })
after(() => s.close())

const GROUP = '/aws/lambda/OidcExampleStaging-GetIndexHTTPLambda-abc123'

async function assumeStaging (): Promise<{ accessKeyId: string, secretAccessKey: string, sessionToken: string }> {
  const token = s.gitlab.mint(s.gitlab.claims({ project_path: 'acme/oidc-example', ref: 'feature/x', ref_protected: 'false' }))
  const body = new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: s.roles.staging, RoleSessionName: 'logs-test', WebIdentityToken: token })
  const xml = await (await fetch(`${s.aws.endpoint}/`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).text()
  const tag = (t: string) => new RegExp(`<${t}>([^<]+)</${t}>`).exec(xml)?.[1] ?? assert.fail(`${t} in ${xml}`)
  return { accessKeyId: tag('AccessKeyId'), secretAccessKey: tag('SecretAccessKey'), sessionToken: tag('SessionToken') }
}

const client = (creds: Record<string, string>) => awsLite({ region: 'us-west-2', endpoint: s.aws.endpoint, retries: 0, ...creds, plugins: [ litePlugin('@aws-lite/cloudwatch-logs') ] })

describe('CloudWatch Logs stand-in', () => {
  it('serves a function\'s log streams newest first and their events, as arc logs reads them', async () => {
    const t = Date.UTC(2026, 10, 30, 12)
    putLogEvents(s.aws.state, GROUP, 'old-stream', [ 'first' ], t)
    putLogEvents(s.aws.state, GROUP, 'new-stream', [ 'second', 'third' ], t + 60_000)
    const logs = (await client(await assumeStaging())).cloudwatchlogs
    const streams = await logs.DescribeLogStreams({ logGroupName: GROUP, descending: true, orderBy: 'LastEventTime' })
    assert.deepEqual(streams.logStreams.map((l: any) => l.logStreamName), [ 'new-stream', 'old-stream' ])
    assert.equal(streams.logStreams[0].lastEventTimestamp, t + 60_001)
    const events = await logs.GetLogEvents({ logGroupName: GROUP, logStreamName: 'new-stream' })
    assert.deepEqual(events.events.map((e: any) => e.message), [ 'second', 'third' ])
    await assert.rejects(logs.GetLogEvents({ logGroupName: GROUP, logStreamName: 'nope' }), (e: any) => e.code === 'ResourceNotFoundException')
    await assert.rejects(logs.DescribeLogStreams({ logGroupName: '/aws/lambda/missing' }), (e: any) => e.code === 'ResourceNotFoundException' && /log group does not exist/.test(e.message))
  })

  it('lists and deletes log groups by prefix, as arc destroy does', async () => {
    putLogEvents(s.aws.state, '/aws/lambda/OtherApp-Fn', 's', [ 'x' ])
    const logs = (await client({ accessKeyId: s.developer.accessKeyId, secretAccessKey: s.developer.secretAccessKey })).cloudwatchlogs
    const listed = await logs.DescribeLogGroups({ logGroupNamePrefix: '/aws/lambda/OidcExampleStaging-' })
    assert.deepEqual(listed.logGroups.map((g: any) => g.logGroupName), [ GROUP ])
    await logs.DeleteLogGroup({ logGroupName: GROUP })
    assert.ok(!logGroupNames(s.aws.state).includes(GROUP) && logGroupNames(s.aws.state).includes('/aws/lambda/OtherApp-Fn'))
    await assert.rejects(logs.DeleteLogGroup({ logGroupName: GROUP }), (e: any) => e.code === 'ResourceNotFoundException')
  })

  it('refuses parameters it does not model, instead of ignoring them', async () => {
    putLogEvents(s.aws.state, GROUP, 's', [ 'x' ])
    const logs = (await client({ accessKeyId: s.developer.accessKeyId, secretAccessKey: s.developer.secretAccessKey })).cloudwatchlogs
    await assert.rejects(logs.DescribeLogStreams({ logGroupName: GROUP, logStreamNamePrefix: 's' }), (e: any) => e.code === 'NotImplementedByStandIn')
    await assert.rejects(logs.GetLogEvents({ logGroupName: GROUP, logStreamName: 's', startFromHead: true }), (e: any) => e.code === 'NotImplementedByStandIn')
  })

  it('refuses an unsigned call, and a session key without its session token', async () => {
    putLogEvents(s.aws.state, GROUP, 's', [ 'x' ])
    const unsigned = await fetch(`${s.aws.endpoint}/`, {
      method: 'POST', body: JSON.stringify({ logGroupName: GROUP }),
      headers: { 'x-amz-target': 'Logs_20140328.DescribeLogStreams', 'content-type': 'application/x-amz-json-1.1' },
    })
    assert.ok(unsigned.status === 400 || unsigned.status === 403, `unsigned: ${unsigned.status}`)
    assert.doesNotMatch(await unsigned.text(), /logStreams/)
    const session = await assumeStaging()
    const wrong = (await client({ accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey })).cloudwatchlogs
    await assert.rejects(wrong.DescribeLogStreams({ logGroupName: GROUP }), (e: any) => /InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|AccessDenied|IncompleteSignature/.test(String(e.code)))
    const other = (await client({ ...session, sessionToken: (await assumeStaging()).sessionToken })).cloudwatchlogs
    await assert.rejects(other.DescribeLogStreams({ logGroupName: GROUP }), (e: any) => /InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|AccessDenied/.test(String(e.code)))
  })
})
