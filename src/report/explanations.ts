/**
 * What each STS refusal means and how to fix it, as data: an entry matches AWS's error code
 * (and, for codes AWS uses for several things, a pattern of its message) and builds the title
 * and the fix from the exchange's context (src/shared/sts.ts), as the preflight built it. The first
 * matching entry wins; explain.ts picks it.
 * Nothing here is given the ID token; `user_email` is never read.
 */
import type { Claims } from '../shared/id-token.ts'
import type { ExchangeContext } from '../shared/sts.ts'
import { DEFAULT_ISSUER, iamArn } from '../iam/arns.ts'
import { DEFAULT_SUB_CLAIM_COMPONENTS, refOptionsFor, subClaimComponentsOf } from '../iam/sub-claims.ts'
import { conditionForClaims } from '../iam/trust-policy.ts'
import { shellWord } from '../shared/shell-word.ts'

export interface Explained { title: string, fix: string[] }

export interface Explanation {
  /** AWS's code without the SDK's "Exception" suffix. */
  code: string
  /** When set, the entry applies only if AWS's message matches. */
  message?: RegExp
  explain: (s: ExchangeContext) => Explained
}

/** `arn:<partition>:iam::<account>:oidc-provider/<issuer host[/path]>`, in the role's partition. */
export function providerArnFor (s: ExchangeContext): string {
  return iamArn({ partition: s.partition, account: s.account, resource: 'oidc-provider', name: s.issuerHost })
}

/** A trust-policy Condition matching this job, indented; none when the claims cannot make one. */
function trustCondition (claims: Claims): string[] {
  try {
    return JSON.stringify({ Condition: conditionForClaims(claims, claims.iss ?? '') }, null, 2).split('\n').map(l => `  ${l}`)
  }
  catch { return [] }
}

/**
 * The CLI command that writes a whole trust policy for this job's project and ref (for staging,
 * every branch: `--branch '*'` in the token's sub format).
 */
function trustPolicyCommand (s: ExchangeContext): string {
  const { claims, issuer } = s
  const aud = s.audiences[0]
  // the project's sub format, read from the token itself (default when it cannot tell)
  const format = subClaimComponentsOf(claims) ?? DEFAULT_SUB_CLAIM_COMPONENTS
  const ref = s.stage === 'staging' && claims.ref_type !== 'tag' ? '*' : claims.ref
  return [
    `npx arc-gitlab-oidc trust-policy --project ${claims.project_path === undefined ? '<group/project>' : shellWord(claims.project_path)}`,
    ` ${refOptionsFor(format, claims.ref_type, ref)} --role-arn ${shellWord(s.roleArn)}`,
    issuer && issuer !== DEFAULT_ISSUER ? ` --issuer ${shellWord(issuer)}` : '',
    aud && aud !== issuer ? ` --audience ${shellWord(aud)}` : '',
    typeof claims.project_id === 'string' && /^[0-9]+$/.test(claims.project_id) ? ` --project-id ${claims.project_id}` : '',
  ].join('')
}

/** Which sub format the token shows, when the project changed it from GitLab's default. */
function subFormatNote (claims: Claims): string {
  const format = subClaimComponentsOf(claims)
  return format && format !== DEFAULT_SUB_CLAIM_COMPONENTS ? ` (this project's sub claim components are ${format})` : ''
}

/** The IAM template's stack of the app whose role this is (`<app>-<stage>-deploy`), for describe-stacks. */
function stackNameFor (s: ExchangeContext): string {
  const app = new RegExp(`^(.+)-${s.stage}-deploy$`).exec(s.roleName)?.[1]
  return `${app ?? '<app>'}-gitlab-oidc`
}

/**
 * Staging's role trusts every branch of the project (the IAM template's, and `trust-policy
 * --branch '*'`): a branch is not what AWS refused, so the ARN and its account come first.
 */
/** For gitlab.com, where STS sees the project ID (gitlab.com:project_id): this job's. */
function projectIdNote (s: ExchangeContext): string {
  const id = s.claims.project_id
  return s.issuerHost === 'gitlab.com' && typeof id === 'string' && /^[0-9]+$/.test(id) ? `, its project ID ${id} (gitlab.com:project_id)` : ''
}

