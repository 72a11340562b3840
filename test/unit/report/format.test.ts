/**
 * Output in Architect's style (src/report/format.ts): aligned fact rows, the claims a user
 * needs to read a denial (never user_email), one problem as one block, and times in local and
 * UTC form.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { stripVTControlCharacters as plain } from 'node:util'
import { NAME, assertedRows, bothTimes, done, failure, formatProblem, humanDuration, rows, status, warning } from '../../../src/report/format.ts'
import { PluginError } from '../../../src/shared/problem.ts'

const claims = {
  iss: 'https://gitlab.example.com', aud: [ 'sts.amazonaws.com', 'https://gitlab.example.com' ],
  sub: 'project_path:acme/shop:ref_type:branch:ref:main', project_path: 'acme/shop', ref: 'main', ref_type: 'branch',
  ref_protected: 'true', environment: 'production', environment_protected: 'true', pipeline_id: '1001', job_id: '5005',
  exp: 1795694400, user_email: 'dev@example.com', user_login: 'dev', user_id: '77',
}

test('rows: labels padded with dots to one column, two dots past the longest label', () => {
  assert.deepEqual(rows([ [ 'role', 'r' ], [ 'boundary', 'b' ] ]).map(plain), [
    '  | role ...... r',
    '  | boundary .. b',
  ])
  assert.deepEqual(rows([ [ 'a', '1' ] ], '> ').map(plain), [ '> a .. 1' ])
})

test('assertedRows: the claims that explain a denial, in order, and nothing personal', () => {
  assert.deepEqual(assertedRows(claims), [
    [ 'issuer', 'https://gitlab.example.com' ],
    [ 'audience', 'sts.amazonaws.com, https://gitlab.example.com' ],
    [ 'subject', 'project_path:acme/shop:ref_type:branch:ref:main' ],
    [ 'project', 'acme/shop' ],
    [ 'ref', 'main' ],
    [ 'ref type', 'branch' ],
    [ 'ref protected', 'true' ],
    [ 'environment', 'production (protected)' ],
    [ 'pipeline / job', '1001 / 5005' ],
    [ 'expires', '2026-11-26T12:00:00.000Z' ],
  ])
  const printed = JSON.stringify(assertedRows(claims))
  for (const personal of [ 'dev@example.com', 'user_login', '"dev"', '77' ]) assert.ok(!printed.includes(personal), personal)
})

test('assertedRows: absent or empty claims are left out; an unprotected environment says nothing more', () => {
  assert.deepEqual(assertedRows({}), [])
  assert.deepEqual(assertedRows({ iss: '', sub: 's', aud: 'a' }), [ [ 'audience', 'a' ], [ 'subject', 's' ] ])
  assert.deepEqual(assertedRows({ environment: 'staging', environment_protected: 'false' }), [ [ 'environment', 'staging' ] ])
  assert.deepEqual(assertedRows({ pipeline_id: '1' }), [], 'pipeline / job needs both')
  assert.deepEqual(assertedRows({ exp: 'soon' as unknown as number }), [], 'an exp that is not a number is not shown as a date')
})

test('formatProblem: title, facts, claims, fix and the default footer, in one block', () => {
  const text = plain(formatProblem({
    title: 'AWS refused',
    facts: [ [ 'role', 'arn:aws:iam::111111111111:role/deploy' ] ],
    claims: { sub: 'project_path:acme/shop:ref_type:branch:ref:main', user_email: 'dev@example.com' },
    fix: [ 'Do this,', '  then that.' ],
  }))
  assert.deepEqual(text.split('\n').slice(1), [
    '  | role .. arn:aws:iam::111111111111:role/deploy',
    '  | GitLab asserted (ID token claims):',
    '  |   subject .. project_path:acme/shop:ref_type:branch:ref:main',
    '  | How to fix:',
    '  |   Do this,',
    '  |     then that.',
    '  | Architect was stopped before any AWS call.',
  ])
  assert.match(text.split('\n')[0]!, new RegExp(`^\\S+ ${NAME}: AWS refused$`))
  assert.ok(!text.includes('dev@example.com'))
})

test('formatProblem: who asserted the claims, and another footer, when the problem says so', () => {
  const text = plain(formatProblem({ title: 't', claims: { iss: 'https://idp.example.com' }, origin: 'web-identity', fix: [ 'f' ], footer: 'No credentials were issued.' }))
  assert.match(text, /\n {2}\| The token asserted \(ID token claims\):\n/)
  assert.ok(text.endsWith('\n  | No credentials were issued.'))
  assert.ok(!text.includes('GitLab asserted'))
  assert.ok(!plain(formatProblem({ title: 't', fix: [] })).includes('ID token claims'), 'no claims, no heading')
})

test('PluginError carries its problem, titled by it', () => {
  const problem = { title: 'No role for production', fix: [ 'Set production-role' ] }
  const err = new PluginError(problem)
  assert.ok(err instanceof Error)
  assert.equal(err.name, 'PluginError')
  assert.equal(err.message, 'No role for production')
  assert.equal(err.problem, problem)
})

test('status, done and warning: one headline and their supporting lines', () => {
  assert.match(plain(status('exchanging', [ [ 'role', 'r' ] ])), new RegExp(`^\\S+ ${NAME} exchanging\\n {2}\\| role \\.\\. r$`))
  assert.match(plain(done('credentials ready')), new RegExp(`^\\S+ ${NAME} credentials ready$`))
  assert.match(plain(warning('same account', [ 'one', 'two' ])), new RegExp(`^\\S+ ${NAME} warning: same account\\n {2}\\| one\\n {2}\\| two$`))
})

test('bothTimes: local wall time with its offset, then UTC, across a day boundary', () => {
  const at = new Date('2026-12-31T23:30:00.000Z')
  assert.equal(bothTimes(at, -90), '2027-01-01 01:00:00 +01:30 (UTC 2026-12-31T23:30:00Z)')
  assert.equal(bothTimes(at, 600), '2026-12-31 13:30:00 -10:00 (UTC 2026-12-31T23:30:00Z)')
  assert.equal(bothTimes(at), bothTimes(at, at.getTimezoneOffset()), 'the machine\'s offset by default')
})

test('expiry is shown in local time with its offset, and in UTC', () => {
  const at = new Date('2026-11-26T14:04:05.123Z')
  assert.equal(bothTimes(at, -60), '2026-11-26 15:04:05 +01:00 (UTC 2026-11-26T14:04:05Z)')
  assert.equal(bothTimes(at, 330), '2026-11-26 08:34:05 -05:30 (UTC 2026-11-26T14:04:05Z)')
  assert.equal(bothTimes(at, 0), '2026-11-26 14:04:05 +00:00 (UTC 2026-11-26T14:04:05Z)')
})

test('failure: the CLI\'s failure in Architect\'s symbol and colour (no hand-rolled escape codes); several lines print as lines', () => {
  const text = plain(failure('Unknown command: doctr', [ 'See: arc-gitlab-oidc help', 'two\nlines' ]))
  assert.match(text, /^[×x] GitLab OIDC: Unknown command: doctr\n {2}\| See: arc-gitlab-oidc help\n {2}\| two\n {2}\| lines$/)
  assert.match(plain(failure('cannot determine:\n--a\n--b')), /^[×x] GitLab OIDC: cannot determine:\n {2}\| --a\n {2}\| --b$/)
  // a line's other control characters stay escaped
  assert.match(plain(failure('a\rb')), /a\\u000db$/)
})

test('humanDuration: seconds below two minutes, minutes below two hours, then hours with one decimal; never negative', () => {
  assert.equal(humanDuration(0), '0 s')
  assert.equal(humanDuration(119.4), '119 s')
  assert.equal(humanDuration(120), '2 min')
  assert.equal(humanDuration(7199), '120 min')
  assert.equal(humanDuration(7200), '2.0 h')
  assert.equal(humanDuration(5400 * 3), '4.5 h')
  assert.equal(humanDuration(-30), '0 s')
})
