/**
 * What every `arc-gitlab-oidc` command shares: its I/O (passed in, so tests run it without a
 * process), exit codes, usage errors and the one-line failure format.
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
}

export class UsageError extends Error {
  readonly command: string | undefined
  constructor (message: string, command?: string) {
    super(message)
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

export function fail (io: CliIo, message: string, more: string[] = []): void {
  // Architect's symbols and chalk, as every other message of the plugin.
  io.stderr(failure(message, more))
}
