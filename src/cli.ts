#!/usr/bin/env node
/**
 * arc-gitlab-oidc: helpers for setting up arc-plugin-gitlab-oidc.
 *
 *   arc-gitlab-oidc trust-policy --project acme/shop --branch main --account 123456789012
 *   arc-gitlab-oidc doctor
 *
 * JSON goes to stdout (pipe it to a file or to `aws iam`), everything else to
 * stderr in the style of Architect's own CLI. Exit codes: 0 ok, 1 failure,
 * 2 usage error.
 */
import { readFileSync, realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { done, warning } from './report.ts'
import {
  buildTrustPolicy,
  DEFAULT_ISSUER,
  ENVIRONMENT_EXPLANATION,
  normalizeIssuer,
  TrustPolicyError,
  type TrustPolicy,
  type TrustPolicyOptions,
} from './trust-policy.ts'

export const BIN = 'arc-gitlab-oidc'

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** Everything the CLI touches, so tests can run it without a process. */
export interface CliIo {
  env: NodeJS.ProcessEnv
  cwd: string
  stdout: (s: string) => void
  stderr: (s: string) => void
  now: () => Date
}

const ERR = process.platform.startsWith('win') ? 'x' : '×'
const red = (s: string): string => (colorOn() ? `\u001b[31m${s}\u001b[39m` : s)
function colorOn (): boolean {
  let env = process.env
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0'
  return process.stderr.isTTY === true
}

class UsageError extends Error {
  readonly command: string | undefined
  constructor (message: string, command?: string) {
    super(message)
    this.name = 'UsageError'
    this.command = command
  }
}

const MAIN_HELP = `Usage: ${BIN} <command> [options]

Helpers for arc-plugin-gitlab-oidc, which lets \`arc deploy\` in a GitLab CI/CD job
use the job's OIDC ID token instead of AWS keys.

Commands:
  trust-policy   Print the IAM trust policy (JSON) that lets this project's jobs
                 assume a role with their ID token
  doctor         Check a job's OIDC setup and say what would fail, and why
  help [command] Show help for a command

Options:
  -h, --help     Show this help
  --version      Print the version

Run '${BIN} help <command>' for a command's options.
`

const TRUST_POLICY_HELP = `Usage: ${BIN} trust-policy --project <group/project> (--branch <name> | --tag <name> | --any-ref)
                    (--account <id> | --role-arn <arn>) [options]

Print the IAM role trust policy (JSON, on stdout) that allows GitLab CI/CD jobs of a
project to call sts:AssumeRoleWithWebIdentity with their ID token. The policy names the
account's IAM OIDC provider for the GitLab instance and tests the token's aud and sub
claims; GitLab's sub is project_path:<group>/<project>:ref_type:<branch|tag>:ref:<name>.

Options:
  --project <path>     GitLab project path, e.g. acme/web/shop         [job: $CI_PROJECT_PATH]
  --branch <name>      A branch that may assume the role; repeatable. * and ? are
                       wildcards: --branch '*' is any branch, --branch 'release/*'
                                                                [job: $CI_DEFAULT_BRANCH]
  --tag <name>         A tag that may assume the role; repeatable; e.g. --tag 'v*'
  --any-ref            Any branch or tag of the project
  --environment <name> Not supported by AWS: a trust policy cannot test GitLab's
                       environment claim (exits 2 with the explanation)
  --account <id>       12-digit AWS account ID that holds the OIDC provider
  --role-arn <arn>     Take the account (and partition) from the role's ARN
  --partition <name>   aws, aws-cn or aws-us-gov                         [default: aws]
  --issuer <url>       GitLab instance URL, the tokens' iss  [job: $CI_SERVER_URL, else ${DEFAULT_ISSUER}]
  --audience <aud>     The aud your jobs request in id_tokens:            [default: the issuer URL]
  -h, --help           Show this help

Inside a GitLab job (GITLAB_CI=true) the values marked [job: ...] default to GitLab's
predefined variables; the default branch is used only when no --branch, --tag or
--any-ref is given.

Examples:
  ${BIN} trust-policy --project acme/shop --branch main --account 123456789012 > trust.json
  ${BIN} trust-policy --project acme/shop --branch '*' --role-arn arn:aws:iam::123456789012:role/shop-staging
  ${BIN} trust-policy --project acme/shop --tag 'v*' --account 123456789012 --issuer https://git.example.com
`

function readVersion (): string {
  try {
    let pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown }
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  }
  catch {
    return 'unknown'
  }
}

function parseErrorMessage (err: unknown): string {
  let message = err instanceof Error ? err.message : String(err)
  // Node's messages mention `args`/`tokens` internals at times; keep the first sentence.
  return message.split('\n')[0] ?? message
}

function fail (io: CliIo, message: string, more: string[] = []): void {
  io.stderr([ `${ERR} ${red('GitLab OIDC:')} ${message}`, ...more.map(l => `  | ${l}`) ].join('\n'))
}