const stagingAccessDenied = (s: ExchangeContext): Explained => ({
  title: 'AWS refused to let this job assume the staging role: the role does not exist in that account, or its trust policy does not name this project (AccessDenied)',
  fix: [
    `First check the ARN: ${s.roleArn} (from ${s.roleSource}), account ${s.account}. AWS answers AccessDenied for a role that does not exist`,
    'there, so a wrong account or name looks like this. Compare it with the StagingRoleArn output of the staging account\'s stack:',
    `  aws cloudformation describe-stacks --stack-name ${stackNameFor(s)} --query 'Stacks[0].Outputs' (with the staging account's credentials)`,
    'Then the trust policy: a staging role trusts every branch of one project, so check it names this project, issuer and',
    `audience: this job's sub is ${s.claims.sub ?? '(none)'}, its aud ${s.audiences.join(', ') || '(none)'}${projectIdNote(s)}${subFormatNote(s.claims)};`,
    `the Principal { "Federated": "${providerArnFor(s)}" }, Action sts:AssumeRoleWithWebIdentity.`,
    ...(s.origin === 'gitlab' ? [`Generate a whole policy with: ${trustPolicyCommand(s)}`] : []),
  ],
})

const accessDenied = (s: ExchangeContext): Explained => s.stage === 'staging' ? stagingAccessDenied(s) : productionAccessDenied(s)

const productionAccessDenied = (s: ExchangeContext): Explained => ({
  title: 'AWS refused to let this job assume the role: the role does not exist, or its trust policy does not match this job (AccessDenied)',
  fix: [
    `Make the trust policy of ${s.roleArn} allow this job. A condition that matches it${subFormatNote(s.claims)}:`,
    ...trustCondition(s.claims),
    `with Principal { "Federated": "${providerArnFor(s)}" } and Action sts:AssumeRoleWithWebIdentity.`,
    ...(s.origin === 'gitlab'
      ? [
        `Generate a whole policy with: ${trustPolicyCommand(s)}`,
        'Or, if this ref should not deploy with this role, use another role for this stage (production-role / staging-role).',
      ]
      : ['Or, if this token should not deploy with this role, set AWS_ROLE_ARN to another role.']),
    'Or the role does not exist (AWS answers AccessDenied for a missing role too): compare the ARN with the ProductionRoleArn',
    `output of the production account's stack (aws cloudformation describe-stacks --stack-name ${stackNameFor(s)}).`,
  ],
})

const noProvider = (s: ExchangeContext): Explained => ({
  title: `AWS account ${s.account} has no IAM OIDC identity provider for ${s.issuer ?? 'this issuer'} (InvalidIdentityToken)`,
  fix: [
    `Create one for this GitLab instance, with the audience your job uses (${s.audiences.join(', ') || 'see id_tokens: aud'}):`,
    `  aws iam create-open-id-connect-provider --url ${shellWord(s.issuer ?? DEFAULT_ISSUER)} --client-id-list ${shellWord(s.audiences[0] ?? DEFAULT_ISSUER)}`,
    '(or deploy iam/gitlab-oidc.yaml from this package, which creates it with the roles).',
    'The issuer must be exactly the token\'s `iss`, including any path for self-managed GitLab.',
  ],
})

const wrongAudience = (s: ExchangeContext): Explained => ({
  title: `The token's audience (${s.audiences.join(', ') || 'none'}) is not a client ID of the IAM OIDC provider for ${s.issuer ?? 'this issuer'} (InvalidIdentityToken)`,
  fix: [
    ...(s.origin === 'gitlab'
      ? [
        'The audience is set by `aud:` under `id_tokens:` in .gitlab-ci.yml. Either make it match the provider:',
        '  id_tokens:',
        `    ${s.tokenVariable}:`,
        `      aud: <a client ID of the provider, e.g. ${s.issuer ?? DEFAULT_ISSUER}>`,
      ]
      : ['The audience is chosen where the token is issued (your platform\'s OIDC settings). Either make it a client ID of the provider,']),
    `or add ${s.audiences[0] ?? 'the audience'} to the provider's audiences: aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${shellWord(providerArnFor(s))} --client-id ${s.audiences[0] === undefined ? '<aud>' : shellWord(s.audiences[0])}`,
    'and check the trust policy\'s `<host>:aud` condition names the same audience.',
  ],
})

const unreachableKeys = (s: ExchangeContext): Explained => ({
  title: `AWS could not fetch the signing keys of ${s.issuer ?? 'the issuer'} (InvalidIdentityToken), even after retries`,
  fix: [
    `AWS must reach ${s.issuer ?? 'the GitLab instance'}/.well-known/openid-configuration and its JWKS over the internet.`,
    'For self-managed GitLab, make those two URLs public (and served with a certificate AWS trusts); then retry the job.',
  ],
})

