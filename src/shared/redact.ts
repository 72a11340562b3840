/**
 * The one rule for showing a value the user gave us (a CI variable, a pragma value, an argument,
 * a claim): a value that looks like a JWT is never shown, only described ("a JWT, 1,024
 * characters"); values known to be secret (the job's ID token, whatever its shape, AWS secret
 * keys and session tokens, GitLab's job token) are scrubbed from every message.
 *
 * A leaf module: it imports nothing but shared/ (the token variables' names), so plugin/, report/,
 * hooks/ and cli/ can all use it.
 */
import { DEFAULT_TOKEN_VARIABLE, GITLAB_AWS_TOKEN_VARIABLE, LEGACY_TOKEN_VARIABLE } from './id-token.ts'

/** Variables that carry a token or a secret, whatever their value looks like. */
export const SECRET_VARIABLES = [
  DEFAULT_TOKEN_VARIABLE, GITLAB_AWS_TOKEN_VARIABLE, 'CI_JOB_JWT', 'CI_JOB_JWT_V1', LEGACY_TOKEN_VARIABLE, 'CI_JOB_TOKEN',
  'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN',
  'CI_REGISTRY_PASSWORD', 'CI_DEPLOY_PASSWORD', 'CI_DEPENDENCY_PROXY_PASSWORD',
] as const

/** Shorter values are not scrubbed: they would erase ordinary words (and cannot be a real token). */
const MIN_SECRET_LENGTH = 8

/** Dot-separated runs of base64(url) characters (padding and `+/` tolerated), where a JWT may sit. */
const DOTTED_RUN = /[A-Za-z0-9_+/=-]+(?:\.[A-Za-z0-9_+/=-]*)+/g
/** The start of a JWT header (`{"`), even cut short or without dots. */
const HEADER_START = /eyJ[A-Za-z0-9_+/=-]{12,}(?:\.[A-Za-z0-9_+/=-]*)*/g

/** A value of an own, string-valued property (never an inherited one such as `constructor`). */
export function ownString (record: object, name: string): string | undefined {
  if (!Object.hasOwn(record, name)) return undefined
  const value = (record as Record<string, unknown>)[name]
  return typeof value === 'string' ? value : undefined
}

/** `1024` → `1,024`, without Intl (its first use costs ~10 ms). */
export function grouped (n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/**
 * Whether a base64url part is a JWT header: a JSON object with `alg` (a JWS; RFC 7515 requires
 * it) or `enc` (a JWE: 5 parts), or, cut short, the `eyJ` that `{"` encodes to.
 */
function headerKind (part: string): 'jws' | 'jwe' | undefined {
  if (part.length < 2) return undefined
  try {
    const value: unknown = JSON.parse(Buffer.from(part.replace(/=+$/, ''), 'base64url').toString('utf8'))
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      if (Object.hasOwn(value, 'enc')) return 'jwe'
      if (Object.hasOwn(value, 'alg')) return 'jws'
    }
  }
  catch { /* not JSON */ }
  return /^eyJ[A-Za-z0-9_-]{12,}/.test(part) ? 'jws' : undefined
}

function isJwtShaped (text: string): boolean {
  const parts = text.split('.')
  return parts.length >= 3 && parts.length <= 5 && headerKind(parts[0] as string) !== undefined
}

/** Whether a value is (or holds, after `Bearer ` or quotes) a JWT or the start of one. */
export function looksLikeJwt (value: string): boolean {
  const bare = value.trim().replace(/^bearer\s+/i, '').replace(/^["']|["']$/g, '')
  if (/^eyJ[A-Za-z0-9_+/=-]{12,}/.test(bare)) return true
  return isJwtShaped(bare)
}

/** What a secret is, without it: "a JWT, 1,024 characters". */
export function describeSecret (value: string): string {
  return `${looksLikeJwt(value) ? 'a JWT' : 'a secret value'}, ${grouped(value.length)} character${value.length === 1 ? '' : 's'}`
}

/** A dotted run with every JWT in it (after any prefix, even glued to `=` or `/`) described. */
function redactRun (run: string): string {
  const parts = run.split('.')
  const out: string[] = []
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string
    const glued = part.search(/[A-Za-z0-9_-]+$/)
    const at = [0, glued].find(a => a >= 0 && i + 2 < parts.length && headerKind(part.slice(a)) !== undefined)
    if (at === undefined) {
      out.push(part)
      continue
    }
    const size = headerKind(part.slice(at)) === 'jwe' && i + 4 < parts.length ? 5 : 3
    const token = [part.slice(at), ...parts.slice(i + 1, i + size)].join('.')
    out.push(`${part.slice(0, at)}[${describeSecret(token)}]`)
    i += size - 1
  }
  return out.join('.')
}

/** Every JWT-shaped run in free text replaced by its description. */
export function redact (text: string): string {
  return text
    .replace(DOTTED_RUN, redactRun)
    .replace(HEADER_START, match => `[${describeSecret(match)}]`)
}

/**
 * A value as a message shows it: quoted, on one line (control characters escaped, so a value
 * cannot forge lines of its own), JWT-shaped parts described; a JWT itself only described.
 */
export function shown (value: string): string {
  return looksLikeJwt(value) ? describeSecret(value) : `"${bare(value)}"`
}

/** As `shown`, unquoted (for paths and names in running text). */
export function bare (value: string): string {
  return looksLikeJwt(value) ? describeSecret(value) : redact(oneLine(value))
}

/**
 * looksLikeJwt of every environment value is asked at each line printed (the scrubbing output
 * functions ask secretsOf each time, so secrets issued meanwhile are covered); a job's ~150
 * values are the same each time, so the answers are kept (~1 ms a line otherwise). Bounded.
 */
const jwtAnswers = new Map<string, boolean>()
function looksLikeJwtKept (value: string): boolean {
  let answer = jwtAnswers.get(value)
  if (answer === undefined) {
    answer = looksLikeJwt(value)
    if (jwtAnswers.size >= 4096) jwtAnswers.clear()
    jwtAnswers.set(value, answer)
  }
  return answer
}

/** The secret values in an environment: known variables, any JWT-shaped value, and `extra`. */
export function secretsOf (env: object, extra: ReadonlyArray<string | undefined> = []): string[] {
  const found = new Set<string>()
  const add = (value: string | undefined) => {
    const v = value?.trim()
    if (v && v.length >= MIN_SECRET_LENGTH) found.add(v)
  }
  for (const name of SECRET_VARIABLES) add(ownString(env, name))
  const named = ownString(env, 'ARC_OIDC_TOKEN_VARIABLE')?.trim()
  if (named) add(ownString(env, named))
  for (const name of Object.keys(env)) {
    const value = ownString(env, name)
    if (value && looksLikeJwtKept(value)) add(value)
  }
  for (const value of extra) add(value)
  // Longest first, so a secret that contains another is scrubbed whole.
  return [...found].sort((a, b) => b.length - a.length)
}

/** Text with every secret (and everything JWT-shaped) replaced by its description. */
export function scrub (text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(`[${describeSecret(secret)}]`)
  }
  return redact(out)
}

/** An output function that scrubs what passes through it; `secrets` is asked at each call. */
export function scrubbing (write: (text: string) => void, secrets: () => readonly string[]): (text: string) => void {
  return text => write(scrub(text, secrets()))
}

/** Text on one line: line breaks and other control characters escaped (a value cannot forge lines of a message). */
export function oneLine (text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, c => c === '\t' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** A time claim a message can show: a finite number of seconds that a Date can hold (±8.64e12). */
export function isTime (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= 8.64e12
}
