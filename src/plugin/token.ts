/**
 * Step 3: find the job's ID token and check it before anything is sent to AWS.
 * Only the token's *claims* are ever shown to the user; the token itself never is.
 */
import type { Stats } from 'node:fs'
import { fileVariable } from './setting-sources.ts'
import { describeSource, type Setting } from '../shared/setting-source.ts'
import { bare, describeSecret, grouped, isTime, looksLikeJwt, ownString, redact } from '../shared/redact.ts'
import { DEFAULT_TOKEN_VARIABLE, GITLAB_AWS_TOKEN_VARIABLE, LEGACY_TOKEN_VARIABLE, audiences, type Claims } from '../shared/id-token.ts'
import { humanDuration } from '../report/format.ts'
import { fs } from '../shared/builtins.ts'

/** Clock skew tolerated on `exp`, `nbf` and `iat`, as AWS and most verifiers do. */
export const SKEW_SECONDS = 60

export interface FoundToken {
  token: string
  /** Where it was found, e.g. "CI variable GITLAB_OIDC_TOKEN" or "file named by AWS_WEB_IDENTITY_TOKEN_FILE". */
  source: string
  /** The CI variable that held it, when a variable did (not a file). */
  variable?: string
  legacy: boolean
}

export class TokenError extends Error {
  /** The fix, when this error has its own (else the caller's default). */
  readonly fix: string[] | undefined
  constructor (message: string, fix?: string[]) {
    super(message)
    this.fix = fix
  }
}

export type ReadFile = (path: string) => string

/**
 * The longest token STS takes: AssumeRoleWithWebIdentity's WebIdentityToken is 4 to 20,000
 * characters (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html).
 * A token file may end with a line break (CRLF at most) besides.
 */
export const MAX_TOKEN_LENGTH = 20_000
const MAX_TOKEN_FILE_BYTES = MAX_TOKEN_LENGTH + 2

/** What a path that is not a regular file is, in the message's words. */
function kindOf (stats: Stats): string | undefined {
  if (stats.isFile()) return undefined
  if (stats.isDirectory()) return 'a directory'
  if (stats.isFIFO()) return 'a named pipe (FIFO)'
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device (such as /dev/zero, /dev/stdin or a terminal)'
  if (stats.isSocket()) return 'a socket'
  return 'something other than a file'
}

/** Why a token file was not read: one message, for any kind of path. */
export class TokenFileError extends Error {}

/**
 * A token file, read only when it is a regular file and at most MAX_TOKEN_FILE_BYTES long: a FIFO
 * with no writer, /dev/stdin, /dev/zero or a directory is refused before any read. Opened
 * non-blocking and checked on the open descriptor (a path swapped for a pipe after a check cannot
 * hang it); read in bounded steps, whatever size the file system reports (/proc reports 0). So it
 * takes no time that the deadline would have to cover.
 */
export const readText: ReadFile = path => {
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
  try {
    const kind = kindOf(fs.fstatSync(fd))
    if (kind) throw new TokenFileError(`is ${kind}, not a regular file: a token is read only from a regular file (a pipe or a device can block forever)`)
    const buffer = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1)
    let length = 0
    for (let n = -1; n !== 0 && length < buffer.length;) {
      n = fs.readSync(fd, buffer, length, buffer.length - length, null)
      length += n
    }
    if (length > MAX_TOKEN_FILE_BYTES) throw new TokenFileError(`is longer than the ${grouped(MAX_TOKEN_LENGTH)} characters STS takes for a token`)
    return buffer.toString('utf8', 0, length)
  }
  finally { fs.closeSync(fd) }
}

/** A token variable's value, or a TokenError when it is the path GitLab gives for a *File* variable. */
function tokenIn (env: NodeJS.ProcessEnv, name: string, fileExists: (path: string) => boolean): string | undefined {
  const value = ownString(env, name)?.trim()
  if (value?.startsWith('/') && !looksLikeJwt(value) && fileExists(value)) {
    throw new TokenError(fileVariable(`CI variable ${name}`, value, 'the token itself belongs there'), [
      `Change the type of ${name} to *Variable* (Settings → CI/CD → Variables), or declare the token under id_tokens: instead of a CI/CD variable.`,
    ])
  }
  return value || undefined
}

/**
 * The variable named by `token-variable` / ARC_OIDC_TOKEN_VARIABLE; otherwise GITLAB_OIDC_TOKEN;
 * otherwise AWS_ID_TOKEN (GitLab's AWS integration's default name); otherwise the file named by
 * AWS_WEB_IDENTITY_TOKEN_FILE; otherwise the legacy CI_JOB_JWT_V2.
 * A variable the user named explicitly is not silently replaced by another one.
 */
