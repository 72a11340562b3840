/**
 * Run a job of your own pipeline on this machine as GitLab would, against the loopback GitLab and
 * AWS stand-ins (usage: CI_LOCAL_HELP below, or `node test/support/ci-local.ts --help`).
 *
 * Like GitLab: the job runs only if its `rules:` put it in the pipeline (branch, or merge request
 * with --merge-request), else ci-local says why and exits 1; it gets an ID token for each
 * variable under its `id_tokens:`, with that `aud:` (none without `id_tokens:`); the token's
 * environment and deployment tier are the job's `environment:`. What GitLab decides is asked of
 * gitlab-ci-local (ci-local-job.ts). The job runs in a copy of the app (its tracked and
 * untracked, not ignored files; a new git repository on the branch, with origin and origin/HEAD):
 * nothing is written in the app, its node_modules included; the job's own install step runs with
 * this machine's network, npm and CA settings (GitlabCiLocalOptions.machine). This package's CI/CD
 * component, which gitlab-ci-local would fetch from gitlab.com, is included from the app's
 * installed package instead (localComponent).
 *
 * The stand-ins: roles <app>-production-deploy / <app>-staging-deploy trusting the project
 * (production: the default branch only), an OIDC provider accepting `--aud` (default: the job's
 * GitLab URL, as the IAM template registers it). AWS_ENDPOINT_URL, ARC_ROLE_ARN and
 * ARC_PERMISSIONS_BOUNDARY point the job at them (the stage's, by the job's deployment tier),
 * whatever the manifest names. gitlab-ci-local runs with the pitfalls handled: shell executor,
 * `--concurrency 1` (it ignores `resource_group`), GITLAB_CI=true with --ignore-predefined-vars,
 * `rsync` from test/support/rsync.ts first on PATH.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { readManifest } from '../../src/plugin/manifest.ts'
import { originDefaultBranch, originUrl, parseRemote } from '../../src/cli/setup-sources.ts'
import { PROJECT_ID, pipelineFor, planJobs, type JobPlan } from './ci-local-job.ts'
import { initGitRepo, runGitlabCiLocal, type GitlabCiLocalResult } from './gitlab-ci-local.ts'
import { ROOT } from './install.ts'
import { startStandIns, type StandIns } from './standins.ts'
import type { ClaimOverrides } from './gitlab.ts'

export const CI_LOCAL_HELP = `Usage: node test/support/ci-local.ts [options] <job>... [-- <gitlab-ci-local options>]

Runs jobs of your app's .gitlab-ci.yml as GitLab would, under gitlab-ci-local, against loopback
stand-ins of GitLab (the ID tokens) and AWS (STS, CloudFormation...), in a copy of the app.

  --dir <path>             the app's directory                                  [.]
  --branch <name>          the pipeline's branch                     [the branch checked out]
  --merge-request <iid>    a merge request pipeline of that merge request, from --branch
                           into the default branch (CI_PIPELINE_SOURCE=merge_request_event)
  --default-branch <name>  the project's default branch                        [origin/HEAD]
  --project <path>         the GitLab project path                      [the origin remote]
  --app <name>             the @app name: the stand-in's roles are <app>-<stage>-deploy
                                                                    [the manifest's @app]
  --aud <aud>              the audience the stand-in's OIDC provider accepts (the IAM
                           template's Audience)                    [the job's GitLab URL]
  --copy-node-modules      copy the app's node_modules into the job's checkout, as a cache
                           would restore it (offline runs); the job's install still runs
  -h, --help               show this help

A job runs only when its rules: put it in that pipeline (else: why not, exit 1); it gets an ID
token for each id_tokens: variable, with its aud; its environment: is the token's. Its own
install step uses this machine's network, npm and CA settings. Nothing is written in the app.
The arc-deploy component (include: component: gitlab.com/arc-gitlab-oidc/...) comes from the
app's node_modules/arc-plugin-gitlab-oidc, with the same inputs.
Exit code: 0 every job passed; 1 a job failed or would not run; 2 usage.
`

export interface CiLocalOptions {
  dir: string
  jobs: string[]
  app: string
  project: string
  branch: string
  defaultBranch: string
  /** The audience the stand-in's provider and roles accept; undefined: the job's CI_SERVER_URL. */
  aud: string | undefined
  mergeRequest: number | undefined
  copyNodeModules: boolean
  /** More gitlab-ci-local options, after `--`. */
  extra: string[]
}

