import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Claims } from '../../../src/shared/id-token.ts'

import { buildTrustPolicy, conditionForClaims, subjectFor, type TrustPolicy } from '../../../src/iam/trust-policy.ts'
import { escapePolicyValue } from '../../../src/iam/gitlab-names.ts'
import { normalizeIssuer, parseRoleArn, providerArn } from '../../../src/iam/arns.ts'
import { TrustPolicyError } from '../../../src/iam/errors.ts'
import { evaluateTrustPolicy, type PolicyDocument } from '../../support/aws/iam-policy.ts'
import { webIdentityKeys } from '../../support/aws/sts.ts'
import { subjectOf } from '../../../src/iam/sub-claims.ts'

const account = '123456789012'
const project = 'acme/web/shop'
const gitlabProvider = `arn:aws:iam::${account}:oidc-provider/gitlab.com`

function claimsFor (refType: 'branch' | 'tag', ref: string, extra: Partial<Claims> = {}): Claims {
  return {
    iss: 'https://gitlab.com',
    aud: 'https://gitlab.com',
    sub: `project_path:${project}:ref_type:${refType}:ref:${ref}`,
    project_path: project,
    ref,
    ref_type: refType,
    ...extra,
  }
}

function errorCode (fn: () => unknown): string {
  try {
    fn()
  }
  catch (err) {
    assert.ok(err instanceof TrustPolicyError, `expected a TrustPolicyError, got ${String(err)}`)
    return err.code
  }
  assert.fail('expected an error')
}

/** Would STS let a job with these claims assume a role with this policy? Decided by the AWS stand-in's IAM evaluator. */
function allows (policy: TrustPolicy | PolicyDocument, claims: Claims, partition = 'aws'): boolean {
  const { host } = normalizeIssuer(claims.iss)
  const keys: Record<string, string | string[]> = {}
  if (claims.sub !== undefined) keys[`${host}:sub`] = claims.sub
  if (claims.aud !== undefined) keys[`${host}:aud`] = claims.aud
  return evaluateTrustPolicy(policy as PolicyDocument, {
    federatedPrincipal: providerArn({ account, partition, issuer: claims.iss }),
    action: 'sts:AssumeRoleWithWebIdentity',
    keys,
  }) === 'allow'
}

