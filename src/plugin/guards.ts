/**
 * The plugin's own rules, checked after the token and before the exchange: each refuses a job
 * that AWS might let through but that is almost certainly a mistake. The guards are data: the
 * preflight runs `GUARDS` in order, and the parity test (test/unit/plugin/preflight.test.ts)
 * enumerates the same list, so a new guard is checked through `arc` and `doctor` alike or fails it.
 * Their words are in refusals.ts.
 */
import type { Settings } from './settings.ts'
import type { Setting } from '../shared/setting-source.ts'
import type { StageChoice } from './stage.ts'
import type { Claims, Origin } from '../shared/id-token.ts'
import type { Problem } from '../shared/problem.ts'
import { REFUSALS, type Fork } from './refusals.ts'
import { accountOf } from '../iam/arns.ts'

export interface GuardInputs {
  settings: Settings
  role: Setting<string>
  claims: Claims
  choice: StageChoice
  env: NodeJS.ProcessEnv
  origin: Origin
}

export interface Guard {
  /** Its refusal's name in refusals.ts. */
  name: 'forkMergeRequest' | 'allowedAccount' | 'unprotectedProduction' | 'environmentTier'
  /** GitLab's own rules (forks, protected refs, environment tiers) only apply in GitLab jobs. */
  gitlabOnly: boolean
  /** The refusal, or undefined when the job passes. */
  check: (inputs: GuardInputs) => Problem | undefined
}

/**
 * A merge request pipeline from a fork: since GitLab 18.2.2 its token's project_* claims (and
 * sub) name the fork even when the pipeline runs in the parent project; the merge request
 * variables name the source project. Either way this project's roles must not be used.
 * Since GitLab 18.4 (backported to 18.3) the token also names the project the job runs in
 * (job_project_path, job_project_id): a token whose job project differs from its project is a
 * fork's, whatever the CI variables say (variables a job can override; the token it cannot).
 */
export function forkOf (claims: Claims, env: NodeJS.ProcessEnv): Fork | undefined {
  const fromToken = forkInToken(claims)
  if (fromToken) return fromToken
  const token = typeof claims.project_path === 'string' ? claims.project_path : undefined
  const { CI_PROJECT_PATH: job, CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: srcPath, CI_MERGE_REQUEST_PROJECT_PATH: tgtPath } = env
  const { CI_MERGE_REQUEST_SOURCE_PROJECT_ID: srcId, CI_MERGE_REQUEST_PROJECT_ID: tgtId } = env
  if (srcPath && tgtPath && srcPath !== tgtPath) return { source: srcPath, target: tgtPath }
  if (srcId && tgtId && srcId !== tgtId) return { source: srcPath || `project ${srcId}`, target: tgtPath || job || `project ${tgtId}` }
  if (token && job && token !== job) return { source: token, target: job }
  return undefined
}

/** The token's own word: its project (the fork's, since 18.2.2) against the job's project (18.4). */
function forkInToken (claims: Claims): Fork | undefined {
  const text = (v: unknown) => typeof v === 'string' || typeof v === 'number' ? String(v) : undefined
  const path = text(claims.project_path), jobPath = text(claims.job_project_path)
  const id = text(claims.project_id), jobId = text(claims.job_project_id)
  if (path && jobPath && path !== jobPath) return { source: path, target: jobPath }
  if (id && jobId && id !== jobId) return { source: path ?? `project ${id}`, target: jobPath ?? `project ${jobId}` }
  return undefined
}

export const GUARDS: readonly Guard[] = [
  {
    name: 'forkMergeRequest',
    gitlabOnly: true,
    check: ({ claims, env }) => {
      const fork = forkOf(claims, env)
      return fork && REFUSALS.forkMergeRequest({ fork, claims, env })
    },
  },
  {
    name: 'allowedAccount',
    gitlabOnly: false,
    check: ({ settings, role, claims, origin }) => {
      const account = accountOf(role.value)
      const allowed = settings.allowedAccounts
      if (!allowed || !account || allowed.value.includes(account)) return undefined
      return REFUSALS.allowedAccount({ account, role, allowed, claims, origin })
    },
  },
  {
    name: 'unprotectedProduction',
    gitlabOnly: true,
    check: ({ settings, role, claims, choice, env }) => {
      const refProtected = claims.ref_protected ?? env.CI_COMMIT_REF_PROTECTED
      if (choice.stage !== 'production' || refProtected === 'true' || settings.allowUnprotectedProduction.value) return undefined
      return REFUSALS.unprotectedProduction({ choice, role, claims, env })
    },
  },
  {
    /**
     * GitLab's ID token names the job's environment and its deployment tier. A job whose tier is
     * `production` acting on staging, or production from a job of another tier, is a pipeline
     * mistake (a copied job, a wrong flag).
     */
    name: 'environmentTier',
    gitlabOnly: true,
    check: ({ settings, claims, choice }) => {
      const tier = typeof claims.deployment_tier === 'string' ? claims.deployment_tier : undefined
      if (!tier || !settings.environmentCheck.value) return undefined
      if ((choice.stage === 'production') === (tier === 'production')) return undefined
      return REFUSALS.environmentTier({ choice, tier, claims })
    },
  },
]

/** The first refusal of the guards that apply to this origin, in order; undefined when all pass. */
export function runGuards (inputs: GuardInputs): { guard: Guard['name'], problem: Problem } | undefined {
  for (const guard of GUARDS) {
    if (guard.gitlabOnly && inputs.origin !== 'gitlab') continue
    const problem = guard.check(inputs)
    if (problem) return { guard: guard.name, problem }
  }
  return undefined
}
