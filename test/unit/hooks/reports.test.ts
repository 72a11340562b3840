/**
 * src/hooks/reports.ts: the dotenv and annotations reports GitLab reads after a deploy, and the
 * AWS console links in them.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { annotationsReport, consoleLinks, deployUrl, dotenvReport, type DeployFacts } from '../../../src/hooks/reports.ts'

const API = 'https://abc123.execute-api.us-west-2.amazonaws.com'
const BUCKET = 'http://shop-staging-bucket.s3-website-us-west-2.amazonaws.com'
const STACK_ID = 'arn:aws:cloudformation:us-west-2:111111111111:stack/ShopStaging/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab'

const facts = (over: Partial<DeployFacts> = {}): DeployFacts => ({
  stage: 'staging',
  stackName: 'ShopStaging',
  stackId: STACK_ID,
  region: 'us-west-2',
  partition: 'aws',
  sessionName: 'gitlab-42-1001-5005',
  outputs: [{ OutputKey: 'BucketURL', OutputValue: BUCKET }, { OutputKey: 'API', OutputValue: API }, { OutputKey: 'ApiId', OutputValue: 'abc123' }],
  ...over,
})

test('deployUrl: the HTTP API, else the static bucket, else none', () => {
  assert.equal(deployUrl(facts().outputs), API)
  assert.equal(deployUrl([{ OutputKey: 'BucketURL', OutputValue: BUCKET }, { OutputKey: 'ApiId', OutputValue: 'abc123' }]), BUCKET)
  assert.equal(deployUrl([{ OutputKey: 'ApiId', OutputValue: 'abc123' }]), undefined)
  assert.equal(deployUrl([]), undefined)
  assert.equal(deployUrl([{ OutputKey: 'API' }, { OutputKey: 'BucketURL', OutputValue: BUCKET }]), BUCKET, 'an API output without a value falls through')
})

test('dotenvReport: exact text', () => {
  assert.equal(dotenvReport(facts()), `ARC_DEPLOY_URL=${API}\nARC_STACK_NAME=ShopStaging\nARC_STAGE=staging\n`)
  assert.equal(dotenvReport(facts({ stage: 'production', stackName: 'ShopProduction', outputs: [{ OutputKey: 'BucketURL', OutputValue: BUCKET }] })),
    `ARC_DEPLOY_URL=${BUCKET}\nARC_STACK_NAME=ShopProduction\nARC_STAGE=production\n`)
})

test('dotenvReport: no URL line when there is no URL', () => {
  assert.equal(dotenvReport(facts({ outputs: [] })), 'ARC_STACK_NAME=ShopStaging\nARC_STAGE=staging\n')
})

test('dotenvReport: no value can add a variable: a URL with a newline is left out, a stack name keeps only its own characters', () => {
  const text = dotenvReport(facts({ stackName: 'Shop\r\nARC_STAGE=production', outputs: [{ OutputKey: 'API', OutputValue: `${API}\nEVIL=1` }] }))
  assert.equal(text, 'ARC_STACK_NAME=ShopARCSTAGEproduction\nARC_STAGE=staging\n')
  assert.equal(text.split('\n').length, 3, 'two lines and the final newline')
})

test('dotenvReport: the URL is kept when it is a plain URL', () => {
  const text = dotenvReport(facts({ outputs: [{ OutputKey: 'API', OutputValue: API }] }))
  assert.match(text, new RegExp(`^ARC_DEPLOY_URL=${API.replace(/[.]/g, '\\.')}\n`))
})

test('annotationsReport: GitLab\'s annotations format, links to the app, the stack and the session', () => {
  const text = annotationsReport(facts())
  assert.ok(text.endsWith('}\n'))
  const parsed = JSON.parse(text) as unknown
  assert.deepEqual(parsed, {
    'arc-deploy': [
      { external_link: { label: `staging: ${API}`, url: API } },
      { external_link: { label: 'CloudFormation stack ShopStaging', url: `https://us-west-2.console.aws.amazon.com/cloudformation/home?region=us-west-2#/stacks/stackinfo?stackId=${encodeURIComponent(STACK_ID)}` } },
      { external_link: { label: 'CloudTrail events of session gitlab-42-1001-5005', url: 'https://us-west-2.console.aws.amazon.com/cloudtrailv2/home?region=us-west-2#/events?Username=gitlab-42-1001-5005' } },
    ],
  })
})

test('annotationsReport: no app link without a URL', () => {
  const parsed = JSON.parse(annotationsReport(facts({ outputs: [] }))) as { 'arc-deploy': Array<{ external_link: { label: string, url: string } }> }
  assert.deepEqual(Object.keys(parsed), ['arc-deploy'])
  assert.deepEqual(parsed['arc-deploy'].map(l => l.external_link.label), ['CloudFormation stack ShopStaging', 'CloudTrail events of session gitlab-42-1001-5005'])
  for (const entry of parsed['arc-deploy']) assert.deepEqual(Object.keys(entry.external_link), ['label', 'url'])
})

test('consoleLinks: the console of each partition', () => {
  const hosts: Array<[string, string, string]> = [
    ['aws', 'eu-central-1', 'https://eu-central-1.console.aws.amazon.com/'],
    ['aws-cn', 'cn-north-1', 'https://console.amazonaws.cn/'],
    ['aws-us-gov', 'us-gov-west-1', 'https://console.amazonaws-us-gov.com/'],
    ['aws-unknown', 'us-east-1', 'https://us-east-1.console.aws.amazon.com/'],
  ]
  for (const [partition, region, prefix] of hosts) {
    const links = consoleLinks(facts({ partition, region }))
    assert.ok(links.stack.startsWith(`${prefix}cloudformation/home?region=${region}#/stacks/stackinfo?stackId=`), `${partition}: ${links.stack}`)
    assert.ok(links.trail.startsWith(`${prefix}cloudtrailv2/home?region=${region}#/events?Username=`), `${partition}: ${links.trail}`)
  }
})

test('consoleLinks: stack IDs and session names are URL-encoded; the stack name when there is no ID', () => {
  const links = consoleLinks(facts({ sessionName: 'ci+job=1,a@b', stackId: STACK_ID }))
  assert.equal(links.stack.split('stackId=')[1], 'arn%3Aaws%3Acloudformation%3Aus-west-2%3A111111111111%3Astack%2FShopStaging%2F0f1e2d3c-aaaa-bbbb-cccc-1234567890ab')
  assert.equal(links.trail.split('Username=')[1], 'ci%2Bjob%3D1%2Ca%40b')
  const { stackId: _omit, ...withoutId } = facts()
  assert.ok(consoleLinks(withoutId).stack.endsWith('stackId=ShopStaging'))
})
