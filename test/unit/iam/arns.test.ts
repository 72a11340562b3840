/**
 * IAM's names checked before they go into a policy or a message (src/iam/arns.ts): account IDs,
 * partitions, role, policy and provider ARNs (the one ARN parser), issuer URLs. Each problem is a
 * TrustPolicyError with a stable code. GitLab's names: gitlab-names.test.ts.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import {
  DEFAULT_ISSUER, accountOf, iamArn, isAccountId, isIamArn, looseArnParts, normalizeIssuer,
  parseIamArn, parseRoleArn, partitionOf, providerArn, validateAccount, validatePartition,
} from '../../../src/iam/arns.ts'
import { refuses } from '../../support/refusals.ts'

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

describe('one ARN parser for roles, policies and providers', () => {
  it('parses policy and provider ARNs too, with path and partition', () => {
    assert.deepEqual(parseIamArn('arn:aws-cn:iam::123456789012:policy/ci/shop-boundary', 'policy'),
      { partition: 'aws-cn', account: '123456789012', resource: 'policy', name: 'ci/shop-boundary' })
    assert.deepEqual(parseIamArn('arn:aws:iam::123456789012:oidc-provider/gitlab.example.com/gitlab', 'oidc-provider'),
      { partition: 'aws', account: '123456789012', resource: 'oidc-provider', name: 'gitlab.example.com/gitlab' })
    refuses(() => parseIamArn('arn:aws:iam::123456789012:policy/a//b', 'policy'), 'INVALID_POLICY_ARN', /IAM managed policy ARN/)
    refuses(() => parseIamArn('arn:aws:iam::123456789012:role/x', 'policy'), 'INVALID_POLICY_ARN')
    refuses(() => parseIamArn('arn:aws:iam::123456789012:oidc-provider/Gitlab.com', 'oidc-provider'), 'INVALID_PROVIDER_ARN')
  })

  it('one partition rule everywhere: IAM\'s partitions pass, made-up ones do not (arn:awsx: was once a valid setting)', () => {
    for (const partition of [ 'aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc' ]) {
      const arn = `arn:${partition}:iam::123456789012:role/x`
      assert.ok(isIamArn(arn, 'role'), arn)
      assert.equal(partitionOf(arn), partition)
      assert.equal(accountOf(arn), '123456789012')
    }
    for (const partition of [ 'awsx', 'aws-', 'AWS', 'aws_cn', 'gcp', '' ]) {
      const arn = `arn:${partition}:iam::123456789012:role/x`
      assert.equal(isIamArn(arn, 'role'), false, arn)
      assert.equal(accountOf(arn), undefined, arn)
      assert.equal(partitionOf(arn), 'aws', arn)
    }
  })

  it('an account ID is 12 digits (the one rule settings, setup and ARNs use)', () => {
    assert.ok(isAccountId('012345678901'))
    for (const bad of [ '12345678901', '1234567890123', '12345678901a', ' 123456789012', '' ]) assert.equal(isAccountId(bad), false, bad)
  })

  it('the account of a role or policy ARN, and nothing from other ARNs', () => {
    assert.equal(accountOf('arn:aws:iam::111111111111:role/deploy'), '111111111111')
    assert.equal(accountOf('arn:aws:iam::222222222222:policy/path/boundary'), '222222222222')
    assert.equal(accountOf('arn:aws:iam::222222222222:user/someone'), undefined)
    assert.equal(accountOf('arn:aws:iam::2222:role/x'), undefined)
    assert.equal(accountOf('nope'), undefined)
  })

  it('what a message can still read from an ARN that does not parse', () => {
    assert.deepEqual(looseArnParts('arn:aws-cn:iam::12:role/r'), { partition: 'aws-cn' })
    assert.deepEqual(looseArnParts('arn:awsx:iam::123456789012:role/r'), { account: '123456789012' })
    assert.deepEqual(looseArnParts('shop-production'), {})
  })

  it('builds ARNs from parts (placeholders allowed) that the parser reads back', () => {
    const arn = iamArn({ account: '123456789012', resource: 'policy', name: 'shop-staging-boundary' })
    assert.equal(arn, 'arn:aws:iam::123456789012:policy/shop-staging-boundary')
    assert.equal(parseIamArn(arn, 'policy').name, 'shop-staging-boundary')
    assert.equal(iamArn({ partition: 'aws-cn', account: '<account>', resource: 'oidc-provider', name: 'gitlab.com' }),
      'arn:aws-cn:iam::<account>:oidc-provider/gitlab.com')
  })

  it('no other module of src/ has an ARN pattern of its own', () => {
    const src = join(import.meta.dirname, '../../../src')
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(f => f.endsWith('.ts')).map(f => join(src, f))
    assert.ok(files.length > 20)
    // A regular expression literal that starts an ARN (`/^arn:`, `/arn:(`...) or a RegExp built from one.
    const pattern = /\/\^?arn:|arn:\(|RegExp\([^)]*arn:/
    const offenders = files
      .filter(f => !f.endsWith(join('iam', 'arns.ts')))
      .flatMap(f => readFileSync(f, 'utf8').split('\n').map((line, i) => ({ where: `${relative(src, f)}:${i + 1}`, line })))
      .filter(({ line }) => pattern.test(line))
    assert.deepEqual(offenders, [])
    // and the check does find one where there is one
    assert.ok(pattern.test(readFileSync(join(src, 'iam', 'arns.ts'), 'utf8')))
  })
})
