/**
 * Names checked before they go into a policy or a message (src/iam/arns.ts): GitLab project
 * paths and refs, account IDs, partitions, role ARNs, issuer URLs, the provider ARN, and IAM's
 * policy-variable escape. Each problem is a TrustPolicyError with a stable code.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  DEFAULT_ISSUER, TrustPolicyError, escapePolicyValue, normalizeIssuer, parseRoleArn, providerArn,
  validateAccount, validatePartition, validateProjectPath, validateRefName, type TrustPolicyErrorCode,
} from '../../../src/iam/arns.ts'

/** Throws a TrustPolicyError with this code, and a message matching `message` when given. */
function refuses (fn: () => unknown, code: TrustPolicyErrorCode, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TrustPolicyError, String(err))
    assert.equal(err.name, 'TrustPolicyError')
    assert.equal(err.code, code)
    if (message) assert.match(err.message, message)
    return true
  })
}

describe('role ARNs', () => {
  it('parses partition, account and the name with its path', () => {
    assert.deepEqual(parseRoleArn('arn:aws:iam::123456789012:role/deploy'), { partition: 'aws', account: '123456789012', name: 'deploy' })
    assert.deepEqual(parseRoleArn('arn:aws-us-gov:iam::123456789012:role/ci/shop-production'),
      { partition: 'aws-us-gov', account: '123456789012', name: 'ci/shop-production' })
    assert.equal(parseRoleArn('arn:aws-cn:iam::123456789012:role/a+b=c,d.e@f-g_h').name, 'a+b=c,d.e@f-g_h')
  })

  it('refuses other resources, other services, bad accounts and made-up partitions', () => {
    for (const arn of [
      'arn:aws:iam::123456789012:policy/deploy',
      'arn:aws:iam::123456789012:oidc-provider/gitlab.com',
      'arn:aws:sts::123456789012:assumed-role/deploy/s',
      'arn:aws:iam::123456789012:role/',
      'arn:aws:iam::123456789012:role/has space',
      'arn:aws:iam:us-east-1:123456789012:role/deploy',
      'deploy',
      '',
    ]) refuses(() => parseRoleArn(arn), 'INVALID_ROLE_ARN', /expected arn:aws:iam::123456789012:role\/<name>/)
    refuses(() => parseRoleArn('arn:aws:iam::12345:role/deploy'), 'INVALID_ACCOUNT')
    refuses(() => parseRoleArn('arn:aws:iam:::role/deploy'), 'INVALID_ACCOUNT')
    refuses(() => parseRoleArn('arn:awsx:iam::123456789012:role/x'), 'INVALID_PARTITION')
  })
})

describe('accounts and partitions', () => {
  it('an account is exactly 12 digits, as a string', () => {
    assert.equal(validateAccount('000000000000'), '000000000000')
    for (const bad of [ '12345678901', '1234567890123', '12345678901a', ' 123456789012', 123456789012, undefined ]) {
      refuses(() => validateAccount(bad), 'INVALID_ACCOUNT', /expected exactly 12 digits/)
    }
  })

  it('a partition is aws or aws-<name>...', () => {
    for (const ok of [ 'aws', 'aws-cn', 'aws-us-gov', 'aws-iso-b' ]) assert.equal(validatePartition(ok), ok)
    for (const bad of [ 'awsx', 'AWS', 'aws-', 'aws-cn1', 'gcp', '', null ]) refuses(() => validatePartition(bad), 'INVALID_PARTITION')
  })
})

describe('GitLab project paths', () => {
  it('group/project, with subgroups, unchanged', () => {
    for (const ok of [ 'acme/shop', 'acme/web/shop', 'a_b/c.d-e', '_x/y' ]) assert.equal(validateProjectPath(ok), ok)
  })

  it('says what to change for a URL, .git, slashes or wildcards', () => {
    refuses(() => validateProjectPath('https://gitlab.com/acme/shop'), 'INVALID_PROJECT', /Pass the path only/)
    refuses(() => validateProjectPath('git@gitlab.com:acme/shop'), 'INVALID_PROJECT', /Pass the path only/)
    refuses(() => validateProjectPath('acme/shop.git'), 'INVALID_PROJECT', /Drop the trailing \.git/)
    refuses(() => validateProjectPath('/acme/shop'), 'INVALID_PROJECT', /leading\/trailing slash/)
    refuses(() => validateProjectPath('acme/*'), 'INVALID_PROJECT', /Wildcards are not allowed/)
  })

  it('refuses a single segment, and segments GitLab itself refuses', () => {
    for (const bad of [ 'shop', 'acme/-shop', 'acme/.shop', 'acme/shop.', 'acme/shop.atom', 'acme//shop', '', '  ', undefined ]) {
      refuses(() => validateProjectPath(bad), 'INVALID_PROJECT')
    }
  })
})

