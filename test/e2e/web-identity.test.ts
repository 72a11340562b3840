/**
 * Issue 9, end to end: outside GitLab, AWS's standard web-identity variables (AWS_ROLE_ARN,
 * AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_SESSION_NAME), as EKS and other CI systems set them,
 * through the real `arc` with the packed plugin. Architect's aws-lite does not implement this
 * provider itself; the plugin does the exchange.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assertIdle, assertSignedBySession, awsCallsSince, lastSeq, startSuite, stsCallsSince, type Suite } from './e2e.ts'

let suite: Suite
const dir = mkdtempSync(join(tmpdir(), 'web-identity-'))
before(async () => { suite = await startSuite() })
after(async () => {
  await suite?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** A token file as a platform writes it (the stand-in issuer's token; no GitLab variables at all). */
function tokenFile (name: string, claims: Record<string, unknown> = {}): { path: string, token: string } {
  const { token } = suite.s.job({ ref: 'feature/ci', ref_protected: 'false', environment: 'staging', ...claims })
  const path = join(dir, name)
  writeFileSync(path, `${token}\n`)
  return { path, token }
}

describe('AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE outside GitLab', () => {
  test('a deploy on exchanged credentials: one STS call, the given session name, every call signed by the session', async () => {
    const { s } = suite
    const { path, token } = tokenFile('token-1')
    const from = lastSeq(s)
    // GITLAB_OIDC_TOKEN is a GitLab-only source: outside a job it is not used, even when set.
    const env = { AWS_ROLE_ARN: s.roles.staging, AWS_WEB_IDENTITY_TOKEN_FILE: path, AWS_ROLE_SESSION_NAME: 'circleci-build-42', WEB_IDENTITY_TOKEN: token }
    const r = await suite.arc(['deploy'], { env })
    assert.equal(r.code, 0, r.output)
    const calls = assertSignedBySession(s, from, s.roles.staging, 'circleci-build-42')
    assert.ok(calls.some(c => c.action === 'CreateStack' || c.action === 'UpdateStack'), 'deployed')
    assert.match(r.output, /GitLab OIDC Assuming arn:aws:iam::222222222222:role\/oidc-example-staging-deploy for staging/)
    assert.match(r.output, /token from \.+ file .*token-1 \(named by AWS_WEB_IDENTITY_TOKEN_FILE\)/)
    assert.ok(!r.output.includes(token), 'the token is not printed')
  })

  test('without AWS_ROLE_SESSION_NAME: a session name that says where it came from', async () => {
    const { s } = suite
    const { path } = tokenFile('token-2')
    const from = lastSeq(s)
    const r = await suite.arc(['deploy', '--dry-run'], { env: { AWS_ROLE_ARN: s.roles.staging, AWS_WEB_IDENTITY_TOKEN_FILE: path } })
    assert.equal(r.code, 0, r.output)
    assert.match(stsCallsSince(s, from)[0]?.assume?.sessionName ?? '', /^arc-web-identity-\d{10}$/)
  })

  test('static keys in the environment win: no exchange, nothing printed, no AWS SDK', async () => {
    const { s } = suite
    const { path } = tokenFile('token-3')
    const from = lastSeq(s)
    const env = {
      AWS_ROLE_ARN: s.roles.staging, AWS_WEB_IDENTITY_TOKEN_FILE: path,
      AWS_ACCESS_KEY_ID: s.developer.accessKeyId, AWS_SECRET_ACCESS_KEY: s.developer.secretAccessKey,
    }
    const r = await suite.arc(['deploy', '--dry-run'], { env })
    assert.equal(r.code, 0, r.output)
    assertIdle(s, from, r, s.developer.accessKeyId)
  })

  test('AWS_ROLE_ARN exported on a laptop with no token file: untouched and silent', async () => {
    const { s } = suite
    const from = lastSeq(s)
    const env = {
      AWS_ROLE_ARN: s.roles.staging, AWS_ACCESS_KEY_ID: s.developer.accessKeyId, AWS_SECRET_ACCESS_KEY: s.developer.secretAccessKey,
    }
    const r = await suite.arc(['deploy', '--dry-run'], { env })
    assert.equal(r.code, 0, r.output)
    assertIdle(s, from, r, s.developer.accessKeyId)
  })

  for (const [name, path] of [['missing', () => join(dir, 'no-such-file')], ['unreadable (a directory)', () => { const d = join(dir, 'a-dir'); mkdirSync(d, { recursive: true }); return d }]] as const) {
    test(`a token file that is ${name}: a clear refusal naming AWS_WEB_IDENTITY_TOKEN_FILE, no AWS call`, async () => {
      const { s } = suite
      const from = lastSeq(s)
      const r = await suite.arc(['deploy'], { env: { AWS_ROLE_ARN: s.roles.staging, AWS_WEB_IDENTITY_TOKEN_FILE: path() } })
      assert.equal(r.code, 1, r.output)
      // a missing file cannot be read; a directory is refused before any read (issue 20: only a regular file is read)
      assert.match(r.output, /× GitLab OIDC: AWS_WEB_IDENTITY_TOKEN_FILE names .*, which (cannot be read: ENOENT|is a directory, not a regular file)/)
      assert.match(r.output, /Point AWS_WEB_IDENTITY_TOKEN_FILE at a readable file|Write the token to a regular file/)
      assert.equal(s.aws.calls.filter(c => c.seq > from).length, 0, 'no AWS call at all')
      assert.deepEqual(r.sdkModules, [], 'the AWS SDK was not loaded')
    })
  }

  test('a refusal by AWS is explained with the token\'s generic claims', async () => {
    const { s } = suite
    // The production role trusts only the default branch; this token is a feature branch's.
    const { path } = tokenFile('token-4')
    const from = lastSeq(s)
    const r = await suite.arc(['deploy', '--production'], { env: { AWS_ROLE_ARN: s.roles.production, AWS_WEB_IDENTITY_TOKEN_FILE: path } })
    assert.equal(r.code, 1, r.output)
    assert.match(r.output, /trust policy does not match this job \(AccessDenied\)/)
    assert.match(r.output, /The token asserted \(ID token claims\):/)
    assert.match(r.output, /subject \.+ project_path:acme\/oidc-example:ref_type:branch:ref:feature\/ci/)
    assert.doesNotMatch(r.output, /Refusing a production deploy/, 'GitLab\'s protected-ref guard applies in GitLab only')
    assert.doesNotMatch(r.output, /arc-gitlab-oidc trust-policy|id_tokens|GitLab asserted/, 'no GitLab advice outside GitLab')
    assert.equal(awsCallsSince(s, from).length, 0)
  })
})
