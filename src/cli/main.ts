#!/usr/bin/env node
/**
 * arc-gitlab-oidc: helpers for setting up arc-plugin-gitlab-oidc.
 *
 *   arc-gitlab-oidc trust-policy --project acme/shop --branch main --account 123456789012
 *   arc-gitlab-oidc doctor
 *   arc-gitlab-oidc setup
 *   arc-gitlab-oidc exec --stage production -- aws s3 sync public s3://my-bucket
 *
 * JSON goes to stdout (pipe it to a file or to `aws iam`), everything else to
 * stderr in the style of Architect's own CLI. Exit codes: 0 ok, 1 failure,
 * 2 usage error.
 */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { BIN, EXIT_OK, UsageError, parseErrorMessage, readVersion, report, type CliIo } from './io.ts'
import { TRUST_POLICY_HELP, trustPolicy } from './trust-policy.ts'
import { bare, keptSecrets, printableLines, scrubbing } from '../shared/redact.ts'

const MAIN_HELP = `Usage: ${BIN} <command> [options]

Helpers for arc-plugin-gitlab-oidc, which lets \`arc deploy\` in a GitLab CI/CD job
use the job's OIDC ID token instead of AWS keys.

Commands:
  trust-policy   Print the IAM trust policy (JSON) that lets this project's jobs
                 assume a role with their ID token
  doctor         Check a job's OIDC setup and say what would fail, and why
  setup          Print the AWS and GitLab setup for the app in this directory:
                 the IAM template command per account, @gitlab-oidc lines, CI include
  exec           Run a command with the deploy role's credentials (the deploy's own
                 checks and exchange): exec [--stage production] -- aws s3 sync ...
  help [command] Show help for a command

Options:
  -h, --help     Show this help
  --version      Print the version

Run '${BIN} help <command>' for a command's options.
`

async function runDoctor (args: readonly string[], io: CliIo): Promise<number> {
  const { doctor } = await import('./doctor.ts')
  return doctor([ ...args ], io)
}

async function runExec (args: readonly string[], io: CliIo): Promise<number> {
  const { exec, exitCodeOf } = await import('./exec.ts')
  const result = await exec(args, io)
  if (typeof result === 'number') return result
  if (result.signal) io.raise?.(result.signal)
  return exitCodeOf(result)
}

async function runSetup (args: readonly string[], io: CliIo): Promise<number> {
  const { setup } = await import('./setup.ts')
  return setup(args, io)
}

const COMMANDS = [ 'setup', 'trust-policy', 'doctor', 'exec', 'help' ] as const

function helpFor (command: string | undefined): string | undefined {
  if (command === undefined) return MAIN_HELP
  if (command === 'trust-policy') return TRUST_POLICY_HELP
  return undefined
}

/**
 * Run the CLI. `argv` is the arguments after the program name
 * (process.argv.slice(2)). Resolves to the exit code; never calls process.exit.
 */
export async function main (argv: readonly string[], given: CliIo): Promise<number> {
  // Everything the CLI prints passes through the redaction rule: the token (in a variable or
  // pasted as an argument), secret keys and anything JWT-shaped are described, never shown.
  const secrets = keptSecrets(given.env).list
  // And every line is made printable (controls, line separators, bidi controls escaped; JSON stays JSON).
  const io: CliIo = {
    ...given,
    stdout: scrubbing(text => given.stdout(printableLines(text)), secrets),
    stderr: scrubbing(text => given.stderr(printableLines(text)), secrets),
  }
  const [ first, ...rest ] = argv
  try {
    if (first === undefined) throw new UsageError('Expected a command', undefined, [ `Usage: ${BIN} <command> [options]`, `Commands: ${COMMANDS.join(', ')}` ])
    if (first.startsWith('-')) return await options(argv, io)
    switch (first) {
      case 'setup': return await runSetup(rest, io)
      case 'trust-policy': return await trustPolicy(rest, io)
      case 'doctor': return await runDoctor(rest, io)
      case 'exec': return await runExec(rest, io)
      case 'help': return await help(rest[0], io)
      default: throw new UsageError(`Unknown command: ${bare(first)}${suggest(first)}`)
    }
  }
  catch (err) {
    return report(io, err)
  }
}

/** `--version`, `--help [command]` (which reads as `help [command]`). */
async function options (argv: readonly string[], io: CliIo): Promise<number> {
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
  if (parsed.values.help) return help(parsed.positionals[0], io)
  throw new UsageError(`Expected a command before ${bare(argv[0] ?? '')}`)
}

async function help (topic: string | undefined, io: CliIo): Promise<number> {
  if (topic === 'doctor') return runDoctor([ '--help' ], io)
  if (topic === 'setup') return runSetup([ '--help' ], io)
  if (topic === 'exec') return runExec([ '--help' ], io)
  const text = helpFor(topic)
  if (text === undefined) throw new UsageError(`Unknown command: ${bare(topic ?? '')}`)
  io.stdout(text)
  return EXIT_OK
}

function suggest (word: string): string {
  const close = COMMANDS.find(c => c.startsWith(word.slice(0, 3)) || word.startsWith(c))
  return close ? ` (did you mean ${close}?)` : ''
}

/* ------------------------------------------------------------------------ */
/* bin entry                                                                 */
/* ------------------------------------------------------------------------ */

function isDirectRun (): boolean {
  const entry = process.argv[1]
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
    raise: signal => { process.kill(process.pid, signal) },
  })
}