export function findToken (
  env: NodeJS.ProcessEnv, tokenVariable: Setting<string> | undefined,
  readFile: ReadFile = readText, fileExists: (path: string) => boolean = fs.existsSync,
): FoundToken | undefined {
  if (tokenVariable) {
    const token = tokenIn(env, tokenVariable.value, fileExists)
    if (token) return { token, source: `CI variable ${tokenVariable.value} (named by ${describeSource(tokenVariable.source)})`, variable: tokenVariable.value, legacy: false }
    return undefined
  }
  const token = tokenIn(env, DEFAULT_TOKEN_VARIABLE, fileExists)
  if (token) return { token, source: `CI variable ${DEFAULT_TOKEN_VARIABLE}`, variable: DEFAULT_TOKEN_VARIABLE, legacy: false }
  const integration = tokenIn(env, GITLAB_AWS_TOKEN_VARIABLE, fileExists)
  if (integration) return { token: integration, source: `CI variable ${GITLAB_AWS_TOKEN_VARIABLE} (GitLab's AWS integration's name)`, variable: GITLAB_AWS_TOKEN_VARIABLE, legacy: false }

  const fromFile = findWebIdentityToken(env, readFile)
  if (fromFile) return fromFile

  const legacy = tokenIn(env, LEGACY_TOKEN_VARIABLE, fileExists)
  if (legacy) return { token: legacy, source: `CI variable ${LEGACY_TOKEN_VARIABLE} (legacy, removed in GitLab 17.0)`, variable: LEGACY_TOKEN_VARIABLE, legacy: true }
  return undefined
}

/** The file named by AWS_WEB_IDENTITY_TOKEN_FILE (AWS's standard variable), if set; unreadable or empty is an error. */
export function findWebIdentityToken (env: NodeJS.ProcessEnv, readFile: ReadFile = readText): FoundToken | undefined {
  const file = ownString(env, 'AWS_WEB_IDENTITY_TOKEN_FILE')?.trim()
  if (!file) return undefined
  return readTokenFile(file, 'AWS_WEB_IDENTITY_TOKEN_FILE', readFile)
}

/**
 * The token in a file; `namedBy` is what named it (a variable, or `--token-file`). A value that is
 * the token itself, where the path belongs, is said to be one (and never shown).
 */
export function readTokenFile (file: string, namedBy: string, readFile: ReadFile = readText): FoundToken {
  if (looksLikeJwt(file)) {
    throw new TokenError(`${namedBy} holds the token itself (${describeSecret(file)}), where the path of a file holding the token belongs`)
  }
  let text: string
  try { text = readFile(file).trim() }
  catch (err) {
    if (err instanceof TokenFileError) throw new TokenError(`${namedBy} names ${bare(file)}, which ${err.message}`, FILE_FIX)
    throw new TokenError(`${namedBy} names ${bare(file)}, which cannot be read: ${(err as NodeJS.ErrnoException).code ?? redact((err as Error).message)}`)
  }
  if (text.length > MAX_TOKEN_LENGTH) {
    throw new TokenError(`${namedBy} names ${bare(file)}, which is longer than the ${grouped(MAX_TOKEN_LENGTH)} characters STS takes for a token`, FILE_FIX)
  }
  if (text) return { token: text, source: `file ${bare(file)} (named by ${namedBy})`, legacy: false }
  throw new TokenError(`${namedBy} names ${bare(file)}, which is empty`)
}

const FILE_FIX = ['Write the token to a regular file (the token alone, at most one line break after it) and name that file; pipes, devices and directories are not read.']

/** Decode a JWT's header and claims. No signature check: STS does that; this is for early, clear errors. */
export function decodeToken (token: string, source: string): Claims {
  const shape = shapeProblem(token)
  if (shape) throw new TokenError(`The ID token in ${source} is not a JWT: ${shape}`)
  const parts = token.split('.') as [string, string, string]
  const json = (part: string, what: 'header' | 'claims'): unknown => {
    try { return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) }
    catch { throw new TokenError(`The ID token in ${source} is not a JWT: its ${what} ${what === 'claims' ? 'are' : 'is'} not JSON`) }
  }
  const header = json(parts[0], 'header')
  if (!isObject(header) || typeof header.alg !== 'string') throw new TokenError(`The ID token in ${source} has no signing algorithm in its header`)
  const claims = json(parts[1], 'claims')
  if (!isObject(claims)) throw new TokenError(`The ID token in ${source} is not a JWT: its claims are not a JSON object`)
  return claims as Claims
}