describe('ref names', () => {
  it('accepts branch and tag names and IAM wildcards', () => {
    for (const ok of [ 'main', 'release/1.x', 'v1.2.0', 'feature/*', 'v?.*' ]) assert.equal(validateRefName('branch', ok), ok)
  })

  it('refuses what git refuses, saying why', () => {
    const cases: Array<[string, RegExp]> = [
      [ '', /it is empty/ ],
      [ 'refs/heads/main', /give the short name \(GitLab's sub uses main, not refs\/heads\/main\)/ ],
      [ 'has space', /spaces, control characters/ ],
      [ 'a:b', /~ \^ :/ ],
      [ 'a..b', /cannot contain \.\./ ],
      [ 'a@{1}', /@\{/ ],
      [ '@', /@\{ or be @/ ],
      [ 'a//b', /start or end with \/ or contain \/\// ],
      [ 'main.', /cannot end with \./ ],
      [ 'a/.hidden', /start with \. or end with \.lock/ ],
      [ 'main.lock', /start with \. or end with \.lock/ ],
    ]
    for (const [ name, why ] of cases) refuses(() => validateRefName('tag', name), 'INVALID_REF', why)
    refuses(() => validateRefName('branch', 42), 'INVALID_REF', /^Invalid branch 42: it is empty$/)
  })
})

describe('issuers and the provider ARN', () => {
  it('normalises to https without a trailing slash; the host keeps a relative URL root', () => {
    assert.deepEqual(normalizeIssuer(), { url: DEFAULT_ISSUER, host: 'gitlab.com' })
    assert.deepEqual(normalizeIssuer('https://gitlab.example.com/'), { url: 'https://gitlab.example.com', host: 'gitlab.example.com' })
    assert.deepEqual(normalizeIssuer('https://GitLab.Example.com/gitlab//'), { url: 'https://gitlab.example.com/gitlab', host: 'gitlab.example.com/gitlab' })
  })

  it('refuses what AWS cannot trust as an OIDC provider', () => {
    refuses(() => normalizeIssuer('gitlab.com'), 'INVALID_ISSUER', /expected e\.g\. https:\/\/gitlab\.com/)
    refuses(() => normalizeIssuer('http://gitlab.example.com'), 'INVALID_ISSUER', /must use https/)
    refuses(() => normalizeIssuer('https://user:pw@gitlab.example.com'), 'INVALID_ISSUER', /credentials/)
    refuses(() => normalizeIssuer('https://gitlab.example.com:8443'), 'INVALID_ISSUER', /port/)
    refuses(() => normalizeIssuer('https://gitlab.example.com/?x=1'), 'INVALID_ISSUER', /query or fragment/)
    refuses(() => normalizeIssuer('https://gitlab.example.com/#'), 'INVALID_ISSUER', /query or fragment/)
  })

  it('the provider ARN: partition (aws by default), account and issuer host', () => {
    assert.equal(providerArn({ account: '123456789012' }), 'arn:aws:iam::123456789012:oidc-provider/gitlab.com')
    assert.equal(providerArn({ account: '123456789012', partition: 'aws-cn', issuer: 'https://gitlab.example.com/gitlab/' }),
      'arn:aws-cn:iam::123456789012:oidc-provider/gitlab.example.com/gitlab')
    refuses(() => providerArn({ account: '1' }), 'INVALID_ACCOUNT')
    refuses(() => providerArn({ account: '123456789012', partition: 'awsx' }), 'INVALID_PARTITION')
  })
})

describe('policy values', () => {
  it('a literal ${ is written ${$}{ so IAM does not read it as a policy variable', () => {
    assert.equal(escapePolicyValue('project_path:a/b:ref_type:branch:ref:x${aws:username}'), 'project_path:a/b:ref_type:branch:ref:x${$}{aws:username}')
    assert.equal(escapePolicyValue('$a{b}$'), '$a{b}$', 'a $ not followed by { stays')
    assert.equal(escapePolicyValue('${${'), '${$}{${$}{')
  })
})
