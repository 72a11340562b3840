// test/support/ci-local.ts and ci-local-job.ts (issue 21): a job of your own pipeline run as GitLab
// would run it, under gitlab-ci-local, against the stand-ins: the ID token only for jobs that declare
// id_tokens:, with their aud; rules: decide (and ci-local says why not); the job's environment in the
// token; merge request pipelines; the job's install with this machine's network and npm settings, in a
// copy of the app that is left as it was. The jobs here print what they got (claims, never a token);
// a real `arc deploy` through it: test/e2e/ci-local.test.ts.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CI_LOCAL_HELP, LOCAL_COMPONENT, ciLocal, copyApp, localComponent, parseCiLocalArgs, type CiLocalOptions, type CiLocalResult } from '../../support/ci-local.ts'
import { expandVariables, pipelineFor, planJobs } from '../../support/ci-local-job.ts'
import { RSYNC_DIR, gitlabCiLocalCommand, initGitRepo, machineSettings } from '../../support/gitlab-ci-local.ts'
import { NODE22, ROOT } from '../../support/install.ts'

const dirs: string[] = []
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })
const tempDir = (prefix: string) => {
  const d = realpathSync(mkdtempSync(join(tmpdir(), prefix)))
  dirs.push(d)
  return d
}
function repo (opts?: { branch: string, remote: string, defaultBranch: string }, files: Record<string, string> = {}): string {
  const dir = tempDir('ci-local-')
  writeFileSync(join(dir, 'app.arc'), '@app\nmy-shop\n')
  for (const [ path, text ] of Object.entries(files)) writeFileSync(join(dir, path), text)
  if (opts) initGitRepo(dir, opts)
  return dir
}
const options = (argv: string[], cwd: string): CiLocalOptions => {
  const o = parseCiLocalArgs(argv, cwd)
  assert.notEqual(o, 'help')
  return o as CiLocalOptions
}

describe('ci-local options', () => {
  it('takes the app, project, branch and default branch from the repository', () => {
    const dir = repo({ branch: 'feature/cart', remote: 'git@gitlab.com:shops/web/my-shop.git', defaultBranch: 'trunk' })
    const o = options([ 'deploy-staging', '--', '--no-color' ], dir)
    assert.deepEqual({ ...o, dir: undefined }, {
      dir: undefined, jobs: [ 'deploy-staging' ], extra: [ '--no-color' ], app: 'my-shop', project: 'shops/web/my-shop', branch: 'feature/cart',
      defaultBranch: 'trunk', aud: undefined, mergeRequest: undefined, copyNodeModules: false,
    })
    assert.equal(o.dir, dir)
  })
  it('flags override; --merge-request takes an IID', () => {
    const dir = repo({ branch: 'main', remote: 'https://gitlab.com/acme/my-shop.git', defaultBranch: 'main' })
    const o = options([ '--dir', dir, '--app', 'other', '--project', 'x/y', '--branch', 'b', '--merge-request', '12', '--copy-node-modules', '--aud', 'sts.amazonaws.com', 'a', 'b' ], '/')
    assert.deepEqual([ o.app, o.project, o.branch, o.mergeRequest, o.copyNodeModules, o.aud, o.jobs ], [ 'other', 'x/y', 'b', 12, true, 'sts.amazonaws.com', [ 'a', 'b' ] ])
    assert.throws(() => parseCiLocalArgs([ '--merge-request', 'x', 'a' ], dir), /--merge-request x: give the merge request's IID/)
    assert.throws(() => parseCiLocalArgs([ '--environment', 'production', 'a' ], dir), /Unknown option '--environment'/, 'the environment is the job\'s')
  })
  it('--help (and -h), before anything is looked up', () => {
    assert.equal(parseCiLocalArgs([ '--help' ], '/'), 'help')
    assert.equal(parseCiLocalArgs([ '-h' ], '/'), 'help')
    for (const flag of [ '--merge-request', '--copy-node-modules', '--branch', '--aud' ]) assert.ok(CI_LOCAL_HELP.includes(flag), flag)
    const r = spawnSync(realpathSync(NODE22), [ join(ROOT, 'test', 'support', 'ci-local.ts'), '--help' ], { encoding: 'utf8', cwd: tmpdir() })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, CI_LOCAL_HELP)
  })
  it('no repository: one error naming every flag it needs; the CLI exits 2 with it and the usage', () => {
    const dir = repo()
    assert.throws(() => parseCiLocalArgs([], dir), (e: Error) =>
      /give its name/.test(e.message) && /give --project/.test(e.message) && /give --default-branch/.test(e.message) && /give --branch/.test(e.message) && !/--app/.test(e.message))
    const r = spawnSync(realpathSync(NODE22), [ join(ROOT, 'test', 'support', 'ci-local.ts'), '--dir', dir ], { encoding: 'utf8', cwd: tmpdir() })
    assert.equal(r.status, 2)
    assert.match(r.stderr, /^ci-local: ci-local cannot determine .*\n\nUsage: node test\/support\/ci-local\.ts/)
  })
})

