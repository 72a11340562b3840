/**
 * The exchange's failures (src/shared/sts.ts): the error the exchange throws, the
 * transient verification-key fault, and `redact`, which keeps anything JWT-shaped out of what
 * AWS or a proxy said before it is printed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ExchangeError, isVerificationKeyFault } from '../../../src/shared/sts.ts'
import { redact } from '../../../src/shared/redact.ts'

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
const header = b64({ alg: 'RS256', kid: 'k', typ: 'JWT' })
const payload = b64({ sub: 'project_path:acme/shop:ref_type:branch:ref:main', user_email: 'dev@example.com' })
const TOKEN = `${header}.${payload}.c2lnbmF0dXJlLXNlY3JldA`

test('ExchangeError carries the code, status, every attempt, whether it timed out and how long it took', () => {
  const attempts = [ { code: 'Throttling', message: 'Rate exceeded', status: 400 }, { code: 'AccessDenied', message: 'Not authorized', status: 403 } ]
  const err = new ExchangeError('AccessDenied', 'Not authorized', 403, attempts, false, 1250)
  assert.ok(err instanceof Error)
  assert.equal(err.name, 'ExchangeError')
  assert.equal(err.message, 'Not authorized')
  assert.deepEqual([ err.code, err.status, err.attempts, err.timedOut, err.elapsedMs ], [ 'AccessDenied', 403, attempts, false, 1250 ])
  const timeout = new ExchangeError('TimeoutError', 'no answer', undefined, [], true, 30_000)
  assert.deepEqual([ timeout.status, timeout.timedOut ], [ undefined, true ])
})

test('a verification-key fault is InvalidIdentityToken about the verification key, in any case', () => {
  const message = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"
  assert.equal(isVerificationKeyFault({ name: 'InvalidIdentityTokenException', message }), true)
  assert.equal(isVerificationKeyFault({ name: 'InvalidIdentityToken', message: 'could not RETRIEVE VERIFICATION KEY' }), true)
  assert.equal(isVerificationKeyFault({ name: 'InvalidIdentityToken', message: 'Incorrect token audience' }), false, 'another InvalidIdentityToken')
  assert.equal(isVerificationKeyFault({ name: 'IDPCommunicationError', message }), false, 'another code, same words')
  assert.equal(isVerificationKeyFault({}), false)
})

/** What stands in a message where a token was: a bracketed note, never any part of the token. */
const PLACEHOLDER = String.raw`\[[^\]\[.]+\]`
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const redacted = (before: string, after: string) => new RegExp(`^${escape(before)}${PLACEHOLDER}${escape(after)}$`)

test('redact replaces a JWT-shaped string, wherever it sits, and keeps the rest of the message', () => {
  assert.match(redact(TOKEN), redacted('', ''))
  assert.match(redact(`proxy refused POST body WebIdentityToken=${TOKEN}&RoleArn=x`), redacted('proxy refused POST body WebIdentityToken=', '&RoleArn=x'))
  const twice = redact(`"${TOKEN}" and again ${TOKEN} here`)
  assert.match(twice, new RegExp(`^"${PLACEHOLDER}" and again ${PLACEHOLDER} here$`))
  for (const part of [ header, payload, 'c2lnbmF0dXJlLXNlY3JldA' ]) assert.ok(!twice.includes(part), 'no part of the token (the claims, user_email among them, or the signature)')
})

test('redact catches an unsigned token (alg none: empty signature)', () => {
  assert.match(redact(`token ${header}.${payload}. was refused`), redacted('token ', ' was refused'))
})

test('redact leaves what is not a token alone', () => {
  const messages = [
    'Not authorized to perform sts:AssumeRoleWithWebIdentity',
    'Token expired: current date/time 1764158400 must be before the expiration date/time 1764154800',
    'eyJhbGci.short',
    'an eyJ word in a sentence. Another sentence.',
    '',
  ]
  for (const m of messages) assert.equal(redact(m), m)
})
