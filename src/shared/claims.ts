/**
 * The claims of an OIDC ID token as the plugin reads them (GitLab's names), and the audiences
 * they name. Typed once here: the token checks, the trust-policy builder and the messages share it.
 */

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

/** The token's audiences: `aud` as a list, its non-string entries left out. */
export function audiences (claims: Claims): string[] {
  if (typeof claims.aud === 'string') return claims.aud ? [claims.aud] : []
  if (Array.isArray(claims.aud)) return claims.aud.filter((a): a is string => typeof a === 'string')
  return []
}