function currentBranch (dir: string): string | undefined {
  try {
    const b = execFileSync('git', [ 'rev-parse', '--abbrev-ref', 'HEAD' ], { cwd: dir, encoding: 'utf8', stdio: [ 'ignore', 'pipe', 'ignore' ] }).trim()
    return b && b !== 'HEAD' ? b : undefined
  }
  catch {
    return undefined
  }
}

const OPTIONS = {
  dir: { type: 'string' }, app: { type: 'string' }, project: { type: 'string' }, branch: { type: 'string' },
  'default-branch': { type: 'string' }, aud: { type: 'string' }, 'merge-request': { type: 'string' },
  'copy-node-modules': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const

/** The options, with the repository's defaults; throws an Error naming the flag for what it cannot find. */
export function parseCiLocalArgs (argv: string[], cwd = process.cwd()): CiLocalOptions | 'help' {
  const dashes = argv.indexOf('--')
  const own = dashes >= 0 ? argv.slice(0, dashes) : argv
  const { values: v, positionals: jobs } = parseArgs({ args: own, strict: true, allowPositionals: true, options: OPTIONS })
  if (v.help) return 'help'
  const dir = resolve(cwd, v.dir ?? '.')
  const missing: string[] = []
  if (!jobs.length) missing.push('the job to run: give its name')
  const app = v.app ?? (() => { const a = readManifest(dir)?.arc.app?.[0]; return typeof a === 'string' ? a : undefined })()
  if (!app) missing.push(`the @app name (no manifest in ${dir}): give --app`)
  const url = originUrl(dir)
  const project = v.project ?? (url ? parseRemote(url)?.projectPath : undefined)
  if (!project) missing.push('the GitLab project path (no origin remote naming one): give --project')
  const defaultBranch = v['default-branch'] ?? originDefaultBranch(dir)
  if (!defaultBranch) missing.push('the default branch (git does not know origin/HEAD): give --default-branch')
  const branch = v.branch ?? currentBranch(dir)
  if (!branch) missing.push('the branch (none checked out): give --branch')
  const mr = v['merge-request']
  if (mr !== undefined && !/^[1-9]\d{0,9}$/.test(mr)) missing.push(`--merge-request ${mr}: give the merge request's IID (a positive number)`)
  if (missing.length) throw new Error(`ci-local cannot determine ${missing.join('; ')}`)
  return {
    dir, jobs, extra: dashes >= 0 ? argv.slice(dashes + 1) : [],
    app: app!, project: project!, branch: branch!, defaultBranch: defaultBranch!,
    aud: v.aud, mergeRequest: mr === undefined ? undefined : Number(mr), copyNodeModules: v['copy-node-modules'] ?? false,
  }
}

/** The app's files a clone would have: tracked and untracked but not ignored (all files outside a git repository). */
function appFiles (dir: string): string[] {
  try {
    const out = execFileSync('git', [ 'ls-files', '-z', '--cached', '--others', '--exclude-standard' ], { cwd: dir, encoding: 'utf8', stdio: [ 'ignore', 'pipe', 'ignore' ] })
    return out.split('\0').filter(Boolean)
  }
  catch {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter(e => !e.isDirectory())
      .map(e => join(e.parentPath, e.name).slice(dir.length + 1))
  }
}

/** The origin the copy gets: the project on the app's GitLab (no user or token part), gitlab.com when the app has none. */
function remoteFor (o: CiLocalOptions): string {
  const url = originUrl(o.dir)
  const remote = url ? parseRemote(url) : undefined
  const server = remote?.gitlabUrl ?? (remote ? `https://${remote.host}` : 'https://gitlab.com')
  return `${server}/${o.project}.git`
}

/** This package's CI/CD component as the quick start includes it (any version), on an `include:` line. */
const COMPONENT_INCLUDE = /^(\s*-?\s*)component:\s*['"]?gitlab\.com\/arc-gitlab-oidc\/arc-plugin-gitlab-oidc\/arc-deploy@([^\s'"]+)['"]?\s*$/m
export const LOCAL_COMPONENT = '.gitlab-ci-local-arc-deploy.yml'

/**
 * gitlab-ci-local fetches a component from its GitLab, where this one is not until it is released
 * there: in the copy, the include of this package's component becomes a `local:` include (same
 * inputs) of the template the app has installed (node_modules/arc-plugin-gitlab-oidc/templates/,
 * else this repository's). Returns what it did, for the log; undefined when the pipeline has no such include.
 */
export function localComponent (app: string, copy: string): string | undefined {
  const file = join(copy, '.gitlab-ci.yml')
  const ci = existsSync(file) ? readFileSync(file, 'utf8') : ''
  const m = COMPONENT_INCLUDE.exec(ci)
  if (!m) return undefined
  const installed = join(app, 'node_modules', 'arc-plugin-gitlab-oidc', 'templates', 'arc-deploy.yml')
  const template = existsSync(installed) ? installed : join(ROOT, 'templates', 'arc-deploy.yml')
  writeFileSync(join(copy, LOCAL_COMPONENT), readFileSync(template))
  writeFileSync(file, ci.replace(COMPONENT_INCLUDE, `$1local: ${LOCAL_COMPONENT}`))
  return `the component arc-deploy@${m[2]} is included from ${existsSync(installed) ? 'the app\'s node_modules/arc-plugin-gitlab-oidc' : 'this repository'} (local:, same inputs)`
}

/** A copy of the app for the jobs: its files, a new git repository on the branch; node_modules only when asked. */
export function copyApp (o: CiLocalOptions, log: (line: string) => void = () => {}): string {
  const copy = realpathSync(mkdtempSync(join(tmpdir(), 'ci-local-')))
  for (const file of appFiles(o.dir)) {
    if (/^(node_modules|\.gitlab-ci-local|\.git)(\/|$)/.test(file) || !existsSync(join(o.dir, file))) continue
    mkdirSync(dirname(join(copy, file)), { recursive: true })
    cpSync(join(o.dir, file), join(copy, file), { verbatimSymlinks: true })
  }
  if (o.copyNodeModules && existsSync(join(o.dir, 'node_modules'))) {
    cpSync(realpathSync(join(o.dir, 'node_modules')), join(copy, 'node_modules'), { recursive: true, verbatimSymlinks: true })
  }
  const component = localComponent(o.dir, copy)
  if (component) log(component)
  initGitRepo(copy, { branch: o.branch, remote: remoteFor(o), defaultBranch: o.defaultBranch })
  return copy
}

/** What ci-local says about a job before running it (never a token). */
export function describePlan (p: JobPlan): string {
  if (p.skipped) return `${p.name}: ${p.skipped}`
  const tokens = Object.entries(p.idTokens).map(([ name, aud ]) => `${name} (aud ${[ aud ].flat().join(', ')})`)
  return `${p.name}: ${p.environment ? `environment ${p.environment.name} (tier ${p.environment.tier})` : 'no environment'}; `
    + (tokens.length ? `ID token ${tokens.join(', ')}` : 'no id_tokens: GitLab gives it no ID token')
}

/** The variables of one job's run: the pipeline's, its ID tokens (minted for its claims), the stand-ins' endpoints. */
function jobVariables (s: StandIns, o: CiLocalOptions, p: JobPlan, pipeline: Record<string, string>): Record<string, string> {
  const stage = p.environment?.tier === 'production' ? 'production' : 'staging'
  const yes = (b: boolean) => b ? 'true' as const : 'false' as const
  const claims: ClaimOverrides = {
    project_id: PROJECT_ID, ref: o.branch, ref_protected: yes(o.branch === o.defaultBranch && o.mergeRequest === undefined),
    pipeline_source: o.mergeRequest === undefined ? 'push' : 'merge_request_event',
    ...(p.environment ? { environment: p.environment.name, deployment_tier: p.environment.tier, environment_protected: yes(p.environment.tier === 'production') } : {}),
  }
  const omit = p.environment ? [] : [ 'environment', 'environment_protected', 'deployment_tier', 'environment_action' ]
  const tokens = Object.fromEntries(Object.entries(p.idTokens).map(([ name, aud ]) => [ name, s.job(claims, { aud, omit }).token ]))
  return {
    ...pipeline, ...tokens, AWS_ENDPOINT_URL: s.aws.endpoint, ARC_ROLE_ARN: s.roles[stage], ARC_PERMISSIONS_BOUNDARY: s.boundaries[stage],
  }
}

export interface CiLocalResult extends GitlabCiLocalResult {
  plans: JobPlan[]
  /** Each AWS call the stand-in answered: `service:Action status`. */
  awsCalls: string[]
  /** The tokens minted (for a leak check; never printed). */
  tokens: string[]
}

/** Plan the jobs in a copy of the app, run those GitLab would run against fresh stand-ins; the copy is removed. */
export async function ciLocal (
  o: CiLocalOptions, log: (line: string) => void = () => {}, machine: NodeJS.ProcessEnv = process.env,
): Promise<CiLocalResult> {
  const copy = copyApp(o, log)
  try {
    const plans = planJobs(copy, o.jobs, o)
    const result: CiLocalResult = { code: 0, stdout: '', stderr: '', output: '', timedOut: false, plans, awsCalls: [], tokens: [] }
    if (plans.some(p => p.skipped)) {
      for (const p of plans.filter(q => q.skipped)) log(describePlan(p))
      return { ...result, code: 1 }
    }
    for (const p of plans) log(describePlan(p))
    const audience = o.aud ?? plans[0]!.variables.CI_SERVER_URL!
    const s = await startStandIns({ appName: o.app, projectPath: o.project, defaultBranch: o.defaultBranch, audience })
    try {
      log(`stand-ins: GitLab ${s.gitlab.issuer}, AWS ${s.aws.endpoint}; ${o.project}, ${o.mergeRequest === undefined ? `branch ${o.branch}` : `merge request !${o.mergeRequest} from ${o.branch}`}`)
      const pipeline = pipelineFor(o)
      for (const p of plans) {
        const variables = jobVariables(s, o, p, pipeline.variables)
        result.tokens.push(...Object.keys(p.idTokens).map(name => variables[name]!))
        const r = await runGitlabCiLocal(copy, [ p.name, '--concurrency', '1', ...o.extra ], {
          variables, unset: pipeline.unset, env: { AWS_EC2_METADATA_DISABLED: 'true' }, machine, timeoutMs: 15 * 60_000,
        })
        Object.assign(result, {
          code: result.code || r.code, stdout: result.stdout + r.stdout, stderr: result.stderr + r.stderr,
          output: result.output + r.output, timedOut: result.timedOut || r.timedOut,
        })
        if (r.code !== 0) break
      }
      return { ...result, awsCalls: s.aws.calls.map(c => `${c.service}:${c.action} ${c.status}`) }
    }
    finally {
      await s.close()
    }
  }
  finally {
    rmSync(copy, { recursive: true, force: true })
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let o: CiLocalOptions | 'help'
  try {
    o = parseCiLocalArgs(process.argv.slice(2))
  }
  catch (err) {
    console.error(`ci-local: ${(err as Error).message}\n\n${CI_LOCAL_HELP}`)
    process.exit(2)
  }
  if (o === 'help') {
    process.stdout.write(CI_LOCAL_HELP)
    process.exit(0)
  }
  let r: CiLocalResult
  try {
    r = await ciLocal(o, line => console.error(`ci-local: ${line}`))
  }
  catch (err) {
    console.error(`ci-local: ${(err as Error).message}`)
    process.exit(1)
  }
  process.stdout.write(r.stdout)
  process.stderr.write(r.stderr)
  if (!r.plans.some(p => p.skipped)) console.error(`AWS stand-in calls: ${r.awsCalls.length ? r.awsCalls.join(', ') : 'none'}`)
  process.exitCode = r.code ?? 1
}
