/**
 * The component self-test of the project's own pipeline (.gitlab-ci.yml, GitLab's documented
 * pattern): the pipeline includes templates/arc-deploy.yml of this very commit as a component,
 * and this script asks the GitLab API for the pipeline's jobs and fails unless each of the
 * component's jobs is in it. It deploys nothing (the pipeline keeps those jobs manual, with
 * harmless scripts).
 *
 *   node scripts/ci/component-jobs.ts arc-deploy-staging arc-deploy-production ...
 */
import { fileURLToPath } from 'node:url'

/** The names in `expected` that `jobs` lacks. */
export function missingJobs (jobs: ReadonlyArray<{ name?: unknown }>, expected: readonly string[]): string[] {
  const names = new Set(jobs.map(j => j.name))
  return expected.filter(name => !names.has(name))
}

/**
 * GET <api>/projects/<id>/pipelines/<pipeline>/jobs (100 per page is more than this pipeline has),
 * without credentials: the project is public.
 */
export async function pipelineJobs (env: NodeJS.ProcessEnv, fetchImpl: typeof fetch = fetch): Promise<Array<{ name?: unknown }>> {
  const { CI_API_V4_URL: api, CI_PROJECT_ID: project, CI_PIPELINE_ID: pipeline } = env
  if (!api || !project || !pipeline) throw new Error('CI_API_V4_URL, CI_PROJECT_ID and CI_PIPELINE_ID are required (run this in a GitLab job)')
  const res = await fetchImpl(`${api}/projects/${encodeURIComponent(project)}/pipelines/${encodeURIComponent(pipeline)}/jobs?per_page=100`)
  if (!res.ok) throw new Error(`GitLab answered ${res.status} for the pipeline's jobs`)
  return await res.json() as Array<{ name?: unknown }>
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const expected = process.argv.slice(2)
  const missing = missingJobs(await pipelineJobs(process.env), expected)
  if (missing.length) {
    console.error(`The arc-deploy component's jobs are not all in this pipeline: missing ${missing.join(', ')}`)
    process.exit(1)
  }
  console.log(`The arc-deploy component's jobs are in this pipeline: ${expected.join(', ')}`)
}
