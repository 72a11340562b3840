/**
 * Which stage the command is for (src/plugin/stage.ts), read as Architect reads it (its own
 * minimist and flags), with the reason shown in messages and the `arc deploy production` trap.
 */
import { describe, it, test } from 'node:test'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import assert from 'node:assert/strict'
import { detect, type Invocation } from '../../../src/plugin/detect.ts'
import { ARCHITECT_FLAGS, chooseStage as choose } from '../../../src/plugin/stage.ts'

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
  assert.equal(chooseStage(arc('deploy', '--name', 'production'), {}).bareProduction, false, 'the value of a flag deploy reads, not a bare word')
  assert.equal(chooseStage(arc('destroy', '--app', 'production'), {}).bareProduction, false, 'destroy reads --app')
  assert.equal(chooseStage(arc('deploy', '--app', 'production'), {}).bareProduction, true, 'deploy ignores --app: the word is lost as well')
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

/** Command lines where a plugin parsing on its own would disagree with Architect. */
const SHAPES: string[][] = [
  [], ['--production'], ['-p'], ['--verbose', 'production'], ['-v', 'production'], ['-p=1'], ['-p1'], ['-p=0'], ['--production=false'],
  ['--production=true'], ['--production=1'], ['-p', '--no-production'], ['--no-production', '-p'], ['-p', '-p'], ['-vp'], ['-pv'],
  ['--name', 'production'], ['-n', 'production'], ['--tag', 'production'], ['--', 'production'], ['-p', 'production'],
  ['--dry-run', 'production'], ['--fast', '--production'], ['--no-hydrate', '-p'], ['--debug', '--static', 'production'],
]

const requireFromHere = createRequire(import.meta.url)

describe('the installed Architect commands, read where they are', () => {
  /** A command CLI's own `let <name> = <literal>`, evaluated. */
  function literal (source: string, name: string): unknown {
    const m = new RegExp(`let ${name}\\s*=\\s*(\\{[\\s\\S]*?\\}|\\[[^\\]]*\\])\\n`).exec(source)
    assert.ok(m, `let ${name} = ... in the installed file`)
    return new Function(`return (${m[1]})`)()
  }

  for (const [command, flags] of Object.entries(ARCHITECT_FLAGS)) {
    it(`${command}: the alias, boolean and default lists are the installed ${flags.file}'s (drift fails here)`, () => {
      const source = readFileSync(requireFromHere.resolve(flags.file), 'utf8')
      assert.deepEqual(literal(source, 'alias'), flags.alias)
      assert.deepEqual(literal(source, 'boolean'), flags.boolean)
      if ('default' in flags) assert.deepEqual(literal(source, 'def'), flags.default)
      else assert.doesNotMatch(source, /let def\s*=/)
      // and the installed command decides the stage as stage.ts does
      const decides = command === 'env' ? /env:\s+args\.env/ : command === 'logs' ? /\.\.\.args/ : /args\.production \? 'production' : 'staging'/
      assert.match(source, decides)
      // the options whose value it reads (a `production` there is not ignored)
      for (const name of flags.values) assert.match(source, new RegExp(`args\\.${name}\\b`), `${flags.file} reads args.${name}`)
    })
  }

  it('deploy: for every shape, the stage is the one @architect/deploy\'s own getFlags() returns', () => {
    const getFlags = requireFromHere('@architect/deploy/src/cli/flags.js') as () => { deployStage: string }
    const saved = process.argv
    try {
      for (const shape of SHAPES) {
        process.argv = ['node', '/app/node_modules/.bin/arc', 'deploy', ...shape]
        const architect = getFlags().deployStage
        assert.equal(choose(arc('deploy', ...shape), {}).stage, architect, `arc deploy ${shape.join(' ')}`)
        process.argv = ['node', '/app/node_modules/.bin/arc-deploy', ...shape]
        assert.equal(choose(commandCli('deploy', ...shape), {}).stage, getFlags().deployStage, `arc-deploy ${shape.join(' ')}`)
      }
    }
    finally { process.argv = saved }
  })

  it('the bare-production trap fires whatever comes before the word, never when the flag is set, never for a flag\'s value', () => {
    for (const command of ['deploy', 'destroy']) {
      for (const before of [[], ['--verbose'], ['-v'], ['--dry-run'], ['--force'], ['--debug', '--static'], ['--now'], ['--no-hydrate'], ['--']]) {
        assert.equal(chooseStage(arc(command, ...before, 'production'), {}).bareProduction, true, `${command} ${before.join(' ')} production`)
      }
      assert.equal(chooseStage(arc(command, '-p', 'production'), {}).bareProduction, false)
      assert.equal(chooseStage(arc(command, '--name', 'production'), {}).bareProduction, false, 'the stack name, not a stage')
      assert.equal(chooseStage(arc(command, '--bogus', 'production'), {}).bareProduction, true, 'the value of an option Architect does not read')
    }
    assert.equal(chooseStage(arc('logs', '--verbose', 'production'), {}).bareProduction, false, 'logs fails on its own')
  })

  it('-p=1 and -p1 are production, -p=0 and --production=false staging (Architect tests the value, not `=== true`)', () => {
    for (const args of [['-p=1'], ['-p1'], ['--production=1'], ['--no-production', '-p']]) assert.equal(chooseStage(arc('destroy', ...args), {}).stage, 'production', args.join(' '))
    for (const args of [['-p=0'], ['--production=false'], ['-p', '--no-production']]) assert.equal(chooseStage(arc('destroy', ...args), {}).stage, 'staging', args.join(' '))
  })
})