describe('buildTrustPolicy', () => {
  it('pins a single branch with StringEquals on the exact GitLab sub and on aud', () => {
    const policy = buildTrustPolicy({ project, branches: [ 'main' ], account })
    assert.deepEqual(policy, {
      Version: '2012-10-17',
      Statement: [ {
        Sid: 'GitLabRefs',
        Effect: 'Allow',
        Principal: { Federated: gitlabProvider },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'gitlab.com:aud': 'https://gitlab.com',
            'gitlab.com:sub': 'project_path:acme/web/shop:ref_type:branch:ref:main',
          },
        },
      } ],
    })
    assert.equal(allows(policy, claimsFor('branch', 'main')), true)
    assert.equal(allows(policy, claimsFor('branch', 'main-evil')), false)
    assert.equal(allows(policy, claimsFor('tag', 'main')), false, 'a tag named like the branch must not match')
    assert.equal(allows(policy, claimsFor('branch', 'main', { aud: 'sts.amazonaws.com' })), false, 'wrong audience')
    assert.equal(allows(policy, { ...claimsFor('branch', 'main'), sub: 'project_path:acme/web/shop-fork:ref_type:branch:ref:main' }), false)
  })

  it('lists several exact refs (branches and plain tags) as one StringEquals array', () => {
    const policy = buildTrustPolicy({ project, branches: [ 'main', 'develop', 'main' ], tags: [ 'v1.0.0' ], account })
    assert.equal(policy.Statement.length, 1)
    assert.deepEqual(policy.Statement[0]?.Condition.StringEquals['gitlab.com:sub'], [
      'project_path:acme/web/shop:ref_type:branch:ref:main',
      'project_path:acme/web/shop:ref_type:branch:ref:develop',
      'project_path:acme/web/shop:ref_type:tag:ref:v1.0.0',
    ])
    assert.equal(policy.Statement[0]?.Condition.StringLike, undefined)
    assert.equal(allows(policy, claimsFor('branch', 'develop')), true)
    assert.equal(allows(policy, claimsFor('tag', 'v1.0.0')), true)
    assert.equal(allows(policy, claimsFor('tag', 'v1.0.1')), false)
  })

  it('puts tag globs under StringLike in a separate statement (operators in one statement are ANDed)', () => {
    const policy = buildTrustPolicy({ project, branches: [ 'main' ], tags: [ 'v*' ], account })
    assert.equal(policy.Statement.length, 2)
    const [ exact, patterns ] = policy.Statement
    assert.deepEqual(exact?.Condition, {
      StringEquals: {
        'gitlab.com:aud': 'https://gitlab.com',
        'gitlab.com:sub': 'project_path:acme/web/shop:ref_type:branch:ref:main',
      },
    })
    assert.equal(patterns?.Sid, 'GitLabRefPatterns')
    assert.deepEqual(patterns?.Condition, {
      StringEquals: { 'gitlab.com:aud': 'https://gitlab.com' },
      StringLike: { 'gitlab.com:sub': 'project_path:acme/web/shop:ref_type:tag:ref:v*' },
    })
    assert.equal(allows(policy, claimsFor('tag', 'v2.3.4')), true)
    assert.equal(allows(policy, claimsFor('branch', 'main')), true)
    assert.equal(allows(policy, claimsFor('tag', 'release-2')), false)
    assert.equal(allows(policy, claimsFor('branch', 'v2')), false, 'v* is for tags only')
  })

  it('supports ? and branch patterns such as release/* and * (any branch)', () => {
    const policy = buildTrustPolicy({ project, branches: [ 'release/*' ], tags: [ 'v?' ], account })
    assert.equal(policy.Statement.length, 1)
    assert.deepEqual(policy.Statement[0]?.Condition.StringLike, {
      'gitlab.com:sub': [
        'project_path:acme/web/shop:ref_type:branch:ref:release/*',
        'project_path:acme/web/shop:ref_type:tag:ref:v?',
      ],
    })
    assert.equal(allows(policy, claimsFor('branch', 'release/2024-10')), true)
    assert.equal(allows(policy, claimsFor('tag', 'v1')), true)
    assert.equal(allows(policy, claimsFor('tag', 'v10')), false)

    const anyBranch = buildTrustPolicy({ project, branches: [ '*' ], account })
    assert.deepEqual(anyBranch.Statement[0]?.Condition.StringLike, {
      'gitlab.com:sub': 'project_path:acme/web/shop:ref_type:branch:ref:*',
    })
    assert.equal(allows(anyBranch, claimsFor('branch', 'feature/x')), true)
    assert.equal(allows(anyBranch, claimsFor('tag', 'v1')), false)
  })

  it('anyRef matches every branch and tag of the project, and only of that project', () => {
    const policy = buildTrustPolicy({ project, anyRef: true, account })
    assert.deepEqual(policy.Statement, [ {
      Sid: 'GitLabAnyRef',
      Effect: 'Allow',
      Principal: { Federated: gitlabProvider },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: { 'gitlab.com:aud': 'https://gitlab.com' },
        StringLike: { 'gitlab.com:sub': 'project_path:acme/web/shop:*' },
      },
    } ])
    assert.equal(allows(policy, claimsFor('branch', 'anything')), true)
    assert.equal(allows(policy, claimsFor('tag', 'v9')), true)
    assert.equal(allows(policy, { ...claimsFor('branch', 'main'), sub: 'project_path:acme/web/shop-2:ref_type:branch:ref:main' }), false)
    assert.equal(allows(policy, { ...claimsFor('branch', 'main'), sub: 'project_path:acme/web:ref_type:branch:ref:main' }), false)
    assert.equal(errorCode(() => buildTrustPolicy({ project, anyRef: true, branches: [ 'main' ], account })), 'CONFLICTING_OPTIONS')
  })

  it('uses host + path of a self-managed issuer for the provider ARN and the condition keys', () => {
    const policy = buildTrustPolicy({
      project: 'platform/api',
      branches: [ 'main' ],
      account,
      partition: 'aws-us-gov',
      issuer: 'https://Git.Example.org/gitlab/',
    })
    const st = policy.Statement[0]
    assert.equal(st?.Principal.Federated, `arn:aws-us-gov:iam::${account}:oidc-provider/git.example.org/gitlab`)
    assert.deepEqual(st?.Condition.StringEquals, {
      'git.example.org/gitlab:aud': 'https://git.example.org/gitlab',
      'git.example.org/gitlab:sub': 'project_path:platform/api:ref_type:branch:ref:main',
    })
    const claims: Claims = {
      iss: 'https://git.example.org/gitlab',
      aud: 'https://git.example.org/gitlab',
      sub: 'project_path:platform/api:ref_type:branch:ref:main',
    }
    assert.equal(allows(policy, claims, 'aws-us-gov'), true)
    assert.equal(allows(policy, { ...claims, iss: 'https://gitlab.com', aud: 'https://gitlab.com' }, 'aws-us-gov'), false)
  })

  it('defaults the audience to the issuer URL and accepts a custom audience', () => {
    const def = buildTrustPolicy({ project, branches: [ 'main' ], account, issuer: 'https://gitlab.example.com' })
    assert.equal(def.Statement[0]?.Condition.StringEquals['gitlab.example.com:aud'], 'https://gitlab.example.com')
    const custom = buildTrustPolicy({ project, branches: [ 'main' ], account, audience: 'sts.amazonaws.com' })
    assert.equal(custom.Statement[0]?.Condition.StringEquals['gitlab.com:aud'], 'sts.amazonaws.com')
    assert.equal(allows(custom, claimsFor('branch', 'main', { aud: 'sts.amazonaws.com' })), true)
    assert.equal(allows(custom, claimsFor('branch', 'main')), false)
  })

  it('takes account and partition from a role ARN, and refuses a conflicting account', () => {
    const policy = buildTrustPolicy({ project, branches: [ 'main' ], roleArn: 'arn:aws-cn:iam::210987654321:role/deploy/oidc-example-production' })
    assert.equal(policy.Statement[0]?.Principal.Federated, 'arn:aws-cn:iam::210987654321:oidc-provider/gitlab.com')
    assert.equal(errorCode(() => buildTrustPolicy({ project, branches: [ 'main' ], account, roleArn: 'arn:aws:iam::210987654321:role/x' })), 'CONFLICTING_OPTIONS')
    assert.equal(errorCode(() => buildTrustPolicy({ project, branches: [ 'main' ], roleArn: 'arn:aws:iam::210987654321:user/x' })), 'INVALID_ROLE_ARN')
  })

  it('requires a real 12-digit account: no placeholder default', () => {
    assert.equal(errorCode(() => buildTrustPolicy({ project, branches: [ 'main' ] })), 'MISSING_ACCOUNT')
    for (const bad of [ '12345678901', '1234567890123', 'abcdefghijkl', '' ]) {
      assert.equal(errorCode(() => buildTrustPolicy({ project, branches: [ 'main' ], account: bad })), 'INVALID_ACCOUNT', bad)
    }
  })

  it('validates the project path with helpful hints', () => {
    for (const bad of [ 'shop', '', '/acme/shop', 'acme/shop/', 'acme//shop', 'acme/shop.git', 'https://gitlab.com/acme/shop', 'acme/*', '-acme/shop', 'acme/shop.' ]) {
      assert.equal(errorCode(() => buildTrustPolicy({ project: bad, branches: [ 'main' ], account })), 'INVALID_PROJECT', bad)
    }
    assert.throws(() => buildTrustPolicy({ project: 'https://gitlab.com/acme/shop', branches: [ 'main' ], account }), /not the project URL/)
    assert.doesNotThrow(() => buildTrustPolicy({ project: 'Acme_Corp/sub.group/my-shop_2', branches: [ 'main' ], account }))
  })

  it('validates branch and tag names with git ref rules', () => {
    for (const bad of [ '', 'a b', 'a..b', 'a:b', 'a~1', 'a^', 'a[0]', '/a', 'a/', 'a.lock', '.hidden', 'refs/heads/main', 'a@{1}' ]) {
      assert.equal(errorCode(() => buildTrustPolicy({ project, branches: [ bad ], account })), 'INVALID_REF', bad)
    }
    assert.throws(() => buildTrustPolicy({ project, branches: [ 'refs/heads/main' ], account }), /short name.*main/)
  })

  it('requires at least one ref', () => {
    assert.equal(errorCode(() => buildTrustPolicy({ project, account })), 'NO_REFS')
    assert.equal(errorCode(() => buildTrustPolicy({ project, branches: [], tags: [], account })), 'NO_REFS')
  })

  it('refuses environments, explaining that AWS cannot test that claim', () => {
    assert.equal(errorCode(() => buildTrustPolicy({ project, branches: [ 'main' ], environments: [ 'production' ], account })), 'ENVIRONMENT_UNSUPPORTED')
    assert.throws(
      () => buildTrustPolicy({ project, branches: [ 'main' ], environments: [ 'production' ], account }),
      /aud and sub claims.*GitLab's sub never carries the environment/,
    )
    // An empty list is simply "no environments".
    assert.doesNotThrow(() => buildTrustPolicy({ project, branches: [ 'main' ], environments: [], account }))
  })

  it('validates the issuer as AWS does: https, no port, no query', () => {
    for (const bad of [ 'http://gitlab.com', 'https://gitlab.com:8443', 'https://gitlab.com/?x=1', 'gitlab.com', 'https://user:pw@gitlab.com' ]) {
      assert.equal(errorCode(() => buildTrustPolicy({ project, branches: [ 'main' ], account, issuer: bad })), 'INVALID_ISSUER', bad)
    }
    assert.equal(errorCode(() => buildTrustPolicy({ project, branches: [ 'main' ], account, audience: '' })), 'INVALID_AUDIENCE')
  })

  it('escapes ${ in ref names so IAM does not read a policy variable', () => {
    const policy = buildTrustPolicy({ project, branches: [ 'fix-${x}' ], account })
    assert.equal(policy.Statement[0]?.Condition.StringEquals['gitlab.com:sub'], 'project_path:acme/web/shop:ref_type:branch:ref:fix-${$}{x}')
    assert.equal(allows(policy, claimsFor('branch', 'fix-${x}')), true)
    assert.equal(allows(policy, claimsFor('branch', 'fix-')), false)
  })
})

