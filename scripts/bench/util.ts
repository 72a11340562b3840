/**
 * Small helpers shared by the benchmarks: statistics, formatting, timed child processes.
 *
 * Every timed child is spawned asynchronously: the loopback stand-ins live in this process,
 * so a synchronous spawn would block the very server the child is talking to.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { ExchangeRequest } from '../../src/shared/sts.ts'

// ---------------------------------------------------------------------------- statistics

export function quantile (values: number[], q: number): number {
  if (!values.length) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

export const median = (values: number[]): number => quantile(values, 0.5)

/** "12.3 ms (IQR 11.9–13.0, n=40)": the median with its interquartile range, for the detail lines. */
export function describe (values: number[], unit = 'ms', digits = 1): string {
  return `${median(values).toFixed(digits)} ${unit} (IQR ${quantile(values, 0.25).toFixed(digits)}–${quantile(values, 0.75).toFixed(digits)}, n=${values.length})`
}

export const ms = (v: number, digits = 1): string => `${v.toFixed(digits)} ms`
export const signedMs = (v: number, digits = 1): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)} ms`
export const seconds = (vMs: number): string => `${(vMs / 1000).toFixed(2)} s`
export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`

/**
 * Run `variants` `runs` times each, interleaved: in round i the variants run one after the
 * other, starting with variant (i mod k), so none always goes first (or always runs on the
 * heels of another). One untimed warm-up round first (page cache, JIT of the stand-ins).
 */
export async function interleave<T> (
  runs: number,
  variants: Record<string, () => Promise<T>>,
  onRound?: (round: number) => void,
): Promise<Record<string, T[]>> {
  const names = Object.keys(variants)
  const results: Record<string, T[]> = Object.fromEntries(names.map(n => [n, [] as T[]]))
  for (const name of names) await variants[name]!()
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length]!
      results[name]!.push(await variants[name]!())
    }
    onRound?.(round)
  }
  return results
}

// ---------------------------------------------------------------------------- processes

export interface Timed {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Spawn to exit, as seen from here. */
  wallMs: number
}

/** Spawn a command with exactly `env` (nothing inherited), wait for it, time it from outside. */
export function timed (
  cmd: string, args: string[], opts: { cwd?: string, env: Record<string, string>, timeoutMs?: number },
): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', d => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', d => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
    child.on('error', err => { clearTimeout(timer); reject(err) })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, wallMs: performance.now() - started })
    })
  })
}

/**
 * Node arguments and environment that make a Node child report its CPU time (probes.ts's cpu.cjs),
 * and how to read it once the child has exited.
 */
export function cpuTimed (
  cpuProbe: string, args: string[], env: Record<string, string>,
): { args: string[], env: Record<string, string>, read (): number } {
  const dir = mkdtempSync(join(tmpdir(), 'arc-bench-cpu-'))
  const file = join(dir, 'cpu')
  return {
    args: [`--require=${cpuProbe}`, ...args],
    env: { ...env, BENCH_CPU_FILE: file },
    read: () => {
      try { return Number(readFileSync(file, 'utf8')) }
      finally { rmSync(dir, { recursive: true, force: true }) }
    },
  }
}

/** The `BENCH {...}` line a probe prints last (the plugin may print its own lines before). */
export function probeResult<T> (r: Timed, what: string): T {
  const line = r.stdout.split('\n').reverse().find(l => l.startsWith('BENCH '))
  if (r.code !== 0 || !line) {
    throw new Error(`${what} failed (exit ${r.code ?? r.signal})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`)
  }
  return JSON.parse(line.slice('BENCH '.length)) as T
}

/** Progress on stderr, so that stdout holds only the results. */
export function progress (text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`)
}
export function progressDone (): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K')
}

/** The session name the plugin gives a job's session: gitlab-<project>-<pipeline>-<job>. */
export const sessionNameOf = (claims: { project_id: string, pipeline_id: string, job_id: string }): string =>
  `gitlab-${claims.project_id}-${claims.pipeline_id}-${claims.job_id}`

/** The exchange request a deploy in the bench's simulated job sends (the plugin's defaults: 3600 s, 60 s bound, 5 attempts). */
export function exchangeRequest (job: { token: string, sessionName: string }, roleArn: string, endpoint: string): ExchangeRequest {
  return { token: job.token, roleArn, sessionName: job.sessionName, durationSeconds: 3600, region: 'us-west-2', timeoutMs: 60_000, maxAttempts: 5, endpoint }
}
