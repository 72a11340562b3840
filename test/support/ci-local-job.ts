/**
 * What GitLab would make of a job of a pipeline, asked of gitlab-ci-local (a devDependency) rather
 * than re-implemented: whether the job is in the pipeline at all (`--list-json`: its `rules:`,
 * evaluated with the pipeline's variables), what it declares (`--preview`: `id_tokens:`,
 * `environment:`, with includes, extends and anchors resolved), and the variables it runs with (a
 * probe job that extends it and prints its environment: predefined, global and job variables,
 * CI_ENVIRONMENT_NAME/TIER as gitlab-ci-local expands them). Used by ci-local.ts.
 *
 * GitLab's rules this follows, each from its documentation:
 * - a job gets an ID token only for each variable under its `id_tokens:`, with that `aud:` (a
 *   string or a list), CI/CD variables expanded (https://docs.gitlab.com/ci/yaml/#id_tokens,
 *   https://docs.gitlab.com/ci/secrets/id_token_authentication/);
 * - a job whose `rules:` evaluate to `when: never` is not added to the pipeline
 *   (https://docs.gitlab.com/ci/yaml/#rules);
 * - in a merge request pipeline CI_PIPELINE_SOURCE is `merge_request_event`, the CI_MERGE_REQUEST_*
 *   variables are set and CI_COMMIT_BRANCH is not (https://docs.gitlab.com/ci/variables/predefined_variables/).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { yaml } from './cfn-template.ts'
import { gitlabCiLocalSync, type GitlabCiLocalResult } from './gitlab-ci-local.ts'
import { guessTier } from './gitlab.ts'

/** The pipeline the job runs in: its variables, and the predefined ones GitLab leaves out of it. */
export interface Pipeline {
  variables: Record<string, string>
  unset: string[]
}

export interface PipelineOptions {
  project: string
  branch: string
  defaultBranch: string
  /** A merge request pipeline of this merge request (its source branch: `branch`); none: a branch pipeline. */
  mergeRequest: number | undefined
}

/** One project ID for the pipeline and its merge requests (gitlab-ci-local's own is a constant too). */
export const PROJECT_ID = '4242'

/** The pipeline's variables: GITLAB_CI=true (gitlab-ci-local sets false), and a merge request's when asked. */
export function pipelineFor (o: PipelineOptions): Pipeline {
  const variables: Record<string, string> = { GITLAB_CI: 'true', CI_PROJECT_ID: PROJECT_ID }
  if (o.mergeRequest === undefined) return { variables, unset: [] }
  const iid = String(o.mergeRequest)
  return {
    variables: {
      ...variables,
      CI_PIPELINE_SOURCE: 'merge_request_event',
      CI_MERGE_REQUEST_IID: iid,
      CI_MERGE_REQUEST_ID: String(100_000 + o.mergeRequest),
      CI_MERGE_REQUEST_PROJECT_ID: PROJECT_ID,
      CI_MERGE_REQUEST_PROJECT_PATH: o.project,
      CI_MERGE_REQUEST_SOURCE_PROJECT_ID: PROJECT_ID,
      CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: o.project,
      CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: o.branch,
      CI_MERGE_REQUEST_TARGET_BRANCH_NAME: o.defaultBranch,
      CI_MERGE_REQUEST_REF_PATH: `refs/merge-requests/${iid}/head`,
      CI_MERGE_REQUEST_EVENT_TYPE: 'detached',
    },
    unset: [ 'CI_COMMIT_BRANCH' ],
  }
}

export interface JobPlan {
  name: string
  /** Why GitLab would not run it in this pipeline; undefined when it runs. */
  skipped?: string
  /** Each `id_tokens:` variable and its `aud`, expanded: the tokens GitLab would mint. */
  idTokens: Record<string, string | string[]>
  /** The job's `environment:`, as GitLab names it (variables expanded) and its deployment tier. */
  environment?: { name: string, tier: string }
  /** The variables the job runs with (the probe's), for expanding what it declares. */
  variables: Record<string, string>
}

function succeed (r: GitlabCiLocalResult, what: string): string {
  if (r.code !== 0) throw new Error(`gitlab-ci-local ${what} failed (${r.code}):\n${r.output}`)
  return r.stdout
}

interface ListedJob { name: string, when: string, rules?: unknown[] }
type JobConfig = Record<string, unknown> & { id_tokens?: Record<string, { aud?: string | string[] }>, environment?: unknown }

