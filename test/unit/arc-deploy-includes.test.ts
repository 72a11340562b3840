/**
 * The arc-deploy component included each way the README documents, expanded by gitlab-ci-local to
 * the same four jobs with the same inputs:
 * - `component:` of this commit (the self-test form, resolved from the working tree);
 * - `component:` from a mirror of the project on the same (self-managed) instance, at a tag;
 * - `include: project:` with `ref:` and `file: templates/arc-deploy.yml` and `inputs:`;
 * - `include: remote:` (an HTTP URL) with `inputs:`;
 * - a vendored copy (from the npm package) with `include: local:` and `inputs:`.
 * The mirror and project forms are cloned by gitlab-ci-local with git from the instance's URL
 * (http://127.0.0.1:9/..., nothing listens there): git's `url.insteadOf` in the test's own HOME
 * points that URL at a local bare repository, so nothing leaves the machine. The remote form is
 * served by a loopback HTTP server.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { root, yaml, type JsonObject } from '../support/cfn-template.ts'
import { previewConfig, runGitlabCiLocal, scratchProject } from '../support/gitlab-ci-local.ts'

const componentText = readFileSync(join(root, 'templates', 'arc-deploy.yml'), 'utf8')
const PROJECT = 'arc-gitlab-oidc/arc-plugin-gitlab-oidc'
const TAG = '1.0.0'
const JOBS = [ 'arc-deploy-staging', 'arc-deploy-production', 'arc-deploy-review', 'arc-stop-review' ]
const INPUTS = { stage: 'release', 'app-dir': 'services/api', install: 'npm ci --omit=dev', 'review-apps': false }

const inputsYaml = (indent: string) => [ `${indent}inputs:`, ...Object.entries(INPUTS).map(([ k, v ]) => `${indent}  ${k}: ${JSON.stringify(v)}`) ].join('\n')
const pipeline = (include: string) => `stages: [build, release]\ninclude:\n${include}\n${inputsYaml('    ')}\n`

const git = (cwd: string, args: string[]) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd } })
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`)
}

let scratch: string
let home: string
let project: ReturnType<typeof scratchProject>
let server: Server
let remoteUrl: string

before(async () => {
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'arc-deploy-includes-')))
  // The project as its mirror would hold it: templates/arc-deploy.yml at tag 1.0.0, in a bare repository.
  const work = join(scratch, 'work')
  mkdirSync(join(work, 'templates'), { recursive: true })
  writeFileSync(join(work, 'templates', 'arc-deploy.yml'), componentText)
  git(work, [ 'init', '-q', '-b', 'main' ])
  git(work, [ '-c', 'user.email=m@example.com', '-c', 'user.name=M', '-c', 'commit.gpgsign=false', 'commit', '-q', '--allow-empty', '-m', 'x' ])
  git(work, [ 'add', '-A' ])
  git(work, [ '-c', 'user.email=m@example.com', '-c', 'user.name=M', '-c', 'commit.gpgsign=false', 'commit', '-q', '-m', 'component' ])
  git(work, [ '-c', 'tag.gpgsign=false', 'tag', TAG ])
  const bare = join(scratch, 'repos', `${PROJECT}.git`)
  mkdirSync(join(scratch, 'repos', 'arc-gitlab-oidc'), { recursive: true })
  git(scratch, [ 'clone', '-q', '--bare', work, bare ])
  git(bare, [ 'config', 'uploadpack.allowFilter', 'true' ])
  git(bare, [ 'config', 'uploadpack.allowAnySHA1InWant', 'true' ])
  // git in gitlab-ci-local's runs: the instance URL is this directory of bare repositories.
  home = join(scratch, 'home')
  mkdirSync(home)
  // Only this project's URL is rewritten: the scratch project's own origin (acme/...) must stay
  // as it is, gitlab-ci-local reads CI_SERVER_* and CI_PROJECT_PATH from it.
  writeFileSync(join(home, '.gitconfig'), `[url "file://${join(scratch, 'repos', 'arc-gitlab-oidc')}/"]\n\tinsteadOf = http://127.0.0.1:9/arc-gitlab-oidc/\n[protocol "file"]\n\tallow = always\n`)

  server = createServer((req, res) => {
    if (req.url !== '/arc-deploy.yml') { res.writeHead(404).end(); return }
    res.writeHead(200, { 'content-type': 'text/yaml' }).end(componentText)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  remoteUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/arc-deploy.yml`

  project = scratchProject({
    'templates/arc-deploy.yml': componentText,
    '.gitlab/arc-deploy.yml': componentText,
    'self.yml': pipeline('  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/arc-deploy@$CI_COMMIT_SHA'),
    'mirror.yml': pipeline(`  - component: $CI_SERVER_FQDN/${PROJECT}/arc-deploy@${TAG}`),
    'project.yml': pipeline(`  - project: ${PROJECT}\n    ref: ${TAG}\n    file: templates/arc-deploy.yml`),
    'local.yml': pipeline('  - local: .gitlab/arc-deploy.yml'),
    'remote.yml': pipeline(`  - remote: ${remoteUrl}`),
  })
})
after(async () => {
  project?.remove()
  server?.close()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

/** git in these runs may only read local files: a wrong rewrite fails here instead of reaching a network. */
const ENV = () => ({ HOME: home, GIT_ALLOW_PROTOCOL: 'file', GIT_SSH_COMMAND: 'false' })

const jobsOf = (config: Record<string, unknown>) => Object.fromEntries(JOBS.map(n => [ n, config[n] ]))

describe('the component, included each documented way', () => {
  let baseline: Record<string, unknown>
  before(() => { baseline = jobsOf(previewConfig(project.dir, 'self.yml', { env: ENV() })) })

  it('the self-test form applies the inputs (the baseline the others must equal)', () => {
    for (const name of JOBS) {
      const job = baseline[name] as JsonObject
      assert.equal(job.stage, 'release', name)
      assert.equal((job.script as string[])[0], 'cd services/api')
    }
    assert.equal(((baseline['arc-deploy-review'] as JsonObject).variables as JsonObject).ARC_REVIEW_APPS, 'false')
  })

  for (const [ way, file ] of [
    [ `component: from a mirror of the project, at tag ${TAG}`, 'mirror.yml' ],
    [ 'project: + ref: + file: with inputs:', 'project.yml' ],
    [ 'local: with inputs: (a copy vendored from the npm package)', 'local.yml' ],
  ] as const) {
    it(`${way}: the same jobs`, () => {
      assert.deepEqual(jobsOf(previewConfig(project.dir, file, { env: ENV() })), baseline)
      if (file !== 'local.yml') {
        const fetched = join(project.dir, '.gitlab-ci-local', 'includes', '127.0.0.1', PROJECT, TAG, 'templates', 'arc-deploy.yml')
        assert.equal(readFileSync(fetched, 'utf8'), componentText, 'fetched from the mirror at the tag')
      }
    })
  }

  it('remote: (an HTTP URL) with inputs: the same jobs', async () => {
    const r = await runGitlabCiLocal(project.dir, [ '--preview', '--file', 'remote.yml' ], { env: ENV() })
    assert.equal(r.code, 0, r.output)
    assert.deepEqual(jobsOf(yaml.load(r.stdout) as Record<string, unknown>), baseline)
  })
})