describe('the pipeline ci-local describes to gitlab-ci-local', () => {
  it('a branch pipeline: GITLAB_CI=true (gitlab-ci-local says false), nothing unset', () => {
    assert.deepEqual(pipelineFor({ project: 'a/b', branch: 'f', defaultBranch: 'main', mergeRequest: undefined }), { variables: { GITLAB_CI: 'true', CI_PROJECT_ID: '4242' }, unset: [] })
  })
  it('--merge-request: GitLab\'s merge request variables, the same project as source and target, no CI_COMMIT_BRANCH', () => {
    const p = pipelineFor({ project: 'shops/my-shop', branch: 'feature/cart', defaultBranch: 'trunk', mergeRequest: 7 })
    assert.deepEqual(p.unset, [ 'CI_COMMIT_BRANCH' ])
    assert.equal(p.variables.CI_PIPELINE_SOURCE, 'merge_request_event')
    assert.equal(p.variables.CI_MERGE_REQUEST_IID, '7')
    assert.equal(p.variables.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME, 'feature/cart')
    assert.equal(p.variables.CI_MERGE_REQUEST_TARGET_BRANCH_NAME, 'trunk')
    assert.equal(p.variables.CI_MERGE_REQUEST_SOURCE_PROJECT_ID, p.variables.CI_MERGE_REQUEST_PROJECT_ID)
    assert.equal(p.variables.CI_MERGE_REQUEST_PROJECT_ID, p.variables.CI_PROJECT_ID)
    assert.equal(p.variables.CI_MERGE_REQUEST_PROJECT_PATH, 'shops/my-shop')
  })
  it('expands $NAME and ${NAME} as GitLab does: unknown variables are empty, $$ is a $', () => {
    const v = { CI_SERVER_URL: 'https://gitlab.example.com', X: 'x' }
    assert.equal(expandVariables('$CI_SERVER_URL', v), 'https://gitlab.example.com')
    assert.equal(expandVariables('${X}-$X/$NOPE.$$X', v), 'x-x/.$X')
  })
})

describe('the gitlab-ci-local command line and environment', () => {
  it('overrides GITLAB_CI with --ignore-predefined-vars, and puts our rsync first on PATH', () => {
    const { argv, env } = gitlabCiLocalCommand([ 'deploy-staging', '--concurrency', '1' ], { variables: { GITLAB_CI: 'true', GITLAB_OIDC_TOKEN: 't' } })
    const ignored = argv[argv.indexOf('--ignore-predefined-vars') + 1]!.split(',')
    assert.ok(ignored.includes('GITLAB_CI') && ignored.includes('GITLAB_OIDC_TOKEN'))
    assert.ok(argv.includes('GITLAB_CI=true') && argv.includes('--force-shell-executor'))
    assert.deepEqual(argv.slice(-3), [ 'deploy-staging', '--concurrency', '1' ])
    assert.ok(env.PATH!.startsWith(`${RSYNC_DIR}:`))
    assert.equal(env.npm_config_offline, 'true', 'the tests\' own runs stay offline')
  })
  it('with the machine\'s settings: not offline; its PATH, proxies, CA bundles, npm_config_* and ~/.npmrc and npm cache', () => {
    const machine = {
      PATH: '/work/repo/node_modules/.bin:/opt/tools/bin:/usr/bin', HOME: '/home/dev', HTTPS_PROXY: 'http://proxy:3128', no_proxy: 'localhost', NODE_EXTRA_CA_CERTS: '/etc/corp-ca.pem',
      SSL_CERT_FILE: '/etc/ssl/cert.pem', npm_config_registry: 'https://npm.corp.example/', AWS_SECRET_ACCESS_KEY: 'not this', GITLAB_TOKEN: 'nor this',
    }
    const { env } = gitlabCiLocalCommand([ 'job' ], { machine })
    assert.equal(env.npm_config_offline, undefined)
    assert.ok(env.PATH!.endsWith(':/opt/tools/bin:/usr/bin'), env.PATH)
    assert.doesNotMatch(env.PATH!, /node_modules\/\.bin/, 'not the binaries of an npm script\'s package (npm run ci-local)')
    assert.equal(env.HOME === '/home/dev', false, 'gitlab-ci-local keeps its empty HOME')
    assert.deepEqual(machineSettings(machine), {
      HTTPS_PROXY: 'http://proxy:3128', no_proxy: 'localhost', NODE_EXTRA_CA_CERTS: '/etc/corp-ca.pem', SSL_CERT_FILE: '/etc/ssl/cert.pem',
      npm_config_registry: 'https://npm.corp.example/', npm_config_userconfig: '/home/dev/.npmrc', npm_config_cache: '/home/dev/.npm',
    })
    for (const [ k, v ] of Object.entries(machineSettings(machine))) assert.equal(env[k], v, k)
    assert.equal(env.AWS_SECRET_ACCESS_KEY, undefined, 'no credentials of the machine')
  })
})

