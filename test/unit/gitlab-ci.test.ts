/**
 * example-app/.gitlab-ci.yml: its jobs as gitlab-ci-local expands them (extends resolved) and
 * validates them against GitLab's CI JSON schema (bundled: no network), and its rules evaluated
 * by gitlab-ci-local for branch and merge request pipelines.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { DEFAULTS } from '../../src/plugin/settings.ts'
import { DEFAULT_TOKEN_VARIABLE } from '../../src/shared/id-token.ts'
import { appDir, get, template, type Json, type JsonObject } from '../support/cfn-template.ts'
import { gitlabCiLocalSync, jobWhens, previewConfig, scratchProject } from '../support/gitlab-ci-local.ts'

const ciText = readFileSync(join(appDir, '.gitlab-ci.yml'), 'utf8')
const DEPLOYS = { 'deploy-staging': 'staging', 'deploy-production': 'production', 'deploy-review': 'review/$CI_COMMIT_REF_SLUG', 'stop-review': 'review/$CI_COMMIT_REF_SLUG' }

let project: ReturnType<typeof scratchProject>
let ci: JsonObject
before(() => {
  project = scratchProject({ '.gitlab-ci.yml': ciText })
  ci = previewConfig(project.dir, '.gitlab-ci.yml', { variables: {} }) as JsonObject
})
after(() => project?.remove())

const job = (name: string): JsonObject => {
  const j = ci[name]
  assert.ok(j && typeof j === 'object' && !Array.isArray(j), `job ${name}`)
  return j as JsonObject
}
const scriptOf = (j: JsonObject): string[] => [ ...(j.before_script as string[] ?? []), ...(j.script as string[]) ]

describe('example-app/.gitlab-ci.yml', () => {
  it('installs and tests on node:22 with node_modules cached by package-lock.json', () => {
    assert.deepEqual((ci.stages as Json[]).filter(s => !String(s).startsWith('.')), [ 'install', 'test', 'deploy' ])
    for (const [ name, policy ] of [ [ 'install', 'pull-push' ], [ 'test', 'pull' ] ]) {
      assert.equal(get(job(name!), 'image', 'name'), 'node:22')
      assert.deepEqual(get(job(name!), 'cache', 0, 'key', 'files'), [ 'package-lock.json' ])
      assert.deepEqual(get(job(name!), 'cache', 0, 'paths'), [ 'node_modules/' ])
      assert.equal(get(job(name!), 'cache', 0, 'policy'), policy)
    }
    assert.deepEqual(job('test').script, [ 'npm test' ])
  })

  it('deploy jobs: an ID token for the server\'s audience, an environment with the reported URL, the reports, no AWS keys', () => {
    // The IAM template registers GitLabUrl (= CI_SERVER_URL) as the audience unless told otherwise.
    assert.equal(get(template, 'Parameters', 'Audience', 'Default'), '')
    for (const [ name, environment ] of Object.entries(DEPLOYS)) {
      const j = job(name)
      assert.equal(j.stage, 'deploy')
      assert.equal(get(j, 'image', 'name'), 'node:22')
      assert.deepEqual(j.id_tokens, { [DEFAULT_TOKEN_VARIABLE]: { aud: '$CI_SERVER_URL' } }, `${name}: the token variable the plugin reads by default`)
      assert.equal(j.interruptible, false)
      assert.equal(get(j, 'environment', 'name'), environment)
      assert.equal(get(j, 'environment', 'url'), '$ARC_DEPLOY_URL')
      assert.ok(typeof j.resource_group === 'string' && j.resource_group.length > 0)
      assert.equal(j.cache, undefined, `${name} installs on its own`)
      for (const line of scriptOf(j)) assert.doesNotMatch(line, /\baws\s|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|assume-role/i, line)
      if (name === 'stop-review') continue
      assert.deepEqual(get(j, 'artifacts', 'reports'), { dotenv: `./${DEFAULTS.dotenvReport}`, annotations: `./${DEFAULTS.annotationsReport}` }, 'the files the plugin writes')
    }
    assert.deepEqual([ 'deploy-staging', 'deploy-production' ].map(n => get(job(n), 'environment', 'deployment_tier')), [ 'staging', 'production' ])
  })

  it('deploys with Architect\'s own flags; review apps are named stacks the stop job destroys', () => {
    const last = (name: string) => scriptOf(job(name)).at(-1)
    assert.equal(last('deploy-staging'), 'npx arc deploy')
    assert.equal(last('deploy-production'), 'npx arc deploy --production')
    assert.equal(last('deploy-review'), 'npx arc deploy --name "mr-$CI_MERGE_REQUEST_IID"')
    assert.equal(last('stop-review'), 'npx arc destroy --app "$ARC_APP_NAME" --name "mr-$CI_MERGE_REQUEST_IID" --force --now')
    // Architect ignores a bare `production` argument (it would deploy staging).
    assert.doesNotMatch(JSON.stringify(job('deploy-staging').script), /production/)
    assert.equal(get(job('deploy-review'), 'environment', 'on_stop'), 'stop-review')
    assert.equal(get(job('deploy-review'), 'environment', 'auto_stop_in'), '1 week')
    assert.equal(get(job('stop-review'), 'environment', 'action'), 'stop')
    assert.equal(job('stop-review').resource_group, job('deploy-review').resource_group, 'deploy and destroy of one review app never overlap')
  })

  describe('rules, evaluated by gitlab-ci-local', () => {
    const whens = (variables: Record<string, string>, unset: string[] = []) => jobWhens(project.dir, '.gitlab-ci.yml', { variables, unset })
    const deploys = (w: Record<string, string>) => Object.fromEntries(Object.keys(DEPLOYS).map(n => [ n, w[n] ]))

    it('branch pipelines: production on the default branch only, staging elsewhere, install and test always', () => {
      const main = whens({ CI_COMMIT_BRANCH: 'main' })
      assert.deepEqual({ install: main.install, test: main.test }, { install: 'on_success', test: 'on_success' })
      assert.deepEqual(deploys(main), { 'deploy-staging': 'never', 'deploy-production': 'on_success', 'deploy-review': 'never', 'stop-review': 'never' })
      assert.deepEqual(deploys(whens({ CI_COMMIT_BRANCH: 'feature/login' })), { 'deploy-staging': 'on_success', 'deploy-production': 'never', 'deploy-review': 'never', 'stop-review': 'never' })
    })

    it('merge request pipelines: a review app and its manual stop job, no branch deploys', () => {
      const mr = whens({ CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_IID: '7' }, [ 'CI_COMMIT_BRANCH' ])
      assert.deepEqual(deploys(mr), { 'deploy-staging': 'never', 'deploy-production': 'never', 'deploy-review': 'on_success', 'stop-review': 'manual' })
    })

    it('merge requests from a fork: no review app (the fork\'s token must not meet this project\'s roles)', () => {
      const mr = { CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_IID: '7', CI_MERGE_REQUEST_PROJECT_ID: '100' }
      const fork = whens({ ...mr, CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '200' }, [ 'CI_COMMIT_BRANCH' ])
      assert.deepEqual(deploys(fork), { 'deploy-staging': 'never', 'deploy-production': 'never', 'deploy-review': 'never', 'stop-review': 'never' })
      assert.equal(fork.test, 'on_success', 'the fork\'s code is still tested')
      const own = whens({ ...mr, CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '100' }, [ 'CI_COMMIT_BRANCH' ])
      assert.deepEqual([ own['deploy-review'], own['stop-review'] ], [ 'on_success', 'manual' ], 'a merge request within the project still gets one')
    })
  })

  it('gitlab-ci-local rejects a broken copy (GitLab\'s CI schema)', () => {
    const broken = [
      ciText.replace(/\baud: \$CI_SERVER_URL/, 'audience: $CI_SERVER_URL'),
      ciText.replace('resource_group: production', 'resource_group: [production]'),
      ciText.replace('action: stop', 'action: halt'),
    ]
    for (const text of broken) {
      assert.notEqual(text, ciText)
      const p = scratchProject({ '.gitlab-ci.yml': text })
      try {
        const r = gitlabCiLocalSync(p.dir, [ '--list', '--json-schema-validation' ])
        assert.notEqual(r.code, 0, 'a schema violation must fail')
        assert.match(r.output, /Invalid .gitlab-ci.yml configuration/)
      }
      finally {
        p.remove()
      }
    }
  })
})
