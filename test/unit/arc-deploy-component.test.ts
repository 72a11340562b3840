/**
 * templates/arc-deploy.yml, the CI/CD component, expanded by gitlab-ci-local the way GitLab
 * includes a component from its own project (`$CI_SERVER_FQDN/$CI_PROJECT_PATH/arc-deploy@$CI_COMMIT_SHA`,
 * resolved from this commit's templates/): the same jobs as example-app/.gitlab-ci.yml apart
 * from their names, its inputs, and its rules.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { appDir, root, yaml, type JsonObject } from '../support/cfn-template.ts'
import { gitlabCiLocalSync, jobWhens, previewConfig, scratchProject } from '../support/gitlab-ci-local.ts'

const componentText = readFileSync(join(root, 'templates', 'arc-deploy.yml'), 'utf8')
const include = (inputs: Record<string, string | boolean>) => [
  'include:',
  '  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/arc-deploy@$CI_COMMIT_SHA',
  ...(Object.keys(inputs).length ? [ '    inputs:', ...Object.entries(inputs).map(([ k, v ]) => `      ${k}: ${JSON.stringify(v)}`) ] : []),
  '',
].join('\n')
/** The example's install step (it skips `npm ci` when node_modules came from its cache). */
const EXAMPLE_INPUTS = { install: 'test -d node_modules || npm ci' }
const NAMES: Record<string, string> = { 'arc-deploy-staging': 'deploy-staging', 'arc-deploy-production': 'deploy-production', 'arc-deploy-review': 'deploy-review', 'arc-stop-review': 'stop-review' }

let project: ReturnType<typeof scratchProject>
before(() => {
  project = scratchProject({
    'templates/arc-deploy.yml': componentText,
    'example.yml': readFileSync(join(appDir, '.gitlab-ci.yml'), 'utf8'),
    'defaults.yml': include({}),
    'as-example.yml': include(EXAMPLE_INPUTS),
    'custom.yml': `stages: [build, release]\n${include({ stage: 'release', 'app-dir': 'services/api', aud: 'https://gitlab.example.com', image: 'node:24', 'production-branch': '"stable"', 'review-apps': false, install: 'npm ci --omit=dev', 'app-name': 'api', 'auto-stop-in': '2 days' })}`,
  })
})
after(() => project?.remove())

/** The component's jobs under the example's names, with the on_stop reference renamed too. */
function renamed (config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [ name, job ] of Object.entries(config)) {
    if (!(name in NAMES)) continue
    out[NAMES[name]!] = JSON.parse(JSON.stringify(job).replace(/"on_stop":"arc-stop-review"/, '"on_stop":"stop-review"'))
  }
  return out
}
const jobsOf = (config: Record<string, unknown>, names: string[]) => Object.fromEntries(names.map(n => [ n, config[n] ]))

