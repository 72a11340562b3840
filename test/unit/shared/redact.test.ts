/**
 * The one rule for showing a value (src/shared/redact.ts), tested directly: a JWT is only ever
 * described, known secrets are scrubbed from any text, a value cannot forge lines of a message.
 * (redact.property.test.ts searches the same rules with generated input.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  bare, describeSecret, grouped, isTime, looksLikeJwt, oneLine, ownString, redact, scrub, scrubbing, secretsOf, shown,
} from '../../../src/shared/redact.ts'

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
const JWT = `${b64({ alg: 'RS256', kid: 'k' })}.${b64({ sub: 'project_path:a/b:ref_type:branch:ref:main' })}.c2lnbmF0dXJl`

test('a JWT is recognised bare, after Bearer, in quotes and cut short; ordinary dotted text is not', () => {
  for (const value of [ JWT, `Bearer ${JWT}`, `"${JWT}"`, JWT.slice(0, 20) ]) assert.ok(looksLikeJwt(value), value)
  for (const value of [ 'example.com', 'a.b.c', 'v1.2.3', 'arn:aws:iam::123456789012:role/x', '' ]) assert.equal(looksLikeJwt(value), false, value)
})

test('a secret is described, never shown', () => {
  assert.equal(describeSecret(JWT), `a JWT, ${grouped(JWT.length)} characters`)
  assert.equal(describeSecret('x'), 'a secret value, 1 character')
  assert.equal(grouped(1234567), '1,234,567')
  assert.equal(shown(JWT), describeSecret(JWT))
  assert.equal(shown('staging'), '"staging"')
  assert.equal(bare('line\nbreak'), 'line\\u000abreak')
})

test('redact replaces every JWT-shaped run in free text, and leaves the rest', () => {
  const text = redact(`token ${JWT} was refused by sts.amazonaws.com`)
  assert.ok(!text.includes(JWT.split('.')[1]!))
  assert.match(text, /^token \[a JWT, [\d,]+ characters\] was refused by sts\.amazonaws\.com$/)
})

test('secretsOf: known variables, the variable ARC_OIDC_TOKEN_VARIABLE names, any JWT-shaped value, and extras; short values left', () => {
  const env = {
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG', MY_TOKEN: 'opaque-token-value', ARC_OIDC_TOKEN_VARIABLE: 'MY_TOKEN',
    ANYTHING: JWT, CI_JOB_TOKEN: 'short', PATH: '/usr/bin',
  }
  const secrets = secretsOf(env, [ 'an-extra-secret', undefined ])
  assert.deepEqual(new Set(secrets), new Set([ 'wJalrXUtnFEMI/K7MDENG', 'opaque-token-value', JWT, 'an-extra-secret' ]))
  assert.deepEqual(secrets, [ ...secrets ].sort((a, b) => b.length - a.length), 'longest first')
  // inherited properties are not variables
  assert.equal(ownString(env, 'constructor'), undefined)
  assert.equal(ownString({ n: 1 }, 'n'), undefined)
})

test('secretsOf keeps its answers per value, yet sees a JWT that arrives later, also after thousands of other values', () => {
  const env: Record<string, string> = { PLAIN: 'a.b.c.d' }
  assert.deepEqual(secretsOf(env), [])
  env.LATER = JWT
  assert.deepEqual(secretsOf(env), [ JWT ], 'a value added after an earlier call')
  for (let i = 0; i < 5000; i++) env[`V${i}`] = `value.${i}.x`
  const other = `${b64({ alg: 'ES256' })}.${b64({ sub: 'x' })}.c2ln`
  env.NEWER = other
  assert.deepEqual(secretsOf(env).sort(), [ JWT, other ].sort(), 'past the bound on kept answers')
  delete env.LATER
  assert.deepEqual(secretsOf(env), [ other ], 'a value gone from the environment is gone from the secrets')
})

test('scrub and scrubbing: secrets out of every text that passes', () => {
  const secret = 'opaque-token-value'
  assert.equal(scrub(`the key is ${secret}.`, [ secret ]), `the key is [${describeSecret(secret)}].`)
  const written: string[] = []
  let secrets: string[] = []
  const write = scrubbing(t => written.push(t), () => secrets)
  write(`before ${secret}`)
  secrets = [ secret ]
  write(`after ${secret}`)
  assert.deepEqual(written, [ `before ${secret}`, `after [${describeSecret(secret)}]` ], 'the secrets are asked at each call')
})

test('oneLine escapes line breaks and control characters (a tab becomes a space); isTime bounds times', () => {
  assert.equal(oneLine('a\nb\r\u2028c\td\u001b[31m'), 'a\\u000ab\\u000d\\u2028c d\\u001b[31m')
  assert.ok(isTime(1_700_000_000))
  for (const v of [ Number.NaN, Infinity, 9e12, '1700000000', null ]) assert.equal(isTime(v), false, String(v))
})
