/**
 * What every `arc-gitlab-oidc` command shares: its I/O (passed in, so tests run it without a
 * process), exit codes, and the one way a command fails: it throws CliError (UsageError for
 * wrong arguments), and main.ts prints it, lines as lines, and exits with its code.
 */
import { readFileSync } from 'node:fs'
import { oneLine, redact } from '../shared/redact.ts'
import { failure } from '../report/format.ts'

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
  /** Ends this process with a signal (exec: a command killed by a signal kills exec the same way); absent in tests. */
  raise?: (signal: NodeJS.Signals) => void
}

/** A command that cannot go on: its one message, its supporting lines, and the exit code. */
export class CliError extends Error {
  readonly lines: readonly string[]
  readonly exitCode: number
  constructor (message: string, lines: readonly string[] = [], exitCode = EXIT_FAILURE) {
    super(message)
    this.name = 'CliError'
    this.lines = lines
    this.exitCode = exitCode
  }
}

/** Wrong arguments (exit 2); `command` names the help page to see. */
export class UsageError extends CliError {
  readonly command: string | undefined
  constructor (message: string, command?: string, lines: readonly string[] = []) {
    super(message, lines, EXIT_USAGE)
    this.name = 'UsageError'
    this.command = command
  }
}

export function readVersion (): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  }
  catch {
    return 'unknown'
  }
}

export function parseErrorMessage (err: unknown): string {
  const message = err instanceof Error ? err.message : 'invalid arguments'
  // Node's messages mention `args`/`tokens` internals at times; keep the first sentence.
  // They quote the argument: a token pasted there is described, never shown.
  return redact(oneLine(message.split('\n')[0] ?? message))
}

/** How main.ts ends a command that threw: the message and its lines (Architect's symbols), the exit code. */
export function report (io: CliIo, err: unknown): number {
  if (err instanceof UsageError) {
    io.stderr(failure(err.message, [...err.lines, `See: ${BIN} help${err.command ? ` ${err.command}` : ''}`]))
    return err.exitCode
  }
  if (err instanceof CliError) {
    io.stderr(failure(err.message, [...err.lines]))
    return err.exitCode
  }
  io.stderr(failure(err instanceof Error ? `Unexpected error: ${err.name}: ${err.message}` : 'Unexpected error'))
  return EXIT_FAILURE
}
