/**
 * example-app/.gitlab-ci.yml: its jobs and rules, validated against GitLab's CI JSON schema by
 * gitlab-ci-local (which bundles that schema: no network) and its rules evaluated by it.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

import { DEFAULT_TOKEN_VARIABLE } from '../../src/plugin/token.ts'
import { appDir, get, isObject, template, yaml, type JsonObject } from '../support/cfn-template.ts'

const require = createRequire(import.meta.url)
const ciPath = join(appDir, '.gitlab-ci.yml')

/* ------------------------------------------------------------------------ */
/* .gitlab-ci.yml                                                            */
/* ------------------------------------------------------------------------ */

const ci = yaml.load(readFileSync(ciPath, 'utf8'), { filename: ciPath }) as JsonObject

// Resolve a job's `extends` (one level of hidden templates, which is all the file uses).
function job (name: string): JsonObject {
  let j = ci[name]
  assert.ok(isObject(j), `job ${name}`)
  let base = typeof j.extends === 'string' ? ci[j.extends] : undefined
  return { ...(isObject(base) ? base : {}), ...j }
}

function scriptLines (j: JsonObject): string[] {
  return [ 'before_script', 'script', 'after_script' ].flatMap(k => {
    let v = j[k] ?? (k === 'before_script' ? get(ci, 'default', 'before_script') : undefined)
    return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [ v ] : []
  })
}

describe('example-app/.gitlab-ci.yml', () => {
  it('installs, tests and deploys on node:22 with node_modules cached by package-lock.json', () => {
    assert.deepEqual(ci.stages, [ 'install', 'test', 'deploy' ])
    assert.equal(get(ci, 'default', 'image'), 'node:22')
    assert.deepEqual(get(ci, 'default', 'cache', 'key', 'files'), [ 'package-lock.json' ])
    assert.deepEqual(get(ci, 'default', 'cache', 'paths'), [ 'node_modules/' ])
    assert.equal(get(ci, 'install', 'cache', 'policy'), 'pull-push')
    assert.deepEqual(job('test').script, [ 'npm test' ])
  })

  it('deploys staging from other branches and production from the default branch, with an ID token and no AWS keys', () => {
    let staging = job('deploy-staging')
    let production = job('deploy-production')
    assert.deepEqual(staging.script, [ 'npx arc deploy' ])
    assert.deepEqual(production.script, [ 'npx arc deploy --production' ])
    assert.deepEqual(staging.rules, [ { if: '$CI_COMMIT_BRANCH && $CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH' } ])
    assert.deepEqual(production.rules, [ { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' } ])
    let defaultAudience = get(template, 'Parameters', 'GitLabUrl', 'Default')
    for (let [ j, env ] of [ [ staging, 'staging' ], [ production, 'production' ] ] as const) {
      assert.equal(j.stage, 'deploy')
      assert.equal(get(j, 'environment', 'name'), env)
      assert.equal(j.resource_group, env)
      assert.deepEqual(Object.keys(j.id_tokens as JsonObject), [ DEFAULT_TOKEN_VARIABLE ], 'the token variable the plugin reads by default')
      assert.equal(get(j, 'id_tokens', DEFAULT_TOKEN_VARIABLE, 'aud'), defaultAudience, 'aud = the trust policies\' default audience')
      for (let line of scriptLines(j)) {
        assert.doesNotMatch(line, /\baws\s|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|assume-role/i, line)
      }
    }
    // Architect ignores a bare `production` argument (it would deploy staging).
    assert.doesNotMatch(JSON.stringify(staging.script), /production/)
  })

  describe('validated by gitlab-ci-local against GitLab\'s CI schema', () => {
    let bin: string | undefined
    try {
      bin = join(dirname(require.resolve('gitlab-ci-local/package.json')), 'dist', 'index.js')
    }
    catch {
      bin = undefined
    }

    // Runs gitlab-ci-local on a copy in a scratch directory (it writes .gitlab-ci-local/ there).
    function glcl (yamlText: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
      assert.ok(bin, 'gitlab-ci-local is not installed: it is a devDependency of this package (npm install)')
      let dir = mkdtempSync(join(tmpdir(), 'gitlab-ci-local-'))
      try {
        mkdirSync(join(dir, 'home'))
        writeFileSync(join(dir, '.gitlab-ci.yml'), yamlText)
        let r = spawnSync(process.execPath, [
          bin, '--home', join(dir, 'home'), '--json-schema-validation',
          '--ignore-predefined-vars', 'CI_COMMIT_BRANCH,CI_DEFAULT_BRANCH', ...args,
        ], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: join(dir, 'home'), NO_COLOR: '1' }, timeout: 60_000 })
        return { status: r.status, stdout: r.stdout, stderr: r.stderr }
      }
      finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }

    function activeJobs (branch: string): Record<string, string> {
      let r = glcl(readFileSync(ciPath, 'utf8'), [
        '--list-json', '--variable', `CI_COMMIT_BRANCH=${branch}`, '--variable', 'CI_DEFAULT_BRANCH=main',
      ])
      assert.equal(r.status, 0, r.stderr)
      let jobs = JSON.parse(r.stdout) as { name: string; when: string }[]
      return Object.fromEntries(jobs.map(j => [ j.name, j.when ]))
    }

    it('accepts the example and runs production only on the default branch', () => {
      assert.deepEqual(activeJobs('main'), {
        install: 'on_success', test: 'on_success', 'deploy-staging': 'never', 'deploy-production': 'on_success',
      })
      assert.deepEqual(activeJobs('feature/login'), {
        install: 'on_success', test: 'on_success', 'deploy-staging': 'on_success', 'deploy-production': 'never',
      })
    })

    it('rejects a broken copy', () => {
      let good = readFileSync(ciPath, 'utf8')
      let broken = [
        good.replace(/\baud: https:\/\/gitlab\.com/, 'audience: https://gitlab.com'),
        good.replace('resource_group: production', 'resource_group: [production]'),
      ]
      for (let text of broken) {
        assert.notEqual(text, good)
        let r = glcl(text, [ '--list' ])
        assert.notEqual(r.status, 0, 'a schema violation must fail')
        assert.match(r.stdout + r.stderr, /Invalid .gitlab-ci.yml configuration/)
      }
    })
  })
})