/* ------------------------------------------------------------------------------------------- */
/* Jobs run through ci-local                                                                    */
/* ------------------------------------------------------------------------------------------- */

/** A loopback npm registry serving one package, ci-local-tiny@1.0.0 (the job's install step reaches it over the network). */
let registry: Server
let registryUrl: string
before(async () => {
  const src = tempDir('ci-local-tiny-')
  mkdirSync(join(src, 'package'))
  writeFileSync(join(src, 'package', 'package.json'), JSON.stringify({ name: 'ci-local-tiny', version: '1.0.0', main: 'index.js' }))
  writeFileSync(join(src, 'package', 'index.js'), 'module.exports = "tiny 1.0.0"\n')
  const tar = spawnSync('tar', [ '-czf', join(src, 'tiny.tgz'), '-C', src, 'package' ])
  assert.equal(tar.status, 0, String(tar.stderr))
  const tgz = readFileSync(join(src, 'tiny.tgz'))
  registry = createServer((req, res) => {
    if (req.url === '/ci-local-tiny') {
      const dist = { tarball: `${registryUrl}/ci-local-tiny/-/ci-local-tiny-1.0.0.tgz`, integrity: `sha512-${createHash('sha512').update(tgz).digest('base64')}` }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        name: 'ci-local-tiny', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { name: 'ci-local-tiny', version: '1.0.0', main: 'index.js', dist } },
      }))
    }
    else if (req.url === '/ci-local-tiny/-/ci-local-tiny-1.0.0.tgz') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tgz)
    else res.writeHead(404).end('{}')
  })
  await new Promise<void>(resolve => registry.listen(0, '127.0.0.1', resolve))
  registryUrl = `http://127.0.0.1:${(registry.address() as { port: number }).port}`
})
after(() => registry?.close())

const CLAIMS_MJS = `// what a job got: each ID token's claims (never the token)
for (const v of ['GITLAB_OIDC_TOKEN', 'SECOND_TOKEN']) {
  const t = process.env[v]
  if (!t) { console.log(\`\${v} unset\`); continue }
  const c = JSON.parse(Buffer.from(t.split('.')[1], 'base64url'))
  console.log(\`\${v} \${JSON.stringify({ aud: c.aud, ref: c.ref, environment: c.environment ?? null, tier: c.deployment_tier ?? null, source: c.pipeline_source, protected: c.ref_protected })}\`)
}
`
const PIPELINE = `stages: [ deploy ]
with-token:
  stage: deploy
  variables:
    SECOND_AUD: https://second.example
  id_tokens:
    GITLAB_OIDC_TOKEN:
      aud: $CI_SERVER_URL
    SECOND_TOKEN:
      aud: [ https://first.example, $SECOND_AUD ]
  environment:
    name: review/$CI_COMMIT_REF_SLUG
  script:
    - node claims.mjs
no-token:
  stage: deploy
  environment:
    name: staging
    deployment_tier: staging
  script:
    - node claims.mjs
    - echo "npm registry $(npm config get registry), CA $NODE_EXTRA_CA_CERTS"
    - rm -rf node_modules
    - npm install --no-save --no-audit --no-fund ci-local-tiny
    - node -e "console.log('installed', require('ci-local-tiny'))"
production-only:
  stage: deploy
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  script: [ node claims.mjs ]
review:
  stage: deploy
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
  id_tokens:
    GITLAB_OIDC_TOKEN:
      aud: https://gitlab.com
  environment:
    name: review/mr-$CI_MERGE_REQUEST_IID
  script:
    - node claims.mjs
    - echo "merge request !$CI_MERGE_REQUEST_IID ($CI_PIPELINE_SOURCE), CI_COMMIT_BRANCH [$CI_COMMIT_BRANCH]"
`

