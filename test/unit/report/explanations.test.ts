/**
 * The table of STS refusals (src/report/explanations.ts), entry by entry, given a ExchangeContext
 * directly: which entry AWS's code and message pick, and what each says, in a GitLab job and
 * outside GitLab. (explain.test.ts covers the same table through explainExchange.)
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { EXPLANATIONS, findExplanation, providerArnFor, type Explained } from '../../../src/report/explanations.ts'
import type { ExchangeContext } from '../../../src/shared/sts.ts'

const claims = {
  iss: 'https://gitlab.example.com/gitlab', aud: 'https://gitlab.example.com/gitlab',
  sub: 'project_path:acme/shop:ref_type:branch:ref:main', project_path: 'acme/shop', ref: 'main', ref_type: 'branch',
  user_email: 'dev@example.com',
}

function situation (over: Partial<ExchangeContext> = {}): ExchangeContext {
  return {
    roleArn: 'arn:aws-cn:iam::222222222222:role/deploy/shop-production', partition: 'aws-cn', account: '222222222222',
    roleName: 'shop-production', issuer: claims.iss, issuerHost: 'gitlab.example.com/gitlab', audiences: [ claims.aud ],
    claims, tokenVariable: 'MY_ID_TOKEN', origin: 'gitlab', sessionName: 'gitlab-1-2-3', durationSeconds: 7200,
    durationSource: 'ARC_ROLE_DURATION', region: 'cn-north-1', roleSource: 'CI variable ARC_ROLE_ARN', tokenSource: 'CI variable MY_ID_TOKEN',
    stage: 'production', ...over,
  }
}

/** The explanation AWS's code and message pick, for this situation. */
function explain (code: string, message: string, over: Partial<ExchangeContext> = {}): Explained & { text: string } {
  const entry = findExplanation(code, message)
  assert.ok(entry, `${code}: ${message}`)
  const explained = entry.explain(situation(over))
  return { ...explained, text: [ explained.title, ...explained.fix ].join('\n') }
}

describe('findExplanation', () => {
  it('picks the entry with a matching message pattern before its code\'s catch-all', () => {
    const pick = (code: string, message: string) => EXPLANATIONS.indexOf(findExplanation(code, message)!)
    const noProvider = pick('InvalidIdentityToken', 'No OpenIDConnect provider found in your account for https://x')
    const audience = pick('InvalidIdentityToken', 'Incorrect token audience')
    const keys = pick('InvalidIdentityToken', "Couldn't retrieve verification key from your identity provider")
    const other = pick('InvalidIdentityToken', 'could not be validated')
    assert.equal(new Set([ noProvider, audience, keys, other ]).size, 4)
    assert.equal(EXPLANATIONS[other]!.message, undefined)
  })

  it('matches message patterns without regard to case', () => {
    assert.equal(findExplanation('ValidationError', 'the requested durationseconds is too long'), findExplanation('ValidationError', 'DurationSeconds'))
  })

  it('knows codes without the SDK\'s Exception suffix only, and nothing it has no entry for', () => {
    assert.equal(findExplanation('ExpiredTokenException', 'x'), undefined, 'explain.ts strips the suffix first')
    assert.ok(findExplanation('ExpiredToken', 'x'))
    assert.equal(findExplanation('InternalFailure', 'x'), undefined)
    assert.equal(findExplanation('accessdenied', 'x'), undefined, 'codes are exact')
  })
})

