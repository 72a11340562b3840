/**
 * Output in the style of Architect's own CLI (its updater's symbols and colours):
 *   ⚬ GitLab OIDC <status>          ✓ GitLab OIDC <done>          × GitLab OIDC <failure>
 *     | label ....... value           (supporting lines)
 * Nothing here is given a token, a secret key or a session token to print.
 */
import { createRequire } from 'node:module'
import { assertedBy, audiences, type Claims } from '../shared/id-token.ts'
import type { Problem, Row } from '../shared/problem.ts'
import { MAX_SHOWN, isTime, printable, scrub } from '../shared/redact.ts'

const require = createRequire(import.meta.url)

interface Chalk { (s: string): string, red: Chalk, dim: Chalk, grey: Chalk, cyan: Chalk, yellow: Chalk }
const chalk = require('@architect/utils/chalk') as Chalk
const chars = require('@architect/utils/chars') as Record<'start' | 'done' | 'warn' | 'err', string>

export const NAME = 'GitLab OIDC'

/**
 * Every printed line goes through `printable` (src/shared/redact.ts): controls, separators and
 * bidi controls escaped, long values cut with their length. Row values are cut at MAX_SHOWN.
 */
export function rows (list: Row[], prefix = '  | '): string[] {
  const labels = list.map(([label]) => printable(label, 64))
  const width = Math.max(...labels.map(label => label.length)) + 2
  return list.map(([, value], i) => chalk.dim(`${prefix}${labels[i]!} ${'.'.repeat(width - labels[i]!.length)} `) + printable(value, MAX_SHOWN))
}

/** A claim as text, when it is a string or a finite number; anything else is not shown (checkClaims names it). */
export function claimText (value: unknown): string | undefined {
  if (typeof value === 'string') return value || undefined
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined
}

/** The claims a user needs to see to understand a denial; never user_email or other personal data. */
export function assertedRows (claims: Claims): Row[] {
  const list: Row[] = []
  const add = (label: string, value: unknown) => {
    const text = claimText(value)
    if (text !== undefined) list.push([label, text])
  }
  add('issuer', claims.iss)
  add('audience', audiences(claims).join(', '))
  add('subject', claims.sub)
  add('project', claims.project_path)
  if (claimText(claims.job_project_path) !== claimText(claims.project_path)) add('job project', claims.job_project_path)
  add('ref', claims.ref)
  add('ref type', claims.ref_type)
  add('ref protected', claims.ref_protected)
  const environment = claimText(claims.environment)
  add('environment', environment === undefined ? undefined : `${environment}${claims.environment_protected === 'true' ? ' (protected)' : ''}`)
  const pipeline = claimText(claims.pipeline_id), job = claimText(claims.job_id)
  add('pipeline / job', pipeline && job ? `${pipeline} / ${job}` : undefined)
  if (isTime(claims.exp)) add('expires', new Date(claims.exp * 1000).toISOString())
  return list
}

export function formatProblem (problem: Problem): string {
  const out = [`${chars.err} ${chalk.red(`${NAME}:`)} ${printable(problem.title)}`]
  if (problem.facts?.length) out.push(...rows(problem.facts))
  if (problem.claims) {
    out.push(chalk.dim(`  | ${assertedBy(problem.origin ?? 'gitlab')} (ID token claims):`))
    out.push(...rows(assertedRows(problem.claims), '  |   '))
  }
  out.push(chalk.dim('  | How to fix:'))
  for (const line of problem.fix) out.push(...line.split('\n').map(l => `  |   ${printable(l)}`))
  out.push(chalk.dim(`  | ${problem.footer ?? 'Architect was stopped before any AWS call.'}`))
  return scrub(out.join('\n'), problem.secrets ?? [])
}

export function status (message: string, facts: Row[] = []): string {
  return [`${chars.start} ${chalk.grey(NAME)} ${chalk.cyan(printable(message))}`, ...(facts.length ? rows(facts) : [])].join('\n')
}

export function done (message: string, facts: Row[] = []): string {
  return [`${chars.done} ${chalk.grey(NAME)} ${chalk.cyan(printable(message))}`, ...(facts.length ? rows(facts) : [])].join('\n')
}

/**
 * A failure (the CLI's commands): `× GitLab OIDC: <message>`, then its supporting lines, each as
 * a line (a message of several lines continues as supporting lines; no line break is escaped).
 */
export function failure (message: string, more: readonly string[] = []): string {
  const [first = '', ...rest] = message.split('\n')
  return [`${chars.err} ${chalk.red(`${NAME}:`)} ${printable(first)}`, ...[...rest, ...more].flatMap(l => l.split('\n')).map(l => `  | ${printable(l)}`)].join('\n')
}

export function warning (message: string, more: string[] = []): string {
  return [`${chars.warn} ${chalk.yellow(`${NAME} warning:`)} ${printable(message)}`, ...more.flatMap(l => l.split('\n')).map(l => chalk.dim(`  | ${printable(l)}`))].join('\n')
}

/**
 * Local time with its UTC offset, and UTC: "2026-11-26 15:04:05 +01:00 (UTC 2026-11-26T14:04:05Z)".
 * Plain Date arithmetic: the first Intl.DateTimeFormat of a process costs ~10 ms, on every deploy.
 */
export function bothTimes (date: Date, offsetMinutes = date.getTimezoneOffset()): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  const local = new Date(date.getTime() - offsetMinutes * 60_000)
  const east = -offsetMinutes
  const offset = `${east >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(east) / 60))}:${pad(Math.abs(east) % 60)}`
  const wall = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`
  return `${wall} ${offset} (UTC ${date.toISOString().replace(/\.\d{3}Z$/, 'Z')})`
}

/** A duration for people: "45 s", "12 min", "1.5 h" (expiry notes and warnings). */
export function humanDuration (seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${(s / 3600).toFixed(1)} h`
}
