/**
 * Property tests of the deploy reports (deploy.end): stack outputs with newlines, `=`, quotes and
 * 100 kB values, and report paths that are symbolic links.
 * Contract: the dotenv report is GitLab's dotenv (one KEY=value a line, only the plugin's keys,
 * under 5 KiB); the annotations report is JSON whose links are the plugin's; deploy.end never
 * throws, and never writes through a link (it warns, as for other report failures).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { deployEnd } from '../../../src/hooks/deploy-end.ts'
import { annotationsReport, dotenvReport, type DeployFacts } from '../../../src/hooks/reports.ts'
import type { Outcome } from '../../../src/plugin/activate.ts'
import { resolveSettings } from '../../../src/plugin/settings.ts'
import { params } from '../../support/property.ts'

const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com'
const value = fc.oneof(
  fc.string(),
  fc.constantFrom(API, `${API}\nEVIL=1`, `${API}"`, `'${API}'`, 'A=B', `${API}/path?q=1&r=2`, '\r\n', 'javascript:alert(1)'),
  fc.string({ minLength: 100_000, maxLength: 100_000, unit: fc.constantFrom('a', '=', '"', '\n', ' ') }),
  fc.nat(3).map(n => `${API}/${'x'.repeat(100_000 + n)}`),
)
const facts = fc.record({
  stackName: fc.oneof(fc.constant('ShopStaging'), fc.string()),
  outputs: fc.array(fc.record({ OutputKey: fc.constantFrom('API', 'BucketURL', 'Other'), OutputValue: value }), { maxLength: 4 }),
  sessionName: fc.oneof(fc.constant('gitlab-42-1001-5005'), fc.string()),
}).map(f => ({ stage: 'staging', region: 'eu-west-1', partition: 'aws', ...f }) as DeployFacts)

test('reports from any stack outputs: GitLab dotenv under 5 KiB with only our keys; annotations are JSON', () => {
  fc.assert(fc.property(facts, f => {
    const dotenv = dotenvReport(f)
    assert.ok(Buffer.byteLength(dotenv) < 5120, 'under GitLab\'s 5 KiB')
    assert.ok(dotenv.endsWith('\n'))
    const lines = dotenv.slice(0, -1).split('\n')
    for (const line of lines) assert.match(line, /^(ARC_DEPLOY_URL=https?:\/\/[!#-&(-~]+|ARC_STACK_NAME=[A-Za-z0-9-]*|ARC_STAGE=staging)$/)
    assert.equal(new Set(lines.map(l => l.split('=')[0])).size, lines.length, 'each key once')
    const annotations = JSON.parse(annotationsReport(f)) as { 'arc-deploy': Array<{ external_link: { url: string } }> }
    for (const link of annotations['arc-deploy']) assert.match(link.external_link.url, /^https:\/\//)
  }), params(200))
})

function outcome (env: NodeJS.ProcessEnv = {}): Extract<Outcome, { kind: 'assumed' }> {
  return {
    kind: 'assumed', origin: 'gitlab', stage: 'staging', roleArn: 'arn:aws:iam::111111111111:role/shop-staging',
    assumedRoleArn: 'arn:aws:sts::111111111111:assumed-role/shop-staging/s', sessionName: 's', expiration: new Date(), claims: {},
    settings: resolveSettings({ env, manifest: undefined, stage: 'staging' }),
  }
}

async function end (cwd: string, env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [], err: string[] = []
  await deployEnd(outcome(env), { stackName: 'ShopStaging', inventory: { inv: { _project: { cwd } } } }, {
    out: s => out.push(s), err: s => err.push(s), describeStack: async () => ({ Outputs: [{ OutputKey: 'API', OutputValue: API }] }),
  })
  return { out: out.join('\n'), err: err.join('\n') }
}

test('reports are never written through a symbolic link, wherever it is on the path', async () => {
  const kinds = fc.constantFrom('file', 'dangling', 'directory', 'parent-directory')
  await fc.assert(fc.asyncProperty(kinds, fc.constantFrom('arc-deploy.env', 'arc-deploy-annotations.json'), async (kind, report) => {
    const root = mkdtempSync(join(tmpdir(), 'oidc-links-'))
    try {
      const app = join(root, 'app'), outside = join(root, 'outside')
      mkdirSync(app)
      mkdirSync(outside)
      writeFileSync(join(outside, 'target'), 'precious\n')
      const env: NodeJS.ProcessEnv = {}
      if (kind === 'file') symlinkSync(join(outside, 'target'), join(app, report))
      if (kind === 'dangling') symlinkSync(join(outside, 'created-by-us'), join(app, report))
      if (kind === 'directory') symlinkSync(outside, join(app, 'reports'))
      if (kind === 'parent-directory') { mkdirSync(join(app, 'a')); symlinkSync(outside, join(app, 'a', 'b')) }
      if (kind === 'directory') env[report === 'arc-deploy.env' ? 'ARC_DEPLOY_DOTENV' : 'ARC_DEPLOY_ANNOTATIONS'] = `reports/${report}`
      if (kind === 'parent-directory') env[report === 'arc-deploy.env' ? 'ARC_DEPLOY_DOTENV' : 'ARC_DEPLOY_ANNOTATIONS'] = `a/b/c/${report}`
      const printed = await end(app, env)
      assert.match(printed.err, /Could not write the deploy reports: .* is a symbolic link: reports are never written through links/)
      assert.equal(readFileSync(join(outside, 'target'), 'utf8'), 'precious\n', 'the link\'s target is untouched')
      assert.ok(!existsSync(join(outside, 'created-by-us')), 'a dangling link\'s target is not created')
      assert.ok(!existsSync(join(outside, report)) && !existsSync(join(outside, 'c')), 'nothing is written into a linked directory')
    }
    finally { rmSync(root, { recursive: true, force: true }) }
  }), params(8))
})

test('example: without links, both reports are written as regular files', async () => {
  const app = mkdtempSync(join(tmpdir(), 'oidc-nolinks-'))
  try {
    const printed = await end(app)
    assert.equal(printed.err, '')
    assert.ok(lstatSync(join(app, 'arc-deploy.env')).isFile())
    assert.match(readFileSync(join(app, 'arc-deploy.env'), 'utf8'), new RegExp(`^ARC_DEPLOY_URL=${API.replace(/\./g, '\\.')}$`, 'm'))
  }
  finally { rmSync(app, { recursive: true, force: true }) }
})