describe('conditionForClaims', () => {
  it('returns the exact sub + aud condition that matches this job', () => {
    const claims = claimsFor('branch', 'feature/login', { ref_protected: 'false', environment: 'review/login' })
    assert.deepEqual(conditionForClaims(claims, 'https://gitlab.com'), {
      StringEquals: {
        'gitlab.com:aud': 'https://gitlab.com',
        'gitlab.com:sub': 'project_path:acme/web/shop:ref_type:branch:ref:feature/login',
      },
    })
    // Same as a policy generated for that branch.
    const policy = buildTrustPolicy({ project, branches: [ 'feature/login' ], account })
    assert.deepEqual(conditionForClaims(claims), policy.Statement[0]?.Condition)
  })

  it('uses the issuer host and path as the key prefix, defaulting to the iss claim', () => {
    const claims: Claims = { iss: 'https://git.example.org/gitlab', aud: 'aws', sub: 'project_path:a/b:ref_type:tag:ref:v1' }
    assert.deepEqual(conditionForClaims(claims), {
      StringEquals: { 'git.example.org/gitlab:aud': 'aws', 'git.example.org/gitlab:sub': 'project_path:a/b:ref_type:tag:ref:v1' },
    })
    assert.deepEqual(Object.keys(conditionForClaims(claims, '').StringEquals), [ 'git.example.org/gitlab:aud', 'git.example.org/gitlab:sub' ])
  })

  it('keeps a customised sub as GitLab issued it', () => {
    const claims: Claims = { iss: 'https://gitlab.com', aud: 'https://gitlab.com', sub: 'project_path:a/b:ref:main' }
    assert.equal(conditionForClaims(claims).StringEquals['gitlab.com:sub'], 'project_path:a/b:ref:main')
  })

  it('accepts an aud array and rejects tokens without sub, aud or issuer', () => {
    const claims: Claims = { iss: 'https://gitlab.com', aud: [ 'https://gitlab.com' ], sub: 'project_path:a/b:ref_type:branch:ref:main' }
    assert.equal(conditionForClaims(claims).StringEquals['gitlab.com:aud'], 'https://gitlab.com')
    assert.equal(errorCode(() => conditionForClaims({ iss: 'https://gitlab.com', aud: 'x' })), 'INVALID_CLAIMS')
    assert.equal(errorCode(() => conditionForClaims({ iss: 'https://gitlab.com', sub: 'x' })), 'INVALID_CLAIMS')
    assert.equal(errorCode(() => conditionForClaims({ aud: 'x', sub: 'y' })), 'INVALID_CLAIMS')
  })
})

