/**
 * The STS session name (src/plugin/preflight.ts): what CloudTrail shows as "who", so it names the
 * job, and it always fits STS's rule [\w+=,.@-]{2,64}.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { defaultSessionName, toSessionName, webIdentitySessionName } from '../../../src/plugin/preflight.ts'
import type { Claims } from '../../../src/shared/id-token.ts'

const STS_NAME = /^[\w+=,.@-]{2,64}$/
/** A token is untrusted input: its claims may have any JSON type. */
const untrusted = (claims: Record<string, unknown>): Claims => claims as Claims

test('the claims name the job; the CI variables fill in what the token lacks', () => {
  assert.equal(defaultSessionName({ project_id: '42', pipeline_id: '1001', job_id: '5005' }, { CI_JOB_ID: '9' }), 'gitlab-42-1001-5005', 'the claims win')
  assert.equal(defaultSessionName({ project_id: '42' }, { CI_PIPELINE_ID: '8', CI_JOB_ID: '9' }), 'gitlab-42-8-9')
  assert.equal(defaultSessionName(untrusted({ project_id: 42, pipeline_id: 1001, job_id: 5005 }), {}), 'gitlab-42-1001-5005', 'numeric claims')
})

test('claims that are neither string nor number are ignored, not printed as [object Object]', () => {
  assert.equal(defaultSessionName(untrusted({ project_id: { id: 1 }, pipeline_id: [ '2' ], job_id: '3' }), { CI_PROJECT_ID: '7' }), 'gitlab-7-3')
})

test('with nothing to name the job, the name is still valid', () => {
  assert.equal(defaultSessionName({}, {}), 'gitlab')
  assert.match(defaultSessionName({}, {}), STS_NAME)
})

test('characters STS refuses become one dash; the name is cut at 64', () => {
  assert.equal(toSessionName('deploy by me!'), 'deploy-by-me-')
  assert.equal(toSessionName('a/b\\c d'), 'a-b-c-d')
  assert.equal(toSessionName('keep+=,.@-_these'), 'keep+=,.@-_these')
  assert.equal(toSessionName('x'.repeat(100)).length, 64)
  assert.match(toSessionName('é'.repeat(100)), STS_NAME)
})

test('a name too short after cleaning falls back to gitlab-job', () => {
  assert.equal(toSessionName(''), 'gitlab-job')
  assert.equal(toSessionName('a'), 'gitlab-job')
  assert.equal(toSessionName('ab'), 'ab')
})

test('outside GitLab the name says where the session came from, and when (whole seconds)', () => {
  assert.equal(webIdentitySessionName(new Date('2026-11-26T12:00:00.999Z')), 'arc-web-identity-1795694400')
  assert.match(webIdentitySessionName(new Date()), STS_NAME)
})

test('session name names the job and fits STS', () => {
  assert.equal(defaultSessionName({ project_id: '42', pipeline_id: '1001', job_id: '5005' }, {}), 'gitlab-42-1001-5005')
  assert.equal(defaultSessionName({}, { CI_PROJECT_ID: '7', CI_PIPELINE_ID: '8', CI_JOB_ID: '9' }), 'gitlab-7-8-9')
  assert.match(toSessionName('a b/c'.repeat(30)), /^[\w+=,.@-]{2,64}$/)
  assert.equal(toSessionName('x'), 'gitlab-job')
})
