/** The ID token as every layer knows it (src/shared/id-token.ts): the one Claims type's audiences, and who asserts the claims. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { assertedBy, audiences } from '../../../src/shared/id-token.ts'

test('aud as a list: a string, a list (non-strings left out), or nothing', () => {
  assert.deepEqual(audiences({ aud: 'https://gitlab.com' }), [ 'https://gitlab.com' ])
  assert.deepEqual(audiences({ aud: '' }), [])
  assert.deepEqual(audiences({ aud: [ 'a', 'b' ] }), [ 'a', 'b' ])
  assert.deepEqual(audiences({ aud: [ 'a', 7, null ] as unknown as string[] }), [ 'a' ])
  // An empty entry is no audience, as an empty string is: trust-policy would otherwise default --audience to ''.
  assert.deepEqual(audiences({ aud: [ '', 'a' ] }), [ 'a' ])
  assert.deepEqual(audiences({}), [])
  assert.deepEqual(audiences({ aud: { a: 1 } as unknown as string }), [])
})
test('GitLab asserts a job\'s token; elsewhere the token speaks for itself', () => {
  assert.equal(assertedBy('gitlab'), 'GitLab asserted')
  assert.equal(assertedBy('web-identity'), 'The token asserted')
})
