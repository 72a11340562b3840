/** Assertions on the IAM name checks' one error type (src/iam/errors.ts). */
import assert from 'node:assert/strict'
import { TrustPolicyError, type TrustPolicyErrorCode } from '../../src/iam/errors.ts'

/** Throws a TrustPolicyError with this code, and a message matching `message` when given. */
export function refuses (fn: () => unknown, code: TrustPolicyErrorCode, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TrustPolicyError, String(err))
    assert.equal(err.name, 'TrustPolicyError')
    assert.equal(err.code, code)
    if (message) assert.match(err.message, message)
    return true
  })
}