describe('the entries', () => {
  it('the provider ARN is in the role\'s partition and account, named by the issuer host and path', () => {
    assert.equal(providerArnFor(situation()), 'arn:aws-cn:iam::222222222222:oidc-provider/gitlab.example.com/gitlab')
  })

  it('AccessDenied in a GitLab job: a matching condition, the principal, the trust-policy command with --issuer', () => {
    const { title, text } = explain('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity')
    assert.match(title, /\(AccessDenied\)$/)
    assert.ok(text.includes('"gitlab.example.com/gitlab:sub": "project_path:acme/shop:ref_type:branch:ref:main"'))
    assert.ok(text.includes('"Federated": "arn:aws-cn:iam::222222222222:oidc-provider/gitlab.example.com/gitlab"'))
    assert.ok(text.includes('npx arc-gitlab-oidc trust-policy --project acme/shop --branch main --role-arn arn:aws-cn:iam::222222222222:role/deploy/shop-production --issuer https://gitlab.example.com/gitlab\n'))
    assert.match(text, /production-role \/ staging-role/)
  })

  it('AccessDenied for a gitlab.com job: the matching condition and the command pin its project ID', () => {
    const com = { ...claims, iss: 'https://gitlab.com', aud: 'https://gitlab.com', project_id: '4242' }
    const e = EXPLANATIONS.find(x => x.code === 'AccessDenied')!.explain(situation({ claims: com, issuer: com.iss, issuerHost: 'gitlab.com', audiences: [ com.aud ] }))
    const text = e.fix.join('\n') + '\n'
    assert.ok(text.includes('"gitlab.com:project_id": "4242"'), text)
    assert.ok(text.includes('trust-policy --project acme/shop --branch main --role-arn arn:aws-cn:iam::222222222222:role/deploy/shop-production --project-id 4242\n'), text)
    const staging = EXPLANATIONS.find(x => x.code === 'AccessDenied')!.explain(situation({ stage: 'staging', claims: com, issuer: com.iss, issuerHost: 'gitlab.com', audiences: [ com.aud ] })).fix.join('\n')
    assert.match(staging, /its aud https:\/\/gitlab\.com, its project ID 4242 \(gitlab\.com:project_id\);/)
    assert.match(staging, /--branch '\*' --role-arn \S+ --project-id 4242/)
  })

  it('AccessDenied for production: the branch condition first, the ARN against the stack outputs last', () => {
    const { text } = explain('AccessDenied', 'Not authorized', { roleArn: 'arn:aws:iam::111111111111:role/shop-production-deploy', roleName: 'shop-production-deploy' })
    const condition = text.indexOf(':ref:main"')
    const arn = text.indexOf('compare the ARN with the ProductionRoleArn')
    assert.ok(condition > 0 && arn > condition, text)
    assert.match(text, /trust-policy --project acme\/shop --branch main /)
    assert.match(text, /describe-stacks --stack-name shop-gitlab-oidc\)/)
  })

  it('AccessDenied for staging (a role trusting every branch): the ARN and its account first, no branch of this job as the fix', () => {
    const staging = { stage: 'staging' as const, roleArn: 'arn:aws:iam::999999999999:role/shop-staging-deploy', roleName: 'shop-staging-deploy', account: '999999999999', partition: 'aws',
      claims: { ...claims, ref: 'feature/cart', sub: 'project_path:acme/shop:ref_type:branch:ref:feature/cart' } }
    const { title, fix } = explain('AccessDenied', 'Not authorized', staging)
    assert.match(title, /staging role: the role does not exist in that account/)
    assert.match(fix[0]!, /^First check the ARN: arn:aws:iam::999999999999:role\/shop-staging-deploy \(from CI variable ARC_ROLE_ARN\), account 999999999999\./)
    assert.match(fix.slice(0, 3).join('\n'), /StagingRoleArn output of the staging account's stack:\n {2}aws cloudformation describe-stacks --stack-name shop-gitlab-oidc /)
    const text = fix.join('\n')
    assert.doesNotMatch(text, /--branch feature\/cart|"[^"]*:sub": "project_path:acme\/shop:ref_type:branch:ref:feature\/cart"/, 'no branch-only condition or command')
    assert.match(text, /trust-policy --project acme\/shop --branch '\*' --role-arn arn:aws:iam::999999999999:role\/shop-staging-deploy/)
    assert.ok(text.indexOf('First check the ARN') < text.indexOf('trust-policy'), 'the ARN before the trust policy')
    // a role named otherwise: the stack name is left for the user
    assert.match(explain('AccessDenied', 'x', { stage: 'staging', roleName: 'deployer' }).text, /--stack-name <app>-gitlab-oidc/)
    // outside GitLab: the same order, no GitLab command
    const outside = explain('AccessDenied', 'x', { ...staging, origin: 'web-identity' }).text
    assert.match(outside, /^First check the ARN/m)
    assert.doesNotMatch(outside, /arc-gitlab-oidc trust-policy/)
  })

  it('AccessDenied outside GitLab: no GitLab command, another role through AWS_ROLE_ARN', () => {
    const { text } = explain('AccessDenied', 'Not authorized', { origin: 'web-identity' })
    assert.ok(!text.includes('arc-gitlab-oidc trust-policy'))
    assert.ok(!text.includes('production-role'))
    assert.match(text, /set AWS_ROLE_ARN to another role/)
  })

  it('no provider: the create command for this issuer and audience; fallbacks when the token has no issuer', () => {
    const { title, text } = explain('InvalidIdentityToken', 'No OpenIDConnect provider found')
    assert.equal(title, 'AWS account 222222222222 has no IAM OIDC identity provider for https://gitlab.example.com/gitlab (InvalidIdentityToken)')
    assert.ok(text.includes('aws iam create-open-id-connect-provider --url https://gitlab.example.com/gitlab --client-id-list https://gitlab.example.com/gitlab'))
    const bare = explain('InvalidIdentityToken', 'No OpenIDConnect provider found', { issuer: undefined, audiences: [] })
    assert.match(bare.title, /for this issuer \(InvalidIdentityToken\)$/)
    assert.match(bare.text, /see id_tokens: aud/)
  })

  it('wrong audience in a GitLab job: the id_tokens block under the job\'s own variable, and the add-client-id command', () => {
    const { title, text } = explain('InvalidIdentityToken', 'Incorrect token audience', { audiences: [ 'sts.amazonaws.com' ] })
    assert.match(title, /^The token's audience \(sts\.amazonaws\.com\) is not a client ID/)
    assert.match(text, / {2}id_tokens:\n {4}MY_ID_TOKEN:\n {6}aud: <a client ID of the provider, e\.g\. https:\/\/gitlab\.example\.com\/gitlab>/)
    assert.ok(text.includes('--open-id-connect-provider-arn arn:aws-cn:iam::222222222222:oidc-provider/gitlab.example.com/gitlab --client-id sts.amazonaws.com'))
  })

  it('wrong audience outside GitLab: no id_tokens, the platform\'s settings instead', () => {
    const { text } = explain('InvalidIdentityToken', 'Incorrect token audience', { origin: 'web-identity' })
    assert.ok(!text.includes('id_tokens'))
    assert.match(text, /your platform's OIDC settings/)
  })

  it('unreachable keys: the two URLs AWS must reach', () => {
    const { text } = explain('InvalidIdentityToken', 'Couldn\'t retrieve verification key')
    assert.ok(text.includes('https://gitlab.example.com/gitlab/.well-known/openid-configuration'))
  })

  it('a token not accepted: the job\'s own token in GitLab, the platform\'s elsewhere', () => {
    assert.match(explain('InvalidIdentityToken', 'could not be validated').text, /the job's own \(id_tokens:\)/)
    assert.match(explain('InvalidIdentityToken', 'could not be validated', { origin: 'web-identity' }).text, /the one your platform issued/)
  })

  it('too long a session: the duration, where it was set, and the update-role command by role name without its path', () => {
    const { title, text } = explain('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.')
    assert.match(title, /^The requested session of 7200 s is longer than the role allows/)
    assert.ok(text.includes('(now 7200, from ARC_ROLE_DURATION)'))
    assert.ok(text.includes('aws iam update-role --role-name shop-production --max-session-duration 7200'))
    assert.ok(text.includes('update its stack with MaxSessionDuration=7200, which `setup` prints for this duration'))
  })

  it('a refused session name is quoted; region and size problems name what to change', () => {
    assert.match(explain('ValidationError', "Value 'x' at 'roleSessionName' failed").title, /^STS refused the session name "gitlab-1-2-3"/)
    assert.match(explain('RegionDisabled', 'not activated').text, /not activated in cn-north-1[\s\S]*Activate STS in cn-north-1/)
    assert.match(explain('PackedPolicyTooLarge', 'x').title, /too large \(PackedPolicyTooLarge\)$/)
  })

  it('no entry prints user_email or an empty fix line', () => {
    for (const entry of EXPLANATIONS) {
      for (const origin of [ 'gitlab', 'web-identity' ] as const) {
        const { title, fix } = entry.explain(situation({ origin }))
        assert.ok(![ title, ...fix ].join('\n').includes('dev@example.com'), `${entry.code} ${entry.message ?? ''}`)
        assert.ok(fix.length > 0 && fix.every(l => l.trim() !== ''), `${entry.code} ${entry.message ?? ''}`)
      }
    }
  })
})
