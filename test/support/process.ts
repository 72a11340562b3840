/**
 * Run a command in a process group of its own, collecting its output; at the timeout the whole
 * group is killed (arc and anything it spawned, gitlab-ci-local and its jobs' shells). Async, so
 * stand-ins in the test's own process keep answering meanwhile.
 */
import { spawn } from 'node:child_process'

export interface ProcessResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  durationMs: number
  timedOut: boolean
}

export function runProcessGroup (
  command: string, args: string[], opts: { cwd: string, env: Record<string, string>, timeoutMs: number },
): Promise<ProcessResult> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: [ 'ignore', 'pipe', 'pipe' ], detached: true })
    let stdout = '', stderr = '', timedOut = false
    child.stdout.setEncoding('utf8').on('data', d => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', d => { stderr += d })
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid!, 'SIGKILL')
      }
      catch { /* already gone */ }
    }, opts.timeoutMs)
    child.on('error', err => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, durationMs: Date.now() - started, timedOut })
    })
  })
}
