/**
 * Issue 8, end to end: gitlab-ci-local runs the real example-app/.gitlab-ci.yml, and the
 * arc-deploy component included the way GitLab tests a component in its own project, with the
 * shell executor; the jobs run the real `arc` with the packed plugin installed (the e2e install)
 * against the loopback GitLab and AWS stand-ins. gitlab-ci-local does not mint ID tokens: the
 * stand-in's token goes in as the `id_tokens:` variable, with GITLAB_CI=true.
 * Node 22 only (gitlab-ci-local needs it; the plugin's Node matrix is deploy.test.ts's).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseEnv } from 'node:util'
import { ROOT, installApp, runArc, type App, type InstallAppOptions } from '../support/harness.ts'
import { initGitRepo, runGitlabCiLocal, type GitlabCiLocalResult } from '../support/gitlab-ci-local.ts'
import { startStandIns, type Job, type StandIns } from '../support/standins.ts'
import { awsCallsSince, lastSeq, secretsOf, stsCallsSince } from './e2e.ts'

let s: StandIns
const apps: App[] = []
before(async () => { s = await startStandIns() })
after(async () => {
  for (const app of apps) app.remove()
  await s?.close()
})

const PROJECT = 'acme/oidc-example'
const COMPONENT_CI = [
  '# How GitLab tests a component in its own project: this commit\'s templates/arc-deploy.yml',
  'include:',
  '  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/arc-deploy@$CI_COMMIT_SHA',
  '    inputs:',
  '      install: test -d node_modules || npm ci',
  '',
].join('\n')

/**
 * A project for one pipeline: the app (example-app, or files on top), committed on branch, origin
 * naming acme/oidc-example on the stand-in.
 */
async function project (branch: string, app: InstallAppOptions = {}): Promise<App> {
  const a = await installApp(app)
  apps.push(a)
  initGitRepo(a.dir, { branch, remote: `${s.gitlab.issuer}/${PROJECT}.git` })
  return a
}

const componentProject = (branch: string) => project(branch, {
  files: { '.gitlab-ci.yml': COMPONENT_CI, 'templates/arc-deploy.yml': readFileSync(join(ROOT, 'templates', 'arc-deploy.yml'), 'utf8') },
})

/** A merge request pipeline's job: the source branch's claims, a review environment. */
function mrJob (branch: string): Job {
  const slug = branch.toLowerCase().replace(/[^a-z0-9]+/g, '-')
  return s.job({ ref: branch, ref_protected: 'false', pipeline_source: 'merge_request_event', environment: `review/${slug}`, environment_protected: 'false', deployment_tier: 'development' })
}

const mrVariables = (iid: number): Record<string, string> => ({
  CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_IID: String(iid), CI_MERGE_REQUEST_ID: String(1000 + iid),
})

/** Run the deploy stage of the project's pipeline as a GitLab job would get it; checks every output for leaks. */
async function pipeline (
  app: App, job: Job, opts: { variables?: Record<string, string>, unset?: string[], manual?: string } = {},
): Promise<GitlabCiLocalResult> {
  const args = [ '--stage', 'deploy', '--concurrency', '1', ...(opts.manual ? [ '--manual', opts.manual ] : []) ]
  const r = await runGitlabCiLocal(app.dir, args, {
    variables: { GITLAB_CI: 'true', GITLAB_OIDC_TOKEN: job.token, AWS_ENDPOINT_URL: s.aws.endpoint, ...opts.variables },
    unset: opts.unset,
    env: { AWS_EC2_METADATA_DISABLED: 'true' },
  })
  assertNoLeak(app, job, r)
  assert.deepEqual(s.aws.unimplementedCalls(), [], 'the AWS stand-in answered every call')
  return r
}

/** The leak check: no token, secret key or session token in any output, job log or report; no e-mail. */
function assertNoLeak (app: App, job: Job, r: GitlabCiLocalResult): void {
  const texts: Record<string, string> = { 'gitlab-ci-local output': r.output }
  const logs = join(app.dir, '.gitlab-ci-local', 'output')
  for (const name of existsSync(logs) ? readdirSync(logs) : []) texts[`job log ${name}`] = readFileSync(join(logs, name), 'utf8')
  for (const report of [ 'arc-deploy.env', 'arc-deploy-annotations.json' ]) {
    if (existsSync(join(app.dir, report))) texts[report] = readFileSync(join(app.dir, report), 'utf8')
  }
  const secrets = secretsOf(s, { GITLAB_OIDC_TOKEN: job.token })
  assert.ok(secrets.length >= 2, 'the token, and its signature, are looked for')
  for (const [ where, text ] of Object.entries(texts)) {
    for (const secret of secrets) assert.ok(!text.includes(secret), `${where} contains a secret (${secret.slice(0, 4)}…)`)
    assert.ok(!text.includes(job.claims.user_email), `${where} contains the user's e-mail`)
  }
}

