/** The one Claims type's audiences (src/shared/claims.ts): what the token checks, the trust policy and the messages read. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { audiences } from '../../../src/shared/claims.ts'

test('aud as a list: a string, a list (non-strings left out), or nothing', () => {
  assert.deepEqual(audiences({ aud: 'https://gitlab.com' }), [ 'https://gitlab.com' ])
  assert.deepEqual(audiences({ aud: '' }), [])
  assert.deepEqual(audiences({ aud: [ 'a', 'b' ] }), [ 'a', 'b' ])
  assert.deepEqual(audiences({ aud: [ 'a', 7, null ] as unknown as string[] }), [ 'a' ])
  assert.deepEqual(audiences({}), [])
  assert.deepEqual(audiences({ aud: { a: 1 } as unknown as string }), [])
})
