// test/support/ci-local.ts: what it takes from the app's repository, what it asks for, and the
// gitlab-ci-local command line it makes (the pitfalls handled). Running a job: test/e2e/first-hour.test.ts.
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseCiLocalArgs } from '../../support/ci-local.ts'
import { RSYNC_DIR, gitlabCiLocalCommand, initGitRepo } from '../../support/gitlab-ci-local.ts'

const dirs: string[] = []
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })
function repo (opts?: { branch: string, remote: string, defaultBranch: string }): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'ci-local-')))
  dirs.push(dir)
  writeFileSync(join(dir, 'app.arc'), '@app\nmy-shop\n')
  if (opts) initGitRepo(dir, opts)
  return dir
}

describe('ci-local options', () => {
  it('takes the app, project, branch and default branch from the repository; staging off the default branch', () => {
    const dir = repo({ branch: 'feature/cart', remote: 'git@gitlab.com:shops/web/my-shop.git', defaultBranch: 'trunk' })
    const o = parseCiLocalArgs([ 'deploy-staging', '--', '--no-color' ], dir)
    assert.deepEqual({ ...o, dir: undefined }, {
      dir: undefined, jobs: [ 'deploy-staging' ], extra: [ '--no-color' ], app: 'my-shop', project: 'shops/web/my-shop', branch: 'feature/cart',
      defaultBranch: 'trunk', environment: 'staging', aud: undefined, tokenVariable: 'GITLAB_OIDC_TOKEN',
    })
    assert.equal(o.dir, dir)
  })
  it('production on the default branch; flags override', () => {
    const dir = repo({ branch: 'main', remote: 'https://gitlab.com/acme/my-shop.git', defaultBranch: 'main' })
    assert.equal(parseCiLocalArgs([ 'deploy-production' ], dir).environment, 'production')
    const o = parseCiLocalArgs([ '--dir', dir, '--app', 'other', '--project', 'x/y', '--branch', 'b', '--environment', 'review/b', '--token-variable', 'ID_TOKEN', 'a', 'b' ], '/')
    assert.deepEqual([ o.app, o.project, o.branch, o.environment, o.tokenVariable, o.jobs ], [ 'other', 'x/y', 'b', 'review/b', 'ID_TOKEN', [ 'a', 'b' ] ])
  })
  it('no repository: one error naming every flag it needs', () => {
    assert.throws(() => parseCiLocalArgs([], repo()), (e: Error) =>
      /give its name/.test(e.message) && /give --project/.test(e.message) && /give --default-branch/.test(e.message) && /give --branch/.test(e.message) && !/--app/.test(e.message))
  })
})

describe('the gitlab-ci-local command it runs', () => {
  it('overrides GITLAB_CI with --ignore-predefined-vars, and puts our rsync first on PATH', () => {
    const { argv, env } = gitlabCiLocalCommand([ 'deploy-staging', '--concurrency', '1' ], { variables: { GITLAB_CI: 'true', GITLAB_OIDC_TOKEN: 't' } })
    const ignored = argv[argv.indexOf('--ignore-predefined-vars') + 1]!.split(',')
    assert.ok(ignored.includes('GITLAB_CI') && ignored.includes('GITLAB_OIDC_TOKEN'))
    assert.ok(argv.includes('GITLAB_CI=true') && argv.includes('--force-shell-executor'))
    assert.deepEqual(argv.slice(-3), [ 'deploy-staging', '--concurrency', '1' ])
    assert.ok(env.PATH!.startsWith(`${RSYNC_DIR}:`))
  })
})
