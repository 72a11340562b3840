/**
 * Step 5, the handover (src/plugin/handover.ts): the issued credentials go into the environment
 * Architect and its child processes read, replacing keys and removing a profile that would win.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CREDENTIAL_VARIABLES, applyCredentials, hasOtherCredentials } from '../../../src/plugin/handover.ts'
import type { IssuedCredentials } from '../../../src/plugin/exchange.ts'

const creds: IssuedCredentials = {
  accessKeyId: 'ASIAISSUEDKEY0000001',
  secretAccessKey: 'issued-secret',
  sessionToken: 'issued-session-token',
  expiration: new Date('2026-11-26T13:00:00.000Z'),
  assumedRoleArn: 'arn:aws:sts::111111111111:assumed-role/deploy/gitlab-1-2-3',
  attempts: 1,
  elapsedMs: 40,
}

test('a clean job: the four variables are set, nothing is reported replaced or removed', () => {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/bin' }
  assert.deepEqual(applyCredentials(env, creds), { replaced: [], removed: [] })
  assert.deepEqual(env, {
    PATH: '/usr/bin',
    AWS_ACCESS_KEY_ID: 'ASIAISSUEDKEY0000001',
    AWS_SECRET_ACCESS_KEY: 'issued-secret',
    AWS_SESSION_TOKEN: 'issued-session-token',
    AWS_CREDENTIAL_EXPIRATION: '2026-11-26T13:00:00.000Z',
  })
  assert.deepEqual([ ...CREDENTIAL_VARIABLES ].filter(v => env[v] === undefined), [])
})

test('keys already in the job are replaced and named; a stale session token goes too', () => {
  const env: NodeJS.ProcessEnv = { AWS_ACCESS_KEY_ID: 'AKIALONGLIVED', AWS_SECRET_ACCESS_KEY: 'old', AWS_SESSION_TOKEN: 'old-token' }
  const handover = applyCredentials(env, creds)
  assert.deepEqual(handover.replaced, [ 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN' ])
  assert.equal(env.AWS_ACCESS_KEY_ID, creds.accessKeyId)
  assert.equal(env.AWS_SECRET_ACCESS_KEY, creds.secretAccessKey)
  assert.equal(env.AWS_SESSION_TOKEN, creds.sessionToken)
})

test('empty variables are not reported as replaced', () => {
  const handover = applyCredentials({ AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' }, creds)
  assert.deepEqual(handover.replaced, [])
})

test('a profile, which the SDK would prefer over environment keys, is removed (even when empty)', () => {
  const env: NodeJS.ProcessEnv = { AWS_PROFILE: 'dev', AWS_DEFAULT_PROFILE: '', AWS_REGION: 'eu-west-1' }
  const handover = applyCredentials(env, creds)
  assert.deepEqual(handover.removed, [ 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE' ])
  assert.ok(!('AWS_PROFILE' in env) && !('AWS_DEFAULT_PROFILE' in env))
  assert.equal(env.AWS_REGION, 'eu-west-1', 'other AWS settings are left alone')
})

test('other credentials: a key pair or a profile, not half a pair', () => {
  assert.equal(hasOtherCredentials({ AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's' }), true)
  assert.equal(hasOtherCredentials({ AWS_PROFILE: 'dev' }), true)
  assert.equal(hasOtherCredentials({ AWS_ACCESS_KEY_ID: 'AKIA' }), false)
  assert.equal(hasOtherCredentials({ AWS_SECRET_ACCESS_KEY: 's' }), false)
  assert.equal(hasOtherCredentials({ AWS_PROFILE: '' }), false)
  assert.equal(hasOtherCredentials({}), false)
})
