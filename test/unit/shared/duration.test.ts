/** Durations for people (src/shared/duration.ts), as expiry notes and warnings show them. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { humanDuration } from '../../../src/shared/duration.ts'

test('seconds below two minutes, minutes below two hours, then hours with one decimal; never negative', () => {
  assert.equal(humanDuration(0), '0 s')
  assert.equal(humanDuration(119.4), '119 s')
  assert.equal(humanDuration(120), '2 min')
  assert.equal(humanDuration(7199), '120 min')
  assert.equal(humanDuration(7200), '2.0 h')
  assert.equal(humanDuration(5400 * 3), '4.5 h')
  assert.equal(humanDuration(-30), '0 s')
})
