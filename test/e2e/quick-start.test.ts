/**
 * Issue 15: the written-out jobs work as written. The jobs of docs/gitlab-ci.md ("The jobs written
 * out", the alternative to the component the README's quick start includes), copied out of that page
 * by this test, run under gitlab-ci-local (shell executor) in a project holding example-app with
 * the packed plugin installed, against the loopback GitLab and AWS stand-ins: on the default
 * branch only the production job runs and deploys production with the production role; on
 * another branch only the staging job runs, with the staging role.
 *
 * gitlab-ci-local does not mint ID tokens: the stand-in's token goes in as GITLAB_OIDC_TOKEN,
 * with GITLAB_CI=true. The jobs' `npm ci` (offline here) finds node_modules installed by the
 * test: an `npm` first on PATH answers `npm ci` in a directory that has node_modules, and hands
 * anything else to the real npm. Everything else in the jobs runs as written.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { ROOT, installApp, type App } from '../support/harness.ts'
import { RSYNC_DIR, initGitRepo, runGitlabCiLocal, type GitlabCiLocalResult } from '../support/gitlab-ci-local.ts'
import { NODE22 } from '../support/install.ts'
import { DEFAULTS } from '../../src/plugin/settings.ts'
import { startStandIns, type Job, type StandIns } from '../support/standins.ts'
import { awsCallsSince, lastSeq, secretsOf, stsCallsSince } from './e2e.ts'

let s: StandIns
const apps: App[] = []
let npmDir: string
before(async () => {
  s = await startStandIns()
  npmDir = mkdtempSync(join(tmpdir(), 'quick-start-npm-'))
  const realNpm = spawnSync('sh', [ '-c', 'command -v npm' ], { encoding: 'utf8' }).stdout.trim()
  assert.ok(realNpm, 'npm is on PATH')
  writeFileSync(join(npmDir, 'npm'), [
    '#!/bin/sh',
    'if [ "$1" = ci ] && [ -d node_modules ]; then echo "npm ci: node_modules already installed by the test (offline)"; exit 0; fi',
    `exec ${realNpm} "$@"`,
    '',
  ].join('\n'))
  chmodSync(join(npmDir, 'npm'), 0o755)
})
after(async () => {
  for (const app of apps) app.remove()
  if (npmDir) rmSync(npmDir, { recursive: true, force: true })
  await s?.close()
})

/** The yaml block of docs/gitlab-ci.md's "The jobs written out", exactly as the page shows it. */
function writtenOutJobs (page = readFileSync(join(ROOT, 'docs', 'gitlab-ci.md'), 'utf8')): string {
  const section = page.indexOf('\n## The jobs written out\n')
  assert.ok(section > 0, 'docs/gitlab-ci.md has a section "The jobs written out"')
  const block = /```yaml\n([\s\S]*?)```/.exec(page.slice(section))
  assert.ok(block, 'the section has a yaml block')
  return block[1]!
}

async function runWrittenOut (branch: string, job: Job): Promise<GitlabCiLocalResult & { app: App }> {
  const app = await installApp({ files: { '.gitlab-ci.yml': writtenOutJobs() } })
  apps.push(app)
  initGitRepo(app.dir, { branch, remote: `${s.gitlab.issuer}/acme/oidc-example.git` })
  const r = await runGitlabCiLocal(app.dir, [ '--stage', 'deploy', '--concurrency', '1' ], {
    variables: { GITLAB_CI: 'true', GITLAB_OIDC_TOKEN: job.token, AWS_ENDPOINT_URL: s.aws.endpoint },
    env: { AWS_EC2_METADATA_DISABLED: 'true', PATH: `${npmDir}:${RSYNC_DIR}:${dirname(realpathSync(NODE22))}:/usr/local/bin:/usr/bin:/bin` },
  })
  for (const secret of secretsOf(s, { GITLAB_OIDC_TOKEN: job.token })) assert.ok(!r.output.includes(secret), 'no secret in the output')
  assert.deepEqual(s.aws.unimplementedCalls(), [], 'the AWS stand-in answered every call')
  return { ...r, app }
}