describe('templates/arc-deploy.yml', () => {
  it('declares the inputs and defaults of the design', () => {
    const spec = (yaml.load(componentText.split(/^---$/m)[0]!) as JsonObject).spec as { inputs: Record<string, { default?: unknown, type?: string }> }
    const defaults = Object.fromEntries(Object.entries(spec.inputs).map(([ k, v ]) => [ k, v.default ]))
    assert.deepEqual(defaults, {
      stage: 'deploy', 'app-dir': '.', aud: '$CI_SERVER_URL', image: 'node:22', 'production-branch': '$CI_DEFAULT_BRANCH',
      'review-apps': true, install: 'npm ci', 'app-name': '', 'auto-stop-in': '1 week',
    })
    assert.equal(spec.inputs['review-apps']!.type, 'boolean')
  })

  it('expands to the same jobs as example-app/.gitlab-ci.yml, apart from their names', () => {
    const example = previewConfig(project.dir, 'example.yml')
    const component = renamed(previewConfig(project.dir, 'as-example.yml'))
    assert.deepEqual(Object.keys(component).sort(), Object.values(NAMES).sort())
    assert.deepEqual(component, jobsOf(example, Object.values(NAMES)))
  })

  it('with its defaults, only the install command differs from the example: `npm ci`', () => {
    const asExample = renamed(previewConfig(project.dir, 'as-example.yml'))
    const defaults = renamed(previewConfig(project.dir, 'defaults.yml'))
    assert.deepEqual(JSON.parse(JSON.stringify(defaults).replaceAll('"npm ci"', `"${EXAMPLE_INPUTS.install}"`)), asExample)
    for (const job of Object.values(defaults) as JsonObject[]) assert.ok((job.script as string[]).includes('npm ci'))
  })

  it('applies every input', () => {
    const custom = previewConfig(project.dir, 'custom.yml')
    for (const name of Object.keys(NAMES)) {
      const job = custom[name] as JsonObject
      assert.equal(job.stage, 'release', name)
      assert.deepEqual(job.image, { name: 'node:24' })
      assert.deepEqual(job.id_tokens, { GITLAB_OIDC_TOKEN: { aud: 'https://gitlab.example.com' } })
      assert.deepEqual((job.script as string[]).slice(0, 2), [ 'cd services/api', 'npm ci --omit=dev' ])
    }
    assert.deepEqual((custom['arc-deploy-production'] as JsonObject).artifacts, { reports: { dotenv: 'services/api/arc-deploy.env', annotations: 'services/api/arc-deploy-annotations.json' } })
    assert.equal(((custom['arc-deploy-review'] as JsonObject).environment as JsonObject).auto_stop_in, '2 days')
    assert.equal(((custom['arc-stop-review'] as JsonObject).variables as JsonObject).ARC_APP_NAME, 'api')
    // production-branch and review-apps, as the rules see them
    const whens = (file: string, variables: Record<string, string>, unset: string[] = []) =>
      jobWhens(project.dir, file, { variables, unset })
    assert.equal(whens('custom.yml', { CI_COMMIT_BRANCH: 'stable' })['arc-deploy-production'], 'on_success')
    assert.equal(whens('custom.yml', { CI_COMMIT_BRANCH: 'main' })['arc-deploy-staging'], 'on_success', 'the default branch is just a branch then')
    const mr = { CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_IID: '3' }
    assert.deepEqual([ 'arc-deploy-review', 'arc-stop-review' ].map(n => whens('custom.yml', mr, [ 'CI_COMMIT_BRANCH' ])[n]), [ 'never', 'never' ], 'review-apps: false')
    assert.deepEqual([ 'arc-deploy-review', 'arc-stop-review' ].map(n => whens('defaults.yml', mr, [ 'CI_COMMIT_BRANCH' ])[n]), [ 'on_success', 'manual' ])
    const fork = { ...mr, CI_MERGE_REQUEST_PROJECT_ID: '100', CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '200' }
    assert.deepEqual([ 'arc-deploy-review', 'arc-stop-review' ].map(n => whens('defaults.yml', fork, [ 'CI_COMMIT_BRANCH' ])[n]), [ 'never', 'never' ], 'a merge request from a fork')
    const own = { ...mr, CI_MERGE_REQUEST_PROJECT_ID: '100', CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '100' }
    assert.deepEqual([ 'arc-deploy-review', 'arc-stop-review' ].map(n => whens('defaults.yml', own, [ 'CI_COMMIT_BRANCH' ])[n]), [ 'on_success', 'manual' ], 'a merge request within the project')
  })

  it('refuses inputs that would break the jobs: a bare branch name in a rule, an app-dir with spaces', () => {
    for (const [ file, text, input ] of [
      [ 'bad-branch.yml', include({ 'production-branch': 'stable' }), 'production-branch' ],
      [ 'bad-dir.yml', include({ 'app-dir': 'my app' }), 'app-dir' ],
    ] as const) {
      const p = scratchProject({ 'templates/arc-deploy.yml': componentText, [file]: text })
      try {
        const r = gitlabCiLocalSync(p.dir, [ '--list', '--file', file ])
        assert.notEqual(r.code, 0)
        assert.match(r.output, new RegExp(`\`${input}\` input: .* does not match required regex`))
      }
      finally {
        p.remove()
      }
    }
  })
})
