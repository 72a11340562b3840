/**
 * Property tests of the token step (decode, claim checks) and of how claims are shown.
 * Contract: any string is a JWT whose claims come back, or exactly one TokenError that never
 * contains the token; any claims (wrong types, huge, negative or non-finite times, deep nesting)
 * give problems as strings, and the message showing them never throws. Fixed bugs are examples below.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAX_TOKEN_LENGTH, TokenError, checkClaims, decodeToken, findToken, readTokenFile, wrongClaims } from '../../../src/plugin/token.ts'
import type { Claims } from '../../../src/shared/id-token.ts'
import { assertedRows, formatProblem } from '../../../src/report/format.ts'
import { anyToken, jwt, params } from '../../support/property.ts'

const now = new Date('2026-11-26T12:00:00Z')
const t = Math.floor(now.getTime() / 1000)
const good = { iss: 'https://gitlab.com', sub: 'project_path:g/p:ref_type:branch:ref:main', aud: 'https://gitlab.com', exp: t + 300, nbf: t - 10, iat: t - 10, ref: 'main', ref_type: 'branch' }
const CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'project_path', 'project_id', 'pipeline_id', 'job_id', 'ref', 'ref_type', 'ref_protected', 'environment', 'environment_protected', 'deployment_tier', 'user_login'] as const

/** Times of every kind, written as raw JSON so that 1e400 (Infinity once parsed) is possible. */
const rawTime = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(n => JSON.stringify(n)),
  fc.constantFrom('1e13', '-1e13', '1e400', '-1e400', '8.64e12', '8.640000001e12', '-0', '1.5'),
)
/** A value of any JSON type for a claim, objects and lists included. */
const anyClaim = fc.oneof(fc.jsonValue().map(v => JSON.stringify(v)), rawTime, fc.constant('{"toString":1}'), fc.constant('[[[["x"]]]]'))

/** Claims JSON with a subset of the known claims set to values of any type. */
const claimsJson = fc.dictionary(fc.constantFrom(...CLAIMS), anyClaim, { maxKeys: CLAIMS.length }).map(entries =>
  `{${Object.entries({ ...Object.fromEntries(Object.entries(good).map(([k, v]) => [k, JSON.stringify(v)])), ...entries }).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`)
const rawJwt = (json: string) => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(json).toString('base64url')}.c2lnbmF0dXJl`

/** Decode, check and show, as the plugin does; returns the one message, or undefined for a usable token. */
function message (token: string): string | undefined {
  let claims: Claims
  try { claims = decodeToken(token, 'CI variable GITLAB_OIDC_TOKEN') }
  catch (err) {
    assert.ok(err instanceof TokenError, `only a TokenError, got ${String(err)}`)
    return formatProblem({ title: err.message, fix: ['x'] })
  }
  const problems = checkClaims(claims, now)
  for (const p of problems) assert.equal(typeof p, 'string')
  return problems.length ? formatProblem({ title: problems.join('; '), claims, fix: ['x'] }) : undefined
}

/** The messages' own wording, for every shape problem. */
const WORDING = ['Bearer x', '"x"', 'a b', 'a=.b.c', 'a+.b.c', 'a', 'a!.b.c', '.b.c', 'bm90.bm90.x'].map(token => message(token)).join('\n')

test('any string as the token: a JWT, or one TokenError; the token is never in the message', () => {
  fc.assert(fc.property(anyToken, token => {
    const text = message(token)
    if (text === undefined) return
    assert.equal(text.split('\n').filter(l => l.startsWith('×')).length, 1, 'exactly one × line')
    // (A token that is a piece of the messages' own wording, like "Bearer `", is no echo.)
    if (token.trim().length >= 8 && !WORDING.includes(token.trim())) assert.ok(!text.includes(token.trim()), 'the token is not in the message')
  }), params(300))
})

test('claims of any type and times of any size: problems as strings, shown claims only strings and numbers', () => {
  fc.assert(fc.property(claimsJson, json => {
    const token = rawJwt(json)
    const text = message(token)
    const claims = decodeToken(token, 'X')
    for (const [label, value] of assertedRows(claims)) {
      assert.equal(typeof value, 'string', label)
      assert.ok(!value.includes('[object Object]'), `${label} shows an object`)
    }
    const wrong = wrongClaims(claims)
    if (wrong.length) {
      assert.ok(text !== undefined, 'a wrong-typed claim is a problem')
      assert.equal(text.split('claims of the wrong type').length - 1, 1, 'said once')
    }
  }), params(500))
})

test('base64url of any JSON as the claims part: never an uncaught exception', () => {
  fc.assert(fc.property(fc.jsonValue(), fc.jsonValue(), (header, claims) => {
    message(jwt(claims, header))
  }), params(300))
})

// Fixed bugs, kept as examples.

test('example: exp and nbf out of a Date\'s range are a claim problem, not a RangeError', () => {
  for (const time of ['-1e13', '1e13', '1e400']) {
    const text = message(rawJwt(`{"iss":"https://gitlab.com","sub":"s","aud":"a","exp":${time},"nbf":${time}}`))
    assert.match(text ?? '', /claims of the wrong type: exp \(a number that is not a time\), nbf/)
  }
})

