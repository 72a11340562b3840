/** The token's origin and the claims heading it gives (src/shared/origin.ts): written once, used by every message. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { assertedBy } from '../../../src/shared/origin.ts'

test('GitLab asserts a job\'s token; elsewhere the token speaks for itself', () => {
  assert.equal(assertedBy('gitlab'), 'GitLab asserted')
  assert.equal(assertedBy('web-identity'), 'The token asserted')
})