const ran = (r: GitlabCiLocalResult, name: string) => new RegExp(`PASS\\s+${name}\\b`).test(r.stdout)
const stackOutput = (stack: string, key: string) => s.aws.stack(stack)?.Outputs.find(o => o.OutputKey === key)?.OutputValue

/** The dotenv report in the app directory, and the copy gitlab-ci-local took as the job's dotenv artifact. */
function dotenvReport (app: App, jobName: string): Record<string, string | undefined> {
  const text = readFileSync(join(app.dir, 'arc-deploy.env'), 'utf8')
  const exported = join(app.dir, '.gitlab-ci-local', 'artifacts', jobName, '.gitlab-ci-reports', 'dotenv', 'arc-deploy.env')
  assert.equal(readFileSync(exported, 'utf8'), text, 'artifacts:reports:dotenv picked up the report')
  return parseEnv(text)
}

function annotationLinks (app: App): Array<{ label: string, url: string }> {
  const json = JSON.parse(readFileSync(join(app.dir, 'arc-deploy-annotations.json'), 'utf8')) as Record<string, unknown>
  const entries = json['arc-deploy']
  assert.ok(Array.isArray(entries) && entries.length >= 3, 'annotations under "arc-deploy"')
  return entries.map((e: { external_link?: { label?: unknown, url?: unknown } }) => {
    assert.equal(typeof e.external_link?.label, 'string')
    assert.equal(typeof e.external_link?.url, 'string')
    return { label: e.external_link!.label as string, url: e.external_link!.url as string }
  })
}

function assertReports (app: App, jobName: string, stack: string, stage: string): string {
  const url = stackOutput(stack, 'API')
  assert.match(url ?? '', /^https:\/\/\w+\.execute-api\.us-west-2\.amazonaws\.com/, `${stack} has its HTTP API URL output`)
  const env = dotenvReport(app, jobName)
  assert.deepEqual({ url: env.ARC_DEPLOY_URL, stack: env.ARC_STACK_NAME, stage: env.ARC_STAGE }, { url, stack, stage })
  const links = annotationLinks(app)
  const session = s.aws.sessions.at(-1)!.sessionName
  assert.ok(links.some(l => l.url === url), 'a link to the app')
  assert.ok(links.some(l => /console\.aws\.amazon\.com\/cloudformation/.test(l.url) && l.url.includes(stack)), 'a link to the stack in the console')
  assert.ok(links.some(l => /cloudtrail/i.test(l.url) && l.url.includes(session)), 'a link to the session\'s CloudTrail events')
  return url!
}

