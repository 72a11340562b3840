/**
 * Property tests of the redaction rule (src/shared/redact.ts), which every message goes through.
 * Contract: a JWT (any header and claims, with or without `Bearer `, inside any text) is never
 * shown, only described; a known secret of any shape is scrubbed from any text; a value is shown
 * on one line; text without JWTs or secrets is left as it is.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { describeSecret, looksLikeJwt, oneLine, redact, scrub, secretsOf, shown } from '../../../src/shared/redact.ts'
import { INHERITED, jwt, params } from '../../support/property.ts'

const object = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 })
// A JWS header has `alg` (RFC 7515), a JWE header `enc`; anything else may be in it.
const header = fc.oneof(fc.constant({ alg: 'RS256', kid: 'k' }), fc.tuple(object, fc.jsonValue()).map(([o, alg]) => ({ ...o, alg })), object.map(o => ({ ...o, enc: 'A256GCM' })))
const token = fc.tuple(header, object).map(([h, c]) => jwt(c, h))
const separator = fc.constantFrom(' ', '"', '\'', '=', ': ', '(', '\n', ', ', '[', '<', ' Bearer ', '=Bearer ')
const words = fc.string({ maxLength: 30 })

test('a JWT in any text is described, never shown', () => {
  fc.assert(fc.property(token, words, separator, separator, words, (tok, before, s1, s2, after) => {
    const text = `${before}${s1}${tok}${s2}${after}`
    const out = redact(text)
    assert.ok(!out.includes(tok), out)
    assert.ok(!out.includes(tok.split('.')[2]!), 'nor its signature')
    assert.match(out, /\[a JWT, [\d,]+ characters?\]/)
    assert.ok(looksLikeJwt(tok) && looksLikeJwt(`Bearer ${tok}`))
    assert.equal(shown(tok), describeSecret(tok))
  }), params(400))
})

test('a known secret of any shape is scrubbed from any text', () => {
  fc.assert(fc.property(fc.string({ minLength: 8 }), words, words, (secret, before, after) => {
    // The description itself ("a secret value, 9 characters") is no echo of a secret that is part of it.
    fc.pre(!`[${describeSecret(secret)}]`.includes(secret.trim()) && secret.trim().length >= 8)
    const out = scrub(`${before}${secret}${after}${secret}`, secretsOf({ GITLAB_OIDC_TOKEN: secret }))
    assert.ok(!out.includes(secret.trim()), out)
  }), params(400))
})

test('shown values are one line; text with no JWT is unchanged by redact', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary' }), value => {
    assert.ok(!/[\n\r\u2028\u2029]/.test(shown(value)))
    assert.equal(oneLine(value).includes('\n'), false)
    if (!/eyJ|\./.test(value)) assert.equal(redact(value), value)
  }), params(400))
})

test('secretsOf reads own string properties only: inherited names are no secrets', () => {
  fc.assert(fc.property(fc.constantFrom(...INHERITED), name => {
    assert.deepEqual(secretsOf({ ARC_OIDC_TOKEN_VARIABLE: name }), [])
  }), params(20))
})

// Fixed bugs, kept as examples.

test('example: redact recognises more than strings starting with eyJ', () => {
  const pretty = jwt({ sub: 'x' }, JSON.parse('{"alg":"RS256"}'))
  const spaced = `${Buffer.from('{ "alg": "RS256" }').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.c2lnbmF0dXJlLXNlY3JldA`
  assert.ok(!spaced.startsWith('eyJ'))
  for (const tok of [pretty, spaced]) {
    for (const text of [tok, `ARC_ROLE_ARN=${tok}`, `Bearer ${tok}`, `'${tok}'`]) assert.ok(!redact(text).includes(tok), text)
  }
  const padded = spaced.split('.').map(p => p + '==').join('.')
  assert.ok(!redact(`x ${padded} y`).includes('c2lnbmF0dXJlLXNlY3JldA'), 'padding')
  assert.equal(redact('a truncated eyJhbGciOiJSUzI1NiIsImtpZCI6'), `a truncated [a JWT, ${'eyJhbGciOiJSUzI1NiIsImtpZCI6'.length} characters]`)
})

test('example: ordinary text stays as it is', () => {
  for (const text of ['arn:aws:iam::111111111111:role/a.b.c', 'https://gitlab.example.com/acme/shop', 'example.com.au', 'v1.2.3', 'eyes.only.here', 'e30.e30.e30']) {
    assert.equal(redact(text), text)
  }
})