/** The reports the plugin wrote, as gitlab-ci-local took them for the job (artifacts:reports:). */
function collectedReports (app: App, jobName: string): { dotenv: string, annotations: boolean } {
  const reports = join(app.dir, '.gitlab-ci-local', 'artifacts', jobName, '.gitlab-ci-reports')
  const dotenv = join(reports, 'dotenv', DEFAULTS.dotenvReport)
  assert.ok(existsSync(dotenv), `${jobName}: artifacts:reports:dotenv collected ${DEFAULTS.dotenvReport}`)
  return { dotenv: readFileSync(dotenv, 'utf8'), annotations: existsSync(join(app.dir, DEFAULTS.annotationsReport)) }
}

const ran = (r: GitlabCiLocalResult, name: string) => new RegExp(`PASS\\s+${name}\\b`).test(r.stdout)
const mentioned = (r: GitlabCiLocalResult, name: string) => r.stdout.includes(name)

describe('the written-out jobs of docs/gitlab-ci.md under gitlab-ci-local', () => {
  test('the block has rules, stage and environment for both jobs, and collects the plugin\'s two reports at their default paths', () => {
    const yaml = writtenOutJobs()
    for (const key of [ 'stage: deploy', 'rules:', 'environment:', 'deployment_tier: production', 'deployment_tier: staging', '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' ]) {
      assert.ok(yaml.includes(key), key)
    }
    for (const key of [ `dotenv: ${DEFAULTS.dotenvReport}`, `annotations: ${DEFAULTS.annotationsReport}`, 'url: $ARC_DEPLOY_URL' ]) {
      assert.equal(yaml.split(key).length - 1, 2, `both jobs have ${key}`)
    }
  })

  test('on the default branch: only deploy-production runs, and deploys production with the production role', async () => {
    const from = lastSeq(s)
    const r = await runWrittenOut('main', s.job())
    assert.equal(r.code, 0, r.output)
    assert.ok(ran(r, 'deploy-production'), r.output)
    assert.ok(!mentioned(r, 'deploy-staging'), 'no staging job on the default branch')
    assert.deepEqual(stsCallsSince(s, from).map(c => [ c.status, c.assume?.roleArn ]), [ [ 200, s.roles.production ] ])
    assert.ok(awsCallsSince(s, from).some(c => /^(Create|Update)Stack$/.test(c.action) && c.params.StackName === 'OidcExampleProduction'))
    const reports = collectedReports(r.app, 'deploy-production')
    assert.match(reports.dotenv, /^ARC_DEPLOY_URL=http/m, 'the dotenv report carries the URL for environment:url')
    assert.ok(reports.annotations, 'the annotations report was written')
  })

  test('on another branch: only deploy-staging runs, with the staging role; no production deploy', async () => {
    const from = lastSeq(s)
    const job = s.job({ ref: 'feature/quick', ref_protected: 'false', environment: 'staging', environment_protected: 'false', deployment_tier: 'staging' })
    const r = await runWrittenOut('feature/quick', job)
    assert.equal(r.code, 0, r.output)
    assert.ok(ran(r, 'deploy-staging'), r.output)
    assert.ok(!mentioned(r, 'deploy-production'), 'no production job on another branch')
    assert.deepEqual(stsCallsSince(s, from).map(c => [ c.status, c.assume?.roleArn ]), [ [ 200, s.roles.staging ] ])
    const stacks = awsCallsSince(s, from).filter(c => /^(Create|Update)Stack$/.test(c.action)).map(c => c.params.StackName)
    assert.deepEqual(stacks, [ 'OidcExampleStaging' ])
    assert.match(collectedReports(r.app, 'deploy-staging').dotenv, /^ARC_STACK_NAME=OidcExampleStaging$/m)
  })
})