/* ------------------------------------------------------------------------ */
/* trust-policy                                                              */
/* ------------------------------------------------------------------------ */

export interface TrustPolicyCommand {
  options: TrustPolicyOptions
  /** Which options were filled from GitLab's predefined variables. */
  fromJob: string[]
}

/** Parse `trust-policy` arguments and apply the job's defaults; throws UsageError. */
export function parseTrustPolicyArgs (args: readonly string[], env: NodeJS.ProcessEnv): TrustPolicyCommand & { help: boolean } {
  let parsed
  try {
    parsed = parseArgs({
      args: [ ...args ],
      allowPositionals: false,
      strict: true,
      options: {
        project: { type: 'string' },
        branch: { type: 'string', multiple: true },
        tag: { type: 'string', multiple: true },
        environment: { type: 'string', multiple: true },
        'any-ref': { type: 'boolean' },
        account: { type: 'string' },
        'role-arn': { type: 'string' },
        partition: { type: 'string' },
        issuer: { type: 'string' },
        audience: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  }
  catch (err) {
    throw new UsageError(parseErrorMessage(err), 'trust-policy')
  }
  let v = parsed.values
  let help = v.help === true
  let inJob = env.GITLAB_CI === 'true'
  let fromJob: string[] = []
  let nonEmpty = (s: string | undefined): s is string => typeof s === 'string' && s !== ''

  let project = v.project
  if (project === undefined && inJob && nonEmpty(env.CI_PROJECT_PATH)) {
    project = env.CI_PROJECT_PATH
    fromJob.push('project (CI_PROJECT_PATH)')
  }
  let issuer = v.issuer
  if (issuer === undefined && inJob && nonEmpty(env.CI_SERVER_URL)) {
    issuer = env.CI_SERVER_URL
    fromJob.push('issuer (CI_SERVER_URL)')
  }
  let branches = v.branch ?? []
  let tags = v.tag ?? []
  let anyRef = v['any-ref'] === true
  if (!branches.length && !tags.length && !anyRef && inJob && nonEmpty(env.CI_DEFAULT_BRANCH)) {
    branches = [ env.CI_DEFAULT_BRANCH ]
    fromJob.push('branch (CI_DEFAULT_BRANCH)')
  }

  if (!help) {
    if (v.environment?.length) {
      throw new UsageError(`--environment cannot be honoured. ${ENVIRONMENT_EXPLANATION}`, 'trust-policy')
    }
    if (anyRef && ((v.branch ?? []).length || (v.tag ?? []).length)) {
      throw new UsageError('--any-ref already matches every branch and tag: drop --branch and --tag, or --any-ref', 'trust-policy')
    }
    if (project === undefined) {
      throw new UsageError('--project <group/project> is required (outside a GitLab job there is no CI_PROJECT_PATH to default to)', 'trust-policy')
    }
    if (!branches.length && !tags.length && !anyRef) {
      throw new UsageError('Say which refs may assume the role: --branch <name>, --tag <name> or --any-ref', 'trust-policy')
    }
    if (v.account === undefined && v['role-arn'] === undefined) {
      throw new UsageError('--account <12-digit id> or --role-arn <arn> is required: the policy must name the account\'s OIDC provider', 'trust-policy')
    }
  }

  let options: TrustPolicyOptions = {
    project: project ?? '',
    branches,
    tags,
    environments: v.environment ?? [],
    anyRef,
    ...(v.account !== undefined ? { account: v.account } : {}),
    ...(v['role-arn'] !== undefined ? { roleArn: v['role-arn'] } : {}),
    ...(v.partition !== undefined ? { partition: v.partition } : {}),
    ...(issuer !== undefined ? { issuer } : {}),
    ...(v.audience !== undefined ? { audience: v.audience } : {}),
  }
  return { options, fromJob, help }
}

function describeRefs (options: TrustPolicyOptions): string {
  if (options.anyRef) return 'any branch or tag'
  let parts: string[] = []
  let b = options.branches ?? []
  let t = options.tags ?? []
  if (b.length) parts.push(`${b.length === 1 ? 'branch' : 'branches'} ${b.join(', ')}`)
  if (t.length) parts.push(`${t.length === 1 ? 'tag' : 'tags'} ${t.join(', ')}`)
  return parts.join('; ')
}

function summary (policy: TrustPolicy, command: TrustPolicyCommand): string[] {
  let { options, fromJob } = command
  let issuer = normalizeIssuer(options.issuer ?? DEFAULT_ISSUER)
  let first = policy.Statement[0]
  let audience = options.audience ?? issuer.url
  let facts: [string, string][] = [
    [ 'provider', first?.Principal.Federated ?? '' ],
    [ 'audience', `${audience} (must equal the aud of the job's id_tokens entry)` ],
  ]
  if (fromJob.length) facts.push([ 'from this job', fromJob.join(', ') ])
  let out = [ done(`Trust policy for ${options.project}: ${describeRefs(options)}`, facts) ]

  let broad = options.anyRef || (options.branches ?? []).some(b => b.includes('*') || b.includes('?'))
  if (broad) {
    out.push(warning('this role can be assumed from branches that are not protected, i.e. by anyone who can push to the project.',
      [ 'Give such a role only what a staging deploy needs; keep production on a role pinned to protected branches.' ]))
  }
  else if ((options.branches ?? []).length) {
    out.push(warning('AWS cannot see whether a branch is protected: protect these branches in GitLab (Settings > Repository > Protected branches).'))
  }
  return out
}

async function trustPolicy (args: readonly string[], io: CliIo): Promise<number> {
  let command = parseTrustPolicyArgs(args, io.env)
  if (command.help) {
    io.stdout(TRUST_POLICY_HELP)
    return EXIT_OK
  }
  let policy: TrustPolicy
  try {
    policy = buildTrustPolicy(command.options)
  }
  catch (err) {
    if (err instanceof TrustPolicyError) throw new UsageError(err.message, 'trust-policy')
    throw err
  }
  io.stdout(`${JSON.stringify(policy, null, 2)}\n`)
  io.stderr(summary(policy, command).join('\n'))
  return EXIT_OK
}

/* ------------------------------------------------------------------------ */
/* doctor                                                                    */
/* ------------------------------------------------------------------------ */

async function runDoctor (args: readonly string[], io: CliIo): Promise<number> {
  let { doctor } = await import('./doctor.ts')
  return doctor([ ...args ], io)
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

const COMMANDS = [ 'trust-policy', 'doctor', 'help' ] as const

function helpFor (command: string | undefined): string | undefined {
  if (command === undefined) return MAIN_HELP
  if (command === 'trust-policy') return TRUST_POLICY_HELP
  return undefined
}

/**
 * Run the CLI. `argv` is the arguments after the program name
 * (process.argv.slice(2)). Resolves to the exit code; never calls process.exit.
 */
export async function main (argv: readonly string[], io: CliIo): Promise<number> {
  let [ first, ...rest ] = argv
  try {
    if (first === undefined) {
      io.stderr(MAIN_HELP)
      return EXIT_USAGE
    }
    if (first.startsWith('-')) {
      let parsed
      try {
        parsed = parseArgs({
          args: [ ...argv ],
          strict: true,
          allowPositionals: true,
          options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
        })
      }
      catch (err) {
        throw new UsageError(parseErrorMessage(err))
      }
      if (parsed.values.version) {
        io.stdout(`${readVersion()}\n`)
        return EXIT_OK
      }
      if (parsed.values.help) {
        // `--help trust-policy` reads as `help trust-policy`.
        let topic = parsed.positionals[0]
        if (topic === 'doctor') return await runDoctor([ '--help' ], io)
        let text = helpFor(topic)
        if (text === undefined) throw new UsageError(`Unknown command: ${topic}`)
        io.stdout(text)
        return EXIT_OK
      }
      throw new UsageError(`Expected a command before ${first}`)
    }
    switch (first) {
      case 'trust-policy':
        return await trustPolicy(rest, io)
      case 'doctor':
        return await runDoctor(rest, io)
      case 'help': {
        let topic = rest[0]
        if (topic === 'doctor') return await runDoctor([ '--help' ], io)
        let text = helpFor(topic)
        if (text === undefined) throw new UsageError(`Unknown command: ${topic}`)
        io.stdout(text)
        return EXIT_OK
      }
      default:
        throw new UsageError(`Unknown command: ${first}${suggest(first)}`)
    }
  }
  catch (err) {
    if (err instanceof UsageError) {
      let hint = err.command ? `${BIN} help ${err.command}` : `${BIN} help`
      fail(io, err.message, [ `See: ${hint}` ])
      return EXIT_USAGE
    }
    fail(io, err instanceof Error ? err.message : String(err))
    return EXIT_FAILURE
  }
}

function suggest (word: string): string {
  let close = COMMANDS.find(c => c.startsWith(word.slice(0, 3)) || word.startsWith(c))
  return close ? ` (did you mean ${close}?)` : ''
}

/* ------------------------------------------------------------------------ */
/* bin entry                                                                 */
/* ------------------------------------------------------------------------ */

function isDirectRun (): boolean {
  let entry = process.argv[1]
  if (!entry) return false
  try {
    // npm's bin shims are symlinks: compare real paths.
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))
  }
  catch {
    return false
  }
}

if (isDirectRun()) {
  process.exitCode = await main(process.argv.slice(2), {
    env: process.env,
    cwd: process.cwd(),
    stdout: s => { process.stdout.write(s.endsWith('\n') ? s : `${s}\n`) },
    stderr: s => { process.stderr.write(s.endsWith('\n') ? s : `${s}\n`) },
    now: () => new Date(),
  })
}
