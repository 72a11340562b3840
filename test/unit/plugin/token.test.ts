import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAX_TOKEN_LENGTH, checkClaims, decodeToken, findToken, readText, readTokenFile, TokenError } from '../../../src/plugin/token.ts'

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
const jwt = (claims: object) => `${b64({ alg: 'RS256', kid: 'k' })}.${b64(claims)}.c2lnbmF0dXJl`
const now = new Date('2026-11-26T12:00:00Z')
const t = Math.floor(now.getTime() / 1000)
const good = { iss: 'https://gitlab.com', sub: 'project_path:g/p:ref_type:branch:ref:main', aud: 'https://gitlab.com', exp: t + 300, nbf: t - 10, iat: t - 10 }

test('token sources in order: named variable, GITLAB_OIDC_TOKEN, AWS_ID_TOKEN (GitLab\'s AWS integration), token file, CI_JOB_JWT_V2', () => {
  const files: Record<string, string> = { '/tmp/tok': 'from-file\n' }
  const read = (p: string) => { const v = files[p]; if (v === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' }); return v }
  assert.equal(findToken({ GITLAB_OIDC_TOKEN: 'a', CI_JOB_JWT_V2: 'b' }, undefined, read)?.token, 'a')
  assert.equal(findToken({ GITLAB_OIDC_TOKEN: 'a', AWS_ID_TOKEN: 'i' }, undefined, read)?.token, 'a', 'our own name first')
  const integration = findToken({ AWS_ID_TOKEN: 'i', AWS_WEB_IDENTITY_TOKEN_FILE: '/tmp/tok', CI_JOB_JWT_V2: 'b' }, undefined, read)
  assert.equal(integration?.token, 'i')
  assert.equal(integration?.variable, 'AWS_ID_TOKEN')
  assert.match(integration?.source ?? '', /CI variable AWS_ID_TOKEN \(GitLab's AWS integration's name\)/)
  assert.equal(findToken({ MY_TOKEN: '', AWS_ID_TOKEN: 'i' }, { value: 'MY_TOKEN', source: { kind: 'variable', name: 'ARC_OIDC_TOKEN_VARIABLE' } }, read), undefined, 'a named variable is not replaced by AWS_ID_TOKEN either')
  assert.equal(findToken({ AWS_WEB_IDENTITY_TOKEN_FILE: '/tmp/tok', CI_JOB_JWT_V2: 'b' }, undefined, read)?.token, 'from-file')
  const legacy = findToken({ CI_JOB_JWT_V2: 'b' }, undefined, read)
  assert.equal(legacy?.token, 'b')
  assert.equal(legacy?.legacy, true)
  const named = { value: 'MY_TOKEN', source: { kind: 'variable' as const, name: 'ARC_OIDC_TOKEN_VARIABLE' } }
  assert.equal(findToken({ MY_TOKEN: 'm', GITLAB_OIDC_TOKEN: 'a' }, named, read)?.token, 'm')
  assert.equal(findToken({ GITLAB_OIDC_TOKEN: 'a' }, named, read), undefined, 'an explicitly named variable is not replaced by another')
  assert.throws(() => findToken({ AWS_WEB_IDENTITY_TOKEN_FILE: '/missing' }, undefined, read), /cannot be read: ENOENT/)
  assert.equal(findToken({}, undefined, read), undefined)
})

test('decoding rejects what is not a JWT, without echoing it', () => {
  assert.throws(() => decodeToken('not-a-jwt', 'X'), (e: Error) => e instanceof TokenError && /not a JWT/.test(e.message) && !e.message.includes('not-a-jwt'))
  assert.throws(() => decodeToken('a.b', 'X'), /got 2 parts/)
  assert.throws(() => decodeToken(`${b64({ alg: 'RS256' })}.bm90IGpzb24.x`, 'X'), /claims is not JSON|claims are not JSON|not JSON/)
  assert.throws(() => decodeToken(`${b64({ typ: 'JWT' })}.${b64(good)}.x`, 'X'), /no signing algorithm/)
  assert.equal(decodeToken(jwt(good), 'X').sub, good.sub)
})

test('expiry, not-before and audience are checked with 60 s of skew', () => {
  assert.deepEqual(checkClaims(good, now), [])
  assert.deepEqual(checkClaims({ ...good, exp: t - 30 }, now), [], 'within the skew')
  assert.match(checkClaims({ ...good, exp: t - 600 }, now).join(), /expired at 2026-11-26T11:50:00.000Z, 10 min ago/)
  assert.match(checkClaims({ ...good, nbf: t + 600 }, now).join(), /not valid before/)
  assert.match(checkClaims({ ...good, aud: undefined }, now).join(), /no audience/)
  assert.match(checkClaims({ ...good, aud: [] }, now).join(), /no audience/)
  assert.match(checkClaims({ ...good, exp: undefined }, now).join(), /no expiry/)
})

test('a token file is read only when it is a regular file of at most 20,000 characters (and a line break): one message otherwise, never a hang', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-token-file-'))
  try {
    const fifo = join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    const long = join(dir, 'long')
    writeFileSync(long, 'a'.repeat(MAX_TOKEN_LENGTH + 1))
    const longest = join(dir, 'longest')
    writeFileSync(longest, `${'a'.repeat(MAX_TOKEN_LENGTH)}\r\n`)
    const refused = (path: string, pattern: RegExp) => assert.throws(() => readTokenFile(path, 'AWS_WEB_IDENTITY_TOKEN_FILE'),
      (e: Error) => e instanceof TokenError && pattern.test(e.message) && e.message.startsWith(`AWS_WEB_IDENTITY_TOKEN_FILE names ${path}, which `) && e.fix !== undefined, path)
    refused(fifo, /is a named pipe \(FIFO\), not a regular file/)
    refused('/dev/zero', /is a device \(such as \/dev\/zero, \/dev\/stdin or a terminal\), not a regular file/)
    refused(dir, /is a directory, not a regular file/)
    refused(long, /is longer than the 20,000 characters STS takes for a token/)
    assert.equal(readTokenFile(longest, 'X').token, 'a'.repeat(MAX_TOKEN_LENGTH), 'the longest token STS takes, with a CRLF')
    // A file that reports no size (procfs) is read in bounded steps all the same.
    assert.equal(readText('/proc/self/comm').trim().length > 0, true)
    // A reader given in (tests, doctor) is held to the same length.
    assert.throws(() => readTokenFile('/t', 'X', () => 'b'.repeat(MAX_TOKEN_LENGTH + 1)), /longer than the 20,000 characters/)
  }
  finally { rmSync(dir, { recursive: true, force: true }) }
})
