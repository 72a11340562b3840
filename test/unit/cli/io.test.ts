/**
 * What every `arc-gitlab-oidc` command shares (src/cli/io.ts): exit codes, the usage error,
 * the package version, Node's parse errors cut to one line, and the one-line failure format.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { stripVTControlCharacters as plain } from 'node:util'
import { BIN, CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, parseErrorMessage, readVersion, report, type CliIo } from '../../../src/cli/io.ts'

function capture (): { io: CliIo, stdout: string[], stderr: string[] } {
  const stdout: string[] = []
  const stderr: string[] = []
  const io: CliIo = { env: {}, cwd: process.cwd(), now: () => new Date(0), stdout: s => stdout.push(s), stderr: s => stderr.push(s) }
  return { io, stdout, stderr }
}

test('the exit codes the help texts promise: 0 ok, 1 failure, 2 usage', () => {
  assert.deepEqual([ EXIT_OK, EXIT_FAILURE, EXIT_USAGE ], [ 0, 1, 2 ])
  assert.equal(BIN, 'arc-gitlab-oidc')
})

test('the version is the package\'s own', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.equal(readVersion(), pkg.version)
})

test('a usage error names its command when there is one', () => {
  const err = new UsageError('--branch needs a value', 'trust-policy')
  assert.ok(err instanceof Error)
  assert.deepEqual([ err.name, err.message, err.command ], [ 'UsageError', '--branch needs a value', 'trust-policy' ])
  assert.equal(new UsageError('no command').command, undefined)
})

test('a parse error keeps its first line only', () => {
  assert.equal(parseErrorMessage(new Error("Unknown option '--x'. To specify a positional argument starting with a '-', place it at the end\nmore")),
    "Unknown option '--x'. To specify a positional argument starting with a '-', place it at the end")
})

test('report: every command\'s failure ends the same way: one message on stderr in Architect\'s style, its lines as lines, the exit code', () => {
  const usage = capture()
  assert.equal(report(usage.io, new UsageError('Unknown command: doctr (did you mean doctor?)')), EXIT_USAGE)
  assert.deepEqual(usage.stdout, [])
  assert.equal(usage.stderr.length, 1)
  assert.match(plain(usage.stderr[0]!), /^[×x] GitLab OIDC: Unknown command: doctr \(did you mean doctor\?\)\n {2}\| See: arc-gitlab-oidc help$/)

  // several lines print as lines (never an escaped line break), the command's help named last
  const lines = capture()
  assert.equal(report(lines.io, new UsageError('setup cannot determine, and does not guess:', 'setup', [ '--a: one', 'line two\nline three' ])), EXIT_USAGE)
  assert.equal(plain(lines.stderr[0]!).split('\n').slice(1).join('\n'), '  | --a: one\n  | line two\n  | line three\n  | See: arc-gitlab-oidc help setup')
  assert.ok(!lines.stderr[0]!.includes('\\u000a'))

  const failed = capture()
  assert.equal(report(failed.io, new CliError('The manifest cannot be read: x\ny')), EXIT_FAILURE)
  assert.equal(plain(failed.stderr[0]!).split('\n').length, 2)

  const bug = capture()
  assert.equal(report(bug.io, new TypeError('boom')), EXIT_FAILURE)
  assert.match(plain(bug.stderr[0]!), /Unexpected error: TypeError: boom$/)
})
