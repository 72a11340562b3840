/**
 * configure-aws-credentials (aws-actions/configure-aws-credentials, GitHub's action for the same
 * exchange) as its users run it: its committed, esbuild-bundled `dist/index.js`, in a Node 22
 * process of its own, with the web-identity token in a file (its `web-identity-token-file`
 * input) and the loopback STS as its `sts-endpoint`. It is never a dependency of this project
 * and none of its code is in this repository: the bench uses a copy the person running it
 * has at hand, named by BENCH_CONFIGURE_AWS_CREDENTIALS, one of
 *  - the path of its `dist/index.js` (in a checkout, its package.json beside `dist/` gives the version);
 *  - a checkout of the repository (its `dist/index.js` is used);
 *  - a bare git directory of it (a mirror): `git show HEAD:dist/index.js` is extracted to a temp dir.
 * Without it, the comparison is skipped and the bench says so.
 *
 * What it does, as it does on GitHub: AssumeRoleWithWebIdentity (its own retries, 12 attempts
 * at most), then GetCallerIdentity signed with the new session (its credential check), then the
 * variables written to the GITHUB_ENV file. Each run is checked: exit 0, keys in GITHUB_ENV.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { cpuTimed, timed } from './util.ts'

export interface ConfigureAwsCredentials {
  /** The dist/index.js that runs. */
  script: string
  /** "6.2.3 (commit bcd4089)", or what is known of it. */
  version: string
  remove (): void
}

export const CONFIGURE_AWS_CREDENTIALS_HOWTO = 'BENCH_CONFIGURE_AWS_CREDENTIALS=<its dist/index.js, a checkout, or a bare git dir of aws-actions/configure-aws-credentials>'

/** The action named by BENCH_CONFIGURE_AWS_CREDENTIALS, or why there is none. */
export function findConfigureAwsCredentials (): ConfigureAwsCredentials | string {
  const chosen = process.env.BENCH_CONFIGURE_AWS_CREDENTIALS
  if (!chosen) return `not given: comparison skipped (${CONFIGURE_AWS_CREDENTIALS_HOWTO})`
  const path = resolve(chosen)
  if (!existsSync(path)) return `${path} does not exist: comparison skipped`
  const versionOf = (pkg: string | undefined, commit?: string) => {
    let version = 'unknown version'
    try { if (pkg) version = (JSON.parse(pkg) as { version?: string }).version ?? version }
    catch { /* no usable package.json */ }
    return commit ? `${version} (commit ${commit.slice(0, 7)})` : version
  }
  const read = (file: string) => existsSync(file) ? readFileSync(file, 'utf8') : undefined
  if (statSync(path).isFile()) return { script: path, version: versionOf(read(join(dirname(dirname(path)), 'package.json'))), remove: () => {} }
  if (existsSync(join(path, 'dist', 'index.js'))) return { script: join(path, 'dist', 'index.js'), version: versionOf(read(join(path, 'package.json'))), remove: () => {} }
  // A bare git directory (or any git dir): the committed dist bundle, extracted.
  const git = (...args: string[]) => spawnSync('git', [`--git-dir=${path}`, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  const bundle = git('show', 'HEAD:dist/index.js')
  if (bundle.status !== 0) return `${path} has no dist/index.js (${bundle.stderr.trim()}): comparison skipped`
  const dir = mkdtempSync(join(tmpdir(), 'arc-bench-caws-'))
  writeFileSync(join(dir, 'index.js'), bundle.stdout)
  const pkg = git('show', 'HEAD:package.json')
  return {
    script: join(dir, 'index.js'),
    version: versionOf(pkg.status === 0 ? pkg.stdout : undefined, git('rev-parse', 'HEAD').stdout.trim()),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** One run of the action in a fresh process; resolves to its wall and CPU times once its result is checked. */
export async function runConfigureAwsCredentials (
  node: string, action: ConfigureAwsCredentials, job: { token: string, sessionName: string },
  endpoint: string, roleArn: string, cpuProbe: string,
): Promise<{ wallMs: number, cpuMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'arc-bench-caws-run-'))
  try {
    const file = (name: string, text = '') => { writeFileSync(join(dir, name), text); return join(dir, name) }
    const env: Record<string, string> = {
      PATH: '/usr/bin:/bin',
      HOME: dir,
      LANG: 'C.UTF-8',
      AWS_EC2_METADATA_DISABLED: 'true',
      // What GitHub sets for every step (the action refuses to run without them) ...
      GITHUB_WORKSPACE: dir, GITHUB_REPOSITORY: 'acme/oidc-example', GITHUB_WORKFLOW: 'deploy', GITHUB_ACTION: 'configure-aws-credentials',
      GITHUB_ACTOR: 'developer', GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567', GITHUB_RUN_ID: '1', GITHUB_RUN_ATTEMPT: '1',
      GITHUB_ENV: file('github-env'), GITHUB_OUTPUT: file('github-output'), GITHUB_STATE: file('github-state'),
      // ... and its inputs, as `with:` passes them.
      'INPUT_AWS-REGION': 'us-west-2',
      'INPUT_ROLE-TO-ASSUME': roleArn,
      'INPUT_WEB-IDENTITY-TOKEN-FILE': file('token', job.token),
      'INPUT_ROLE-SESSION-NAME': job.sessionName,
      'INPUT_ROLE-DURATION-SECONDS': '3600',
      'INPUT_STS-ENDPOINT': endpoint,
    }
    const c = cpuTimed(cpuProbe, [action.script], env)
    const r = await timed(node, c.args, { cwd: dir, env: c.env })
    const cpuMs = c.read()
    const exported = readFileSync(env.GITHUB_ENV!, 'utf8')
    if (r.code !== 0 || !/^AWS_ACCESS_KEY_ID<<\S+\nASIA/m.test(exported) || !/^AWS_SESSION_TOKEN<</m.test(exported)) {
      throw new Error(`configure-aws-credentials (${action.script}) failed (exit ${r.code ?? r.signal})\n${r.stdout}\n${r.stderr}`)
    }
    return { wallMs: r.wallMs, cpuMs }
  }
  finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
