/**
 * gitlab-ci-local (a devDependency) running a project's real .gitlab-ci.yml on this machine:
 * shell executor for every job (`--force-shell-executor`: `image:` never reaches docker), Node 22
 * (gitlab-ci-local needs it), our rsync (test/support/bin, see rsync.ts) first on PATH, and a
 * clean environment. It does not mint ID tokens and sets GITLAB_CI=false: callers pass the
 * token as the `id_tokens:` variable and GITLAB_CI=true with `variables`.
 *
 * runGitlabCiLocal spawns it asynchronously: a stand-in served by the calling process must keep
 * answering while the jobs run.
 */
import { spawnSync } from 'node:child_process'
import { runProcessGroup } from './process.ts'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { yaml } from './cfn-template.ts'
import { NODE22, ROOT } from './install.ts'

export const GITLAB_CI_LOCAL = join(ROOT, 'node_modules', 'gitlab-ci-local', 'dist', 'index.js')
/** The directory holding our `rsync`, put first on PATH of gitlab-ci-local runs only. */
export const RSYNC_DIR = join(import.meta.dirname, 'bin')

export interface GitRepoOptions {
  /** Branch to commit on (default main). */
  branch?: string
  /** URL of the `origin` remote: gitlab-ci-local derives CI_SERVER_URL, CI_PROJECT_PATH... from it. */
  remote: string
  /** The project's default branch, as origin/HEAD names it (default main). */
  defaultBranch?: string
  /** Git author, also gitlab-ci-local's GITLAB_USER_EMAIL. */
  email?: string
}

