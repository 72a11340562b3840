/**
 * The `arc-gitlab-oidc` CLI run in-process, as the bin entry runs it, with its output captured
 * (colours stripped) and a fixed clock: for the CLI's unit tests (test/unit/cli/).
 */
import { main } from '../../src/cli/main.ts'
import type { CliIo } from '../../src/cli/io.ts'

// eslint-disable-next-line no-control-regex
const plain = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '')

export interface Run { code: number, stdout: string, stderr: string }

export async function run (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = {
    env,
    cwd: process.cwd(),
    stdout: s => { stdout += s },
    stderr: s => { stderr += `${s}\n` },
    now: () => new Date('2026-01-01T00:00:00Z'),
  }
  const code = await main(argv, io)
  return { code, stdout, stderr: plain(stderr) }
}
