/**
 * Issue 21: the README is the users' front door. At most 300 lines, the quick start first, the two
 * commands of the Developing section kept exactly, contributors' material in CONTRIBUTING.md, and no
 * test file cited (a claim's proof is a row of CONTRIBUTING.md's table, linked from the docs).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../support/install.ts'

const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const CONTRIBUTING = readFileSync(join(ROOT, 'CONTRIBUTING.md'), 'utf8')
const MAX_LINES = 300
const headings = [ ...README.replace(/```[\s\S]*?```/g, '').matchAll(/^## (.+)$/gm) ].map(m => m[1]!)
const section = (name: string) => {
  const start = README.indexOf(`\n## ${name}\n`)
  assert.ok(start >= 0, `the README has a section "${name}"`)
  const end = README.indexOf('\n## ', start + 1)
  return README.slice(start, end < 0 ? undefined : end)
}

describe('README.md', () => {
  it(`is at most ${MAX_LINES} lines`, () => {
    const lines = README.split('\n').length - (README.endsWith('\n') ? 1 : 0)
    assert.ok(lines <= MAX_LINES, `${lines} lines: move the detail to docs/ or CONTRIBUTING.md`)
  })

  it('opens with what it does, then the quick start: install, setup, the include, a job log, doctor', () => {
    assert.equal(headings[0], 'Quick start', `sections: ${headings.join(', ')}`)
    const quick = section('Quick start')
    for (const step of [ 'npm install --save-dev arc-plugin-gitlab-oidc @architect/architect', 'npx arc-gitlab-oidc setup',
      '- component: gitlab.com/arc-gitlab-oidc/arc-plugin-gitlab-oidc/arc-deploy@', '✓ GitLab OIDC Assumed', 'npx arc-gitlab-oidc doctor',
      '(docs/troubleshooting.md)' ]) {
      assert.ok(quick.includes(step), `the quick start has ${step}`)
    }
    assert.ok(quick.indexOf('npm install --save-dev') < quick.indexOf('npx arc-gitlab-oidc setup'), 'install comes before setup')
  })

  it('has the settings table under Configuration', () => {
    const table = section('Configuration').split('\n').filter(l => l.startsWith('| `'))
    for (const key of [ 'production-role', 'staging-role', 'token-variable', 'dotenv-report', 'annotations-report' ]) {
      assert.ok(table.some(row => row.startsWith(`| \`${key}\``)), `a row for ${key}`)
    }
  })

  it('keeps exactly the two commands under Developing, and links CONTRIBUTING.md', () => {
    const developing = section('Developing')
    const commands = [ ...developing.matchAll(/```sh\n([\s\S]*?)```/g) ].flatMap(m => m[1]!.split('\n').filter(Boolean))
      .map(line => line.replace(/\s+#.*$/, ''))
    assert.deepEqual(commands, [ 'npm install && npm run demo', 'npm ci && npm test' ])
    assert.match(developing, /\]\(https:\/\/gitlab\.com\/arc-gitlab-oidc\/arc-plugin-gitlab-oidc\/-\/blob\/main\/CONTRIBUTING\.md\)/)
  })

  it('cites no test file (the proofs are in CONTRIBUTING.md\'s table)', () => {
    assert.deepEqual(README.match(/\btest\/(unit|e2e|support)\/|\.test\.ts\b/g) ?? [], [])
    assert.match(CONTRIBUTING, /^## Which test proves which promise$/m)
  })
})

describe('one recommended CI path (issue 21)', () => {
  const GITLAB_CI = readFileSync(join(ROOT, 'docs', 'gitlab-ci.md'), 'utf8')
  const yamlBlocks = (md: string) => [ ...md.matchAll(/```ya?ml\n([\s\S]*?)```/g) ].map(m => m[1]!)

  it('the README\'s quick start includes the component and writes no job out; the written-out jobs are the alternative in docs/gitlab-ci.md', () => {
    const blocks = yamlBlocks(section('Quick start'))
    assert.ok(blocks.length >= 1)
    for (const block of blocks) assert.match(block, /^include:\n {2}- component: gitlab\.com\/arc-gitlab-oidc\/arc-plugin-gitlab-oidc\/arc-deploy@/, block)
    for (const block of [ ...README.matchAll(/```\w*\n([\s\S]*?)```/g) ].map(m => m[1]!)) {
      assert.doesNotMatch(block, /^\s*(id_tokens|script|rules):/m, 'no job written out in the README')
    }
    assert.match(README, /\(docs\/gitlab-ci\.md\)/)
    assert.match(GITLAB_CI, /\*\*the CI\/CD component\*\* \(recommended[^)]*\) or \[the same jobs written out\]\(#the-jobs-written-out\)/)
  })

  it('each job written out in docs/gitlab-ci.md collects both reports the plugin writes, and its URL', () => {
    const written = GITLAB_CI.slice(GITLAB_CI.indexOf('## The jobs written out'))
    const jobs = yamlBlocks(written)[0]!.split(/\n(?=\S)/).filter(j => /^[\w-]+:\n/.test(j))
    assert.deepEqual(jobs.map(j => j.split(':')[0]), [ 'deploy-staging', 'deploy-production' ])
    for (const job of jobs) {
      assert.match(job, /\n {2}artifacts:\n {4}reports:\n {6}dotenv: arc-deploy\.env\n {6}annotations: arc-deploy-annotations\.json\n/, job)
      assert.match(job, /\n {4}url: \$ARC_DEPLOY_URL\n/, job)
      assert.match(job, /\n {2}id_tokens:\n {4}GITLAB_OIDC_TOKEN:\n {6}aud: \$CI_SERVER_URL\n/, job)
    }
  })
})