/** GitLab's expansion of `$NAME` and `${NAME}` in a value (an unknown variable is empty; `$$` is a `$`). */
export function expandVariables (value: string, variables: Record<string, string>): string {
  return value.replace(/\$\$|\$\{(\w+)\}|\$(\w+)/g, (all, braced?: string, bare?: string) => all === '$$' ? '$' : variables[(braced ?? bare)!] ?? '')
}

/** Why a job listed with `when: never` is not in the pipeline: its rules, and the pipeline it was evaluated in. */
function whyNot (job: ListedJob, o: PipelineOptions): string {
  const pipeline = o.mergeRequest === undefined
    ? `a branch pipeline of ${o.branch} (default branch ${o.defaultBranch})`
    : `the merge request pipeline of !${o.mergeRequest} (${o.branch} into ${o.defaultBranch})`
  const rules = job.rules?.length ? `its rules: ${JSON.stringify(job.rules)}` : 'its only:/except: or the workflow:rules'
  const hint = o.mergeRequest === undefined ? ' (--branch <name> for another branch, --merge-request <iid> for a merge request pipeline)' : ''
  return `GitLab would not run ${job.name} in ${pipeline}: ${rules} give when: never${hint}`
}

/**
 * The variables each job runs with: one gitlab-ci-local run of probe jobs, each extending one of
 * them (its rules, scripts, needs, cache and artifacts left out) and printing its environment.
 */
function probeVariables (dir: string, names: string[], pipeline: Pipeline): Array<Record<string, string>> {
  const file = '.gitlab-ci-local-probe.yml'
  const probe = (name: string, i: number) => `ci-local-probe-${i}:\n  extends: ${JSON.stringify(name)}\n`
    + '  rules: [ { when: always } ]\n  needs: []\n  dependencies: []\n  cache: []\n  services: []\n  artifacts: { paths: [ .ci-local-none ], when: never }\n'
    + '  before_script: []\n  after_script: []\n  script: [ env ]\n'
  writeFileSync(join(dir, file), `include:\n  - local: .gitlab-ci.yml\n${names.map(probe).join('')}`)
  const jobs = names.map((_, i) => `ci-local-probe-${i}`)
  const out = succeed(gitlabCiLocalSync(dir, [ '--file', file, '--json-schema-validation', 'false', ...jobs ], pipeline), `the probe of ${names.join(', ')}`)
  return jobs.map(job => {
    const variables: Record<string, string> = {}
    for (const [ , key, value ] of out.matchAll(new RegExp(`^${job} +> (\\w+)=(.*)$`, 'gm'))) variables[key!] = value!
    return variables
  })
}

/** The plans of the named jobs, in the pipeline the options describe; throws when a job does not exist. */
export function planJobs (dir: string, names: string[], o: PipelineOptions): JobPlan[] {
  const pipeline = pipelineFor(o)
  const listed = JSON.parse(succeed(gitlabCiLocalSync(dir, [ '--list-json' ], pipeline), '--list-json')) as ListedJob[]
  const jobs = names.map(name => {
    const job = listed.find(j => j.name === name)
    if (!job) throw new Error(`no job ${name} in .gitlab-ci.yml; its jobs: ${listed.map(j => j.name).join(', ')}`)
    return job
  })
  const skipped = jobs.filter(j => j.when === 'never')
  if (skipped.length) return jobs.map(j => ({ name: j.name, idTokens: {}, variables: {}, ...(j.when === 'never' ? { skipped: whyNot(j, o) } : {}) }))
  const config = yaml.load(succeed(gitlabCiLocalSync(dir, [ '--preview', '--json-schema-validation', 'false' ], pipeline), '--preview')) as Record<string, JobConfig>
  const probed = probeVariables(dir, names, pipeline)
  return names.map((name, i) => {
    const declared = config[name] ?? {}
    const variables = probed[i]!
    const expand = (aud: unknown) => Array.isArray(aud) ? aud.map(a => expandVariables(String(a), variables)) : expandVariables(String(aud ?? ''), variables)
    const idTokens = Object.fromEntries(Object.entries(declared.id_tokens ?? {}).map(([ variable, { aud } ]) => [ variable, expand(aud) ]))
    const environment = declared.environment && variables.CI_ENVIRONMENT_NAME
      ? { name: variables.CI_ENVIRONMENT_NAME, tier: variables.CI_ENVIRONMENT_TIER || guessTier(variables.CI_ENVIRONMENT_NAME) }
      : undefined
    return { name, idTokens, variables, ...(environment ? { environment } : {}) }
  })
}
