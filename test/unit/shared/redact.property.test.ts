/**
 * Property tests of the redaction rule (src/shared/redact.ts), which every message goes through.
 * Contract: a JWT (any header and claims, with or without `Bearer `, inside any text) is never
 * shown, only described; a known secret of any shape is scrubbed from any text; a value is shown
 * on one line; text without JWTs or secrets is left as it is.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { MAX_SHOWN, bare, describeSecret, keptSecrets, looksLikeJwt, oneLine, printable, printableLines, redact, scrub, secretsOf, shown } from '../../../src/shared/redact.ts'
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

/** What no printed line may hold raw: C0/C1 controls (NEL among them), DEL, line and paragraph separators, bidi controls. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
const hostileChar = fc.constantFrom('\n', '\r', '\u001b', '\u0007', '\u0085', '\u009b', '\u2028', '\u2029', '\u202e', '\u2066', '\u200f', '\u061c', '\t', '\u007f', 'a', ' ', 'é')
const hostileText = fc.oneof(fc.string({ unit: hostileChar, maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }))

test('printable and printableLines: no unprintable character survives, colour sequences pass, line breaks split lines', () => {
  fc.assert(fc.property(hostileText, hostileText, (a, b) => {
    assert.doesNotMatch(printable(a), UNPRINTABLE)
    const out = printableLines(`\u001b[31m${a}\u001b[39m\n${b}`)
    assert.equal(out.split('\n').length, 2 + (a.split('\n').length - 1) + (b.split('\n').length - 1))
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(out.replace(/\u001b\[[0-9;]*m/g, '').replace(/\n/g, ''), UNPRINTABLE)
    assert.ok(out.startsWith('\u001b[31m'))
  }), params(400))
})

test('a value longer than the bound is shown cut, with its length; shorter ones whole', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 3 * MAX_SHOWN }), fc.constantFrom('a', 'é', '😀', 'x.y'), (n, unit) => {
    const value = unit.repeat(n)
    const out = bare(value)
    if (value.length <= MAX_SHOWN) assert.equal(out, value)
    else {
      assert.ok(out.endsWith(`… [${value.length.toLocaleString('en-US')} characters, cut]`), out)
      assert.ok(out.length < MAX_SHOWN + 40)
      assert.ok(!/[\ud800-\udbff]…/.test(out), 'never cut inside a surrogate pair')
    }
  }), params(100))
})

test('a secret cut in the middle by the bound is scrubbed all the same', () => {
  const key = fc.string({ unit: fc.constantFrom('A', 'b', '7', '/', '+'), minLength: 40, maxLength: 40 })
  fc.assert(fc.property(fc.integer({ min: 1, max: 60 }), key, (before, secret) => {
    fc.pre(secret.trim().length === 40)
    const value = `${'x'.repeat(MAX_SHOWN - before)}${secret}`
    const out = scrub(bare(value), secretsOf({ AWS_SECRET_ACCESS_KEY: secret }))
    const shownPart = secret.slice(0, Math.min(before, 40))
    if (shownPart.length >= 8) assert.ok(!out.includes(shownPart), out)
  }), params(200))
})

test('keptSecrets: independent of the environment\'s size, yet the output never shows a secret of it; a token added later and credentials set later are scrubbed', () => {
  const env = fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), token))
  fc.assert(fc.property(env, token, fc.string({ minLength: 8 }), separator, (variables, tok, key, sep) => {
    fc.pre(key.trim().length >= 8 && !key.includes('\n'))
    const e: Record<string, string> = { ...variables }
    const kept = keptSecrets(e)
    assert.equal(keptSecrets(e), kept, 'one keeper per environment')
    // Every secret secretsOf finds by looking at every value is scrubbed or described all the same.
    const text = Object.values(e).join(sep)
    for (const secret of secretsOf(e)) assert.ok(!scrub(text, kept.list()).includes(secret), `${secret} shown`)
    kept.add(tok)
    e.AWS_SECRET_ACCESS_KEY = key
    assert.ok(kept.list().includes(tok.trim()) && kept.list().includes(key.trim()))
    assert.ok(!scrub(`x ${key} y ${tok}`, kept.list()).includes(key.trim()))
  }), params(200))
})
