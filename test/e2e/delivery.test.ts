/**
 * Issue 8, end to end through the real `arc` (the pipeline itself, with gitlab-ci-local, is in
 * pipeline.test.ts): the reports deploy.end writes for GitLab, and the guard that the job's
 * GitLab environment tier and Architect's stage agree.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { lastSeq, secretsOf, startSuite, stsCallsSince, type Suite } from './e2e.ts'

let suite: Suite
before(async () => { suite = await startSuite() })
after(async () => { await suite?.close() })

function output (stack: string, key: string): string | undefined {
  return suite.s.aws.stack(stack)?.Outputs.find(o => o.OutputKey === key)?.OutputValue
}

describe('deploy.end: GitLab learns where the app is', () => {
  test('after a real deploy: a dotenv report with the stack\'s URL, an annotations report, no secrets in either', async () => {
    const { s } = suite
    const job = s.job()
    const r = await suite.arc(['deploy', '--production'], { env: job.env })
    assert.equal(r.code, 0, r.output)
    const url = output('OidcExampleProduction', 'API')
    assert.match(url ?? '', /^https:\/\/\w+\.execute-api\.us-west-2\.amazonaws\.com$/, 'the stand-in stack has the API output')
    const dotenv = readFileSync(join(r.appDir, 'arc-deploy.env'), 'utf8')
    assert.equal(dotenv, `ARC_DEPLOY_URL=${url}\nARC_STACK_NAME=OidcExampleProduction\nARC_STAGE=production\n`)
    const annotations = JSON.parse(readFileSync(join(r.appDir, 'arc-deploy-annotations.json'), 'utf8')) as Record<string, Array<{ external_link: { label: string, url: string } }>>
    const links = annotations['arc-deploy']!.map(a => a.external_link)
    assert.deepEqual(links.map(l => l.url)[0], url)
    const stackId = s.aws.stack('OidcExampleProduction')!.StackId
    assert.ok(links.some(l => l.url === `https://us-west-2.console.aws.amazon.com/cloudformation/home?region=us-west-2#/stacks/stackinfo?stackId=${encodeURIComponent(stackId)}`), JSON.stringify(links))
    const session = s.aws.sessions.at(-1)!.sessionName
    assert.ok(links.some(l => l.url.endsWith(`#/events?Username=${encodeURIComponent(session)}`) && l.label.includes(session)))
    assert.match(r.output, new RegExp(`GitLab OIDC Deployed OidcExampleProduction at ${url!.replace(/\./g, '\\.')}`))
    for (const secret of secretsOf(s, job.env)) {
      assert.ok(!dotenv.includes(secret) && !JSON.stringify(annotations).includes(secret), 'no secret in the reports')
    }
    assert.ok(!dotenv.includes('deploy-bot@example.com') && !JSON.stringify(annotations).includes('deploy-bot@example.com'))
  })

  test('report paths from CI variables; a dry run writes none', async () => {
    const { s } = suite
    const r = await suite.arc(['deploy', '--production'], { env: { ...s.job().env, ARC_DEPLOY_DOTENV: 'out/deploy.env', ARC_DEPLOY_ANNOTATIONS: 'out/links.json' }, app: { files: { 'out/.keep': '' } } })
    assert.equal(r.code, 0, r.output)
    assert.match(readFileSync(join(r.appDir, 'out', 'deploy.env'), 'utf8'), /^ARC_DEPLOY_URL=https:/)
    assert.ok(existsSync(join(r.appDir, 'out', 'links.json')))
    const dry = await suite.arc(['deploy', '--production', '--dry-run'], { env: s.job().env })
    assert.equal(dry.code, 0, dry.output)
    assert.ok(!existsSync(join(dry.appDir, 'arc-deploy.env')) && !existsSync(join(dry.appDir, 'arc-deploy-annotations.json')))
  })

  test('deploy.start shows the job\'s environment and its protection', async () => {
    const { s } = suite
    const r = await suite.arc(['deploy', '--production', '--dry-run'], { env: s.job().env })
    assert.equal(r.code, 0, r.output)
    assert.match(r.output, /environment \.+ production \(protected, tier production\)/)
  })
})

describe('the job\'s GitLab environment tier and Architect\'s stage must agree', () => {
  test('a production deploy from a job whose environment is staging: refused, no AWS call', async () => {
    const { s } = suite
    const from = lastSeq(s)
    const r = await suite.arc(['deploy', '--production'], { env: s.job({ environment: 'staging', environment_protected: 'false' }).env })
    assert.equal(r.code, 1, r.output)
    assert.match(r.output, /Refusing a production deploy from a job whose GitLab environment is not production: staging \(deployment tier staging\)/)
    assert.match(r.output, /environment-check false/)
    assert.equal(s.aws.calls.filter(c => c.seq > from).length, 0)
  })

  test('a staging deploy from a job whose environment tier is production: refused, no AWS call', async () => {
    const { s } = suite
    const from = lastSeq(s)
    const r = await suite.arc(['deploy'], { env: s.job({ ref: 'feature/x', ref_protected: 'false', environment: 'live', deployment_tier: 'production' }).env })
    assert.equal(r.code, 1, r.output)
    assert.match(r.output, /Refusing a staging deploy from a job in GitLab environment live \(deployment tier production\)/)
    assert.match(r.output, /Add --production/)
    assert.equal(s.aws.calls.filter(c => c.seq > from).length, 0)
  })

  test('ARC_ENVIRONMENT_CHECK=false turns the check off', async () => {
    const { s } = suite
    const from = lastSeq(s)
    const r = await suite.arc(['deploy', '--dry-run'], { env: { ...s.job({ ref: 'feature/x', ref_protected: 'false', environment: 'production' }).env, ARC_ENVIRONMENT_CHECK: 'false' } })
    assert.equal(r.code, 0, r.output)
    assert.equal(stsCallsSince(s, from)[0]?.assume?.roleArn, s.roles.staging)
  })
})
