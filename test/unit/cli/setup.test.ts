/**
 * `arc-gitlab-oidc setup` in real app directories (temporary git repositories with real remotes
 * and origin/HEAD): what it computes, what it asks for, and that the command it prints is one the
 * shipped template accepts (checked with the template evaluator, test/support/cfn-template.ts).
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { main } from '../../../src/cli/main.ts'
import { EXIT_OK, EXIT_USAGE, type CliIo } from '../../../src/cli/io.ts'
import { TEMPLATE_PATH } from '../../../src/cli/setup-sources.ts'
import { readManifest } from '../../../src/plugin/manifest.ts'
import { Stack, appDir, get, template, templatePath, type JsonObject } from '../../support/cfn-template.ts'
import { createSigningKey, signJwt } from '../../support/jwt.ts'

const require = createRequire(import.meta.url)
const architectToLogicalID = (require('@architect/utils') as { toLogicalID (s: string): string }).toLogicalID
// eslint-disable-next-line no-control-regex
const plain = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '')

const dirs: string[] = []
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

function git (dir: string, ...args: string[]): void {
  const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
}

interface AppOptions {
  /** app.arc text (default: example-app's). */
  arc?: string
  /** origin URL; none: no remote. */
  remote?: string
  /** origin/HEAD names this branch (needs a remote). */
  defaultBranch?: string
  git?: boolean
}

function appRepo (opts: AppOptions = {}): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'setup-app-')))
  dirs.push(dir)
  writeFileSync(join(dir, 'app.arc'), opts.arc ?? readFileSync(join(appDir, 'app.arc'), 'utf8'))
  if (opts.git === false) return dir
  git(dir, 'init', '-q', '-b', 'work')
  git(dir, '-c', 'user.email=a@example.com', '-c', 'user.name=A', '-c', 'commit.gpgsign=false', 'commit', '-q', '--allow-empty', '-m', 'init')
  if (opts.remote) git(dir, 'remote', 'add', 'origin', opts.remote)
  if (opts.remote && opts.defaultBranch) {
    git(dir, 'update-ref', `refs/remotes/origin/${opts.defaultBranch}`, 'HEAD')
    git(dir, 'symbolic-ref', 'refs/remotes/origin/HEAD', `refs/remotes/origin/${opts.defaultBranch}`)
  }
  return dir
}

interface Run { code: number, stdout: string, stderr: string }

/** The project ID the tests give (--project-id) unless they test the project ID itself. */
const ID = '4242'

async function setup (cwd: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = { env, cwd, stdout: s => { stdout += s }, stderr: s => { stderr += `${s}\n` }, now: () => new Date('2026-01-01T00:00:00Z') }
  const idGiven = args.some(a => a === '--project-id' || a === '--no-project-id' || a === '--help' || a === '-h') || env.CI_PROJECT_ID !== undefined
  const code = await main([ 'setup', ...args, ...idGiven ? [] : [ '--project-id', ID ] ], io)
  return { code, stdout, stderr: plain(stderr) }
}

/** The `--parameter-overrides` of each printed deploy command, by its Stages value. */
function deploys (out: string): Record<string, Record<string, string>> {
  const found: Record<string, Record<string, string>> = {}
  for (const m of out.matchAll(/--parameter-overrides (.+)$/gm)) {
    const params = Object.fromEntries(m[1]!.split(' ').map(pair => {
      const i = pair.indexOf('=')
      return [ pair.slice(0, i), pair.slice(i + 1).replace(/^'(.*)'$/, '$1') ]
    }))
    found[params.Stages!] = params
  }
  return found
}

/** Every name printed is a template parameter, every parameter without a default is printed: the evaluator deploys it. */
function assertTemplateTakes (params: Record<string, string>, account = '111111111111'): Stack {
  const declared = template.Parameters as JsonObject
  for (const name of Object.keys(params)) assert.ok(name in declared, `${name} is a parameter of the template`)
  for (const [ name, decl ] of Object.entries(declared)) {
    if (get(decl, 'Default') === undefined) assert.ok(name in params, `${name} has no default and is supplied`)
  }
  return new Stack({ params, account, partition: 'aws' })
}