const tokenNotAccepted = (s: ExchangeContext): Explained => ({
  title: 'AWS did not accept the ID token (InvalidIdentityToken)',
  fix: [
    'The token was not signed by a key of the IAM OIDC provider\'s issuer, or its issuer/claims are not what the provider expects.',
    `Check the provider URL is exactly ${s.issuer ?? 'the token\'s issuer'} and that the token is ${s.origin === 'gitlab' ? 'the job\'s own (id_tokens:)' : 'the one your platform issued'}, not copied from elsewhere.`,
  ],
})

const expired = (): Explained => ({
  title: 'AWS says the ID token has expired (ExpiredTokenException)',
  fix: [
    'GitLab ID tokens live as long as the job timeout allows; a job that waited a long time before deploying can outlive it.',
    'Retry the job; if deploys start late in long jobs, move the deploy to its own short job. Also check the runner\'s clock.',
  ],
})

const rejectedClaim = (s: ExchangeContext): Explained => ({
  title: 'AWS rejected a claim of the ID token (IDPRejectedClaim)',
  fix: [
    'The IAM OIDC provider rejected the token (for example a thumbprint or issuer mismatch).',
    `Recreate the provider for ${s.issuer ?? 'this issuer'} and check the token's issuer and audience match it.`,
  ],
})

const tooLong = (s: ExchangeContext): Explained => ({
  title: `The requested session of ${s.durationSeconds} s is longer than the role allows (ValidationError)`,
  fix: [
    `Lower \`duration\` in @gitlab-oidc or ARC_ROLE_DURATION (now ${s.durationSeconds}, from ${s.durationSource}),`,
    `or raise the role's MaxSessionDuration: aws iam update-role --role-name ${shellWord(s.roleName)} --max-session-duration ${s.durationSeconds}`,
    `(a role of the plugin's IAM template: update its stack with MaxSessionDuration=${s.durationSeconds}, which \`setup\` prints for this duration).`,
  ],
})

const badSessionName = (s: ExchangeContext): Explained => ({
  title: `STS refused the session name "${s.sessionName}" (ValidationError)`,
  fix: ['Set ARC_ROLE_SESSION_NAME to 2 to 64 characters of letters, digits and _+=,.@- (or unset it to use the default).'],
})

const invalidRequest = (): Explained => ({
  title: 'STS refused the request (ValidationError)',
  fix: ['Check the role ARN, duration and session name above against what AWS said.'],
})

const regionDisabled = (s: ExchangeContext): Explained => ({
  title: `STS is not activated in ${s.region} for this account (RegionDisabledException)`,
  fix: [
    `Activate STS in ${s.region} (IAM console → Account settings → Security Token Service endpoints),`,
    'or deploy to a region where it is active (`@aws region` in the manifest, or AWS_REGION).',
  ],
})

const tooLarge = (): Explained => ({
  title: 'The session\'s policies or tags are too large (PackedPolicyTooLarge)',
  fix: ['The plugin sends no session policy: reduce the session tags or claims mapped to tags in the role\'s trust configuration.'],
})

/** In order: for one code, the entries with a message pattern come before the one without. */
export const EXPLANATIONS: readonly Explanation[] = [
  { code: 'AccessDenied', explain: accessDenied },
  { code: 'InvalidIdentityToken', message: /No OpenIDConnect provider/i, explain: noProvider },
  { code: 'InvalidIdentityToken', message: /audience/i, explain: wrongAudience },
  { code: 'InvalidIdentityToken', message: /verification key/i, explain: unreachableKeys },
  { code: 'InvalidIdentityToken', explain: tokenNotAccepted },
  { code: 'ExpiredToken', explain: expired },
  { code: 'IDPRejectedClaim', explain: rejectedClaim },
  { code: 'ValidationError', message: /DurationSeconds|MaxSessionDuration/i, explain: tooLong },
  { code: 'ValidationError', message: /roleSessionName|session name/i, explain: badSessionName },
  { code: 'ValidationError', explain: invalidRequest },
  { code: 'RegionDisabled', explain: regionDisabled },
  { code: 'PackedPolicyTooLarge', explain: tooLarge },
]

/** The first entry for this code whose message pattern (if any) matches what AWS said. */
export function findExplanation (code: string, message: string): Explanation | undefined {
  return EXPLANATIONS.find(e => e.code === code && (!e.message || e.message.test(message)))
}
