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

/**
 * Runs of base64(url) characters and dots, where a JWT may sit. One character class, so the scan
 * is linear: a long run without dots is passed over once (a run pattern that demands a dot
 * retried it from every position: seconds for 100,000 characters).
 */
const RUN = /[A-Za-z0-9_+/=.-]+/g
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

/** Where the trailing run of base64url characters of `part` starts (-1 when it has none). */
function base64urlTail (part: string): number {
  let at = part.length
  while (at > 0 && /[A-Za-z0-9_-]/.test(part[at - 1] as string)) at--
  return at === part.length ? -1 : at
}

/** A dotted run with every JWT in it (after any prefix, even glued to `=` or `/`) described. */
function redactRun (run: string): string {
  const parts = run.split('.')
  const out: string[] = []
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string
    const glued = base64urlTail(part)
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
    .replace(RUN, run => run.includes('.') ? redactRun(run) : run)
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
  return looksLikeJwt(value) ? describeSecret(value) : redact(printable(value, MAX_SHOWN))
}

/**
 * The secret values in an environment, once (doctor's report, a failure's message): known
 * variables, any JWT-shaped value of any variable, and `extra`.
 */
export function secretsOf (env: object, extra: ReadonlyArray<string | undefined> = []): string[] {
  const kept = keep(env)
  for (const value of Object.values(env)) {
    if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH && looksLikeJwt(value)) kept.add(value)
  }
  for (const value of extra) kept.add(value)
  return [...kept.list()]
}

/** A secret set kept for a run: `list` is what every printed line is scrubbed with. */
export interface KeptSecrets {
  /** A secret found later (the job's token, wherever it was read from). */
  add: (value: string | undefined) => void
  /** The secrets, longest first; the known variables re-read (credentials issued meanwhile). */
  list: () => readonly string[]
}

/**
 * The environment's secrets for a run's output, independent of the environment's size: the known
 * secret variables (a dozen names, re-read at each `list`, so credentials issued meanwhile are
 * covered) and what is added (the job's token, wherever it was read from). The values of other
 * variables are not looked at: anything JWT-shaped is described by `redact` wherever it appears
 * (a job's 100,000 variables cost nothing per line, and nothing up front). The sorted list is
 * rebuilt only when the set changed. One keeper per environment object.
 */
export function keptSecrets (env: object): KeptSecrets {
  let kept = keepers.get(env)
  if (!kept) keepers.set(env, kept = keep(env))
  return kept
}

/** One keeper per environment object: the plugin's hooks and its load-time flow share it. */
const keepers = new WeakMap<object, KeptSecrets>()

function keep (env: object): KeptSecrets {
  const found = new Set<string>()
  let sorted: string[] = []
  let changed = true
  const add = (value: string | undefined) => {
    const v = value?.trim()
    if (v && v.length >= MIN_SECRET_LENGTH && !found.has(v)) {
      found.add(v)
      changed = true
    }
  }
  const named = () => {
    for (const name of SECRET_VARIABLES) add(ownString(env, name))
    const variable = ownString(env, 'ARC_OIDC_TOKEN_VARIABLE')?.trim()
    if (variable) add(ownString(env, variable))
  }
  return {
    add,
    list: () => {
      named()
      // Longest first, so a secret that contains another is scrubbed whole.
      if (changed) sorted = [...found].sort((x, y) => y.length - x.length)
      changed = false
      return sorted
    },
  }
}

/** Text with every secret (and everything JWT-shaped) replaced by its description. */
export function scrub (text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(`[${describeSecret(secret)}]`)
  }
  if (secrets.length && out.includes(CUT_MARK)) out = scrubCutTails(out, secrets)
  return redact(out)
}

/** What `clip` puts after a cut value. */
const CUT_MARK = '… ['
const CUT = /(… \[[\d,]+ characters, cut\])/

/** The start of a secret left just before a cut (`clip` cut a value inside it) is scrubbed too. */
function scrubCutTails (text: string, secrets: readonly string[]): string {
  const pieces = text.split(CUT)
  for (let i = 0; i + 1 < pieces.length; i += 2) {
    for (const secret of secrets) {
      const piece = pieces[i] as string
      const tail = piece.slice(-secret.length)
      let at = tail.indexOf(secret.slice(0, MIN_SECRET_LENGTH))
      while (at >= 0 && !secret.startsWith(tail.slice(at))) at = tail.indexOf(secret.slice(0, MIN_SECRET_LENGTH), at + 1)
      if (at >= 0) pieces[i] = `${piece.slice(0, piece.length - tail.length + at)}[${describeSecret(secret)}]`
    }
  }
  return pieces.join('')
}

/** An output function that scrubs what passes through it; `secrets` is asked at each call (keep it cheap: keptSecrets). */
export function scrubbing (write: (text: string) => void, secrets: () => readonly string[]): (text: string) => void {
  return text => write(scrub(text, secrets()))
}

/**
 * What a terminal must not be handed raw: C0 controls and DEL (line breaks, escape sequences), C1
 * controls (U+0080–U+009F, NEL U+0085 among them: a line break to some terminals and editors),
 * the Unicode line and paragraph separators, and the bidirectional controls (U+061C, U+200E/F,
 * U+202A–U+202E, U+2066–U+2069), which reorder what a reader sees (a "Trojan Source" line).
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** Text on one line: line breaks and other control characters escaped (a value cannot forge lines of a message, or reorder them). */
export function oneLine (text: string): string {
  return text.replace(UNPRINTABLE, c => c === '\t' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Colour sequences (SGR, as chalk writes them): the only escape sequences `printableLines` passes. */
const SGR_OR_UNPRINTABLE = new RegExp(`\\u001b\\[[0-9;]{0,16}m|${UNPRINTABLE.source}`, 'g')

/**
 * Whole output, line by line (the last pass before a terminal: the plugin's and the CLI's every
 * write): each line's unprintable characters escaped as `oneLine` does, colour sequences kept.
 */
export function printableLines (text: string): string {
  return text.split('\n').map(line => line.replace(SGR_OR_UNPRINTABLE, c => c.length > 1 ? c : oneLine(c))).join('\n')
}

/** Values longer than this are shown cut, with their length (a 1 MB argument is not echoed whole). */
export const MAX_SHOWN = 512
/** A printed line longer than this (its values already cut) is cut too. */
export const MAX_LINE = 4096

/** Text cut to `max` characters (never inside a surrogate pair), saying how long it was. */
export function clip (text: string, max = MAX_SHOWN): string {
  if (text.length <= max) return text
  const at = /[\ud800-\udbff]/.test(text[max - 1] as string) ? max - 1 : max
  return `${text.slice(0, at)}… [${grouped(text.length)} characters, cut]`
}

/** The one escaping rule for a printed line (titles, rows, warnings, status lines, the CLI's): cut, then made one line. */
export function printable (text: string, max = MAX_LINE): string {
  return oneLine(clip(text, max))
}

/** A time claim a message can show: a finite number of seconds that a Date can hold (±8.64e12). */
export function isTime (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= 8.64e12
}
