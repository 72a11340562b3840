/**
 * Run a job of your own pipeline on this machine, against the loopback GitLab and AWS stand-ins:
 *
 *   node test/support/ci-local.ts --dir ../my-shop deploy-staging [--branch feature/x]
 *     [--environment staging] [--app my-shop] [--project acme/my-shop] [--default-branch main]
 *     [--aud https://gitlab.com] [--token-variable GITLAB_OIDC_TOKEN] [-- <gitlab-ci-local options>]
 *
 * It starts the stand-ins for the app (roles <app>-production-deploy / <app>-staging-deploy trusting
 * the project), mints the job's ID token (gitlab-ci-local does not) and passes it in as the
 * `id_tokens:` variable, and runs gitlab-ci-local (this project's devDependency) with the pitfalls
 * handled: the shell executor (`image:` needs no docker), `--concurrency 1` (gitlab-ci-local
 * ignores `resource_group`, so a review app's deploy and stop jobs would race), GITLAB_CI=true
 * given with `--ignore-predefined-vars GITLAB_CI` (gitlab-ci-local sets it false, and warns about an
 * override it was not told to ignore), and `rsync` from test/support/rsync.ts first on PATH
 * (the shell executor copies the project with it). AWS_ENDPOINT_URL, ARC_ROLE_ARN and
 * ARC_PERMISSIONS_BOUNDARY point the job at the stand-ins, whatever roles the manifest names.
 *
 * Defaults come from the app's repository: the @app name from its manifest, the project from the
 * origin remote, the branch checked out, the default branch from origin/HEAD; the environment is
 * production on the default branch, staging elsewhere. Exit code: gitlab-ci-local's; 2 for usage.
 */
import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { readManifest } from '../../src/plugin/manifest.ts'
import { originDefaultBranch, originUrl, parseRemote } from '../../src/cli/setup-sources.ts'
import { runGitlabCiLocal, type GitlabCiLocalResult } from './gitlab-ci-local.ts'
import { standInsJob, startStandInsFor, type StandInsCliOptions } from './standins.ts'

export interface CiLocalOptions extends StandInsCliOptions {
  dir: string
  jobs: string[]
  tokenVariable: string
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

/** The options, with the repository's defaults; throws an Error naming the flag for what it cannot find. */
export function parseCiLocalArgs (argv: string[], cwd = process.cwd()): CiLocalOptions {
  const { values: v, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      dir: { type: 'string' }, app: { type: 'string' }, project: { type: 'string' }, branch: { type: 'string' },
      'default-branch': { type: 'string' }, environment: { type: 'string' }, aud: { type: 'string' }, 'token-variable': { type: 'string' },
    },
  })
  const dashes = argv.indexOf('--')
  const extra = dashes >= 0 ? argv.slice(dashes + 1) : []
  const jobs = dashes >= 0 ? positionals.slice(0, positionals.length - extra.length) : positionals
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
  if (missing.length) throw new Error(`ci-local cannot determine ${missing.join('; ')}`)
  return {
    dir, jobs, extra, app: app!, project: project!, branch: branch!, defaultBranch: defaultBranch!,
    environment: v.environment ?? (branch === defaultBranch ? 'production' : 'staging'),
    aud: v.aud, tokenVariable: v['token-variable'] ?? 'GITLAB_OIDC_TOKEN',
  }
}

/** Run the jobs under gitlab-ci-local against fresh stand-ins; returns its result and the AWS calls made. */
export async function ciLocal (
  o: CiLocalOptions, log: (line: string) => void = () => {},
): Promise<GitlabCiLocalResult & { awsCalls: string[] }> {
  const s = await startStandInsFor(o)
  try {
    const job = standInsJob(s, o)
    log(`stand-ins: GitLab ${s.gitlab.issuer}, AWS ${s.aws.endpoint}; a ${job.stage} job of ${o.project} on ${o.branch}, environment ${o.environment}`)
    const r = await runGitlabCiLocal(o.dir, [ ...o.jobs, '--concurrency', '1', ...o.extra ], {
      variables: {
        GITLAB_CI: 'true',
        [o.tokenVariable]: job.token,
        AWS_ENDPOINT_URL: s.aws.endpoint,
        ARC_ROLE_ARN: job.env.ARC_ROLE_ARN!,
        ARC_PERMISSIONS_BOUNDARY: job.env.ARC_PERMISSIONS_BOUNDARY!,
      },
      env: { AWS_EC2_METADATA_DISABLED: 'true' },
      timeoutMs: 15 * 60_000,
    })
    return { ...r, awsCalls: s.aws.calls.map(c => `${c.service}:${c.action} ${c.status}`) }
  }
  finally {
    await s.close()
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let o: CiLocalOptions
  try {
    o = parseCiLocalArgs(process.argv.slice(2))
  }
  catch (err) {
    console.error(`ci-local: ${(err as Error).message}`)
    process.exit(2)
  }
  const r = await ciLocal(o, line => console.error(line))
  process.stdout.write(r.stdout)
  process.stderr.write(r.stderr)
  console.error(`AWS stand-in calls: ${r.awsCalls.length ? r.awsCalls.join(', ') : 'none'}`)
  process.exitCode = r.code ?? 1
}
