/**
 * Issue 7, end to end: the permissions boundary on every role Architect generates, through the
 * real `arc`, the packed plugin and the stand-ins. What is checked is the template the
 * CloudFormation stand-in received (the one AWS would create roles from).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXAMPLE_APP } from '../support/harness.ts'
import { awsCallsSince, lastSeq, startSuite, stsCallsSince, type Suite } from './e2e.ts'

let suite: Suite
before(async () => { suite = await startSuite() })
after(async () => { await suite?.close() })

const BOUNDARY = {
  production: 'arn:aws:iam::111111111111:policy/oidc-example-production-boundary',
  staging: 'arn:aws:iam::222222222222:policy/oidc-example-staging-boundary',
}
const exampleArc = readFileSync(join(EXAMPLE_APP, 'app.arc'), 'utf8')
// example-app with more of what Architect generates roles and policies for.
const richArc = exampleArc.replace('@aws\n', '@scheduled\nnightly rate(1 day)\n\n@tables\nthings\n  id *String\n\n@aws\n')
const files = { 'src/scheduled/nightly/index.mjs': 'export const handler = async () => ({ ok: true })\n' }
const withoutBoundaries = richArc.replace(/^.*permissions-boundary.*\n/gm, '')

interface Resource { Type: string, Properties?: Record<string, unknown> }
function roles (stackName: string): Array<[string, Resource]> {
  const stack = suite.s.aws.stack(stackName)
  assert.ok(stack, `stack ${stackName} exists`)
  const template = JSON.parse(stack.templateBody) as { Resources: Record<string, Resource> }
  return Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role' ||
    ((r.Type === 'AWS::Serverless::Function' || r.Type === 'AWS::Serverless::StateMachine') && r.Properties?.Role === undefined))
}

/** The calls that would change anything in AWS (a refused deploy must make none). */
function writesSince (from: number) {
  return awsCallsSince(suite.s, from).filter(c => !/^(Describe|Get|List|Head)/.test(c.action))
}

