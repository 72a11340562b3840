/** What every benchmark gets: the installed app, the probes, the stand-ins, and how to report. */
import type { App } from '../../test/support/harness.ts'
import type { StandIns } from '../../test/support/standins.ts'
import type { Probes } from './probes.ts'

/** The ids a job's session name is made of. */
interface JobIds { project_id: string, pipeline_id: string, job_id: string }

export interface Context {
  /** Node 22 (the project's devDependency), for every child process. */
  node: string
  probes: Probes
  /** A copy of example-app whose node_modules has @architect/architect 12 and the packed plugin. */
  app: App
  /** The installed plugin package, as a user has it (node_modules/arc-plugin-gitlab-oidc). */
  pluginDir: string
  /** The packed plugin (npm pack). */
  tarball: string
  s: StandIns
  /** Environment of a developer's shell: nothing but PATH, an empty HOME and AWS config files. */
  devEnv (extra?: Record<string, string>): Record<string, string>
  /** Environment of a GitLab job with an ID token for the default branch, pointed at the stand-ins. */
  jobEnv (extra?: Record<string, string>): { env: Record<string, string>, token: string, claims: JobIds }
  quick: boolean
}

export type Verdict = 'pass' | 'FAIL' | 'info' | 'skipped'

export interface Row {
  measure: string
  value: string
  target: string
  result: Verdict
}

export const verdict = (ok: boolean): Verdict => ok ? 'pass' : 'FAIL'
