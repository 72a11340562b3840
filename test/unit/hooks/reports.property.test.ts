/**
 * Property: the report-path check (src/hooks/reports.ts `reportPathProblem`) refuses exactly the
 * paths that could hurt: the two reports as one file, a directory, an existing file git tracks or
 * that is not a report of ours (any other text); two distinct paths that are absent, or hold
 * reports of a previous deploy (whatever that deploy's facts), are written. Fixed seed, bounded runs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { annotationsReport, dotenvReport, isOurReport, reportPathProblem, type DeployFacts, type ReportFiles } from '../../../src/hooks/reports.ts'
import { params } from '../../support/property.ts'

const facts: fc.Arbitrary<DeployFacts> = fc.record({
  stage: fc.constantFrom('staging' as const, 'production' as const),
  stackName: fc.string({ maxLength: 20 }),
  region: fc.constantFrom('us-east-1', 'eu-west-1'),
  partition: fc.constantFrom('aws', 'aws-cn'),
  sessionName: fc.string({ maxLength: 20 }),
  outputs: fc.array(fc.record({ OutputKey: fc.constantFrom('API', 'BucketURL', 'x'), OutputValue: fc.oneof(fc.webUrl(), fc.string()) }), { maxLength: 2 }),
})
type Entry = { kind: 'none' } | { kind: 'directory' } | { kind: 'file', text: string, tracked: boolean }
const entry = (f: DeployFacts): fc.Arbitrary<Entry> => fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.constant({ kind: 'directory' as const }),
  fc.record({ kind: fc.constant('file' as const), text: fc.oneof(fc.string(), fc.constant('@app\nshop\n'), fc.constant('{"name":"shop"}'), fc.constant(dotenvReport(f)), fc.constant(annotationsReport(f))), tracked: fc.boolean() }),
)

test('reports of any previous deploy are ours; other text is not', () => {
  fc.assert(fc.property(facts, fc.string(), (f, text) => {
    assert.ok(isOurReport(dotenvReport(f)) && isOurReport(annotationsReport(f)))
    if (!/^ARC_|arc-deploy/.test(text)) assert.equal(isOurReport(text), false)
  }), params(300))
})

test('refused exactly when the two are one file, a directory, a tracked file or a file not ours', () => {
  const entries = facts.chain(f => fc.tuple(entry(f), entry(f)))
  fc.assert(fc.property(fc.boolean(), entries, (same, [a, b]) => {
    const paths = { '/app/a': a, '/app/b': same ? a : b }
    const files: ReportFiles = {
      at: path => {
        const e = paths[path as keyof typeof paths]
        return e.kind === 'file' ? { kind: 'file', text: e.text } : e
      },
      tracked: path => { const e = paths[path as keyof typeof paths]; return e.kind === 'file' && e.tracked },
    }
    const dotenv = { name: 'a', path: '/app/a' }
    const annotations = same ? { name: 'b', path: '/app/a' } : { name: 'b', path: '/app/b' }
    const problem = reportPathProblem(dotenv, annotations, files)
    const hurts = (e: Entry) => e.kind === 'directory' || (e.kind === 'file' && (e.tracked || !isOurReport(e.text)))
    const expected = same || hurts(a) || hurts(b)
    assert.equal(problem !== undefined, expected, `${JSON.stringify({ same, a, b })}: ${problem}`)
    if (same) assert.match(problem!, /same file/)
  }), params(400))
})
