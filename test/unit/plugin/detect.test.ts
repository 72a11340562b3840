import { test } from 'node:test'
import assert from 'node:assert/strict'
import { detect } from '../../../src/plugin/detect.ts'

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

// AWS's standard web-identity variables, outside GitLab (usesWebIdentity).

import { usesWebIdentity } from '../../../src/plugin/detect.ts'

const standard = { AWS_ROLE_ARN: 'arn:aws:iam::111111111111:role/app-staging', AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/token' }

test('webIdentity: off GitLab, with both standard variables and nothing that takes precedence', () => {
  assert.equal(usesWebIdentity(standard), true)
  const inv = detect(standard, arc('deploy'))
  assert.equal(inv.webIdentity, true)
  assert.equal(inv.gitlab, false)
  assert.equal(inv.awsBound, true)
  assert.equal(detect({ ...standard, AWS_ROLE_SESSION_NAME: 'x', AWS_REGION: 'eu-west-1' }, arc('deploy')).webIdentity, true)
  // Only the key ID, or only the secret, is not a usable static key pair.
  assert.equal(usesWebIdentity({ ...standard, AWS_ACCESS_KEY_ID: 'AKIA' }), true)
  assert.equal(usesWebIdentity({ ...standard, AWS_SECRET_ACCESS_KEY: 's' }), true)
})

test('webIdentity: false without both variables, or when static keys or a profile are set', () => {
  assert.equal(usesWebIdentity({}), false)
  assert.equal(usesWebIdentity({ AWS_ROLE_ARN: standard.AWS_ROLE_ARN }), false, 'a laptop with AWS_ROLE_ARN exported')
  assert.equal(usesWebIdentity({ AWS_WEB_IDENTITY_TOKEN_FILE: standard.AWS_WEB_IDENTITY_TOKEN_FILE }), false)
  assert.equal(usesWebIdentity({ AWS_ROLE_ARN: ' ', AWS_WEB_IDENTITY_TOKEN_FILE: standard.AWS_WEB_IDENTITY_TOKEN_FILE }), false, 'blank counts as unset')
  assert.equal(usesWebIdentity({ AWS_ROLE_ARN: standard.AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE: '' }), false)
  assert.equal(usesWebIdentity({ ...standard, AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's' }), false, 'static keys win')
  assert.equal(usesWebIdentity({ ...standard, AWS_PROFILE: 'dev' }), false, 'a profile wins')
  assert.equal(detect({ ...standard, AWS_PROFILE: 'dev' }, arc('deploy')).webIdentity, false)
})

test('webIdentity: false in GitLab jobs (the GitLab flow reads the token file itself)', () => {
  assert.equal(usesWebIdentity({ ...job, ...standard }), false)
  const inv = detect({ ...job, ...standard }, arc('deploy'))
  assert.equal(inv.webIdentity, false)
  assert.equal(inv.gitlab, true)
  // GITLAB_CI must be exactly "true".
  assert.equal(usesWebIdentity({ ...standard, GITLAB_CI: 'false' }), true)
})

test('webIdentity is reported for every loader; help is still not AWS-bound', () => {
  assert.equal(detect(standard, ['/n', '/x/node_modules/@architect/deploy/src/cli/index.js']).webIdentity, true)
  assert.equal(detect(standard, ['/n', '/builds/app/deploy.mjs']).webIdentity, true)
  const help = detect(standard, arc('deploy', '--help'))
  assert.equal(help.webIdentity, true)
  assert.equal(help.awsBound, false)
})