describe('example-app/.gitlab-ci.yml in gitlab-ci-local', () => {
  test('deploy-production on the default branch: production stack, dotenv and annotations reports with its URL', async () => {
    const app = await project('main')
    const job = s.job()
    const from = lastSeq(s)
    const r = await pipeline(app, job)
    assert.equal(r.code, 0, r.output)
    assert.ok(ran(r, 'deploy-production'), r.output)
    assert.ok(!ran(r, 'deploy-staging') && !ran(r, 'deploy-review'), 'only production runs on the default branch')
    const sts = stsCallsSince(s, from)
    assert.deepEqual(sts.map(c => [ c.status, c.assume?.roleArn ]), [ [ 200, s.roles.production ] ], 'one exchange, for the production role')
    assert.ok(awsCallsSince(s, from).some(c => c.action === 'CreateStack' && c.params.StackName === 'OidcExampleProduction'))
    assertReports(app, 'deploy-production', 'OidcExampleProduction', 'production')
  })

  test('a merge request pipeline: deploy-review creates its stack, stop-review deletes it and nothing else', async () => {
    // The main staging stack, deployed from a branch beforehand: it must survive.
    const staging = await installApp()
    apps.push(staging)
    const branchJob = s.job({ ref: 'feature/other', ref_protected: 'false', environment: 'staging' })
    const pre = await runArc(staging.dir, [ 'deploy' ], { env: branchJob.env, endpoint: s.aws.endpoint })
    assert.equal(pre.code, 0, pre.stdout + pre.stderr)
    assert.ok(s.aws.stacks.includes('OidcExampleStaging'))

    const app = await project('feature/login')
    const job = mrJob('feature/login')
    const from = lastSeq(s)
    const r = await pipeline(app, job, { variables: mrVariables(7), unset: [ 'CI_COMMIT_BRANCH' ], manual: 'stop-review' })
    assert.equal(r.code, 0, r.output)
    assert.ok(ran(r, 'deploy-review') && ran(r, 'stop-review'), r.output)
    assert.ok(!ran(r, 'deploy-staging') && !ran(r, 'deploy-production'), 'no branch deploys in a merge request pipeline')
    assert.deepEqual(stsCallsSince(s, from).map(c => [ c.status, c.assume?.roleArn ]), [ [ 200, s.roles.staging ], [ 200, s.roles.staging ] ], 'deploy and destroy with the staging role')
    const calls = awsCallsSince(s, from)
    assert.ok(calls.some(c => c.action === 'CreateStack' && c.params.StackName === 'OidcExampleStagingMr7'), 'the review stack was created')
    assert.deepEqual(calls.filter(c => c.action === 'DeleteStack').map(c => c.params.StackName), [ 'OidcExampleStagingMr7' ], 'only the review stack was deleted')
    assert.ok(!s.aws.stacks.includes('OidcExampleStagingMr7'), 'the review stack is gone')
    assert.ok(s.aws.stacks.includes('OidcExampleStaging'), 'the main staging stack survives')
    const env = dotenvReport(app, 'deploy-review')
    assert.equal(env.ARC_STACK_NAME, 'OidcExampleStagingMr7')
    assert.equal(env.ARC_STAGE, 'staging')
    assert.match(env.ARC_DEPLOY_URL ?? '', /^https:\/\/\w+\.execute-api\.us-west-2\.amazonaws\.com/)
    assert.notEqual(env.ARC_DEPLOY_URL, stackOutput('OidcExampleStaging', 'API'), 'the review app has a URL of its own')
  })
})

describe('the arc-deploy component, included from this commit\'s templates/', () => {
  test('arc-deploy-production deploys production on the default branch', async () => {
    const app = await componentProject('main')
    const job = s.job()
    const from = lastSeq(s)
    const r = await pipeline(app, job)
    assert.equal(r.code, 0, r.output)
    assert.ok(ran(r, 'arc-deploy-production') && !ran(r, 'arc-deploy-staging'), r.output)
    assert.deepEqual(stsCallsSince(s, from).map(c => c.assume?.roleArn), [ s.roles.production ])
    assert.ok(awsCallsSince(s, from).some(c => /^(Create|Update)Stack$/.test(c.action) && c.params.StackName === 'OidcExampleProduction'))
    assertReports(app, 'arc-deploy-production', 'OidcExampleProduction', 'production')
  })

  test('arc-deploy-review deploys a review app in a merge request pipeline, arc-stop-review destroys it', async () => {
    const app = await componentProject('feature/search')
    const job = mrJob('feature/search')
    const from = lastSeq(s)
    const r = await pipeline(app, job, { variables: mrVariables(8), unset: [ 'CI_COMMIT_BRANCH' ], manual: 'arc-stop-review' })
    assert.equal(r.code, 0, r.output)
    assert.ok(ran(r, 'arc-deploy-review') && ran(r, 'arc-stop-review'), r.output)
    assert.ok(!ran(r, 'arc-deploy-staging') && !ran(r, 'arc-deploy-production'))
    const calls = awsCallsSince(s, from)
    assert.ok(calls.some(c => c.action === 'CreateStack' && c.params.StackName === 'OidcExampleStagingMr8'))
    assert.deepEqual(calls.filter(c => c.action === 'DeleteStack').map(c => c.params.StackName), [ 'OidcExampleStagingMr8' ])
    assert.equal(dotenvReport(app, 'arc-deploy-review').ARC_STACK_NAME, 'OidcExampleStagingMr8')
  })
})
