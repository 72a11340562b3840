/**
 * Step 3: find the job's ID token and check it before anything is sent to AWS.
 * Only the token's *claims* are ever shown to the user; the token itself never is.
 */
import { readFileSync } from 'node:fs'
import type { Setting } from './setting-sources.ts'
import { describeSource } from './setting-sources.ts'

export const DEFAULT_TOKEN_VARIABLE = 'GITLAB_OIDC_TOKEN'
export const LEGACY_TOKEN_VARIABLE = 'CI_JOB_JWT_V2'
/** Clock skew tolerated on `exp`, `nbf` and `iat`, as AWS and most verifiers do. */
export const SKEW_SECONDS = 60

export interface FoundToken {
  token: string
  /** Where it was found, e.g. "CI variable GITLAB_OIDC_TOKEN" or "file named by AWS_WEB_IDENTITY_TOKEN_FILE". */
  source: string
  legacy: boolean
}

/** The claims GitLab puts in an ID token (all optional: a token is untrusted input). */
export interface Claims {
  iss?: string
  sub?: string
  aud?: string | string[]
  exp?: number
  nbf?: number
  iat?: number
  project_path?: string
  project_id?: string
  namespace_path?: string
  pipeline_id?: string
  job_id?: string
  ref?: string
  ref_type?: string
  ref_protected?: string
  environment?: string
  environment_protected?: string
  deployment_tier?: string
  user_login?: string
  user_email?: string
  [claim: string]: unknown
}

export class TokenError extends Error {}

export type ReadFile = (path: string) => string
const readText: ReadFile = path => readFileSync(path, 'utf8')

/**
 * The variable named by `token-variable` / ARC_OIDC_TOKEN_VARIABLE; otherwise GITLAB_OIDC_TOKEN;
 * otherwise the file named by AWS_WEB_IDENTITY_TOKEN_FILE; otherwise the legacy CI_JOB_JWT_V2.
 * A variable the user named explicitly is not silently replaced by another one.
 */
export function findToken (env: NodeJS.ProcessEnv, tokenVariable: Setting<string> | undefined, readFile: ReadFile = readText): FoundToken | undefined {
  if (tokenVariable) {
    const token = env[tokenVariable.value]?.trim()
    if (token) return { token, source: `CI variable ${tokenVariable.value} (named by ${describeSource(tokenVariable.source)})`, legacy: false }
    return undefined
  }
  const token = env[DEFAULT_TOKEN_VARIABLE]?.trim()
  if (token) return { token, source: `CI variable ${DEFAULT_TOKEN_VARIABLE}`, legacy: false }

  const fromFile = findWebIdentityToken(env, readFile)
  if (fromFile) return fromFile

  const legacy = env[LEGACY_TOKEN_VARIABLE]?.trim()
  if (legacy) return { token: legacy, source: `CI variable ${LEGACY_TOKEN_VARIABLE} (legacy, removed in GitLab 17.0)`, legacy: true }
  return undefined
}

/** The file named by AWS_WEB_IDENTITY_TOKEN_FILE (AWS's standard variable), if set; unreadable or empty is an error. */
export function findWebIdentityToken (env: NodeJS.ProcessEnv, readFile: ReadFile = readText): FoundToken | undefined {
  const file = env.AWS_WEB_IDENTITY_TOKEN_FILE?.trim()
  if (!file) return undefined
  let text: string
  try { text = readFile(file).trim() }
  catch (err) {
    throw new TokenError(`AWS_WEB_IDENTITY_TOKEN_FILE names ${file}, which cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  if (text) return { token: text, source: `file ${file} (named by AWS_WEB_IDENTITY_TOKEN_FILE)`, legacy: false }
  throw new TokenError(`AWS_WEB_IDENTITY_TOKEN_FILE names ${file}, which is empty`)
}

/** Decode a JWT's header and claims. No signature check: STS does that; this is for early, clear errors. */
export function decodeToken (token: string, source: string): Claims {
  const parts = token.split('.')
  if (parts.length !== 3 || parts.some(p => !/^[A-Za-z0-9_-]*$/.test(p)) || !parts[0] || !parts[1]) {
    throw new TokenError(`The ID token in ${source} is not a JWT (expected three base64url parts separated by dots, got ${parts.length} part${parts.length === 1 ? '' : 's'})`)
  }
  const json = (part: string, what: string): unknown => {
    try { return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) }
    catch { throw new TokenError(`The ID token in ${source} is not a JWT: its ${what} is not JSON`) }
  }
  const header = json(parts[0], 'header')
  if (!isObject(header) || typeof header.alg !== 'string') throw new TokenError(`The ID token in ${source} has no signing algorithm in its header`)
  const claims = json(parts[1], 'claims')
  if (!isObject(claims)) throw new TokenError(`The ID token in ${source} is not a JWT: its claims are not a JSON object`)
  return claims as Claims
}

/** Problems AWS would refuse the token for, found here first (with clock skew allowed). */
export function checkClaims (claims: Claims, now: Date): string[] {
  const problems: string[] = []
  const seconds = Math.floor(now.getTime() / 1000)
  const when = (t: number) => new Date(t * 1000).toISOString()
  if (typeof claims.exp !== 'number') problems.push('it has no expiry (`exp`)')
  else if (claims.exp + SKEW_SECONDS < seconds) problems.push(`it expired at ${when(claims.exp)}, ${humanDuration(seconds - claims.exp)} ago`)
  if (typeof claims.nbf === 'number' && claims.nbf - SKEW_SECONDS > seconds) problems.push(`it is not valid before ${when(claims.nbf)} (is this machine's clock right? it says ${now.toISOString()})`)
  const aud = audiences(claims)
  if (!aud.length) problems.push('it has no audience (`aud`)')
  if (typeof claims.iss !== 'string' || !claims.iss) problems.push('it has no issuer (`iss`)')
  if (typeof claims.sub !== 'string' || !claims.sub) problems.push('it has no subject (`sub`)')
  return problems
}

export function audiences (claims: Claims): string[] {
  if (typeof claims.aud === 'string') return claims.aud ? [claims.aud] : []
  if (Array.isArray(claims.aud)) return claims.aud.filter((a): a is string => typeof a === 'string')
  return []
}

export function humanDuration (seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${(s / 3600).toFixed(1)} h`
}

function isObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