describe('a permissions boundary on every role Architect generates (@http, @events, @scheduled, @tables)', () => {
  test('production: every IAM role of the deployed template carries the production boundary', async () => {
    const { s } = suite
    const job = s.job()
    const from = lastSeq(s)
    const r = await suite.arc(['deploy', '--production'], { env: job.env, app: { arc: richArc, files } })
    assert.equal(r.code, 0, r.output)
    const found = roles('OidcExampleProduction')
    assert.ok(found.length >= 1, 'Architect generated roles')
    for (const [id, res] of found) assert.equal(res.Properties?.PermissionsBoundary, BOUNDARY.production, `${id} has the production boundary`)
    assert.match(r.output, new RegExp(`Permissions boundary on ${found.length} roles?: ${BOUNDARY.production}`))
    assert.match(r.output, /boundary from \.+ `production-permissions-boundary` in @gitlab-oidc \(app\.arc\)/)
    assert.ok(stsCallsSince(s, from).length === 1)
  })

  test('staging from a branch: the staging boundary, from ARC_PERMISSIONS_BOUNDARY when it is set', async () => {
    const { s } = suite
    const job = s.job({ ref: 'feature/rich', ref_protected: 'false', environment: 'staging' })
    let r = await suite.arc(['deploy'], { env: job.env, app: { arc: richArc, files } })
    assert.equal(r.code, 0, r.output)
    for (const [id, res] of roles('OidcExampleStaging')) assert.equal(res.Properties?.PermissionsBoundary, BOUNDARY.staging, `${id} has the staging boundary`)

    // The CI variable wins over the manifest, as ARC_ROLE_ARN does (a boundary of the staging
    // role's account: production's role, in the other account, is not compared with it).
    const other = 'arn:aws:iam::222222222222:policy/ci/other-boundary'
    const next = s.job({ ref: 'feature/rich', ref_protected: 'false', environment: 'staging' })
    // (a short name: with a longer stack name CloudFormation would shorten the functions' names, which the template check refuses)
    r = await suite.arc(['deploy', '--name', 'bvar'], { env: { ...next.env, ARC_PERMISSIONS_BOUNDARY: other }, app: { arc: richArc, files } })
    assert.equal(r.code, 0, r.output)
    for (const [id, res] of roles('OidcExampleStagingBvar')) assert.equal(res.Properties?.PermissionsBoundary, other, `${id}`)
    assert.match(r.output, /boundary from \.+ CI variable ARC_PERMISSIONS_BOUNDARY/)
  })

  test('no boundary setting: the template is left as Architect made it', async () => {
    const { s } = suite
    const job = s.job({ ref: 'feature/plain', ref_protected: 'false', environment: 'staging' })
    const r = await suite.arc(['deploy', '--name', 'plain'], { env: job.env, app: { arc: withoutBoundaries, files } })
    assert.equal(r.code, 0, r.output)
    const found = roles('OidcExampleStagingPlain')
    assert.ok(found.length >= 1)
    for (const [id, res] of found) assert.equal(res.Properties?.PermissionsBoundary, undefined, `${id} untouched`)
    assert.doesNotMatch(r.output, /Permissions boundary/)
  })

  test('the dry run shows it in sam.json too', async () => {
    const { s } = suite
    const r = await suite.arc(['deploy', '--production', '--dry-run'], { env: s.job().env, app: { arc: richArc, files } })
    assert.equal(r.code, 0, r.output)
    assert.match(r.output, /Permissions boundary on \d+ roles?: arn:aws:iam::111111111111:policy\/oidc-example-production-boundary/)
  })

  test('a role that already names another boundary is refused, before anything is deployed', async () => {
    const { s } = suite
    // A plugin listed before ours puts its own boundary on Architect's role.
    const plugin = `export default { deploy: { start ({ cloudformation }) {
  for (const r of Object.values(cloudformation.Resources)) if (r.Type === 'AWS::IAM::Role') r.Properties.PermissionsBoundary = 'arn:aws:iam::111111111111:policy/someone-elses'
  return cloudformation
} } }\n`
    const arc = richArc.replace('@plugins\narc-plugin-gitlab-oidc', '@plugins\nother-boundary\narc-plugin-gitlab-oidc')
    const from = lastSeq(s)
    const r = await suite.arc(['deploy', '--production'], { env: s.job().env, app: { arc, files: { ...files, 'src/plugins/other-boundary.mjs': plugin } } })
    assert.notEqual(r.code, 0)
    assert.match(r.output, /already names? another permissions boundary than arn:aws:iam::111111111111:policy\/oidc-example-production-boundary/)
    assert.match(r.output, /PermissionsBoundary "arn:aws:iam::111111111111:policy\/someone-elses"/)
    assert.deepEqual(writesSince(from).map(c => `${c.service}:${c.action}`), [], 'nothing deployed')
  })

  test('a plugin listed after ours that adds a role is caught at deploy.services, with the order to fix', async () => {
    const { s } = suite
    const plugin = `export default { deploy: { start ({ cloudformation }) {
  cloudformation.Resources.SneakyRole = { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] } } }
  return cloudformation
} } }\n`
    const arc = richArc.replace('@plugins\narc-plugin-gitlab-oidc', '@plugins\narc-plugin-gitlab-oidc\nadd-role')
    const from = lastSeq(s)
    const r = await suite.arc(['deploy', '--production'], { env: s.job().env, app: { arc, files: { ...files, 'src/plugins/add-role.mjs': plugin } } })
    assert.notEqual(r.code, 0, r.output)
    assert.match(r.output, /1 role of the template would be created without the permissions boundary/)
    assert.match(r.output, /SneakyRole \.+ AWS::IAM::Role, PermissionsBoundary none/)
    assert.match(r.output, /deploy\.start after ours \.+ add-role/)
    assert.match(r.output, /@plugins\n.*add-role\n.*arc-plugin-gitlab-oidc/)
    assert.deepEqual(writesSince(from).map(c => `${c.service}:${c.action}`), [], 'nothing deployed')

    // Listed in the right order, the same plugin's role gets the boundary.
    const fixed = richArc.replace('@plugins\narc-plugin-gitlab-oidc', '@plugins\nadd-role\narc-plugin-gitlab-oidc')
    const ok = await suite.arc(['deploy', '--production'], { env: s.job().env, app: { arc: fixed, files: { ...files, 'src/plugins/add-role.mjs': plugin } } })
    assert.equal(ok.code, 0, ok.output)
    const sneaky = roles('OidcExampleProduction').find(([id]) => id === 'SneakyRole')
    assert.equal(sneaky?.[1].Properties?.PermissionsBoundary, BOUNDARY.production)
  })
})
