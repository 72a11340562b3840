/**
 * Issue 21, end to end: test/support/ci-local.ts runs jobs of an app's own pipeline (example-app's
 * .gitlab-ci.yml, for an app that is not example-app) as GitLab would, with the real `arc` and
 * the packed plugin, against the stand-ins: the job's rules decide, its id_tokens: and
 * environment: make the token, a merge request pipeline deploys the review app, and the app
 * directory is left exactly as it was. (What each piece does on its own: test/unit/support/ci-local.test.ts.)
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readlinkSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { installApp, stripAnsi, type App } from '../support/harness.ts'
import { initGitRepo } from '../support/gitlab-ci-local.ts'
import { ciLocal, parseCiLocalArgs, type CiLocalOptions, type CiLocalResult } from '../support/ci-local.ts'

const ARC = '@app\nmy-shop-2\n\n@http\nget /\n\n@aws\nregion us-west-2\nruntime nodejs22.x\n\n@plugins\narc-plugin-gitlab-oidc\n'
const apps: App[] = []
after(() => { for (const a of apps) a.remove() })

/** The user's repository: a gitlab.com project in a subgroup, default branch trunk, on a feature branch. */
async function userApp (): Promise<App> {
  const app = await installApp({ arc: ARC })
  apps.push(app)
  initGitRepo(app.dir, { branch: 'feature/cart', remote: 'git@gitlab.com:shops/web/my-shop-2.git', defaultBranch: 'trunk' })
  return app
}

async function run (app: App, argv: string[]): Promise<{ r: CiLocalResult, log: string, output: string }> {
  const o = parseCiLocalArgs([ '--dir', app.dir, ...argv ], '/') as CiLocalOptions
  const lines: string[] = []
  const r = await ciLocal(o, line => lines.push(line))
  const output = stripAnsi(r.output)
  for (const token of r.tokens) assert.ok(!output.includes(token) && !lines.join('\n').includes(token), 'no token printed')
  assert.doesNotMatch(output, /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/, 'nothing token-shaped in the output')
  return { r, log: lines.join('\n'), output }
}

/** Nothing left in the app: git sees no change, the node_modules symlink still points at its install. */
function assertUntouched (app: App, modules: string): void {
  assert.equal(spawnSync('git', [ 'status', '--porcelain', '--ignored' ], { cwd: app.dir, encoding: 'utf8' }).stdout, '!! node_modules\n')
  assert.equal(readlinkSync(join(app.dir, 'node_modules')), modules)
}

describe('ci-local: example-app\'s pipeline for my-shop-2, on feature/cart', () => {
  test('deploy-staging: the job\'s token (aud $CI_SERVER_URL, environment staging) for the staging role, the staging stack deployed', async () => {
    const app = await userApp()
    const modules = readlinkSync(join(app.dir, 'node_modules'))
    const { r, log, output } = await run(app, [ '--copy-node-modules', 'deploy-staging' ])
    assert.equal(r.code, 0, output)
    assert.match(log, /deploy-staging: environment staging \(tier staging\); ID token GITLAB_OIDC_TOKEN \(aud https:\/\/gitlab\.com\)/)
    assert.match(output, /PASS\s+deploy-staging/)
    assert.match(output, /Assumed arn:aws:sts::222222222222:assumed-role\/my-shop-2-staging-deploy\//)
    assert.ok(r.awsCalls.includes('sts:AssumeRoleWithWebIdentity 200') && r.awsCalls.includes('cloudformation:CreateStack 200'), r.awsCalls.join(', '))
    assert.doesNotMatch(output, /NotImplementedByStandIn|GITLAB_CI.*(warn|override)/i)
    assertUntouched(app, modules)
  })

  test('deploy-production: its rules keep it to the default branch, so it does not run, and ci-local says why', async () => {
    const app = await userApp()
    const { r, log } = await run(app, [ 'deploy-production' ])
    assert.equal(r.code, 1)
    assert.deepEqual(r.awsCalls, [])
    assert.match(log, /GitLab would not run deploy-production in a branch pipeline of feature\/cart \(default branch trunk\): its rules: .*CI_DEFAULT_BRANCH.* give when: never/)
  })

  test('--merge-request 4, deploy-review: a review app, MyShop2StagingMr4, with the staging role and a merge_request_event token', async () => {
    const app = await userApp()
    const modules = readlinkSync(join(app.dir, 'node_modules'))
    const { r, log, output } = await run(app, [ '--copy-node-modules', '--merge-request', '4', 'deploy-review' ])
    assert.equal(r.code, 0, output)
    assert.match(log, /deploy-review: environment review\/feature-cart \(tier development\); ID token GITLAB_OIDC_TOKEN/)
    assert.match(output, /PASS\s+deploy-review/)
    assert.match(output, /Deploying staging \(MyShop2StagingMr4\) as arn:aws:sts::222222222222:assumed-role\/my-shop-2-staging-deploy\//)
    assertUntouched(app, modules)
  })
})

describe('ci-local: the quick start\'s pipeline (the arc-deploy component) for my-shop-2', () => {
  test('on the default branch trunk: arc-deploy-production, from the component the app installed, deploys production with the production role', async () => {
    const app = await installApp({
      arc: ARC,
      files: { '.gitlab-ci.yml': 'include:\n  - component: gitlab.com/arc-gitlab-oidc/arc-plugin-gitlab-oidc/arc-deploy@0.1.0\n    inputs:\n      install: test -d node_modules || npm ci\n' },
    })
    apps.push(app)
    initGitRepo(app.dir, { branch: 'trunk', remote: 'git@gitlab.com:shops/web/my-shop-2.git', defaultBranch: 'trunk' })
    const modules = readlinkSync(join(app.dir, 'node_modules'))
    const { r, log, output } = await run(app, [ '--copy-node-modules', 'arc-deploy-production' ])
    assert.equal(r.code, 0, output)
    assert.match(log, /the component arc-deploy@0\.1\.0 is included from the app's node_modules\/arc-plugin-gitlab-oidc/)
    assert.match(log, /arc-deploy-production: environment production \(tier production\); ID token GITLAB_OIDC_TOKEN \(aud https:\/\/gitlab\.com\)/)
    assert.match(output, /PASS\s+arc-deploy-production/)
    assert.match(output, /Deploying production \(MyShop2Production\) as arn:aws:sts::111111111111:assumed-role\/my-shop-2-production-deploy\//)
    assertUntouched(app, modules)
  })
})