function git (dir: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed in ${dir}: ${r.stderr}`)
  return r.stdout.trim()
}

/**
 * Make dir a git repository with everything in it committed (node_modules excluded, as a
 * project's .gitignore would), an origin remote and origin/HEAD; returns the commit SHA.
 */
export function initGitRepo (dir: string, opts: GitRepoOptions): string {
  const branch = opts.branch ?? 'main'
  const defaultBranch = opts.defaultBranch ?? 'main'
  git(dir, [ 'init', '-q', '-b', branch ])
  writeFileSync(join(dir, '.git', 'info', 'exclude'), 'node_modules\n.gitlab-ci-local/\n')
  git(dir, [ 'config', 'user.email', opts.email ?? 'deploy-bot@example.com' ])
  git(dir, [ 'config', 'user.name', 'Deploy Bot' ])
  git(dir, [ 'config', 'commit.gpgsign', 'false' ])
  git(dir, [ 'remote', 'add', 'origin', opts.remote ])
  git(dir, [ 'add', '-A' ])
  git(dir, [ 'commit', '-q', '-m', 'test pipeline' ])
  git(dir, [ 'update-ref', `refs/remotes/origin/${defaultBranch}`, 'HEAD' ])
  git(dir, [ 'symbolic-ref', 'refs/remotes/origin/HEAD', `refs/remotes/origin/${defaultBranch}` ])
  return git(dir, [ 'rev-parse', 'HEAD' ])
}

export interface GitlabCiLocalOptions {
  /** --variable NAME=value for every job (the ID token, GITLAB_CI=true, CI_PIPELINE_SOURCE...). */
  variables?: Record<string, string>
  /** --unset-variable NAME (e.g. CI_COMMIT_BRANCH in a merge request pipeline). */
  unset?: string[]
  /** Environment of gitlab-ci-local (jobs inherit it) on top of the clean base. */
  env?: Record<string, string>
  /**
   * The jobs use this machine's network, CA and npm settings (its PATH after ours, proxies, CA
   * bundles, npm_config_*, the user's ~/.npmrc and npm cache: HOME is empty), for a job's own
   * install. Default: offline npm, nothing of the machine's.
   */
  machine?: NodeJS.ProcessEnv
  timeoutMs?: number
}

export interface GitlabCiLocalResult {
  code: number | null
  stdout: string
  stderr: string
  /** stdout and stderr together, for assertions and the leak check. */
  output: string
  timedOut: boolean
}

let home: string | undefined
/** An empty HOME for gitlab-ci-local and its jobs (no ~/.gitlab-ci-local/variables.yml, no ~/.aws). */
function glclHome (): string {
  if (!home) {
    const h = home = mkdtempSync(join(tmpdir(), 'gitlab-ci-local-home-'))
    process.once('exit', () => rmSync(h, { recursive: true, force: true }))
  }
  return home
}

/** What of the machine's environment a job's install needs (see GitlabCiLocalOptions.machine). */
export function machineSettings (env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [ name, value ] of Object.entries(env)) {
    if (value === undefined) continue
    if (/^(https?_proxy|no_proxy|all_proxy)$/i.test(name) || /^npm_config_/i.test(name)
      || /^(NODE_EXTRA_CA_CERTS|NODE_USE_SYSTEM_CA|SSL_CERT_FILE|SSL_CERT_DIR)$/.test(name)) out[name] = value
  }
  if (env.HOME) {
    out.npm_config_userconfig ??= join(env.HOME, '.npmrc')
    out.npm_config_cache ??= join(env.HOME, '.npm')
  }
  return out
}

/** The machine's PATH without any node_modules/.bin (an npm script's): a job finds only its own install's binaries. */
const machinePath = (path: string): string => path.split(':').filter(p => p && !/(^|\/)node_modules\/\.bin\/?$/.test(p)).join(':')

/** The command line and environment of one gitlab-ci-local run. */
export function gitlabCiLocalCommand (args: string[], opts: GitlabCiLocalOptions = {}): { argv: string[], env: Record<string, string> } {
  const node = realpathSync(NODE22)
  const variables = Object.entries(opts.variables ?? {}).flatMap(([ k, v ]) => [ '--variable', `${k}=${v}` ])
  const overridden = [ ...Object.keys(opts.variables ?? {}), ...(opts.unset ?? []) ]
  const argv = [
    GITLAB_CI_LOCAL, '--force-shell-executor', '--no-color', '--home', glclHome(),
    ...(overridden.length ? [ '--ignore-predefined-vars', overridden.join(',') ] : []),
    ...variables, ...(opts.unset ?? []).flatMap(name => [ '--unset-variable', name ]), ...args,
  ]
  const env: Record<string, string> = {
    PATH: `${RSYNC_DIR}:${dirname(node)}:${opts.machine?.PATH ? machinePath(opts.machine.PATH) : '/usr/local/bin:/usr/bin:/bin'}`,
    HOME: glclHome(),
    TMPDIR: tmpdir(),
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    NO_UPDATE_NOTIFIER: '1',
    ...(opts.machine ? {} : { npm_config_offline: 'true' }),
    npm_config_update_notifier: 'false',
    ...(opts.machine ? machineSettings(opts.machine) : {}),
    ...opts.env,
  }
  return { argv, env }
}

/** Run gitlab-ci-local in cwd, asynchronously (the stand-ins keep serving meanwhile). */
export async function runGitlabCiLocal (cwd: string, args: string[], opts: GitlabCiLocalOptions = {}): Promise<GitlabCiLocalResult> {
  const { argv, env } = gitlabCiLocalCommand(args, opts)
  const r = await runProcessGroup(realpathSync(NODE22), argv, { cwd, env, timeoutMs: opts.timeoutMs ?? 120_000 })
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, output: r.stdout + r.stderr, timedOut: r.timedOut }
}

/** Run gitlab-ci-local synchronously (for runs that need no stand-in: --list-json, --preview). */
export function gitlabCiLocalSync (cwd: string, args: string[], opts: GitlabCiLocalOptions = {}): GitlabCiLocalResult {
  const { argv, env } = gitlabCiLocalCommand(args, opts)
  const r = spawnSync(realpathSync(NODE22), argv, { cwd, env, encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, output: r.stdout + r.stderr, timedOut: r.error !== undefined }
}

/** A scratch project: files written into a new temp directory, committed (initGitRepo); remove() when done. */
export function scratchProject (
  files: Record<string, string>, opts: Partial<GitRepoOptions> = {},
): { dir: string, sha: string, remove (): void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'gitlab-ci-project-')))
  for (const [ path, text ] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  // a loopback URL that nothing listens on: gitlab-ci-local only reads it
  const sha = initGitRepo(dir, { remote: 'http://127.0.0.1:9/acme/oidc-example.git', ...opts })
  return { dir, sha, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

function succeed (r: GitlabCiLocalResult, what: string): string {
  if (r.code !== 0) throw new Error(`gitlab-ci-local ${what} failed (${r.code}):\n${r.output}`)
  return r.stdout
}

/** gitlab-ci-local --preview of a file: the configuration with includes, inputs, extends, defaults and anchors resolved. */
export function previewConfig (cwd: string, file: string, opts: GitlabCiLocalOptions = {}): Record<string, unknown> {
  return yaml.load(succeed(gitlabCiLocalSync(cwd, [ '--preview', '--file', file ], opts), '--preview')) as Record<string, unknown>
}

/** gitlab-ci-local --list-json of a file: each job's `when` in the pipeline the variables describe (`never`: not in it). */
export function jobWhens (cwd: string, file: string, opts: GitlabCiLocalOptions = {}): Record<string, string> {
  const jobs = JSON.parse(succeed(gitlabCiLocalSync(cwd, [ '--list-json', '--file', file ], opts), '--list-json')) as Array<{ name: string, when: string }>
  return Object.fromEntries(jobs.map(j => [ j.name, j.when ]))
}