const stackNameOf = (out: string) => [ ...out.matchAll(/^ {2}--stack-name (\S+)/gm) ].map(m => m[1])

describe('setup on example-app with an HTTPS remote', () => {
  it('prints one deploy per account, with the parameters the template needs', async () => {
    const dir = appRepo({ remote: 'https://gitlab.com/acme/oidc-example.git', defaultBranch: 'main' })
    const r = await setup(dir)
    assert.equal(r.code, EXIT_OK, r.stderr)
    assert.equal(r.stderr, '')
    const d = deploys(r.stdout)
    assert.deepEqual(Object.keys(d), [ 'staging', 'production' ], 'staging, then production, each with its Stages')
    const expected = { GitLabUrl: 'https://gitlab.com', ProjectPath: 'acme/oidc-example', GitLabProjectId: ID, DefaultBranch: 'main', AppName: 'oidc-example', AppStackPrefix: 'OidcExample' }
    assert.deepEqual(d.staging, { ...expected, Stages: 'staging' })
    assert.deepEqual(d.production, { ...expected, Stages: 'production' })
    for (const params of Object.values(d)) assertTemplateTakes(params)
    assert.deepEqual(stackNameOf(r.stdout), [ 'oidc-example-gitlab-oidc', 'oidc-example-gitlab-oidc' ])
    assert.ok(r.stdout.includes(`--template-file ${TEMPLATE_PATH} \\`), 'not installed here: the template setup read')
    assert.equal(TEMPLATE_PATH, templatePath)
    assert.match(r.stdout, /^@plugins\narc-plugin-gitlab-oidc\n\n@gitlab-oidc\n(# .*\n)*# staging-role <paste the StagingRoleArn output of the staging account's stack>$/m)
    assert.match(r.stdout, /^ {2}- component: gitlab\.com\/arc-gitlab-oidc\/arc-plugin-gitlab-oidc\/arc-deploy@\d+\.\d+\.\d+/m)
    assert.match(r.stdout, /describe-stacks --stack-name oidc-example-gitlab-oidc/)
  })

  it('prints the installed template\'s path when the package is installed in the app', async () => {
    const dir = appRepo({ remote: 'https://gitlab.com/acme/oidc-example.git', defaultBranch: 'main' })
    const installed = join(dir, 'node_modules', 'arc-plugin-gitlab-oidc', 'iam')
    spawnSync('mkdir', [ '-p', installed ])
    writeFileSync(join(installed, 'gitlab-oidc.yaml'), readFileSync(templatePath))
    const r = await setup(dir, [ '--project-id', '4242' ])
    assert.ok(r.stdout.includes('--template-file node_modules/arc-plugin-gitlab-oidc/iam/gitlab-oidc.yaml \\'), r.stdout)
  })

  it('with the account IDs, prints the ARNs the stacks output', async () => {
    const dir = appRepo({ remote: 'https://gitlab.com/acme/oidc-example.git', defaultBranch: 'main' })
    const r = await setup(dir, [ '--staging-account', '111111111111', '--production-account', '222222222222' ])
    assert.equal(r.code, EXIT_OK, r.stderr)
    const d = deploys(r.stdout)
    const staging = assertTemplateTakes(d.staging!, '111111111111').outputs()
    const production = assertTemplateTakes(d.production!, '222222222222').outputs()
    const lines = r.stdout.slice(r.stdout.indexOf('@gitlab-oidc\n')).split('\n').slice(1, 5)
    assert.deepEqual(lines, [
      `staging-role ${staging.StagingRoleArn}`,
      `staging-permissions-boundary ${staging.StagingBoundaryArn}`,
      `production-role ${production.ProductionRoleArn}`,
      `production-permissions-boundary ${production.ProductionBoundaryArn}`,
    ])
    assert.equal((await setup(dir, [ '--staging-account', '1234' ])).code, EXIT_USAGE)
  })
})

/** The manifest lines setup printed (from `@plugins` to the blank line before the CI include), after an app's own `@app`. */
function manifestSnippet (out: string): string {
  const start = out.indexOf('@plugins\n')
  const end = out.indexOf('\n\n# .gitlab-ci.yml')
  assert.ok(start > 0 && end > start, out)
  return `@app\noidc-example\n\n@http\nget /\n\n${out.slice(start, end)}\n`
}
/** Architect's own parser, the one @architect/inventory (a dependency of ours) loads. */
const arcParser = createRequire(require.resolve('@architect/inventory'))('@architect/parser') as (text: string) => Record<string, unknown>

describe('issue 21: the @gitlab-oidc lines setup prints never break a manifest', () => {
  const remote = { remote: 'https://gitlab.com/acme/oidc-example.git', defaultBranch: 'main' }

  it('before the stacks exist: the lines are comments, and the manifest parses (Architect\'s parser and the plugin\'s reader)', async () => {
    const dir = appRepo(remote)
    const r = await setup(dir)
    assert.equal(r.code, EXIT_OK, r.stderr)
    const snippet = manifestSnippet(r.stdout)
    assert.doesNotMatch(snippet, /^[^#\n]*</m, 'every placeholder is inside a comment')
    for (const key of [ 'staging-role', 'staging-permissions-boundary', 'production-role', 'production-permissions-boundary' ]) {
      assert.match(snippet, new RegExp(`^# ${key} <paste the \\w+ output of the (staging|production) account's stack>$`, 'm'))
    }
    const parsed = arcParser(snippet)
    assert.deepEqual(parsed.plugins, [ 'arc-plugin-gitlab-oidc' ])
    // what a bare placeholder did (docs/troubleshooting.md): Architect refuses the manifest
    assert.throws(() => arcParser(snippet.replace(/^# (staging-role <)/m, '$1')), /unknown character "<"/)
    assert.deepEqual(parsed['gitlab-oidc'] ?? [], [], 'no setting yet')
    writeFileSync(join(dir, 'app.arc'), snippet)
    assert.deepEqual(readManifest(dir)?.arc.app, [ 'oidc-example' ])
  })

  it('with --staging-role-arn and --production-role-arn: the four settings filled, each boundary in its role\'s account, and the manifest parses', async () => {
    const dir = appRepo(remote)
    const staging = 'arn:aws:iam::222222222222:role/oidc-example-staging-deploy'
    const production = 'arn:aws-us-gov:iam::111111111111:role/oidc-example-production-deploy'
    const r = await setup(dir, [ '--staging-role-arn', staging, '--production-role-arn', production ])
    assert.equal(r.code, EXIT_OK, r.stderr)
    const snippet = manifestSnippet(r.stdout)
    assert.doesNotMatch(snippet, /^#/m, 'nothing left to paste')
    assert.deepEqual(arcParser(snippet)['gitlab-oidc'], [
      [ 'staging-role', staging ],
      [ 'staging-permissions-boundary', 'arn:aws:iam::222222222222:policy/oidc-example-staging-boundary' ],
      [ 'production-role', production ],
      [ 'production-permissions-boundary', 'arn:aws-us-gov:iam::111111111111:policy/oidc-example-production-boundary' ],
    ])
    // the boundary is what the template's own output is for that account
    const outputs = assertTemplateTakes(deploys(r.stdout).staging!, '222222222222').outputs()
    assert.match(snippet, new RegExp(`^staging-permissions-boundary ${outputs.StagingBoundaryArn}$`, 'm'))
    assert.match(r.stdout, /^# staging account \(222222222222\)$/m)
  })

  it('one stage given: its lines filled, the other stage\'s commented; the manifest parses', async () => {
    const r = await setup(appRepo(remote), [ '--staging-role-arn', 'arn:aws:iam::222222222222:role/oidc-example-staging-deploy' ])
    assert.equal(r.code, EXIT_OK, r.stderr)
    const parsed = arcParser(manifestSnippet(r.stdout))
    assert.deepEqual((parsed['gitlab-oidc'] as string[][]).map(([ k ]) => k), [ 'staging-role', 'staging-permissions-boundary' ])
    assert.match(r.stdout, /^# production-role <paste/m)
  })

  it('a role ARN that is not one, or in another account than --<stage>-account: exit 2, naming the flag', async () => {
    const dir = appRepo(remote)
    const bad = await setup(dir, [ '--staging-role-arn', 'arn:aws:iam::2222:role/x' ])
    assert.equal(bad.code, EXIT_USAGE)
    assert.match(bad.stderr, /--staging-role-arn arn:aws:iam::2222:role\/x: give the StagingRoleArn output/)
    const other = await setup(dir, [ '--production-account', '111111111111', '--production-role-arn', 'arn:aws:iam::333333333333:role/r' ])
    assert.equal(other.code, EXIT_USAGE)
    assert.match(other.stderr, /is in account 333333333333, --production-account says 111111111111/)
  })
})

describe('the README\'s quick start', () => {
  it('shows exactly what setup prints for example-app in a clone of git@gitlab.com:acme/oidc-example.git', async () => {
    const readme = readFileSync(join(appDir, '..', 'README.md'), 'utf8')
    const step2 = readme.slice(readme.indexOf('**2. AWS: run what `setup` prints.**'))
    const blocks = [ ...step2.matchAll(/```sh\n([\s\S]*?)```/g) ].map(m => m[1])
    assert.equal(blocks[0], 'npx arc-gitlab-oidc setup --project-id 4242\n')
    const dir = appRepo({ remote: 'git@gitlab.com:acme/oidc-example.git', defaultBranch: 'main' })
    const installed = join(dir, 'node_modules', 'arc-plugin-gitlab-oidc', 'iam')
    spawnSync('mkdir', [ '-p', installed ])
    writeFileSync(join(installed, 'gitlab-oidc.yaml'), readFileSync(templatePath))
    const r = await setup(dir, [ '--project-id', '4242' ])
    assert.equal(r.code, EXIT_OK, r.stderr)
    assert.equal(blocks[1], r.stdout.endsWith('\n') ? r.stdout : `${r.stdout}\n`)
  })
})

describe('setup computes AppStackPrefix with Architect\'s toLogicalID', () => {
  for (const name of [ 'my-shop', 'shop2-api-3x', 'a1-b2', 'x' ]) {
    it(`@app ${name}`, async () => {
      const dir = appRepo({ arc: `@app\n${name}\n\n@http\nget /\n`, remote: 'git@gitlab.com:acme/shops/retail/store.git', defaultBranch: 'trunk' })
      const r = await setup(dir)
      assert.equal(r.code, EXIT_OK, r.stderr)
      const d = deploys(r.stdout)
      assert.equal(d.staging!.AppName, name)
      assert.equal(d.staging!.AppStackPrefix, architectToLogicalID(name))
      assert.equal(d.production!.AppStackPrefix, architectToLogicalID(name))
      assertTemplateTakes(d.production!)
    })
  }
  it('my-shop is MyShop', async () => {
    const dir = appRepo({ arc: '@app\nmy-shop\n', remote: 'https://gitlab.com/a/my-shop.git', defaultBranch: 'main' })
    assert.match((await setup(dir)).stdout, /AppStackPrefix=MyShop /)
  })
  it('an @app the template cannot name refuses (exit 1), saying why', async () => {
    const dir = appRepo({ arc: '@app\nMyShop\n', remote: 'https://gitlab.com/a/b.git', defaultBranch: 'main' })
    const r = await setup(dir)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /AppName=MyShop is refused by the template: lower-case letters/)
  })
})

describe('setup reads the project from the git remote', () => {
  const cases: Array<[string, string, string, string | undefined]> = [
    [ 'HTTPS with subgroups', 'https://gitlab.com/acme/web/team/shop.git', 'acme/web/team/shop', 'https://gitlab.com' ],
    [ 'HTTPS with a token in it (never printed)', 'https://oauth2:glpat-SECRET123@gitlab.example.com/acme/web/shop', 'acme/web/shop', 'https://gitlab.example.com' ],
    [ 'SSH (scp-like) with subgroups', 'git@gitlab.com:acme/web/team/shop.git', 'acme/web/team/shop', 'https://gitlab.com' ],
    [ 'ssh:// with subgroups', 'ssh://git@gitlab.com/acme/web/shop.git', 'acme/web/shop', 'https://gitlab.com' ],
  ]
  for (const [ what, remote, project, url ] of cases) {
    it(what, async () => {
      const r = await setup(appRepo({ remote, defaultBranch: 'main' }))
      assert.equal(r.code, EXIT_OK, r.stderr)
      const d = deploys(r.stdout)
      assert.equal(d.staging!.ProjectPath, project)
      assert.equal(d.staging!.GitLabUrl, url)
      assert.ok(!r.stdout.includes('SECRET') && !r.stderr.includes('SECRET'))
      assertTemplateTakes(d.staging!)
    })
  }

  it('SSH to a self-managed host: asks for --gitlab-url, then takes it', async () => {
    const dir = appRepo({ remote: 'ssh://git@ssh.git.example.com:2222/acme/web/shop.git', defaultBranch: 'main' })
    const r = await setup(dir)
    assert.equal(r.code, EXIT_USAGE)
    assert.match(r.stderr, /give --gitlab-url https:\/\/<host>/)
    assert.doesNotMatch(r.stderr, /--project|--branch/, 'only what it could not determine')
    const ok = await setup(dir, [ '--gitlab-url', 'https://git.example.com' ])
    assert.equal(ok.code, EXIT_OK, ok.stderr)
    assert.deepEqual(deploys(ok.stdout).staging!.GitLabUrl, 'https://git.example.com')
    assert.match(ok.stdout, /On https:\/\/git\.example\.com, include the component from a mirror/)
  })

  it('no remote: one message asking for --project, --branch and --gitlab-url; exit 2; the flags then suffice', async () => {
    const dir = appRepo()
    const r = await setup(dir)
    assert.equal(r.code, EXIT_USAGE)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr.match(/GitLab OIDC:/g)?.length, 1, 'one message')
    assert.match(r.stderr, /no origin remote\): give --project <group\/project>/)
    assert.match(r.stderr, /give --branch <name>/)
    assert.match(r.stderr, /give --gitlab-url/)
    assert.match(r.stderr, /See: arc-gitlab-oidc help setup/)
    // each item on its own line, never an escaped line break between them
    assert.doesNotMatch(r.stderr, /\\u000a/)
    assert.match(plain(r.stderr), /setup cannot determine, and does not guess:\n {2}\| the GitLab project path .*\n {2}\| the default branch .*\n {2}\| your GitLab's URL .*\n {2}\| See: arc-gitlab-oidc help setup\n$/)
    const ok = await setup(dir, [ '--project', 'acme/shop', '--branch', 'main', '--gitlab-url', 'https://gitlab.com' ])
    assert.equal(ok.code, EXIT_OK, ok.stderr)
    assertTemplateTakes(deploys(ok.stdout).production!)
  })

  it('a remote without origin/HEAD asks for --branch only', async () => {
    const r = await setup(appRepo({ remote: 'https://gitlab.com/acme/shop.git' }))
    assert.equal(r.code, EXIT_USAGE)
    assert.match(r.stderr, /git remote set-head origin --auto/)
    assert.doesNotMatch(r.stderr, /--project|--gitlab-url/)
  })

  it('--project, --branch, --aud and --parameter override and add', async () => {
    const dir = appRepo({ remote: 'https://gitlab.com/acme/shop.git', defaultBranch: 'main' })
    const r = await setup(dir, [ '--project', 'other/group/shop', '--branch', 'release', '--aud', 'sts.amazonaws.com', '--parameter', 'CreateOidcProvider=false' ])
    assert.equal(r.code, EXIT_OK, r.stderr)
    const d = deploys(r.stdout)
    assert.deepEqual([ d.staging!.ProjectPath, d.staging!.DefaultBranch, d.staging!.Audience, d.staging!.CreateOidcProvider ], [ 'other/group/shop', 'release', 'sts.amazonaws.com', 'false' ])
    assertTemplateTakes(d.staging!)
    assert.match(r.stdout, /inputs:\n {6}aud: sts\.amazonaws\.com/)
    const bad = await setup(dir, [ '--parameter', 'NoSuchThing=1' ])
    assert.equal(bad.code, EXIT_USAGE)
    assert.match(bad.stderr, /Name one of .*ProjectPath/)
    assert.equal((await setup(dir, [ '--parameter', 'Stages=both' ])).code, EXIT_USAGE, 'one command per account')
  })
})

describe('the roles\' MaxSessionDuration against `duration` (long deploys)', () => {
  const arc = (duration?: number) => `@app\nshop\n${duration === undefined ? '' : `@gitlab-oidc\nduration ${duration}\n`}`
  const remote = { remote: 'https://gitlab.com/acme/shop.git', defaultBranch: 'main' }

  it('a duration the template\'s default covers prints no MaxSessionDuration (the template\'s 7200 applies)', async () => {
    for (const text of [arc(), arc(7200)]) {
      const r = await setup(appRepo({ arc: text, ...remote }))
      assert.equal(r.code, EXIT_OK, r.stderr)
      assert.equal(deploys(r.stdout).staging!.MaxSessionDuration, undefined)
    }
  })

  it('a longer duration: the printed deploys set MaxSessionDuration to it, and the roles get it', async () => {
    const r = await setup(appRepo({ arc: arc(14400), ...remote }))
    assert.equal(r.code, EXIT_OK, r.stderr)
    const d = deploys(r.stdout)
    assert.equal(d.staging!.MaxSessionDuration, '14400')
    assert.equal(d.production!.MaxSessionDuration, '14400')
    const stack = assertTemplateTakes(d.staging!)
    assert.equal(Number(get(stack.resource('StagingDeployRole'), 'Properties', 'MaxSessionDuration')), 14400)
  })

  it('a MaxSessionDuration given shorter than the duration, or outside IAM\'s 3600..43200: a usage error saying why', async () => {
    const short = await setup(appRepo({ arc: arc(14400), ...remote }), ['--parameter', 'MaxSessionDuration=7200'])
    assert.equal(short.code, EXIT_USAGE)
    assert.match(short.stderr, /--parameter MaxSessionDuration=7200 is shorter than `duration` 14400 in @gitlab-oidc \(app\.arc\): STS would refuse every exchange \(ValidationError\)/)
    assert.match(short.stderr, /Give --parameter MaxSessionDuration=14400 \(at most 43200\), or lower `duration` in app\.arc/)
    const ok = await setup(appRepo({ arc: arc(14400), ...remote }), ['--parameter', 'MaxSessionDuration=43200'])
    assert.equal(ok.code, EXIT_OK, ok.stderr)
    assert.equal(deploys(ok.stdout).staging!.MaxSessionDuration, '43200')
    const outside = await setup(appRepo({ arc: arc(), ...remote }), ['--parameter', 'MaxSessionDuration=60'])
    assert.notEqual(outside.code, EXIT_OK)
    assert.match(outside.stderr, /MaxSessionDuration=60 is refused by the template: a whole number from 3600 to 43200/)
  })
})

describe('setup in a GitLab job', () => {
  const jobEnv = { GITLAB_CI: 'true', CI_PROJECT_PATH: 'acme/web/shop', CI_DEFAULT_BRANCH: 'trunk', CI_SERVER_URL: 'https://gitlab.example.com' }
  it('takes the project, default branch and GitLab URL from the job, not from the remote', async () => {
    const r = await setup(appRepo({ remote: 'https://gitlab.com/someone/else.git', defaultBranch: 'main' }), [], jobEnv)
    assert.equal(r.code, EXIT_OK, r.stderr)
    const d = deploys(r.stdout)
    assert.deepEqual([ d.production!.ProjectPath, d.production!.DefaultBranch, d.production!.GitLabUrl ], [ 'acme/web/shop', 'trunk', 'https://gitlab.example.com' ])
    assertTemplateTakes(d.production!)
  })
  it('needs no git repository in a job', async () => {
    const r = await setup(appRepo({ git: false }), [], jobEnv)
    assert.equal(r.code, EXIT_OK, r.stderr)
  })
  it('takes the project ID from CI_PROJECT_ID, and the issuer from the job\'s token when it is not the GitLab URL', async () => {
    const iss = 'https://oidc.example.com/gitlab'
    const token = signJwt({ iss, sub: 'project_path:acme/web/shop:ref_type:branch:ref:trunk', aud: 'https://gitlab.example.com' }, createSigningKey())
    const r = await setup(appRepo({ git: false }), [], { ...jobEnv, CI_PROJECT_ID: '77', GITLAB_OIDC_TOKEN: token })
    assert.equal(r.code, EXIT_OK, r.stderr)
    const d = deploys(r.stdout)
    assert.equal(d.production!.GitLabProjectId, '77')
    assert.equal(d.production!.GitLabIssuer, iss)
    const stack = assertTemplateTakes(d.production!)
    assert.equal(get(stack.resource('GitLabOidcProvider'), 'Properties', 'Url'), iss, 'the provider is the tokens\' issuer')
    // a token whose iss is the GitLab URL adds nothing; --issuer wins
    const same = signJwt({ iss: 'https://gitlab.example.com', sub: 'x', aud: 'y' }, createSigningKey())
    assert.equal(deploys((await setup(appRepo({ git: false }), [], { ...jobEnv, CI_PROJECT_ID: '77', GITLAB_OIDC_TOKEN: same })).stdout).production!.GitLabIssuer, undefined)
    assert.equal(deploys((await setup(appRepo({ git: false }), [ '--issuer', 'https://sts.example.com' ], { ...jobEnv, CI_PROJECT_ID: '77', GITLAB_OIDC_TOKEN: token })).stdout).production!.GitLabIssuer, 'https://sts.example.com')
  })
  it('outside a job, CI_PROJECT_PATH alone is not trusted', async () => {
    const r = await setup(appRepo({ git: false }), [], { CI_PROJECT_PATH: 'acme/web/shop', CI_DEFAULT_BRANCH: 'trunk' })
    assert.equal(r.code, EXIT_USAGE)
    assert.match(r.stderr, /--project/)
  })
})

describe('setup and the project ID (issue 24)', () => {
  const dir = () => appRepo({ remote: 'https://gitlab.com/acme/shop.git', defaultBranch: 'main' })
  it('without --project-id or --no-project-id: a usage error naming both and where GitLab shows the ID', async () => {
    const r = await setup(dir(), [], { CI_PROJECT_ID: '' })
    assert.equal(r.code, EXIT_USAGE)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /the GitLab project ID \(the number on the project's overview page, under its name; or Settings > General\): give --project-id <id>, or --no-project-id to leave the roles unpinned/)
  })
  it('--project-id pins both roles; the template takes it', async () => {
    const r = await setup(dir(), [ '--project-id', '31337' ])
    assert.equal(r.code, EXIT_OK, r.stderr)
    assert.equal(r.stderr, '')
    const stack = assertTemplateTakes(deploys(r.stdout).production!)
    assert.equal((stack.trustPolicy('ProductionDeployRole') as { Statement: [{ Condition: { StringEquals: Record<string, string> } }] }).Statement[0].Condition.StringEquals['gitlab.com:project_id'], '31337')
    assert.match(r.stdout, /GitLab project acme\/shop \(ID 31337\) on https:\/\/gitlab\.com/)
  })
  it('--no-project-id is the explicit opt-out: GitLabProjectId=none, and a warning saying what it leaves open', async () => {
    const r = await setup(dir(), [ '--no-project-id' ])
    assert.equal(r.code, EXIT_OK, r.stderr)
    assert.equal(deploys(r.stdout).staging!.GitLabProjectId, 'none')
    assert.match(r.stderr, /warning: --no-project-id: the roles are not pinned to the project's ID, only to its path acme\/shop\./)
    assert.match(r.stderr, /A project that later takes over that path \(after a rename, transfer or deletion\) could assume them\./)
    const stack = assertTemplateTakes(deploys(r.stdout).staging!)
    assert.doesNotMatch(JSON.stringify(stack.trustPolicy('StagingDeployRole')), /project_id/)
  })
  it('refuses a project ID that is not a number, and both flags at once', async () => {
    for (const args of [ [ '--project-id', 'acme/shop' ], [ '--project-id', 'none' ], [ '--project-id', '0' ], [ '--project-id', '1', '--no-project-id' ] ]) {
      const r = await setup(dir(), args)
      assert.equal(r.code, EXIT_USAGE, args.join(' '))
      assert.match(r.stderr, /--project-id/)
    }
  })
})

describe('setup without an app', () => {
  it('no manifest: exit 1, says where to run it', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'setup-empty-')))
    dirs.push(dir)
    const r = await setup(dir)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /No Architect manifest .* run arc-gitlab-oidc setup in your app's directory/)
  })
  it('help', async () => {
    const r = await setup(process.cwd(), [ '--help' ])
    assert.equal(r.code, EXIT_OK)
    assert.match(r.stdout, /Usage: arc-gitlab-oidc setup/)
  })
})

describe('setup fills the app-settings parameters from the manifest (issue 25)', () => {
  const arc = [
    '@app', 'zoo-shop', '@http', 'get /', '@static', 'staging zoo-stage-assets', 'production zoo-prod-assets', '@cdn',
    '@aws', 'bucket zoo.deploy', 'layers arn:aws:lambda:us-west-2:111111111111:layer:pdf:3', 'policies AmazonSESFullAccess',
    '@gitlab-oidc', 'iam-parameters DeployServices=events,ses BoundaryActions=ses:SendEmail AwsPublishedLayers=true', '',
  ].join('\n')

  it('each account gets its stage\'s bucket, the deploy bucket, the layers, CloudFront for @cdn, the iam-parameters; the template takes them', async () => {
    const dir = appRepo({ arc, remote: 'https://gitlab.com/acme/zoo-shop.git', defaultBranch: 'main' })
    const r = await setup(dir)
    assert.equal(r.code, EXIT_OK, r.stderr)
    const d = deploys(r.stdout)
    const common = {
      DeployBucket: 'zoo.deploy', LayerArns: 'arn:aws:lambda:us-west-2:111111111111:layer:pdf:3', AllowCloudFrontWrites: 'true',
      DeployServices: 'events,ses', BoundaryActions: 'ses:SendEmail', AwsPublishedLayers: 'true',
    }
    for (const [ stage, bucket ] of [ [ 'staging', 'zoo-stage-assets' ], [ 'production', 'zoo-prod-assets' ] ] as const) {
      assert.deepEqual({ ...d[stage] }, { ...d[stage], ...common, StaticBucketArns: `arn:*:s3:::${bucket},arn:*:s3:::${bucket}/*` })
      const stack = assertTemplateTakes(d[stage]!)
      const shared = stack.policyDocument('SharedDeployPolicy').Statement
      assert.deepEqual(shared.find(s => s.Sid === 'StaticBuckets')?.Resource, [ `arn:*:s3:::${bucket}`, `arn:*:s3:::${bucket}/*` ])
      assert.deepEqual(shared.find(s => s.Sid === 'DeployServices')?.Action, [ 'events:*', 'ses:*' ])
    }
    assert.match(r.stdout, /^# Note: .*policies AmazonSESFullAccess are capped by the permissions boundary/m)
  })

  it('a value the template refuses (a service it does not offer) stops setup, naming it', async () => {
    const dir = appRepo({ arc: arc.replace('DeployServices=events,ses', 'DeployServices=iam'), remote: 'https://gitlab.com/acme/zoo-shop.git', defaultBranch: 'main' })
    const r = await setup(dir)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /DeployServices=iam \(from app\.arc\) is refused by the template: each one of/)
  })
})