describe('what STS decides for generated policies', () => {
  it('a condition on another GitLab claim never matches: AWS only provides aud and sub', () => {
    const policy = {
      Statement: [ {
        Effect: 'Allow' as const,
        Principal: { Federated: gitlabProvider },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { 'gitlab.com:aud': 'https://gitlab.com', 'gitlab.com:ref_protected': 'true' } },
      } ],
    }
    assert.equal(allows(policy, claimsFor('branch', 'main', { ref_protected: 'true' })), false)
  })

  it('an explicit Deny added to a generated policy wins; another issuer never matches', () => {
    const allow = buildTrustPolicy({ project, anyRef: true, account })
    const deny = {
      Statement: [ ...allow.Statement, {
        Effect: 'Deny' as const,
        Principal: { Federated: gitlabProvider },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringLike: { 'gitlab.com:sub': 'project_path:*:ref_type:branch:ref:wip/*' } },
      } ],
    } as PolicyDocument
    assert.equal(allows(deny, claimsFor('branch', 'wip/x')), false)
    assert.equal(allows(deny, claimsFor('branch', 'main')), true)
    assert.equal(allows(allow, { ...claimsFor('branch', 'main'), iss: 'https://git.example.org' }), false)
  })
})

describe('helpers', () => {
  it('normalizeIssuer strips scheme and trailing slash, keeps the path', () => {
    assert.deepEqual(normalizeIssuer('https://gitlab.com/'), { url: 'https://gitlab.com', host: 'gitlab.com' })
    assert.deepEqual(normalizeIssuer('https://example.com/git/lab//'), { url: 'https://example.com/git/lab', host: 'example.com/git/lab' })
  })

  it('providerArn, parseRoleArn, subjectFor, escapePolicyValue', () => {
    assert.equal(providerArn({ account, issuer: 'https://gitlab.com' }), gitlabProvider)
    assert.deepEqual(parseRoleArn('arn:aws:iam::111111111111:role/oidc-example-staging-deploy'), {
      partition: 'aws', account: '111111111111', name: 'oidc-example-staging-deploy',
    })
    assert.equal(subjectFor('a/b', 'tag', 'v1'), 'project_path:a/b:ref_type:tag:ref:v1')
    assert.equal(escapePolicyValue('a$b${c}'), 'a$b${$}{c}')
  })
})

