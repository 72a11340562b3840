/**
 * The project's own .gitlab-ci.yml, through gitlab-ci-local: valid against GitLab's CI schema,
 * which jobs run in branch, merge request and tag pipelines, the component self-test (the
 * component of this commit included, its jobs present but manual with harmless scripts), the
 * publish job's keyless command line; and the two scripts it runs (scripts/ci/).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

import { missingJobs, pipelineJobs } from '../../scripts/ci/component-jobs.ts'
import { tagProblem } from '../../scripts/ci/tag-version.ts'
import { root, type JsonObject } from '../support/cfn-template.ts'
import { gitlabCiLocalSync, jobWhens, previewConfig, scratchProject } from '../support/gitlab-ci-local.ts'
import { NODE22 } from '../support/install.ts'

const read = (path: string) => readFileSync(join(root, path), 'utf8')
const ciText = read('.gitlab-ci.yml')
const COMPONENT_JOBS = [ 'arc-deploy-staging', 'arc-deploy-production', 'arc-deploy-review', 'arc-stop-review' ]
const { version } = JSON.parse(read('package.json')) as { version: string }

let project: ReturnType<typeof scratchProject>
before(() => {
  project = scratchProject({ '.gitlab-ci.yml': ciText, 'templates/arc-deploy.yml': read('templates/arc-deploy.yml'), 'package.json': read('package.json') })
})
after(() => project?.remove())

const whens = (variables: Record<string, string>, unset: string[] = []) => {
  const all = jobWhens(project.dir, '.gitlab-ci.yml', { variables, unset })
  return Object.fromEntries(Object.entries(all).filter(([ , w ]) => w !== 'never'))
}

describe('.gitlab-ci.yml (the project\'s own pipeline)', () => {
  it('is valid against GitLab\'s CI schema (and a broken copy is not)', () => {
    const ok = gitlabCiLocalSync(project.dir, [ '--list', '--json-schema-validation' ])
    assert.equal(ok.code, 0, ok.output)
    const p = scratchProject({ '.gitlab-ci.yml': ciText.replace('aud: npm:registry.npmjs.org', 'audience: npm:registry.npmjs.org'), 'templates/arc-deploy.yml': read('templates/arc-deploy.yml') })
    try {
      const bad = gitlabCiLocalSync(p.dir, [ '--list', '--json-schema-validation' ])
      assert.notEqual(bad.code, 0)
      assert.match(bad.output, /Invalid .gitlab-ci.yml configuration/)
    }
    finally { p.remove() }
  })

  it('branch pipeline: the tests and the component self-test, its four jobs manual', () => {
    const present = Object.fromEntries(COMPONENT_JOBS.map(n => [ n, 'manual' ]))
    assert.deepEqual(whens({ CI_COMMIT_BRANCH: 'main' }), { test: 'on_success', 'component-jobs': 'on_success', ...present })
    assert.deepEqual(whens({ CI_COMMIT_BRANCH: 'feature/x' }), { test: 'on_success', 'component-jobs': 'on_success', ...present })
  })

  it('merge request pipeline: the same, nothing published', () => {
    const present = Object.fromEntries(COMPONENT_JOBS.map(n => [ n, 'manual' ]))
    assert.deepEqual(whens({ CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_IID: '4' }, [ 'CI_COMMIT_BRANCH' ]), { test: 'on_success', 'component-jobs': 'on_success', ...present })
  })

  it('tag pipeline: a semantic-version tag checks the version, publishes to npm, releases; other tags do nothing', () => {
    assert.deepEqual(whens({ CI_COMMIT_TAG: version }, [ 'CI_COMMIT_BRANCH' ]), { 'tag-version': 'on_success', 'publish-npm': 'on_success', release: 'on_success' })
    assert.deepEqual(whens({ CI_COMMIT_TAG: '2.0.0-rc.1' }, [ 'CI_COMMIT_BRANCH' ]), { 'tag-version': 'on_success', 'publish-npm': 'on_success', release: 'on_success' })
    assert.deepEqual(whens({ CI_COMMIT_TAG: `v${version}` }, [ 'CI_COMMIT_BRANCH' ]), {})
    assert.deepEqual(whens({ CI_COMMIT_TAG: 'nightly' }, [ 'CI_COMMIT_BRANCH' ]), {})
  })

  it('the self-test includes this commit\'s component and keeps its jobs from deploying', () => {
    assert.match(ciText, /- component: \$CI_SERVER_FQDN\/\$CI_PROJECT_PATH\/arc-deploy@\$CI_COMMIT_SHA/)
    const config = previewConfig(project.dir, '.gitlab-ci.yml', { variables: { CI_COMMIT_BRANCH: 'main' } })
    for (const name of COMPONENT_JOBS) {
      const job = config[name] as JsonObject
      assert.ok(job, `${name} comes from the component`)
      assert.deepEqual(job.id_tokens, { GITLAB_OIDC_TOKEN: { aud: '$CI_SERVER_URL' } }, `${name} is the component's job`)
      assert.equal(job.stage, 'component')
      const script = [ ...(job.before_script as string[] ?? []), ...(job.script as string[]) ]
      assert.equal(script.length, 1)
      assert.doesNotMatch(script[0]!, /\b(npx|npm|node)\b|arc (deploy|destroy)/, 'no install, no arc')
      assert.equal(((job.environment as JsonObject).action), name === 'arc-stop-review' ? 'stop' : 'prepare', 'no deployment recorded')
    }
    const check = config['component-jobs'] as JsonObject
    assert.deepEqual(check.script, [ `node scripts/ci/component-jobs.ts ${COMPONENT_JOBS.join(' ')}` ])
  })

  it('publishes with npm trusted publishing: the ID token npm documents, provenance, no token variable', () => {
    const config = previewConfig(project.dir, '.gitlab-ci.yml', { variables: { CI_COMMIT_TAG: version }, unset: [ 'CI_COMMIT_BRANCH' ] })
    const publish = config['publish-npm'] as JsonObject
    assert.deepEqual(publish.id_tokens, { NPM_ID_TOKEN: { aud: 'npm:registry.npmjs.org' }, SIGSTORE_ID_TOKEN: { aud: 'sigstore' } })
    const lines = [ ...(publish.before_script as string[] ?? []), ...(publish.script as string[]) ]
    assert.ok(lines.includes('npm publish --provenance --access public'), lines.join('\n'))
    for (const line of lines) {
      assert.doesNotMatch(line, /\$\{?\w*(TOKEN|AUTH|SECRET|PASSWORD)\w*|_authToken|\.npmrc/i, `no token on the command line: ${line}`)
    }
    assert.equal(publish.variables, undefined, 'no variables')
    assert.doesNotMatch(ciText, /NPM_TOKEN|NODE_AUTH_TOKEN|_authToken/, 'no stored npm token named anywhere')
    assert.deepEqual((config.release as JsonObject).release, { tag_name: '$CI_COMMIT_TAG', name: '$CI_COMMIT_TAG', description: 'arc-plugin-gitlab-oidc $CI_COMMIT_TAG (npm) and the arc-deploy CI/CD component; see CHANGELOG.md.' })
    assert.deepEqual(((config.release as JsonObject).needs as JsonObject[]).map(n => n.job), [ 'publish-npm' ])
    assert.deepEqual(((publish.needs as JsonObject[]).map(n => n.job)), [ 'tag-version' ])
  })

  it('runs the README\'s test command on Node 22', () => {
    const config = previewConfig(project.dir, '.gitlab-ci.yml', { variables: { CI_COMMIT_BRANCH: 'main' } })
    assert.deepEqual((config.test as JsonObject).script, [ 'npm ci', 'npm test' ])
    assert.deepEqual((config.test as JsonObject).image, { name: 'node:22' })
    assert.match(read('README.md'), /npm ci && npm test|npm ci\s*\n\s*npm test/)
  })
})

describe('scripts/ci/tag-version.ts', () => {
  it('accepts the tag equal to package.json\'s version, refuses anything else in one line saying what to do', () => {
    assert.equal(tagProblem('1.2.0', '1.2.0'), undefined)
    assert.equal(tagProblem('1.2.0-rc.1', '1.2.0-rc.1'), undefined)
    assert.match(tagProblem('1.3.0', '1.2.0')!, /tag 1\.3\.0 differs from package\.json's version 1\.2\.0: bump the version/)
    assert.match(tagProblem('v1.2.0', '1.2.0')!, /drop the v: tag 1\.2\.0/)
    assert.match(tagProblem('release', '1.2.0')!, /not a semantic version/)
    assert.match(tagProblem('', '1.2.0')!, /CI_COMMIT_TAG is empty/)
    assert.match(tagProblem('1.2.0', 'one')!, /package\.json's version "one" is not a semantic version/)
  })

  it('as the pipeline runs it: exit 1 on a mismatch, 0 on the package\'s own version', () => {
    const run = (tag: string) => spawnSync(NODE22, [ join(root, 'scripts/ci/tag-version.ts'), tag ], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } })
    const bad = run('99.0.0')
    assert.equal(bad.status, 1)
    assert.match(bad.stderr, new RegExp(`Not publishing: tag 99\\.0\\.0 differs from package\\.json's version ${version.replaceAll('.', '\\.')}`))
    const ok = run(version)
    assert.equal(ok.status, 0, ok.stderr)
  })
})

describe('scripts/ci/component-jobs.ts', () => {
  it('finds the component\'s jobs in the pipeline through the GitLab API, or names the missing ones', async () => {
    const server = createServer((req, res) => {
      assert.equal(req.url, '/api/v4/projects/42/pipelines/7/jobs?per_page=100')
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify([ { name: 'test' }, { name: 'arc-deploy-staging' }, { name: 'arc-deploy-production' } ]))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    try {
      const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v4`
      const jobs = await pipelineJobs({ CI_API_V4_URL: api, CI_PROJECT_ID: '42', CI_PIPELINE_ID: '7' })
      assert.deepEqual(missingJobs(jobs, COMPONENT_JOBS), [ 'arc-deploy-review', 'arc-stop-review' ])
      assert.deepEqual(missingJobs(jobs, [ 'arc-deploy-staging' ]), [])
    }
    finally { server.close() }
    await assert.rejects(pipelineJobs({}), /CI_API_V4_URL, CI_PROJECT_ID and CI_PIPELINE_ID are required/)
  })
})