/** The user's app: committed, a gitignored node_modules of its own, on feature/cart of a project whose default branch is trunk. */
function userApp (): string {
  const dir = repo(undefined, { '.gitlab-ci.yml': PIPELINE, 'claims.mjs': CLAIMS_MJS, 'package.json': '{ "name": "my-shop", "private": true }\n', '.gitignore': 'node_modules/\n' })
  mkdirSync(join(dir, 'node_modules', 'own-dependency'), { recursive: true })
  writeFileSync(join(dir, 'node_modules', 'own-dependency', 'index.js'), 'module.exports = 1\n')
  initGitRepo(dir, { branch: 'feature/cart', remote: 'git@gitlab.com:shops/web/my-shop.git', defaultBranch: 'trunk' })
  return dir
}

/** The app as its user left it: git sees no change, no untracked or ignored file appeared, node_modules its own. */
function assertUntouched (dir: string): void {
  const status = spawnSync('git', [ 'status', '--porcelain', '--ignored' ], { cwd: dir, encoding: 'utf8' }).stdout
  assert.equal(status, '!! node_modules/\n', 'nothing left behind in the app')
  assert.deepEqual(readdirSync(join(dir, 'node_modules')), [ 'own-dependency' ], 'the app\'s node_modules as it was')
}

const claimsOf = (r: CiLocalResult, job: string, variable: string): Record<string, unknown> | 'unset' => {
  const line = new RegExp(`^${job} +> ${variable} (.*)$`, 'm').exec(r.stdout)?.[1]
  assert.ok(line, `${job} printed ${variable}:\n${r.output}`)
  return line === 'unset' ? 'unset' : JSON.parse(line) as Record<string, unknown>
}

function assertNoToken (r: CiLocalResult, log: string[]): void {
  for (const token of r.tokens) assert.ok(!r.output.includes(token) && !log.join('\n').includes(token), 'no token printed')
}

describe('a branch pipeline of feature/cart (default branch trunk)', () => {
  let app: string
  let r: CiLocalResult
  const log: string[] = []
  let home: string
  before(async () => {
    app = userApp()
    // this machine's npm settings: the user's ~/.npmrc names the registry; a CA bundle of its own
    home = tempDir('ci-local-home-')
    writeFileSync(join(home, '.npmrc'), `registry=${registryUrl}/\n`)
    writeFileSync(join(home, 'ca.pem'), rootCertificates.join('\n'))
    const machine = { PATH: process.env.PATH, HOME: home, NODE_EXTRA_CA_CERTS: join(home, 'ca.pem') }
    r = await ciLocal(options([ 'with-token', 'no-token' ], app), line => log.push(line), machine)
  })

  it('both jobs pass', () => {
    assert.equal(r.code, 0, r.output)
    assert.match(r.stdout, /PASS\s+with-token/)
    assert.match(r.stdout, /PASS\s+no-token/)
  })

  it('a job with id_tokens: one token per variable, each with its aud expanded; the job\'s environment and GitLab\'s tier for it', () => {
    assert.deepEqual(claimsOf(r, 'with-token', 'GITLAB_OIDC_TOKEN'),
      { aud: 'https://gitlab.com', ref: 'feature/cart', environment: 'review/feature-cart', tier: 'development', source: 'push', protected: 'false' })
    assert.deepEqual((claimsOf(r, 'with-token', 'SECOND_TOKEN') as { aud: unknown }).aud, [ 'https://first.example', 'https://second.example' ])
    assert.match(log.join('\n'), /with-token: environment review\/feature-cart \(tier development\); ID token GITLAB_OIDC_TOKEN \(aud https:\/\/gitlab\.com\), SECOND_TOKEN \(aud https:\/\/first\.example, https:\/\/second\.example\)/)
    assertNoToken(r, log)
  })

  it('a job without id_tokens: no token at all, and ci-local says so', () => {
    assert.equal(claimsOf(r, 'no-token', 'GITLAB_OIDC_TOKEN'), 'unset')
    assert.equal(claimsOf(r, 'no-token', 'SECOND_TOKEN'), 'unset')
    assert.match(log.join('\n'), /no-token: environment staging \(tier staging\); no id_tokens: GitLab gives it no ID token/)
  })

  it('the job\'s install reaches the registry of this machine\'s npm settings, with its CA bundle, over the network', () => {
    assert.match(r.stdout, new RegExp(`npm registry ${registryUrl}/, CA ${join(home, 'ca.pem')}`))
    assert.match(r.stdout, /no-token > installed tiny 1\.0\.0/)
  })

  it('the app is left as it was: its node_modules untouched by the job\'s install, no file left behind', () => assertUntouched(app))
})

