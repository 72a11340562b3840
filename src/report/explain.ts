/**
 * Turn an STS refusal or fault into one message: what it means, what GitLab asserted, the fix.
 */
import type { ExchangeError } from '../plugin/sts-errors.ts'
import type { Problem, Row } from './format.ts'
import type { Claims } from '../plugin/token.ts'
import { audiences } from '../plugin/token.ts'
import { conditionForClaims } from '../iam/trust-policy.ts'

export interface ExchangeContext {
  roleArn: string
  roleSource: string
  sessionName: string
  durationSeconds: number
  durationSource: string
  region: string
  claims: Claims
  tokenSource: string
}

/** AWS's code without the SDK's "Exception" suffix (ExpiredTokenException is AWS's own spelling). */
export function baseCode (code: string): string {
  return code === 'ExpiredTokenException' ? 'ExpiredToken' : code.replace(/Exception$/, '')
}

export function explainExchange (error: ExchangeError, ctx: ExchangeContext): Problem {
  const facts: Row[] = [
    ['role', `${ctx.roleArn} (from ${ctx.roleSource})`],
    ['region', ctx.region],
    ['session', `${ctx.sessionName}, ${ctx.durationSeconds} s (duration from ${ctx.durationSource})`],
    ['AWS said', `${error.code}${error.status ? ` (HTTP ${error.status})` : ''}: ${error.message}`],
  ]
  const claims = ctx.claims
  const issuerHost = (claims.iss ?? '').replace(/^https?:\/\//, '').replace(/\/$/, '')
  const aud = audiences(claims)
  const code = baseCode(error.code)
  const base = { facts, claims }
  const trustCondition = (): string[] => {
    try {
      return JSON.stringify({ Condition: conditionForClaims(claims, claims.iss ?? '') }, null, 2).split('\n').map(l => `  ${l}`)
    }
    catch { return [] }
  }

  if (error.timedOut || isFault(code)) {
    const attempts = error.attempts
    const tally = summarizeAttempts(attempts)
    return {
      ...base,
      title: error.timedOut
        ? `Gave up on AWS STS after ${Math.round(error.elapsedMs / 1000)} s and ${attempts.length} failed attempt${attempts.length === 1 ? '' : 's'} (${tally})`
        : `AWS STS kept failing: ${attempts.length} attempt${attempts.length === 1 ? '' : 's'} failed (${tally})`,
      fix: [
        'These faults are usually passing: retry the job.',
        'If it keeps happening: check that the runner can reach sts.<region>.amazonaws.com (proxy, firewall, DNS),',
        'and https://status.aws.amazon.com. For throttling, spread out concurrent deploys (resource_group in .gitlab-ci.yml).',
        'The bound is `timeout` in @gitlab-oidc or ARC_OIDC_TIMEOUT (seconds, default 60).',
      ],
    }
  }

  switch (code) {
    case 'AccessDenied':
      return {
        ...base,
        title: 'AWS refused to let this job assume the role: its trust policy does not match this job (AccessDenied)',
        fix: [
          `Make the trust policy of ${ctx.roleArn} allow this job. A condition that matches it:`,
          ...trustCondition(),
          `with Principal { "Federated": "arn:aws:iam::${accountOf(ctx.roleArn)}:oidc-provider/${issuerHost}" } and Action sts:AssumeRoleWithWebIdentity.`,
          `Generate a whole policy with: npx arc-gitlab-oidc trust-policy --project ${claims.project_path ?? '<group/project>'} --${claims.ref_type === 'tag' ? 'tag' : 'branch'} ${claims.ref ?? '<ref>'} --role-arn ${ctx.roleArn}${claims.iss && claims.iss !== 'https://gitlab.com' ? ` --issuer ${claims.iss}` : ''}${aud[0] && aud[0] !== claims.iss ? ` --audience ${aud[0]}` : ''}`,
          'Or, if this ref should not deploy with this role, use another role for this stage (production-role / staging-role).',
        ],
      }
    case 'InvalidIdentityToken':
      if (/No OpenIDConnect provider/i.test(error.message)) {
        return {
          ...base,
          title: `AWS account ${accountOf(ctx.roleArn)} has no IAM OIDC identity provider for ${claims.iss ?? 'this issuer'} (InvalidIdentityToken)`,
          fix: [
            `Create one for this GitLab instance, with the audience your job uses (${aud.join(', ') || 'see id_tokens: aud'}):`,
            `  aws iam create-open-id-connect-provider --url ${claims.iss ?? 'https://gitlab.com'} --client-id-list ${aud[0] ?? 'https://gitlab.com'}`,
            '(or deploy example-app/iam/gitlab-oidc.yaml from this package, which creates it with the roles).',
            'The issuer must be exactly the token\'s `iss`, including any path for self-managed GitLab.',
          ],
        }
      }
      if (/audience/i.test(error.message)) {
        return {
          ...base,
          title: `The token's audience (${aud.join(', ') || 'none'}) is not a client ID of the IAM OIDC provider for ${claims.iss ?? 'this issuer'} (InvalidIdentityToken)`,
          fix: [
            'The audience is set by `aud:` under `id_tokens:` in .gitlab-ci.yml. Either make it match the provider:',
            '  id_tokens:',
            `    ${tokenVariableName(ctx.tokenSource)}:`,
            `      aud: <a client ID of the provider, e.g. ${claims.iss ?? 'https://gitlab.com'}>`,
            `or add ${aud[0] ?? 'the audience'} to the provider's audiences: aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn arn:aws:iam::${accountOf(ctx.roleArn)}:oidc-provider/${issuerHost} --client-id ${aud[0] ?? '<aud>'}`,
            'and check the trust policy\'s `<host>:aud` condition names the same audience.',
          ],
        }
      }
      if (/verification key/i.test(error.message)) {
        return {
          ...base,
          title: `AWS could not fetch the signing keys of ${claims.iss ?? 'the issuer'} (InvalidIdentityToken), even after retries`,
          fix: [
            `AWS must reach ${claims.iss ?? 'the GitLab instance'}/.well-known/openid-configuration and its JWKS over the internet.`,
            'For self-managed GitLab, make those two URLs public (and served with a certificate AWS trusts); then retry the job.',
          ],
        }
      }
      return {
        ...base,
        title: 'AWS did not accept the ID token (InvalidIdentityToken)',
        fix: [
          'The token was not signed by a key of the IAM OIDC provider\'s issuer, or its issuer/claims are not what the provider expects.',
          `Check the provider URL is exactly ${claims.iss ?? 'the token\'s issuer'} and that the token is the job's own (id_tokens:), not copied from elsewhere.`,
        ],
      }
    case 'ExpiredToken':
      return {
        ...base,
        title: 'AWS says the ID token has expired (ExpiredTokenException)',
        fix: [
          'GitLab ID tokens live as long as the job timeout allows; a job that waited a long time before deploying can outlive it.',
          'Retry the job; if deploys start late in long jobs, move the deploy to its own short job. Also check the runner\'s clock.',
        ],
      }
    case 'IDPRejectedClaim':
      return {
        ...base,
        title: 'AWS rejected a claim of the ID token (IDPRejectedClaim)',
        fix: [
          'The IAM OIDC provider rejected the token (for example a thumbprint or issuer mismatch).',
          `Recreate the provider for ${claims.iss ?? 'this issuer'} and check the token's issuer and audience match it.`,
        ],
      }
    case 'ValidationError':
      if (/DurationSeconds|MaxSessionDuration/i.test(error.message)) {
        return {
          ...base,
          title: `The requested session of ${ctx.durationSeconds} s is longer than the role allows (ValidationError)`,
          fix: [
            `Lower \`duration\` in @gitlab-oidc or ARC_ROLE_DURATION (now ${ctx.durationSeconds}, from ${ctx.durationSource}),`,
            `or raise the role's MaxSessionDuration: aws iam update-role --role-name ${ctx.roleArn.split('/').pop()} --max-session-duration ${ctx.durationSeconds}`,
          ],
        }
      }
      if (/roleSessionName|session name/i.test(error.message)) {
        return {
          ...base,
          title: `STS refused the session name "${ctx.sessionName}" (ValidationError)`,
          fix: ['Set ARC_ROLE_SESSION_NAME to 2 to 64 characters of letters, digits and _+=,.@- (or unset it to use the default).'],
        }
      }
      return { ...base, title: 'STS refused the request (ValidationError)', fix: ['Check the role ARN, duration and session name above against what AWS said.'] }
    case 'RegionDisabled':
      return {
        ...base,
        title: `STS is not activated in ${ctx.region} for this account (RegionDisabledException)`,
        fix: [
          `Activate STS in ${ctx.region} (IAM console → Account settings → Security Token Service endpoints),`,
          'or deploy to a region where it is active (`@aws region` in the manifest, or AWS_REGION).',
        ],
      }
    case 'PackedPolicyTooLarge':
      return {
        ...base,
        title: 'The session\'s policies or tags are too large (PackedPolicyTooLarge)',
        fix: ['The plugin sends no session policy: reduce the session tags or claims mapped to tags in the role\'s trust configuration.'],
      }
    default:
      return {
        ...base,
        title: `AWS STS refused the exchange (${error.code})`,
        fix: ['See what AWS said above; check the role ARN and its trust policy.'],
      }
  }
}

const FAULT_CODES = new Set(['Throttling', 'IDPCommunicationError', 'ServiceUnavailable', 'InternalFailure', 'InternalError', 'TimeoutError', 'RequestTimeout', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'Timeout'])

export function isFault (code: string): boolean {
  return FAULT_CODES.has(baseCode(code))
}

/** "3 × Throttling, 2 × HTTP 503". */
function summarizeAttempts (attempts: ExchangeError['attempts']): string {
  const counts = new Map<string, number>()
  for (const a of attempts) {
    const label = a.code === 'Timeout' ? 'overall time bound reached' : `${baseCode(a.code)}${a.status && a.status >= 500 ? ` (HTTP ${a.status})` : ''}`
    counts.set(label, (counts.get(label) ?? 0) + 1)
  }
  return [...counts].map(([label, n]) => `${n} × ${label}`).join(', ') || 'no answer'
}

function accountOf (roleArn: string): string {
  return /:iam::(\d{12}):/.exec(roleArn)?.[1] ?? '<account>'
}

function tokenVariableName (source: string): string {
  return /CI variable (\w+)/.exec(source)?.[1] ?? 'GITLAB_OIDC_TOKEN'
}