describe('pinned to what AWS can check (issue 24)', () => {
  const ID = '4242'
  /** STS's decision for a token with these claims, with the keys the STS stand-in supplies for its issuer. */
  const sts = (policy: TrustPolicy, claims: Record<string, string>): boolean => {
    const host = normalizeIssuer(claims.iss!).host
    return evaluateTrustPolicy(policy as unknown as PolicyDocument, {
      federatedPrincipal: providerArn({ account, partition: 'aws', issuer: claims.iss! }),
      action: 'sts:AssumeRoleWithWebIdentity',
      keys: webIdentityKeys(host, claims, claims.sub!, claims.aud!),
    }) === 'allow'
  }
  const token = (over: Record<string, string> = {}, format = 'project_path,ref_type,ref'): Record<string, string> => {
    const c = { iss: 'https://gitlab.com', aud: 'https://gitlab.com', project_path: project, project_id: ID, ref_type: 'branch', ref: 'main', ref_protected: 'true', ...over }
    return { ...c, sub: subjectOf(format, c) }
  }

  it('gitlab.com: both kinds of role pin gitlab.com:project_id; production also gitlab.com:ref_protected', () => {
    const production = buildTrustPolicy({ project, branches: [ 'main' ], account, projectId: ID, requireProtectedRef: true })
    assert.deepEqual(production.Statement[0]?.Condition.StringEquals, {
      'gitlab.com:aud': 'https://gitlab.com', 'gitlab.com:sub': 'project_path:acme/web/shop:ref_type:branch:ref:main', 'gitlab.com:project_id': ID, 'gitlab.com:ref_protected': 'true',
    })
    assert.equal(sts(production, token()), true, 'the project\'s protected default branch')
    assert.equal(sts(production, token({ project_id: '9999' })), false, 'another project that took over the path')
    assert.equal(sts(production, token({ ref_protected: 'false' })), false, 'the default branch left unprotected')
    const staging = buildTrustPolicy({ project, branches: [ '*' ], account, projectId: ID })
    assert.deepEqual(staging.Statement[0]?.Condition.StringEquals, { 'gitlab.com:aud': 'https://gitlab.com', 'gitlab.com:project_id': ID })
    assert.equal(sts(staging, token({ ref: 'feature/x', ref_protected: 'false' })), true, 'any branch, protected or not')
    assert.equal(sts(staging, token({ ref: 'feature/x', project_id: '9999' })), false)
    const { project_id: _, ...noId } = token()
    assert.equal(sts(staging, { ...noId }), false, 'a token without the claim: the key is absent, the condition fails')
  })

  it('a self-managed issuer gets no gitlab.com keys: the ID and protection go into sub when the format carries them', () => {
    const issuer = 'https://git.example.com'
    const plain = buildTrustPolicy({ project, branches: [ 'main' ], account, issuer, projectId: ID, requireProtectedRef: true })
    assert.deepEqual(Object.keys(plain.Statement[0]!.Condition.StringEquals), [ 'git.example.com:aud', 'git.example.com:sub' ])
    const format = 'project_id,ref_type,ref,ref_protected'
    const pinned = buildTrustPolicy({ project, branches: [ 'main' ], account, issuer, projectId: ID, requireProtectedRef: true, subClaimComponents: format })
    assert.equal(pinned.Statement[0]?.Condition.StringEquals['git.example.com:sub'], `project_id:${ID}:ref_type:branch:ref:main:ref_protected:true`)
    const t = (over: Record<string, string>) => token({ iss: issuer, aud: issuer, ...over }, format)
    assert.equal(sts(pinned, t({})), true)
    assert.equal(sts(pinned, t({ ref_protected: 'false' })), false, 'unprotected')
    assert.equal(sts(pinned, t({ project_id: '9999' })), false, 'another project')
    assert.equal(sts(pinned, t({ project_path: 'someone/else' })), true, 'a renamed project keeps its ID')
    const staging = buildTrustPolicy({ project, branches: [ '*' ], account, issuer, projectId: ID, subClaimComponents: format })
    assert.equal(staging.Statement[0]?.Condition.StringLike?.['git.example.com:sub'], `project_id:${ID}:ref_type:branch:ref:*:ref_protected:*`)
    assert.equal(sts(staging, t({ ref: 'feature/x', ref_protected: 'false' })), true)
    assert.equal(sts(staging, t({ ref: 'v1', ref_type: 'tag' })), false)
    // a gitlab.com key written for a self-managed provider is never in the request: the condition fails
    const forged = JSON.parse(JSON.stringify(staging).replace('"git.example.com:aud"', '"gitlab.com:project_id":"4242","git.example.com:aud"')) as TrustPolicy
    assert.equal(sts(forged, t({ ref: 'feature/x' })), false)
  })

  it('the condition matching a gitlab.com job pins its project ID too; a self-managed job\'s does not (AWS would not see it)', () => {
    const c = token()
    assert.deepEqual(conditionForClaims(c as unknown as Claims).StringEquals, { 'gitlab.com:aud': 'https://gitlab.com', 'gitlab.com:sub': c.sub, 'gitlab.com:project_id': ID })
    const policy = { Version: '2012-10-17', Statement: [ { Effect: 'Allow', Principal: { Federated: gitlabProvider }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: conditionForClaims(c as unknown as Claims) } ] } as unknown as TrustPolicy
    assert.equal(sts(policy, c), true)
    assert.equal(sts(policy, { ...c, project_id: '9999' }), false)
    const selfManaged = token({ iss: 'https://git.example.com', aud: 'https://git.example.com' })
    assert.deepEqual(Object.keys(conditionForClaims(selfManaged as unknown as Claims).StringEquals), [ 'git.example.com:aud', 'git.example.com:sub' ])
  })

  it('deployment_tier and environment_protected are matched with *; a project_id subject needs the ID', () => {
    const format = 'project_path,ref_type,ref,deployment_tier,environment_protected'
    const policy = buildTrustPolicy({ project, branches: [ 'main' ], account, issuer: 'https://git.example.com', subClaimComponents: format })
    assert.equal(policy.Statement[0]?.Condition.StringLike?.['git.example.com:sub'], 'project_path:acme/web/shop:ref_type:branch:ref:main:deployment_tier:*:environment_protected:*')
    assert.equal(errorCode(() => buildTrustPolicy({ project, branches: [ 'main' ], account, subClaimComponents: 'project_id,ref_type,ref' })), 'MISSING_PROJECT_ID')
    assert.equal(errorCode(() => buildTrustPolicy({ project, branches: [ 'main' ], account, projectId: '12ab' })), 'INVALID_PROJECT_ID')
    assert.equal(errorCode(() => buildTrustPolicy({ project, branches: [ 'main' ], account, projectId: ID, subClaimComponents: 'project_id,ref_type' })), 'UNEXPRESSIBLE_REF')
    const any = buildTrustPolicy({ project, anyRef: true, account, projectId: ID, subClaimComponents: 'project_id,ref,ref_type' })
    assert.equal(any.Statement[0]?.Condition.StringLike?.['gitlab.com:sub'], `project_id:${ID}:*`)
  })
})
