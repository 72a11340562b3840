/**
 * Property: every kind of printed line (a refusal's title, facts and fix; status and done lines
 * with their rows; warnings and their lines; the CLI's failures) holds no raw control character,
 * line or paragraph separator or bidi control, whatever text it is given, so a value cannot forge
 * a line, a colour or a reordering; and a long value is shown cut, with its length. Colour
 * sequences are the formatter's own. Fixed seed, bounded runs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { done, failure, formatProblem, status, warning } from '../../../src/report/format.ts'
import { params } from '../../support/property.ts'

// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
const hostileChar = fc.constantFrom('\n', '\r', '\u001b', '[', '2J', '\u0085', '\u009b', '\u2028', '\u2029', '\u202e', '\u2067', '\u200e', '\u061c', '\u0000', 'a', ' ')
const text = fc.oneof(fc.string({ unit: hostileChar, maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }))
const long = fc.integer({ min: 5000, max: 20000 }).map(n => 'v'.repeat(n))
const value = fc.oneof({ arbitrary: text, weight: 5 }, { arbitrary: long, weight: 1 })

/** The text without the formatter's colour sequences. */
// eslint-disable-next-line no-control-regex
const uncoloured = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '')

test('no printed line holds an unprintable character; long values are cut with their length', () => {
  fc.assert(fc.property(value, value, value, value, (a, b, c, d) => {
    const printed = [
      formatProblem({ title: a, facts: [[b, c]], fix: [d, `${a}\n${b}`] }),
      status(a, [[b, c]]), done(d, [[a, b]]), warning(a, [b, c]), failure(`${a}\n${b}`, [c, d]),
    ]
    for (const out of printed) {
      const lines = uncoloured(out)
      assert.doesNotMatch(lines, UNPRINTABLE, JSON.stringify(lines))
      for (const v of [a, b, c, d]) {
        if (v.length > 5000) {
          assert.ok(!lines.includes(v), 'a long value is not echoed whole')
        }
      }
      for (const line of lines.split('\n')) assert.ok(line.length < 4200, `a line of ${line.length} characters`)
    }
    if (c.length > 5000) assert.match(uncoloured(status('s', [['label', c]])), new RegExp(`… \\[${c.length.toLocaleString('en-US')} characters, cut\\]`))
  }), params(200))
})
