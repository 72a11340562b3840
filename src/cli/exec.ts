/**
 * `arc-gitlab-oidc exec [--stage staging|production] -- <command> [args...]`: the deploy's own
 * load-time flow (src/plugin/activate.ts: the preflight, the exchange, the hand-over), then one
 * command with the role's credentials in its environment only. Nothing is printed but what a
 * deploy prints (to stderr: the command's stdout stays its own); nothing is written to a file.
 * A refusal runs nothing, and the AWS SDK is not even loaded. The command's exit code is exec's;
 * a command killed by a signal kills exec with the same signal (or exec exits 128 + its number).
 */
import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import { parseArgs } from 'node:util'
import { detect } from '../plugin/detect.ts'
import { activate, type Outcome } from '../plugin/activate.ts'
import { PluginError } from '../shared/problem.ts'
import { bare, secretsOf, shown } from '../shared/redact.ts'
import { formatProblem } from '../report/format.ts'
import { CliError, EXIT_OK, UsageError, parseErrorMessage, type CliIo } from './io.ts'

export const EXEC_HELP = `Usage: arc-gitlab-oidc exec [--stage staging|production] -- <command> [args...]

Runs the checks and the exchange \`arc deploy\` runs in this job, then <command>
with the role's credentials in its environment (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION; AWS_REGION
when the job sets no region). The credentials are never printed or written to a
file; other steps of the job never see them.

Options:
  --stage STAGE   the stage whose role to assume, as \`arc deploy\` (staging) or
                  \`arc deploy --production\` (production) would (default: staging)
  -h, --help      show this help

Exit codes: the command's own; 1 when the plugin refuses (nothing is run),
2 usage error, 126/127 when the command cannot be run, 128 + n when it is
killed by signal n.`

/** What ran: the command's exit code, or the signal that ended it. */
export interface ChildExit { code: number | null, signal: NodeJS.Signals | null }

/** Starts the command with this environment, the job's stdin/stdout/stderr, and signals passed on. */
export type RunChild = (command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string) => Promise<ChildExit>

/** Signals a runner or a user sends to stop a job: passed on to the command, which decides. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']

export const runChild: RunChild = (command, args, env, cwd) => new Promise((resolve, reject) => {
  const child = spawn(command, args, { env, cwd, stdio: 'inherit' })
  const forward = (signal: NodeJS.Signals) => { child.kill(signal) }
  for (const s of FORWARDED) process.on(s, forward)
  const done = () => { for (const s of FORWARDED) process.off(s, forward) }
  child.once('error', err => { done(); reject(err) })
  child.once('exit', (code, signal) => { done(); resolve({ code, signal }) })
})

/** exec's exit code for how the command ended: its own code, or 128 + the signal's number. */
export function exitCodeOf ({ code, signal }: ChildExit): number {
  if (code !== null) return code
  const n = signal ? constants.signals[signal] : undefined
  return n ? 128 + n : 1
}

export async function exec (args: readonly string[], io: CliIo, run: RunChild = runChild): Promise<ChildExit | number> {
  const options = parse(args)
  if (!options) {
    io.stdout(EXEC_HELP)
    return EXIT_OK
  }
  const env: NodeJS.ProcessEnv = { ...io.env }
  const invocation = detect(env, ['node', 'arc', 'deploy', ...(options.stage === 'production' ? ['--production'] : [])])
  let outcome: Outcome
  try {
    // Everything the deploy prints goes to stderr: the command's stdout is the command's.
    outcome = await activate(invocation, { env, cwd: io.cwd, now: io.now, out: io.stderr, err: io.stderr })
  }
  catch (err) {
    if (!(err instanceof PluginError)) throw err
    io.stderr(formatProblem({ ...err.problem, footer: `${bare(options.command)} was not run.`, secrets: err.problem.secrets ?? secretsOf(io.env) }))
    return 1
  }
  if (outcome.kind === 'idle') {
    throw new CliError(`Nothing to exchange here, so ${bare(options.command)} was not run: ${outcome.reason}`, [
      'exec runs in a GitLab job (GITLAB_CI=true), or where AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE are set.',
    ])
  }
  if (outcome.kind === 'assumed' && !env.AWS_REGION && !env.AWS_DEFAULT_REGION) env.AWS_REGION = outcome.settings.region.value
  try { return await run(options.command, options.args, env, io.cwd) }
  catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const missing = code === 'ENOENT'
    throw new CliError(`${bare(options.command)} could not be run: ${missing ? 'command not found' : code ?? (err as Error).message}`, [], missing ? 127 : 126)
  }
}

interface Options { stage: 'staging' | 'production', command: string, args: string[] }

/** The options, or undefined for --help; the command is everything after `--`. */
function parse (args: readonly string[]): Options | undefined {
  const dashes = args.indexOf('--')
  const own = dashes === -1 ? [...args] : args.slice(0, dashes)
  let values
  try {
    ({ values } = parseArgs({
      args: own,
      options: { stage: { type: 'string', default: 'staging' }, help: { type: 'boolean', short: 'h', default: false } },
      strict: true,
      allowPositionals: false,
    }))
  }
  // parseArgs quotes the argument: a token pasted there is described, never shown.
  catch (err) { throw new UsageError(parseErrorMessage(err), 'exec') }
  if (values.help) return undefined
  if (values.stage !== 'staging' && values.stage !== 'production') throw new UsageError(`--stage must be staging or production, got ${shown(values.stage)}`, 'exec')
  const [command, ...rest] = dashes === -1 ? [] : args.slice(dashes + 1)
  if (!command) throw new UsageError('Expected a command after --: arc-gitlab-oidc exec -- aws s3 sync public s3://my-bucket', 'exec')
  return { stage: values.stage, command, args: rest }
}
