/**
 * The STS refusal and fault messages (src/report/explain.ts and its table, explanations.ts):
 * each table entry with AWS's own wording, the fixes in the role's partition, and no token or
 * user_email in anything printed.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { explainExchange, baseCode, isFault } from '../../../src/report/explain.ts'
import { EXPLANATIONS, findExplanation, type Explanation } from '../../../src/report/explanations.ts'
import { ExchangeError, type AttemptFailure, type ExchangeContext } from '../../../src/shared/sts.ts'
import { exchangeContext } from '../../../src/plugin/preflight.ts'
import type { Settings } from '../../../src/plugin/settings.ts'
import type { Source } from '../../../src/shared/setting-source.ts'
import type { Claims, Origin } from '../../../src/shared/id-token.ts'
import { formatProblem } from '../../../src/report/format.ts'

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
const TOKEN = `${b64({ alg: 'RS256', kid: 'k' })}.${b64({ sub: 'project_path:acme/shop:ref_type:branch:ref:main' })}.c2lnbmF0dXJlLXNlY3JldA`
const EMAIL = 'dev@example.com'
const claims = {
  iss: 'https://gitlab.example.com', aud: 'https://gitlab.example.com', sub: 'project_path:acme/shop:ref_type:branch:ref:main',
  project_path: 'acme/shop', ref: 'main', ref_type: 'branch', ref_protected: 'true', pipeline_id: '1001', job_id: '5005',
  user_email: EMAIL, user_login: 'dev',
}

/** The context the preflight builds (src/plugin/preflight.ts), from these inputs: the one shape explain.ts reads. */
interface Over {
  roleArn?: string
  claims?: Claims
  tokenSource?: string
  tokenVariable?: string | undefined
  origin?: Origin
  durationSeconds?: number
  durationSource?: string
  region?: string
  stage?: 'production' | 'staging'
}
function context (over: Over = {}): ExchangeContext {
  const source = (name: string): Source => name.startsWith('CI variable ') ? { kind: 'variable', name: name.slice(12) } : { kind: 'default', name }
  const settings = {
    duration: { value: over.durationSeconds ?? 3600, source: source(over.durationSource ?? '3600') },
    region: { value: over.region ?? 'us-west-2', source: source('us-west-2') },
  } as Settings
  return exchangeContext({
    role: { value: over.roleArn ?? 'arn:aws:iam::111111111111:role/shop-production', source: { kind: 'manifest', name: 'production-role', file: 'app.arc' } },
    settings,
    sessionName: 'gitlab-acme-shop-5005',
    claims: over.claims ?? claims,
    found: {
      token: TOKEN, source: over.tokenSource ?? 'CI variable GITLAB_OIDC_TOKEN', legacy: false,
      ...('tokenVariable' in over ? (over.tokenVariable ? { variable: over.tokenVariable } : {}) : { variable: 'GITLAB_OIDC_TOKEN' }),
    },
    origin: over.origin ?? 'gitlab',
    stage: over.stage ?? 'production',
  })
}

function refusal (code: string, message: string, status = 400): ExchangeError {
  return new ExchangeError(code, message, status, [{ code, message, status }], false, 120)
}

