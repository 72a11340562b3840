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