/**
 * What is wrong with the token's shape, said for what it is (a `Bearer ` prefix, base64 padding,
 * whitespace), or undefined for three base64url parts.
 */
function shapeProblem (token: string): string | undefined {
  if (/^bearer\s/i.test(token)) return 'it starts with `Bearer `: the variable must hold the bare token, without the HTTP header\'s prefix'
  if (/^["']|["']$/.test(token)) return 'it is wrapped in quotes: the variable must hold the bare token'
  if (/\s/.test(token)) return 'it contains whitespace or line breaks: the variable must hold the token on one line, unchanged'
  const parts = token.split('.')
  if (parts.length === 3 && parts.some(p => /=/.test(p)) && parts.every(p => /^[A-Za-z0-9_+/-]*=*$/.test(p))) {
    return 'its parts end in base64 padding (`=`): a JWT uses base64url without padding (was it re-encoded?)'
  }
  if (parts.length === 3 && parts.every(p => /^[A-Za-z0-9_+/-]*$/.test(p)) && parts.some(p => /[+/]/.test(p))) {
    return 'it uses the `+` or `/` of standard base64: a JWT uses base64url (`-` and `_`) (was it re-encoded?)'
  }
  if (parts.length !== 3) return `expected three base64url parts separated by dots, got ${parts.length} part${parts.length === 1 ? '' : 's'}`
  if (parts.some(p => !/^[A-Za-z0-9_-]*$/.test(p))) return 'its parts contain characters that base64url does not use (only A-Z a-z 0-9 - _)'
  if (!parts[0] || !parts[1]) return `its ${parts[0] ? 'claims part' : 'header'} is empty`
  return undefined
}

/** Claims GitLab sets as strings: shown and compared as text, so anything but a string or number is a problem. */
export const TEXT_CLAIMS = [
  'iss', 'sub', 'project_path', 'project_id', 'namespace_path', 'namespace_id', 'job_project_path', 'job_project_id', 'pipeline_id', 'pipeline_source',
  'job_id', 'ref', 'ref_type', 'ref_path', 'ref_protected', 'environment', 'environment_protected', 'deployment_tier', 'user_login', 'user_id',
] as const
const TIME_CLAIMS = ['exp', 'nbf', 'iat'] as const

/** Claims of the wrong type (objects, lists, times out of range), each with what it is instead. */
export function wrongClaims (claims: Claims): string[] {
  const wrong: string[] = []
  const kind = (v: unknown) => v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`
  for (const name of TEXT_CLAIMS) {
    const v = claims[name]
    if (v !== undefined && typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) wrong.push(`${name} (${kind(v)})`)
  }
  for (const name of TIME_CLAIMS) {
    const v = claims[name]
    if (v !== undefined && !isTime(v)) wrong.push(`${name} (${typeof v === 'number' ? 'a number that is not a time' : kind(v)})`)
  }
  const aud = claims.aud
  if (aud !== undefined && typeof aud !== 'string' && !(Array.isArray(aud) && aud.every(a => typeof a === 'string'))) {
    wrong.push(`aud (${Array.isArray(aud) ? 'a list of other things than strings' : kind(aud)})`)
  }
  return wrong
}

/** Problems AWS would refuse the token for, found here first (with clock skew allowed). */
export function checkClaims (claims: Claims, now: Date): string[] {
  const problems: string[] = []
  const wrong = wrongClaims(claims)
  if (wrong.length) problems.push(`claims of the wrong type: ${wrong.join(', ')} (GitLab issues strings and, for times, seconds since 1970)`)
  const bad = (name: string) => wrong.some(w => w.startsWith(`${name} (`))
  const seconds = Math.floor(now.getTime() / 1000)
  const when = (t: number) => new Date(t * 1000).toISOString()
  if (!bad('exp')) {
    if (!isTime(claims.exp)) problems.push('it has no expiry (`exp`)')
    else if (claims.exp + SKEW_SECONDS < seconds) problems.push(`it expired at ${when(claims.exp)}, ${humanDuration(seconds - claims.exp)} ago`)
  }
  if (isTime(claims.nbf) && claims.nbf - SKEW_SECONDS > seconds) problems.push(`it is not valid before ${when(claims.nbf)} (is this machine's clock right? it says ${now.toISOString()})`)
  if (!bad('aud') && !audiences(claims).length) problems.push('it has no audience (`aud`)')
  if (!bad('iss') && (typeof claims.iss !== 'string' || !claims.iss)) problems.push('it has no issuer (`iss`)')
  if (!bad('sub') && (typeof claims.sub !== 'string' || !claims.sub)) problems.push('it has no subject (`sub`)')
  return problems
}

function isObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