/** AWS's own messages for each refusal the table knows. */
const refusals: Array<[name: string, code: string, message: string, title: RegExp]> = [
  ['AccessDenied', 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', /trust policy does not match this job \(AccessDenied\)$/],
  ['no provider', 'InvalidIdentityTokenException', 'No OpenIDConnect provider found in your account for https://gitlab.example.com', /^AWS account 111111111111 has no IAM OIDC identity provider for https:\/\/gitlab\.example\.com \(InvalidIdentityToken\)$/],
  ['audience', 'InvalidIdentityToken', 'Incorrect token audience', /^The token's audience \(https:\/\/gitlab\.example\.com\) is not a client ID of the IAM OIDC provider for https:\/\/gitlab\.example\.com \(InvalidIdentityToken\)$/],
  ['verification key', 'InvalidIdentityToken', 'Couldn\'t retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements', /^AWS could not fetch the signing keys of https:\/\/gitlab\.example\.com \(InvalidIdentityToken\), even after retries$/],
  ['other InvalidIdentityToken', 'InvalidIdentityToken', 'The web identity token that was passed could not be validated by AWS', /^AWS did not accept the ID token \(InvalidIdentityToken\)$/],
  ['ExpiredToken', 'ExpiredTokenException', 'Token expired: current date/time 1764158400 must be before the expiration date/time 1764154800', /^AWS says the ID token has expired \(ExpiredTokenException\)$/],
  ['IDPRejectedClaim', 'IDPRejectedClaim', 'Token issuer does not match the provider', /^AWS rejected a claim of the ID token \(IDPRejectedClaim\)$/],
  ['duration', 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.', /^The requested session of 3600 s is longer than the role allows \(ValidationError\)$/],
  ['session name', 'ValidationError', '1 validation error detected: Value \'deploy by me!\' at \'roleSessionName\' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*', /^STS refused the session name "gitlab-acme-shop-5005" \(ValidationError\)$/],
  ['other ValidationError', 'ValidationError', '1 validation error detected: Value \'x\' at \'roleArn\' failed to satisfy constraint: Member must have length greater than or equal to 20', /^STS refused the request \(ValidationError\)$/],
  ['RegionDisabled', 'RegionDisabledException', 'STS is not activated in this region for account:111111111111. Your account administrator can activate STS in this region using the IAM Console.', /^STS is not activated in us-west-2 for this account \(RegionDisabledException\)$/],
  ['PackedPolicyTooLarge', 'PackedPolicyTooLargeException', 'Packed policy consumes 112% of allotted space', /^The session's policies or tags are too large \(PackedPolicyTooLarge\)$/],
]

describe('STS refusals, one table entry each', () => {
  for (const [name, code, message, title] of refusals) {
    it(`${name}: titled, with AWS's words and the facts of this run`, () => {
      const p = explainExchange(refusal(code, message), context())
      assert.match(p.title, title)
      assert.ok(p.fix.length >= 1 && p.fix.every(l => l.trim() !== ''))
      assert.deepEqual(p.facts?.[0], ['role', 'arn:aws:iam::111111111111:role/shop-production (from `production-role` in @gitlab-oidc (app.arc))'])
      assert.deepEqual(p.facts?.[3], ['AWS said', `${code} (HTTP 400): ${message}`])
      assert.equal(p.claims?.sub, claims.sub)
    })
  }

  it('every entry of the table is reached by one of these messages, and by only one', () => {
    const reached = refusals.map(([, code, message]) => findExplanation(baseCode(code), message))
    assert.equal(new Set(reached).size, refusals.length)
    for (const entry of EXPLANATIONS) assert.ok(reached.includes(entry), `${entry.code} ${entry.message ?? ''}`)
  })

  it('an entry with a message pattern comes before the catch-all of its code', () => {
    const seen = new Set<string>()
    for (const e of EXPLANATIONS as Explanation[]) {
      assert.ok(!seen.has(e.code), `${e.code} ${e.message ?? ''} is unreachable`)
      if (!e.message) seen.add(e.code)
    }
  })

  it('a code the table does not know names AWS\'s code and points at what AWS said', () => {
    const p = explainExchange(refusal('InvalidParameterValue', 'Something new'), context())
    assert.equal(p.title, 'AWS STS refused the exchange (InvalidParameterValue)')
    assert.deepEqual(p.fix, ['See what AWS said above; check the role ARN and its trust policy.'])
    assert.equal(findExplanation('InvalidParameterValue', 'Something new'), undefined)
  })
})

describe('the fixes say what to do here', () => {
  const fixOf = (code: string, message: string, over: Over = {}) => explainExchange(refusal(code, message), context(over)).fix.join('\n')

  it('AccessDenied: the condition matching this job, the provider in the role\'s partition, the command for a whole policy', () => {
    const fix = fixOf('AccessDenied', 'Not authorized', { roleArn: 'arn:aws-cn:iam::222222222222:role/shop-production' })
    assert.match(fix, /^Make the trust policy of arn:aws-cn:iam::222222222222:role\/shop-production allow this job/)
    assert.match(fix, /"gitlab\.example\.com:sub": "project_path:acme\/shop:ref_type:branch:ref:main"/)
    assert.match(fix, /"gitlab\.example\.com:aud": "https:\/\/gitlab\.example\.com"/)
    assert.ok(fix.includes('"Federated": "arn:aws-cn:iam::222222222222:oidc-provider/gitlab.example.com"'))
    assert.ok(!fix.includes('arn:aws:'))
    assert.ok(fix.includes('npx arc-gitlab-oidc trust-policy --project acme/shop --branch main --role-arn arn:aws-cn:iam::222222222222:role/shop-production --issuer https://gitlab.example.com\n'))
  })

  it('AccessDenied for a tag on gitlab.com with its own audience: --tag, no --issuer, --audience; GovCloud provider', () => {
    const tagClaims = { ...claims, iss: 'https://gitlab.com', aud: 'sts.amazonaws.com', ref: 'v1.2.0', ref_type: 'tag', sub: 'project_path:acme/shop:ref_type:tag:ref:v1.2.0' }
    const fix = fixOf('AccessDenied', 'Not authorized', { roleArn: 'arn:aws-us-gov:iam::333333333333:role/shop-production', claims: tagClaims })
    assert.ok(fix.includes('"Federated": "arn:aws-us-gov:iam::333333333333:oidc-provider/gitlab.com"'))
    assert.ok(fix.includes('trust-policy --project acme/shop --tag v1.2.0 --role-arn arn:aws-us-gov:iam::333333333333:role/shop-production --audience sts.amazonaws.com\n'))
  })

  it('AccessDenied with claims that cannot make a condition still proposes the principal and the command', () => {
    const fix = fixOf('AccessDenied', 'Not authorized', { claims: { iss: 'https://gitlab.example.com/gitlab/' } })
    assert.ok(!fix.includes('Condition'))
    assert.ok(fix.includes('"Federated": "arn:aws:iam::111111111111:oidc-provider/gitlab.example.com/gitlab"'))
    assert.ok(fix.includes('--project <group/project> --branch <ref>'))
  })

  it('no provider: the command creating it for this issuer and audience', () => {
    const fix = fixOf('InvalidIdentityToken', 'No OpenIDConnect provider found in your account for https://gitlab.example.com')
    assert.ok(fix.includes('aws iam create-open-id-connect-provider --url https://gitlab.example.com --client-id-list https://gitlab.example.com'))
    assert.match(fix, /iam\/gitlab-oidc\.yaml/)
  })

  it('audience: the id_tokens block under the job\'s variable, and the provider ARN in the role\'s partition', () => {
    const fix = fixOf('InvalidIdentityToken', 'Incorrect token audience', {
      roleArn: 'arn:aws-cn:iam::222222222222:role/deploy/shop-staging',
      claims: { ...claims, aud: 'sts.amazonaws.com' },
      tokenSource: 'CI variable AWS_ID_TOKEN (named by @gitlab-oidc token-variable)',
      tokenVariable: 'AWS_ID_TOKEN',
    })
    assert.ok(fix.includes('  id_tokens:\n    AWS_ID_TOKEN:\n      aud: <a client ID of the provider, e.g. https://gitlab.example.com>'))
    assert.ok(fix.includes('--open-id-connect-provider-arn arn:aws-cn:iam::222222222222:oidc-provider/gitlab.example.com --client-id sts.amazonaws.com'))
    assert.ok(!fix.includes('arn:aws:'))
  })

  it('audience, token from a file: the default variable name', () => {
    const fix = fixOf('InvalidIdentityToken', 'Incorrect token audience', { tokenSource: 'file named by AWS_WEB_IDENTITY_TOKEN_FILE', tokenVariable: undefined })
    assert.match(fix, /^ {4}GITLAB_OIDC_TOKEN:$/m)
  })

  it('verification key: the two URLs AWS must reach', () => {
    assert.match(fixOf('InvalidIdentityToken', 'Couldn\'t retrieve verification key'), /AWS must reach https:\/\/gitlab\.example\.com\/\.well-known\/openid-configuration and its JWKS/)
  })

  it('ValidationError on duration: both ways out, with the role\'s name without its path', () => {
    const fix = fixOf('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      { roleArn: 'arn:aws:iam::111111111111:role/deploy/shop-production', durationSeconds: 7200, durationSource: 'CI variable ARC_ROLE_DURATION' })
    assert.match(fix, /ARC_ROLE_DURATION \(now 7200, from CI variable ARC_ROLE_DURATION\)/)
    assert.ok(fix.includes('aws iam update-role --role-name shop-production --max-session-duration 7200'))
  })

  it('ValidationError on the session name: what STS accepts', () => {
    assert.match(fixOf('ValidationError', 'Value at \'roleSessionName\' failed to satisfy constraint'), /ARC_ROLE_SESSION_NAME to 2 to 64 characters/)
  })

  it('RegionDisabled: where to activate STS, or another region', () => {
    const fix = fixOf('RegionDisabledException', 'STS is not activated in this region', { region: 'ap-east-1' })
    assert.match(fix, /^Activate STS in ap-east-1 \(IAM console/)
    assert.match(fix, /AWS_REGION/)
  })

  it('an ARN that does not parse still gives a message, with placeholders', () => {
    const p = explainExchange(refusal('InvalidIdentityToken', 'No OpenIDConnect provider found'), context({ roleArn: 'shop-production' }))
    assert.match(p.title, /^AWS account <account> has no IAM OIDC identity provider/)
    assert.match(fixOf('AccessDenied', 'x', { roleArn: 'arn:aws-cn:iam::12:role/r' }), /"Federated": "arn:aws-cn:iam::<account>:oidc-provider\/gitlab\.example\.com"/)
  })
})

describe('faults and timeouts', () => {
  const fault = (attempts: AttemptFailure[], timedOut = false, elapsedMs = 60_000) => {
    const last = attempts.at(-1) ?? { code: 'Timeout', message: 'no answer' }
    return explainExchange(new ExchangeError(last.code, last.message, last.status, attempts, timedOut, elapsedMs), context())
  }

  it('isFault knows STS\'s transient codes and network errors, not refusals', () => {
    for (const code of ['Throttling', 'ThrottlingException', 'IDPCommunicationErrorException', 'ServiceUnavailable', 'ECONNRESET', 'ETIMEDOUT', 'Timeout']) assert.ok(isFault(code), code)
    for (const code of ['AccessDenied', 'InvalidIdentityTokenException', 'ExpiredTokenException', 'ValidationError']) assert.ok(!isFault(code), code)
  })

  it('baseCode drops the SDK\'s suffix; ExpiredTokenException is AWS\'s own name', () => {
    assert.equal(baseCode('RegionDisabledException'), 'RegionDisabled')
    assert.equal(baseCode('ExpiredTokenException'), 'ExpiredToken')
    assert.equal(baseCode('AccessDenied'), 'AccessDenied')
  })

  it('persistent faults are tallied by kind, with the HTTP status of server errors', () => {
    const p = fault([
      { code: 'ServiceUnavailable', message: '', status: 503 }, { code: 'ThrottlingException', message: '', status: 400 },
      { code: 'ServiceUnavailable', message: '', status: 503 },
    ])
    assert.equal(p.title, 'AWS STS kept failing: 3 attempts failed (2 × ServiceUnavailable (HTTP 503), 1 × Throttling)')
    assert.match(p.fix.join('\n'), /retry the job[\s\S]*resource_group[\s\S]*ARC_OIDC_TIMEOUT/)
  })

  it('one network fault: singular', () => {
    assert.equal(fault([{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }]).title, 'AWS STS kept failing: 1 attempt failed (1 × ECONNREFUSED)')
  })

  it('the overall bound: seconds waited and what the attempts met', () => {
    const p = fault([{ code: 'Throttling', message: '', status: 400 }, { code: 'Timeout', message: 'bound' }], true, 6_400)
    assert.equal(p.title, 'Gave up on AWS STS after 6 s and 2 failed attempts (1 × Throttling, 1 × overall time bound reached)')
  })

  it('timed out with no attempt recorded', () => {
    assert.equal(fault([], true, 1000).title, 'Gave up on AWS STS after 1 s and 0 failed attempts (no answer)')
  })

  it('a refusal that arrives as the bound runs out is reported as the time-out', () => {
    const err = new ExchangeError('AccessDenied', 'Not authorized', 403, [{ code: 'AccessDenied', message: 'x', status: 403 }], true, 60_000)
    assert.match(explainExchange(err, context()).title, /^Gave up on AWS STS after 60 s and 1 failed attempt \(1 × AccessDenied\)$/)
  })
})

describe('never the token, never user_email', () => {
  const cases: Array<[string, string]> = [
    ...refusals.map(([, code, message]) => [code, message] as [string, string]),
    ['Throttling', 'Rate exceeded'],
    ['Unknown', 'Unknown'],
  ]
  for (const [code, message] of cases) {
    it(`${code}: ${message.slice(0, 40)}`, () => {
      // A proxy may echo the request; a claim may hold anything.
      const err = refusal(code, `${message} (request: WebIdentityToken=${TOKEN})`)
      const p = explainExchange(err, context({ claims: { ...claims, note: TOKEN } }))
      const printed = formatProblem(p)
      for (const text of [printed, JSON.stringify({ title: p.title, fix: p.fix, facts: p.facts })]) {
        assert.ok(!text.includes(TOKEN), 'token')
        assert.ok(!text.includes(TOKEN.split('.')[1]!), 'token payload')
        assert.ok(!text.includes(EMAIL), 'user_email')
      }
      assert.ok(!JSON.stringify(p).includes(EMAIL), 'user_email is not handed on with the claims')
      assert.match(printed, /AWS said .*\[a JWT, \d+ characters\]/)
      assert.match(printed, /project .+ acme\/shop/)
    })
  }
})

describe('a token from AWS\'s standard variables outside GitLab', () => {
  const eks = { iss: 'https://oidc.eks.us-west-2.amazonaws.com/id/ABC', aud: 'sts.amazonaws.com', sub: 'system:serviceaccount:ci:deployer', exp: 2_000_000_000 }
  const outside = (code: string, message: string) => explainExchange(refusal(code, message), context({ claims: eks, tokenSource: 'file /var/run/token (named by AWS_WEB_IDENTITY_TOKEN_FILE)', origin: 'web-identity' }))

  it('says what the token asserted, not GitLab', () => {
    const p = outside('AccessDenied', 'Not authorized')
    assert.equal(p.origin, 'web-identity')
    assert.match(formatProblem(p), /The token asserted \(ID token claims\):[\s\S]*subject \.+ system:serviceaccount:ci:deployer/)
    assert.equal(explainExchange(refusal('AccessDenied', 'Not authorized'), context()).origin, 'gitlab')
  })

  it('gives no GitLab advice: no trust-policy command for a GitLab project, no id_tokens:', () => {
    const denied = outside('AccessDenied', 'Not authorized').fix.join('\n')
    assert.match(denied, /"oidc\.eks\.us-west-2\.amazonaws\.com\/id\/ABC:sub": "system:serviceaccount:ci:deployer"/)
    assert.doesNotMatch(denied, /arc-gitlab-oidc trust-policy|production-role/)
    assert.match(denied, /set AWS_ROLE_ARN to another role/)
    for (const [code, message] of [['InvalidIdentityToken', 'Incorrect token audience'], ['InvalidIdentityToken', 'The ID token provided is not valid']] as const) {
      const fix = outside(code, message).fix.join('\n')
      assert.doesNotMatch(fix, /id_tokens|\.gitlab-ci\.yml/, `${code}: ${message}`)
    }
  })
})