test('example: an object or a 20,000-deep list as a claim is one claim problem', () => {
  const object = message(jwt({ ...good, ref_type: { toString: 1 } }))
  assert.match(object ?? '', /claims of the wrong type: ref_type \(an object\)/)
  const deep = message(rawJwt(`{"iss":"https://gitlab.com","sub":"s","aud":"a","exp":${t + 300},"ref":${'['.repeat(20_000)}${']'.repeat(20_000)}}`))
  assert.match(deep ?? '', /claims of the wrong type: ref \(a list\)/)
})

test('example: a Bearer prefix, base64 padding and standard base64 are said for what they are', () => {
  const token = jwt(good)
  assert.throws(() => decodeToken(`Bearer ${token}`, 'X'), /starts with `Bearer `/)
  const padded = token.split('.').map(p => p + '='.repeat((4 - p.length % 4) % 4)).join('.')
  if (padded !== token) assert.throws(() => decodeToken(padded, 'X'), /base64 padding/)
  assert.throws(() => decodeToken('ab+c.de/f.gh', 'X'), /standard base64/)
  assert.throws(() => decodeToken('a.b', 'X'), /got 2 parts/)
  assert.throws(() => decodeToken('a!.b.c', 'X'), /characters that base64url does not use/)
})

test('example: "its claims are not JSON", "its header is not JSON"', () => {
  assert.throws(() => decodeToken(`${Buffer.from('{"alg":"RS256"}').toString('base64url')}.bm90IGpzb24.x`, 'X'), /its claims are not JSON/)
  assert.throws(() => decodeToken('bm90IGpzb24.bm90IGpzb24.x', 'X'), /its header is not JSON/)
})

test('example: a token variable holding a file path is a GitLab File variable', () => {
  assert.throws(() => findToken({ GITLAB_OIDC_TOKEN: '/builds/tmp/GITLAB_OIDC_TOKEN' }, undefined, undefined, () => true),
    /CI variable GITLAB_OIDC_TOKEN is a GitLab \*File\* variable .*change its type to \*Variable\*/)
  const named = { value: 'MY_TOKEN', source: { kind: 'variable' as const, name: 'ARC_OIDC_TOKEN_VARIABLE' } }
  assert.throws(() => findToken({ MY_TOKEN: '/builds/tmp/MY_TOKEN' }, named, undefined, () => true), /CI variable MY_TOKEN is a GitLab \*File\* variable/)
})

test('example: AWS_WEB_IDENTITY_TOKEN_FILE holding the token itself is said so, and the token is not shown', () => {
  const token = jwt(good)
  assert.throws(() => findToken({ AWS_WEB_IDENTITY_TOKEN_FILE: token }, undefined), (err: Error) =>
    err instanceof TokenError && /holds the token itself \(a JWT, [\d,]+ characters\)/.test(err.message) && !err.message.includes(token))
})

test('example: inherited names read as unset variables', () => {
  for (const name of ['constructor', 'toString', '__proto__']) {
    const named = { value: name, source: { kind: 'variable' as const, name: 'ARC_OIDC_TOKEN_VARIABLE' } }
    assert.equal(findToken({}, named), undefined)
  }
})

test('a token file of any size and content: its token when it fits STS\'s 20,000 characters, else one TokenError naming the length', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-token-file-property-'))
  const file = join(dir, 'token')
  const near = fc.integer({ min: MAX_TOKEN_LENGTH - 4, max: MAX_TOKEN_LENGTH + 4 })
  const sizes = fc.oneof(fc.integer({ min: 0, max: 64 }), near, fc.integer({ min: 0, max: 30_000 }))
  const endings = fc.constantFrom('', '\n', '\r\n', '\n\n\n', ' ')
  try {
    fc.assert(fc.property(sizes, endings, fc.constantFrom('a', 'é', '.'), (n, ending, unit) => {
      const text = unit.repeat(n) + ending
      writeFileSync(file, text)
      const bytes = Buffer.byteLength(text)
      const trimmed = text.trim()
      let token: string | undefined
      try { token = readTokenFile(file, 'AWS_WEB_IDENTITY_TOKEN_FILE').token }
      catch (err) {
        assert.ok(err instanceof TokenError, String(err))
        if (trimmed && bytes > MAX_TOKEN_LENGTH + 2) assert.match(err.message, /is longer than the 20,000 characters STS takes for a token/)
        assert.ok(!trimmed || trimmed.length > MAX_TOKEN_LENGTH || bytes > MAX_TOKEN_LENGTH + 2, `refused: ${err.message}`)
        return
      }
      assert.equal(token, trimmed)
      assert.ok(trimmed.length <= MAX_TOKEN_LENGTH && bytes <= MAX_TOKEN_LENGTH + 2)
    }), params(60))
  }
  finally { rmSync(dir, { recursive: true, force: true }) }
})
