/**
 * The ID token as every layer knows it: where it comes from (a GitLab job, or AWS's standard
 * web-identity variables elsewhere), the CI variables a GitLab job carries it in, and its claims
 * (GitLab's names). Decided and typed once here: the plugin, the trust-policy builder, the
 * messages and the CLI share it.
 */

/**
 * Where the ID token comes from: a GitLab job, or AWS's standard web-identity variables
 * (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE) elsewhere. Decided once, from the environment,
 * and passed to every step and message: GitLab's own rules and advice apply to GitLab jobs only.
 */
export type Origin = 'gitlab' | 'web-identity'

/** The heading of a message's claims: GitLab asserts a job's token; elsewhere, the token itself does. */
export function assertedBy (origin: Origin): string {
  return origin === 'gitlab' ? 'GitLab asserted' : 'The token asserted'
}

/** The CI variables a GitLab job's ID token is looked for in (the README's id_tokens: name, and GitLab's legacy one). */
export const DEFAULT_TOKEN_VARIABLE = 'GITLAB_OIDC_TOKEN'
export const LEGACY_TOKEN_VARIABLE = 'CI_JOB_JWT_V2'
/**
 * The token variable GitLab's own AWS integration (`secrets:` with `aws_secrets_manager`, GitLab
 * 18.3, Premium) reads by default, next to `AWS_ROLE_ARN`: looked for after the plugin's own names.
 */
export const GITLAB_AWS_TOKEN_VARIABLE = 'AWS_ID_TOKEN'

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
  /** The project the job runs in (GitLab 18.4; a fork's merge request pipeline runs in the parent). */
  job_project_path?: string
  job_project_id?: string
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

/** The token's audiences: `aud` as a list, its non-string and empty entries left out (as an empty string `aud` is). */
export function audiences (claims: Claims): string[] {
  if (typeof claims.aud === 'string') return claims.aud ? [claims.aud] : []
  if (Array.isArray(claims.aud)) return claims.aud.filter((a): a is string => typeof a === 'string' && a !== '')
  return []
}
