/** Assertions on the one error each kind of refusal throws. */
import assert from 'node:assert/strict'
import { stripVTControlCharacters as plain } from 'node:util'
import { STOPPED } from '../../src/hooks/deploy-start.ts'
import { TrustPolicyError, type TrustPolicyErrorCode } from '../../src/iam/errors.ts'
import { PluginError } from '../../src/shared/problem.ts'
import { formatProblem } from '../../src/report/format.ts'

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

/** A hook's refusal: a PluginError saying Architect was stopped before it deployed anything; its message, uncoloured. */
export function hookRefusal (fn: () => unknown): string {
  try { fn() }
  catch (err) {
    assert.ok(err instanceof PluginError, String(err))
    assert.equal(err.problem.footer, STOPPED)
    return plain(formatProblem(err.problem))
  }
  assert.fail('expected a PluginError')
}
