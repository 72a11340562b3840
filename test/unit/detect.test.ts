import { test } from 'node:test'
import assert from 'node:assert/strict'
import { detect } from '../../src/plugin/detect.ts'
import { chooseStage } from '../../src/plugin/stage.ts'

const job = { GITLAB_CI: 'true', CI: 'true' }
const arc = (...args: string[]) => ['/usr/bin/node', '/builds/app/node_modules/.bin/arc', ...args]

test('acts only inside a GitLab job, for commands that talk to AWS', () => {
  assert.equal(detect({}, arc('deploy')).gitlab, false)
  for (const command of ['deploy', 'destroy', 'env', 'logs']) {
    assert.equal(detect(job, arc(command)).awsBound, true, command)
  }
  for (const args of [['version'], ['help'], [], ['sandbox'], ['hydrate'], ['create'], ['deploy', '--help'], ['deploy', '-h'], ['--help']]) {
    assert.equal(detect(job, arc(...args)).awsBound, false, args.join(' '))
  }
})

test('recognises the arc CLI by its bin link or its file', () => {
  const inv = detect(job, ['/n', '/x/node_modules/@architect/architect/src/index.js', 'deploy', '--production'])
  assert.equal(inv.loader, 'arc')
  assert.equal(inv.command, 'deploy')
  assert.deepEqual(inv.args, ['--production'])
})

test('a command CLI (arc-deploy) and a script', () => {
  const cli = detect(job, ['/n', '/x/node_modules/@architect/deploy/src/cli/index.js', '--production'])
  assert.equal(cli.loader, 'command-cli')
  assert.equal(cli.command, 'deploy')
  const script = detect(job, ['/n', '/builds/app/scripts/deploy.mjs'])
  assert.equal(script.loader, 'script')
  assert.equal(script.awsBound, true)
})

test('the stage is read the way Architect reads it', () => {
  const stage = (...args: string[]) => chooseStage(detect(job, arc(...args)), {})
  assert.equal(stage('deploy', '--production').stage, 'production')
  assert.equal(stage('deploy', '-p').stage, 'production')
  assert.equal(stage('deploy', '--dry-run', '-p').stage, 'production')
  assert.equal(stage('deploy').stage, 'staging')
  assert.equal(stage('deploy', '--production=false').stage, 'staging')
  assert.equal(stage('env', '--env', 'production').stage, 'production')
  assert.equal(stage('env', '-e', 'staging').stage, 'staging')
  assert.equal(stage('logs', '-p', 'src/http/get-index').stage, 'production')
})

test('`arc deploy production` (bare word) is recognised as the staging trap', () => {
  const choice = chooseStage(detect(job, arc('deploy', 'production')), {})
  assert.equal(choice.stage, 'staging')
  assert.equal(choice.bareProduction, true)
  assert.equal(chooseStage(detect(job, arc('deploy', '--production')), {}).bareProduction, false)
  assert.equal(chooseStage(detect(job, arc('destroy', 'production', '--app', 'x')), {}).bareProduction, true)
  assert.equal(chooseStage(detect(job, arc('logs', 'production')), {}).bareProduction, false)
})

test('a script picks its stage with ARC_OIDC_STAGE', () => {
  const script = detect(job, ['/n', '/builds/app/deploy.mjs'])
  assert.equal(chooseStage(script, {}).stage, 'staging')
  assert.equal(chooseStage(script, { ARC_OIDC_STAGE: 'production' }).stage, 'production')
})
