/**
 * The fork guard of src/plugin/guards.ts (forkOf): a merge request pipeline from a fork (the token names the
 * fork since GitLab 18.2.2, or the merge request's source project differs) is refused before
 * any AWS call, in one message saying what to do; same-project merge requests and branch
 * pipelines are not.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { stripVTControlCharacters as plain } from 'node:util'
import { forkOf, runGuards } from '../../../src/plugin/guards.ts'
import type { Manifest } from '../../../src/plugin/manifest.ts'
import { resolveSettings } from '../../../src/plugin/settings.ts'
import type { Claims } from '../../../src/shared/id-token.ts'
import { formatProblem } from '../../../src/report/format.ts'

const STAGING = 'arn:aws:iam::111111111111:role/shop-staging'
const manifest: Manifest = { file: 'app.arc', arc: { 'gitlab-oidc': [['staging-role', STAGING]] } }
const fromFork: Claims = { sub: 'project_path:alice/shop:ref_type:branch:ref:fix', project_path: 'alice/shop', ref: 'fix', ref_type: 'branch', ref_protected: 'false', user_email: 'alice@example.com' }
const mrEnv = { CI_PROJECT_PATH: 'acme/shop', CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_IID: '12', CI_MERGE_REQUEST_PROJECT_PATH: 'acme/shop', CI_MERGE_REQUEST_PROJECT_ID: '100' }

function guard (claims: Claims, env: NodeJS.ProcessEnv, origin: 'gitlab' | 'web-identity' = 'gitlab'): string | undefined {
  const settings = resolveSettings({ env, manifest, stage: 'staging' })
  const refused = runGuards({ settings, role: settings.role!, claims, env, origin, choice: { stage: 'staging', reason: 'no --production flag', bareProduction: false } })
  if (!refused) return undefined
  assert.equal(refused.guard, 'forkMergeRequest')
  return plain(formatProblem(refused.problem))
}

describe('fork merge requests', () => {
  it('recognises each sign of a fork', () => {
    // the token names the fork, the pipeline runs in the parent (GitLab >= 18.2.2)
    assert.deepEqual(forkOf(fromFork, { CI_PROJECT_PATH: 'acme/shop' }), { source: 'alice/shop', target: 'acme/shop' })
    // the merge request variables: source project path, or only its ID
    assert.deepEqual(forkOf({ project_path: 'acme/shop' }, { ...mrEnv, CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: 'alice/shop', CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '200' }), { source: 'alice/shop', target: 'acme/shop' })
    assert.deepEqual(forkOf({ project_path: 'acme/shop' }, { ...mrEnv, CI_MERGE_REQUEST_PROJECT_PATH: '', CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '200' }), { source: 'project 200', target: 'acme/shop' })
  })

  it('the token alone (GitLab 18.4\'s job_project_*): a job project other than the token\'s project is a fork\'s, whatever the variables say', () => {
    const claims: Claims = { ...fromFork, project_id: '200', job_project_path: 'acme/shop', job_project_id: '100' }
    // variables that say "same project, no merge request": the token still wins
    assert.deepEqual(forkOf(claims, { CI_PROJECT_PATH: 'alice/shop', CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: 'alice/shop', CI_MERGE_REQUEST_PROJECT_PATH: 'alice/shop' }), { source: 'alice/shop', target: 'acme/shop' })
    assert.deepEqual(forkOf(claims, {}), { source: 'alice/shop', target: 'acme/shop' })
    // only the IDs differ (a renamed project keeps its ID; paths alone do not decide)
    assert.deepEqual(forkOf({ project_id: '200', job_project_id: '100' }, {}), { source: 'project 200', target: 'project 100' })
    const text = guard(claims, {})
    assert.ok(text)
    assert.match(text, /merge request from a fork \(alice\/shop into acme\/shop\)/)
    assert.match(text, /job project \.+ acme\/shop/)
  })

  it('a token whose job project is its own project is no fork (GitLab 18.4, branch pipeline)', () => {
    const own: Claims = { project_path: 'acme/shop', project_id: '100', job_project_path: 'acme/shop', job_project_id: '100' }
    assert.equal(forkOf(own, { CI_PROJECT_PATH: 'acme/shop' }), undefined)
    assert.equal(guard({ ...fromFork, ...own }, { CI_PROJECT_PATH: 'acme/shop' }), undefined)
  })

  it('a merge request within the project, and a branch pipeline, are no fork', () => {
    assert.equal(forkOf({ project_path: 'acme/shop' }, { ...mrEnv, CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: 'acme/shop', CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '100' }), undefined)
    assert.equal(forkOf({ project_path: 'acme/shop' }, { CI_PROJECT_PATH: 'acme/shop' }), undefined)
    assert.equal(guard({ ...fromFork, project_path: 'acme/shop' }, { ...mrEnv, CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: 'acme/shop', CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '100' }), undefined)
  })

  it('is refused before any AWS call, in one message: what, what GitLab asserted, what to do', () => {
    const text = guard(fromFork, { ...mrEnv, CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: 'alice/shop', CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '200' })
    assert.ok(text)
    assert.match(text, /merge request from a fork \(alice\/shop into acme\/shop\): forks never deploy with this project's roles/)
    assert.match(text, /token project \.+ alice\/shop/)
    assert.match(text, /merge request \.+ !12/)
    assert.match(text, /Review the merge request's changes; to deploy them, run the pipeline from a branch of acme\/shop/)
    assert.match(text, /\$CI_MERGE_REQUEST_SOURCE_PROJECT_ID != \$CI_MERGE_REQUEST_PROJECT_ID/)
    assert.ok(text.trimEnd().endsWith('Architect was stopped before any AWS call.'))
    assert.doesNotMatch(text, /alice@example\.com/)
  })

  it('off GitLab (a web identity token elsewhere) the GitLab variables mean nothing', () => {
    assert.equal(guard(fromFork, { CI_PROJECT_PATH: 'acme/shop' }, 'web-identity'), undefined)
  })
})
