/**
 * Which stage the command is for (src/plugin/stage.ts), read as Architect reads it (its own
 * minimist and flags), with the reason shown in messages and the `arc deploy production` trap.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { detect, type Invocation } from '../../../src/plugin/detect.ts'
import { chooseStage as choose } from '../../../src/plugin/stage.ts'

const arc = (command: string, ...args: string[]): Invocation =>
  ({ gitlab: true, webIdentity: false, loader: 'arc', command, awsBound: true, args })
const commandCli = (command: string, ...args: string[]): Invocation =>
  ({ gitlab: true, webIdentity: false, loader: 'command-cli', command, awsBound: true, args })
const script: Invocation = { gitlab: true, webIdentity: false, loader: 'script', awsBound: true, args: [ '--production' ] }
/** The stage, the reason messages give for it, and the trap: what these tests are about. */
function chooseStage (inv: Invocation, env: NodeJS.ProcessEnv): { stage: string, reason: string, bareProduction: boolean } {
  const { stage, reason, bareProduction } = choose(inv, env)
  return { stage, reason, bareProduction }
}

test('--production and -p choose production, with the flag as the reason', () => {
  assert.deepEqual(chooseStage(arc('deploy', '--production'), {}), { stage: 'production', reason: '--production', bareProduction: false })
  assert.equal(chooseStage(arc('deploy', '-p'), {}).stage, 'production')
  assert.equal(chooseStage(arc('deploy', '--direct', '-p', '--no-hydrate'), {}).stage, 'production')
  assert.equal(chooseStage(arc('destroy', '--app', 'shop', '--production', '--force'), {}).stage, 'production')
})

test('without the flag, staging, whatever the environment says', () => {
  assert.deepEqual(chooseStage(arc('deploy'), { ARC_OIDC_STAGE: 'production', CI_ENVIRONMENT_NAME: 'production' }),
    { stage: 'staging', reason: 'no --production flag', bareProduction: false })
})

test('--production=false is staging, as minimist reads it for Architect', () => {
  assert.equal(chooseStage(arc('deploy', '--production=false'), {}).stage, 'staging')
})

test('arc env reads --env / -e, not --production', () => {
  assert.deepEqual(chooseStage(arc('env', '--env', 'production', '--add', 'K', 'v'), {}), { stage: 'production', reason: '--env production', bareProduction: false })
  assert.equal(chooseStage(arc('env', '-e', 'production'), {}).stage, 'production')
  assert.deepEqual(chooseStage(arc('env', '--env', 'staging'), {}), { stage: 'staging', reason: 'no --env production', bareProduction: false })
  assert.equal(chooseStage(arc('env', '--production'), {}).stage, 'staging')
})

test('a command CLI (arc-deploy) reads its own arguments, with or without the command repeated first', () => {
  assert.equal(chooseStage(commandCli('deploy', '--production'), {}).stage, 'production')
  assert.equal(chooseStage(commandCli('deploy', 'deploy', '--production'), {}).stage, 'production')
  assert.equal(chooseStage(commandCli('deploy', 'deploy', 'production'), {}).bareProduction, true)
})

test('the bare word production is the trap only for deploy and destroy, and not next to the flag', () => {
  assert.deepEqual(chooseStage(arc('deploy', 'production'), {}), { stage: 'staging', reason: 'no --production flag', bareProduction: true })
  assert.equal(chooseStage(arc('destroy', '--app', 'shop', 'production'), {}).bareProduction, true)
  assert.equal(chooseStage(arc('deploy', 'production', '--production'), {}).bareProduction, false)
  assert.equal(chooseStage(arc('logs', 'production'), {}).bareProduction, false)
  assert.equal(chooseStage(arc('deploy', '--app', 'production'), {}).bareProduction, false, 'a flag\'s value, not a bare word')
})

test('a script ignores argv and takes ARC_OIDC_STAGE (production or staging only)', () => {
  assert.deepEqual(chooseStage(script, {}), { stage: 'staging', reason: 'default for scripts (set ARC_OIDC_STAGE=production to change)', bareProduction: false })
  assert.deepEqual(chooseStage(script, { ARC_OIDC_STAGE: 'production' }), { stage: 'production', reason: 'ARC_OIDC_STAGE=production', bareProduction: false })
  assert.deepEqual(chooseStage(script, { ARC_OIDC_STAGE: 'staging' }), { stage: 'staging', reason: 'ARC_OIDC_STAGE=staging', bareProduction: false })
  assert.equal(chooseStage(script, { ARC_OIDC_STAGE: 'Production' }).stage, 'staging')
})

// From the command line through detect, as the plugin does at load time.
const job = { GITLAB_CI: 'true', CI: 'true' }
const argv = (...args: string[]) => ['/usr/bin/node', '/builds/app/node_modules/.bin/arc', ...args]

test('the stage is read the way Architect reads it', () => {
  const stage = (...args: string[]) => chooseStage(detect(job, argv(...args)), {})
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
  const choice = chooseStage(detect(job, argv('deploy', 'production')), {})
  assert.equal(choice.stage, 'staging')
  assert.equal(choice.bareProduction, true)
  assert.equal(chooseStage(detect(job, argv('deploy', '--production')), {}).bareProduction, false)
  assert.equal(chooseStage(detect(job, argv('destroy', 'production', '--app', 'x')), {}).bareProduction, true)
  assert.equal(chooseStage(detect(job, argv('logs', 'production')), {}).bareProduction, false)
})

test('a script picks its stage with ARC_OIDC_STAGE', () => {
  const script = detect(job, ['/n', '/builds/app/deploy.mjs'])
  assert.equal(chooseStage(script, {}).stage, 'staging')
  assert.equal(chooseStage(script, { ARC_OIDC_STAGE: 'production' }).stage, 'production')
})
