/**
 * Merge request pipelines from forks. Forks never deploy with the parent project's roles: the
 * guard refuses them before any AWS call (fail closed), and doctor says so.
 */
import type { Claims } from '../shared/claims.ts'

export interface Fork {
  /** The fork (the merge request's source project, or the project the token names). */
  source: string
  /** This project (the merge request's target, or the job's CI_PROJECT_PATH). */
  target: string
}

/**
 * A merge request pipeline from a fork: since GitLab 18.2.2 its token's project_* claims (and
 * sub) name the fork even when the pipeline runs in the parent project; the merge request
 * variables name the source project. Either way this project's roles must not be used.
 */
export function forkOf (claims: Claims, env: NodeJS.ProcessEnv): Fork | undefined {
  const token = typeof claims.project_path === 'string' ? claims.project_path : undefined
  const { CI_PROJECT_PATH: job, CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: srcPath, CI_MERGE_REQUEST_PROJECT_PATH: tgtPath } = env
  const { CI_MERGE_REQUEST_SOURCE_PROJECT_ID: srcId, CI_MERGE_REQUEST_PROJECT_ID: tgtId } = env
  if (srcPath && tgtPath && srcPath !== tgtPath) return { source: srcPath, target: tgtPath }
  if (srcId && tgtId && srcId !== tgtId) return { source: srcPath || `project ${srcId}`, target: tgtPath || job || `project ${tgtId}` }
  if (token && job && token !== job) return { source: token, target: job }
  return undefined
}

/** What to do about a fork's merge request (the guard's and doctor's words). */
export const FORK_FIX = (fork: Fork): string[] => [
  `Review the merge request's changes; to deploy them, run the pipeline from a branch of ${fork.target} (push the reviewed commits to one, or merge).`,
  'Keep deploy jobs out of fork merge request pipelines with a first rule `- if: $CI_MERGE_REQUEST_SOURCE_PROJECT_ID != $CI_MERGE_REQUEST_PROJECT_ID` `when: never` (the arc-deploy component has it).',
]
