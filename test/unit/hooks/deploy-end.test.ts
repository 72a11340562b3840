/**
 * src/hooks/deploy-end.ts: after a real deploy in a GitLab job, the stack's outputs become the
 * dotenv and annotations reports in the app directory; a failure to read them only warns.
 * DescribeStacks is injected; the app directory is a temporary one.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stripVTControlCharacters as plain } from 'node:util'
import { deployEnd, type DeployEndParams, type StackDescription } from '../../../src/hooks/deploy-end.ts'
import type { Outcome } from '../../../src/plugin/activate.ts'
import type { Stage } from '../../../src/plugin/detect.ts'
import { resolveSettings } from '../../../src/plugin/settings.ts'

const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com'
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:111111111111:stack/ShopProduction/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab'

function assumed (stage: Stage, over: { origin?: 'gitlab' | 'web-identity', env?: NodeJS.ProcessEnv, partition?: string } = {}): Extract<Outcome, { kind: 'assumed' }> {
  const role = `arn:${over.partition ?? 'aws'}:iam::111111111111:role/shop-${stage}`
  return {
    kind: 'assumed',
    origin: over.origin ?? 'gitlab',
    stage,
    roleArn: role,
    assumedRoleArn: `arn:aws:sts::111111111111:assumed-role/shop-${stage}/gitlab-42-1001-5005`,
    sessionName: 'gitlab-42-1001-5005',
    expiration: new Date('2026-11-26T13:00:00Z'),
    claims: {},
    settings: resolveSettings({ env: { AWS_REGION: 'us-east-2', ...over.env }, manifest: { file: 'app.arc', arc: { 'gitlab-oidc': [[`${stage}-role`, role]] } }, stage }),
  }
}

function harness (stack: StackDescription | Error = { StackId: STACK_ID, Outputs: [{ OutputKey: 'API', OutputValue: API }] }) {
  const out: string[] = []
  const err: string[] = []
  const calls: Array<[string, string]> = []
  const io = {
    out: (s: string) => out.push(plain(s)),
    err: (s: string) => err.push(plain(s)),
    describeStack: async (stackName: string, region: string) => {
      calls.push([stackName, region])
      if (stack instanceof Error) throw stack
      return stack
    },
  }
  return { io, out, err, calls }
}

const appDir = () => mkdtempSync(join(tmpdir(), 'oidc-deploy-end-'))
const params = (cwd: string, over: Partial<DeployEndParams> = {}): DeployEndParams => ({
  stackName: 'ShopProduction',
  inventory: { inv: { aws: { region: 'eu-west-1' }, _project: { cwd } } },
  ...over,
})
const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8')

test('writes the dotenv and annotations reports from the stack\'s outputs', async () => {
  const dir = appDir()
  const h = harness()
  await deployEnd(assumed('production'), params(dir), h.io)
  assert.deepEqual(h.calls, [['ShopProduction', 'eu-west-1']], 'DescribeStacks once, in the app\'s region')
  assert.deepEqual(readdirSync(dir).sort(), ['arc-deploy-annotations.json', 'arc-deploy.env'])
  assert.equal(read(dir, 'arc-deploy.env'), `ARC_DEPLOY_URL=${API}\nARC_STACK_NAME=ShopProduction\nARC_STAGE=production\n`)
  const annotations = JSON.parse(read(dir, 'arc-deploy-annotations.json')) as { 'arc-deploy': Array<{ external_link: { label: string, url: string } }> }
  assert.deepEqual(annotations['arc-deploy'].map(l => l.external_link), [
    { label: `production: ${API}`, url: API },
    { label: 'CloudFormation stack ShopProduction', url: `https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/stackinfo?stackId=${encodeURIComponent(STACK_ID)}` },
    { label: 'CloudTrail events of session gitlab-42-1001-5005', url: 'https://eu-west-1.console.aws.amazon.com/cloudtrailv2/home?region=eu-west-1#/events?Username=gitlab-42-1001-5005' },
  ])
  assert.equal(h.out.length, 1)
  assert.match(h.out[0]!, new RegExp(`Deployed ShopProduction at ${API.replace(/\./g, '\\.')}`))
  assert.match(h.out[0]!, /reports \.+ arc-deploy\.env \(dotenv\), arc-deploy-annotations\.json \(annotations\)/)
  assert.deepEqual(h.err, [])
})

test('the region falls back to the settings; the partition comes from the role ARN', async () => {
  const dir = appDir()
  const h = harness({ Outputs: [{ OutputKey: 'BucketURL', OutputValue: 'http://bucket.example' }] })
  await deployEnd(assumed('staging', { partition: 'aws-cn' }), { stackName: 'ShopStaging', inventory: { inv: { _project: { cwd: dir } } } }, h.io)
  assert.deepEqual(h.calls, [['ShopStaging', 'us-east-2']])
  assert.equal(read(dir, 'arc-deploy.env'), 'ARC_DEPLOY_URL=http://bucket.example\nARC_STACK_NAME=ShopStaging\nARC_STAGE=staging\n')
  const links = (JSON.parse(read(dir, 'arc-deploy-annotations.json')) as { 'arc-deploy': Array<{ external_link: { url: string } }> })['arc-deploy'].map(l => l.external_link.url)
  // No StackId returned: the stack is linked by its name.
  assert.equal(links[1], 'https://console.amazonaws.cn/cloudformation/home?region=us-east-2#/stacks/stackinfo?stackId=ShopStaging')
  assert.ok(links[2]!.startsWith('https://console.amazonaws.cn/cloudtrailv2/home?region=us-east-2'))
})

test('a DescribeStacks failure warns and still writes the reports, without ARC_DEPLOY_URL', async () => {
  const dir = appDir()
  const failure = Object.assign(new Error('User is not authorized to perform: cloudformation:DescribeStacks'), { name: 'AccessDenied' })
  const h = harness(failure)
  await deployEnd(assumed('production'), params(dir), h.io)
  assert.equal(h.err.length, 1)
  assert.match(h.err[0]!, /warning: Could not read the outputs of stack ShopProduction: the reports have no ARC_DEPLOY_URL/)
  assert.match(h.err[0]!, /AccessDenied: User is not authorized to perform: cloudformation:DescribeStacks/)
  assert.match(h.err[0]!, /The deploy itself finished\. The role needs cloudformation:DescribeStacks/)
  assert.equal(read(dir, 'arc-deploy.env'), 'ARC_STACK_NAME=ShopProduction\nARC_STAGE=production\n')
  const annotations = JSON.parse(read(dir, 'arc-deploy-annotations.json')) as { 'arc-deploy': Array<{ external_link: { label: string } }> }
  assert.deepEqual(annotations['arc-deploy'].map(l => l.external_link.label), ['CloudFormation stack ShopProduction', 'CloudTrail events of session gitlab-42-1001-5005'])
  assert.equal(h.out.length, 1)
  assert.match(h.out[0]!, /Deployed ShopProduction\n/, 'no "at <url>"')
})

test('nothing is read or written for a dry run, another outcome, web identity, or no stack name', async () => {
  const cases: Array<[string, Outcome, Partial<DeployEndParams>]> = [
    ['dry run', assumed('production'), { dryRun: true }],
    ['web identity', assumed('production', { origin: 'web-identity' }), {}],
    ['no stack name', assumed('production'), { stackName: undefined }],
    ['idle', { kind: 'idle', reason: 'not a GitLab job' }, {}],
    ['existing credentials', { kind: 'existing-credentials', stage: 'production', settings: assumed('production').settings }, {}],
  ]
  for (const [name, outcome, over] of cases) {
    const dir = appDir()
    const h = harness()
    const p = params(dir, over)
    if ('stackName' in over && over.stackName === undefined) delete p.stackName
    await deployEnd(outcome, p, h.io)
    assert.deepEqual(readdirSync(dir), [], name)
    assert.deepEqual(h.calls, [], name)
    assert.deepEqual([...h.out, ...h.err], [], name)
  }
})

test('configured report paths (settings or CI variables) are where the reports go', async () => {
  const dir = appDir()
  mkdirSync(join(dir, 'reports'))
  const h = harness()
  const outcome = assumed('production', { env: { ARC_DEPLOY_DOTENV: 'reports/deploy.env', ARC_DEPLOY_ANNOTATIONS: 'links.json' } })
  await deployEnd(outcome, params(dir), h.io)
  assert.deepEqual(readdirSync(dir).sort(), ['links.json', 'reports'])
  assert.match(read(dir, 'reports/deploy.env'), /^ARC_DEPLOY_URL=https:\/\/abc123/)
  assert.ok(JSON.parse(read(dir, 'links.json'))['arc-deploy'])
  assert.match(h.out[0]!, /reports \.+ reports\/deploy\.env \(dotenv\), links\.json \(annotations\)/)
  assert.ok(!existsSync(join(dir, 'arc-deploy.env')))
})

test('reports that cannot be written: a warning, the deploy is not failed', async () => {
  const dir = appDir()
  mkdirSync(join(dir, 'arc-deploy.env'))
  const h = harness()
  await deployEnd(assumed('production'), params(dir), h.io)
  assert.equal(h.err.length, 1)
  assert.match(h.err[0]!, /warning: Not writing the deploy reports: arc-deploy\.env is a directory\n/)
  assert.deepEqual(h.out, [])
  assert.deepEqual(readdirSync(dir), ['arc-deploy.env'])
})

test('report paths that could hurt are refused with a warning, and neither report is written', async () => {
  const cases: Array<{ what: string, env: NodeJS.ProcessEnv, files?: Record<string, string>, git?: string[], warns: RegExp }> = [
    { what: 'the same file', env: { ARC_DEPLOY_DOTENV: 'out/r.txt', ARC_DEPLOY_ANNOTATIONS: './out/r.txt' }, warns: /the dotenv and annotations reports are the same file, out\/r\.txt/ },
    { what: 'the same file through a link', env: { ARC_DEPLOY_DOTENV: 'r.env', ARC_DEPLOY_ANNOTATIONS: 'link/r.env' }, warns: /are the same file/ },
    { what: 'the manifest', env: { ARC_DEPLOY_DOTENV: 'app.arc' }, files: { 'app.arc': '@app\nshop\n' }, warns: /app\.arc is an existing file that is not a report of a previous deploy/ },
    { what: 'package.json', env: { ARC_DEPLOY_ANNOTATIONS: 'package.json' }, files: { 'package.json': '{"name":"shop"}' }, warns: /package\.json is an existing file that is not a report/ },
    { what: 'a file git tracks, even one shaped like a report', env: {}, files: { 'arc-deploy.env': 'ARC_STAGE=production\n' }, git: ['arc-deploy.env'], warns: /arc-deploy\.env is a file git tracks/ },
    { what: 'a directory named with a slash', env: { ARC_DEPLOY_ANNOTATIONS: 'reports/' }, warns: /reports\/ is a directory/ },
  ]
  for (const c of cases) {
    const dir = appDir()
    mkdirSync(join(dir, 'out'))
    symlinkSync('.', join(dir, 'link'))
    for (const [name, text] of Object.entries(c.files ?? {})) writeFileSync(join(dir, name), text)
    if (c.git) {
      execFileSync('git', ['init', '-q'], { cwd: dir })
      execFileSync('git', ['add', ...c.git], { cwd: dir })
    }
    const before = Object.fromEntries(Object.keys(c.files ?? {}).map(f => [f, read(dir, f)]))
    const h = harness()
    await deployEnd(assumed('production', { env: c.env }), params(dir), h.io)
    assert.equal(h.err.length, 1, c.what)
    assert.match(h.err[0]!, c.warns, c.what)
    assert.match(h.err[0]!, /The deploy itself finished/)
    assert.deepEqual(h.out, [], c.what)
    for (const [name, text] of Object.entries(before)) assert.equal(read(dir, name), text, `${c.what}: ${name} unchanged`)
    for (const report of ['arc-deploy-annotations.json', 'r.env', 'out/r.txt']) assert.ok(!existsSync(join(dir, report)), `${c.what}: ${report} not written`)
  }
})

test('a report of a previous deploy is replaced', async () => {
  const dir = appDir()
  const h1 = harness()
  await deployEnd(assumed('production'), params(dir), h1.io)
  const h2 = harness({ StackId: STACK_ID, Outputs: [] })
  await deployEnd(assumed('production'), params(dir), h2.io)
  assert.deepEqual(h2.err, [])
  assert.doesNotMatch(read(dir, 'arc-deploy.env'), /ARC_DEPLOY_URL/)
})
