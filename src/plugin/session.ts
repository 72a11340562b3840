/**
 * The STS session name: it is what CloudTrail shows as "who", so it names the GitLab job.
 */
import type { Claims } from '../shared/claims.ts'

/** `gitlab-<project id>-<pipeline id>-<job id>`, reduced to STS's [\w+=,.@-]{2,64}. */
export function defaultSessionName (claims: Claims, env: NodeJS.ProcessEnv): string {
  const pick = (claim: unknown, variable: string | undefined) => (typeof claim === 'string' || typeof claim === 'number') ? String(claim) : variable
  const parts = [
    pick(claims.project_id, env.CI_PROJECT_ID),
    pick(claims.pipeline_id, env.CI_PIPELINE_ID),
    pick(claims.job_id, env.CI_JOB_ID),
  ].filter((p): p is string => Boolean(p))
  return toSessionName(['gitlab', ...parts].join('-'))
}

export function toSessionName (raw: string): string {
  const cleaned = raw.replace(/[^\w+=,.@-]+/g, '-').slice(0, 64)
  return cleaned.length >= 2 ? cleaned : 'gitlab-job'
}

/**
 * Outside GitLab, with AWS's standard variables and no AWS_ROLE_SESSION_NAME: a name that says
 * where the session came from, and when (CloudTrail shows it as "who").
 */
export function webIdentitySessionName (now: Date): string {
  return `arc-web-identity-${Math.floor(now.getTime() / 1000)}`
}