describe('rules: decide', () => {
  it('a job the rules keep out of the pipeline does not run: ci-local says why, exits 1, starts nothing', async () => {
    const app = userApp()
    const log: string[] = []
    const r = await ciLocal(options([ 'production-only' ], app), line => log.push(line))
    assert.equal(r.code, 1)
    assert.equal(r.stdout, '', 'gitlab-ci-local ran no job')
    assert.deepEqual(r.awsCalls, [])
    assert.match(log.join('\n'), /^production-only: GitLab would not run production-only in a branch pipeline of feature\/cart \(default branch trunk\): its rules: \[\{"if":"\$CI_COMMIT_BRANCH == \$CI_DEFAULT_BRANCH"\}\] give when: never/m)
    assert.doesNotMatch(log.join('\n'), /stand-ins:/)
    assertUntouched(app)
    await assert.rejects(ciLocal(options([ 'no-such-job' ], app)), /no job no-such-job in \.gitlab-ci\.yml; its jobs: .*with-token/)
  })

  it('--merge-request <iid>: the merge request pipeline\'s variables, its job runs with a merge_request_event token', async () => {
    const app = userApp()
    const log: string[] = []
    const r = await ciLocal(options([ '--merge-request', '7', 'review' ], app), line => log.push(line))
    assert.equal(r.code, 0, r.output)
    assert.deepEqual(claimsOf(r, 'review', 'GITLAB_OIDC_TOKEN'),
      { aud: 'https://gitlab.com', ref: 'feature/cart', environment: 'review/mr-7', tier: 'development', source: 'merge_request_event', protected: 'false' })
    assert.match(r.stdout, /review > merge request !7 \(merge_request_event\), CI_COMMIT_BRANCH \[\]/)
    assert.match(log.join('\n'), /merge request !7 from feature\/cart/)
    assertUntouched(app)
  })
})

describe('the arc-deploy component, as the quick start includes it', () => {
  it('is included from the app\'s installed package (a local: include, the same inputs): its jobs, rules, tokens and environments as GitLab would make them', () => {
    const ci = 'include:\n  - component: gitlab.com/arc-gitlab-oidc/arc-plugin-gitlab-oidc/arc-deploy@0.1.0\n    inputs:\n      install: test -d node_modules || npm ci\n'
    const app = repo(undefined, { '.gitlab-ci.yml': ci })
    // the app's installed package: this repository's template, marked so that the test sees which one was taken
    mkdirSync(join(app, 'node_modules', 'arc-plugin-gitlab-oidc', 'templates'), { recursive: true })
    writeFileSync(join(app, 'node_modules', 'arc-plugin-gitlab-oidc', 'templates', 'arc-deploy.yml'),
      `# installed in the app\n${readFileSync(join(ROOT, 'templates', 'arc-deploy.yml'), 'utf8')}`)
    initGitRepo(app, { branch: 'feature/cart', remote: 'git@gitlab.com:shops/web/my-shop.git', defaultBranch: 'trunk' })
    const o = options([ 'arc-deploy-staging' ], app)
    const log: string[] = []
    const copy = copyApp(o, line => log.push(line))
    dirs.push(copy)
    assert.deepEqual(log, [ 'the component arc-deploy@0.1.0 is included from the app\'s node_modules/arc-plugin-gitlab-oidc (local:, same inputs)' ])
    assert.equal(readFileSync(join(copy, '.gitlab-ci.yml'), 'utf8'), ci.replace(/component: \S+/, `local: ${LOCAL_COMPONENT}`))
    assert.match(readFileSync(join(copy, LOCAL_COMPONENT), 'utf8'), /^# installed in the app\n/)
    const [ staging ] = planJobs(copy, [ 'arc-deploy-staging' ], o)
    assert.deepEqual({ ...staging, variables: undefined }, {
      name: 'arc-deploy-staging', idTokens: { GITLAB_OIDC_TOKEN: 'https://gitlab.com' }, environment: { name: 'staging', tier: 'staging' }, variables: undefined,
    })
    const [ production ] = planJobs(copy, [ 'arc-deploy-production' ], o)
    assert.match(production!.skipped ?? '', /^GitLab would not run arc-deploy-production in a branch pipeline of feature\/cart \(default branch trunk\): its rules:/)
    assert.equal(localComponent(app, repo()), undefined, 'a pipeline without the component is left as it is')
  })
})
