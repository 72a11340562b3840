/**
 * IAM's names, checked before they go into a policy or a message: AWS account IDs, partitions,
 * role, policy and provider ARNs (the plugin's one ARN parser), issuer URLs (pure functions).
 * GitLab's own names are in gitlab-names.ts.
 */
import { TrustPolicyError, type TrustPolicyErrorCode } from './errors.ts'

/** The issuer (and so the default audience) of GitLab.com's ID tokens. */
export const DEFAULT_ISSUER = 'https://gitlab.com'
export const DEFAULT_PARTITION = 'aws'

export interface Issuer {
  /** Normalised issuer URL: https, no trailing slash. */
  url: string
  /** Host plus path, no scheme: the IAM provider name and the condition-key prefix. */
  host: string
}

export interface RoleArn {
  partition: string
  account: string
  /** Role name including any path, e.g. `deploy/oidc-example-staging` */
  name: string
}

const ACCOUNT_RE = /^\d{12}$/
const PARTITION_RE = /^aws(-[a-z]+)*$/
/** The IAM template's GitLabUrl AllowedPattern (iam/gitlab-oidc.yaml); a test keeps the two equal. */
export const ISSUER_PATTERN = '^https://[a-z0-9.-]+(/[A-Za-z0-9._~-]+)*$'
const ISSUER_RE = new RegExp(ISSUER_PATTERN)

/** Whether this is an AWS account ID: exactly 12 digits. */
export function isAccountId (value: string): boolean {
  return ACCOUNT_RE.test(value)
}

/** Validate a 12-digit account ID. */
export function validateAccount (account: unknown): string {
  if (typeof account !== 'string' || !ACCOUNT_RE.test(account)) {
    throw new TrustPolicyError('INVALID_ACCOUNT',
      `Invalid AWS account ID ${JSON.stringify(account)}: expected exactly 12 digits, e.g. 123456789012`)
  }
  return account
}

export function validatePartition (partition: unknown): string {
  if (typeof partition !== 'string' || !PARTITION_RE.test(partition)) {
    throw new TrustPolicyError('INVALID_PARTITION',
      `Invalid AWS partition ${JSON.stringify(partition)}: expected aws, aws-cn, aws-us-gov, ...`)
  }
  return partition
}

/** The IAM resources the plugin names by ARN. */
export type IamResource = 'role' | 'policy' | 'oidc-provider'

/** An IAM ARN taken apart: `arn:<partition>:iam::<account>:<resource>/<name>`. */
export interface IamArn {
  partition: string
  account: string
  resource: IamResource
  /** Everything after `<resource>/`: a role's or policy's path and name, a provider's host and path. */
  name: string
}

// The one shape of an IAM ARN (IAM is global: the region field is empty); what each resource
// allows after its `/` is checked apart, so a bad name and a bad account get their own messages.
const IAM_ARN_RE = /^arn:([^:]+):iam::([^:]*):(role|policy|oidc-provider)\/(.*)$/
const NAME_RE: Record<IamResource, RegExp> = {
  // IAM: a path of up to 512 characters and a name of up to 64, both of [\w+=,.@-] and '/'.
  role: /^[\w+=,.@/-]{1,512}$/,
  policy: /^([\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/,
  'oidc-provider': /^[a-z0-9.-]+(\/[A-Za-z0-9._~-]+)*$/,
}
const EXAMPLE: Record<IamResource, string> = {
  role: 'arn:aws:iam::123456789012:role/<name>',
  policy: 'arn:aws:iam::123456789012:policy/<path/name>',
  'oidc-provider': 'arn:aws:iam::123456789012:oidc-provider/<host[/path]>',
}
const CODE: Record<IamResource, TrustPolicyErrorCode> = {
  role: 'INVALID_ROLE_ARN', policy: 'INVALID_POLICY_ARN', 'oidc-provider': 'INVALID_PROVIDER_ARN',
}
const WHAT: Record<IamResource, string> = { role: 'IAM role', policy: 'IAM managed policy', 'oidc-provider': 'IAM OIDC provider' }

/**
 * Parse an IAM ARN of this resource type; the partition is one IAM has (`aws`, `aws-cn`,
 * `aws-us-gov`, `aws-iso`, `aws-iso-b`...: `aws` and dash-separated lower-case words) and the
 * account 12 digits. The only ARN parser of the plugin: settings, guards, messages and reports use it.
 */
export function parseIamArn (arn: string, resource: IamResource): IamArn {
  const m = IAM_ARN_RE.exec(arn)
  if (!m || m[3] !== resource || !NAME_RE[resource].test(m[4] ?? '')) {
    throw new TrustPolicyError(CODE[resource], `Invalid ${WHAT[resource]} ARN ${JSON.stringify(arn)}: expected ${EXAMPLE[resource]}`)
  }
  return { partition: validatePartition(m[1]), account: validateAccount(m[2]), resource, name: m[4] as string }
}

/** Parse `arn:<partition>:iam::<account>:role/<path/name>`. */
export function parseRoleArn (arn: string): RoleArn {
  const { partition, account, name } = parseIamArn(arn, 'role')
  return { partition, account, name }
}

/** An STS session's ARN taken apart: `arn:<partition>:sts::<account>:assumed-role/<role name>/<session name>`. */
export interface AssumedRoleArn { partition: string, account: string, roleName: string, sessionName: string }

// STS names the role without its path (up to 64 of [\w+=,.@-]) and the session (2 to 64 of the same).
const ASSUMED_ROLE_ARN_RE = /^arn:([^:]+):sts::([^:]*):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/

/** Parse the assumed-role ARN STS answers with (AssumedRoleUser.Arn). */
export function parseAssumedRoleArn (arn: string): AssumedRoleArn {
  const m = ASSUMED_ROLE_ARN_RE.exec(arn)
  if (!m) {
    throw new TrustPolicyError('INVALID_ASSUMED_ROLE_ARN', 'Invalid assumed-role ARN: expected arn:aws:sts::123456789012:assumed-role/<role name>/<session name>')
  }
  return { partition: validatePartition(m[1]), account: validateAccount(m[2]), roleName: m[3] as string, sessionName: m[4] as string }
}

/** Whether IAM would take this as an ARN of this resource type. */
export function isIamArn (arn: string, resource: IamResource): boolean {
  try {
    parseIamArn(arn, resource)
    return true
  }
  catch { return false }
}

/** The account ID in a role or policy ARN, or undefined when it is neither. */
export function accountOf (arn: string): string | undefined {
  for (const resource of ['role', 'policy'] as const) {
    if (isIamArn(arn, resource)) return parseIamArn(arn, resource).account
  }
  return undefined
}

/**
 * What can be read of an ARN that does not parse (for a message about it): its partition and its
 * account, each when valid.
 */
export function looseArnParts (arn: string): { partition?: string, account?: string } {
  const [scheme, partition, , , account] = arn.split(':')
  if (scheme !== 'arn') return {}
  return {
    ...(partition && PARTITION_RE.test(partition) ? { partition } : {}),
    ...(account && ACCOUNT_RE.test(account) ? { account } : {}),
  }
}

/** The partition of a role ARN; `aws` when it is not one. */
export function partitionOf (roleArn: string): string {
  return isIamArn(roleArn, 'role') ? parseRoleArn(roleArn).partition : DEFAULT_PARTITION
}

/**
 * An IAM ARN from its parts, unchecked: messages build ARNs with placeholders such as
 * `<account>` (the checked builder of a provider ARN is providerArn).
 */
export function iamArn (parts: { partition?: string, account: string, resource: IamResource, name: string }): string {
  return `arn:${parts.partition ?? DEFAULT_PARTITION}:iam::${parts.account}:${parts.resource}/${parts.name}`
}

/**
 * Normalise an issuer URL. AWS requires https, no port, no query or fragment;
 * GitLab self-managed instances may live under a path (relative URL root).
 */
export function normalizeIssuer (issuer: string = DEFAULT_ISSUER): Issuer {
  let url: URL
  try {
    url = new URL(issuer)
  }
  catch {
    throw new TrustPolicyError('INVALID_ISSUER', `Invalid GitLab issuer URL ${JSON.stringify(issuer)}: expected e.g. https://gitlab.com or https://gitlab.example.com/gitlab`)
  }
  const problem =
    url.protocol !== 'https:' ? 'it must use https (AWS only trusts https OIDC issuers)'
    : url.username || url.password ? 'it must not contain credentials'
    : url.port ? 'AWS IAM OIDC providers cannot have a port in their URL'
    : url.search || url.hash || issuer.includes('?') || issuer.includes('#') ? 'it must not have a query or fragment'
    : ''
  if (problem) {
    throw new TrustPolicyError('INVALID_ISSUER', `Invalid GitLab issuer URL ${JSON.stringify(issuer)}: ${problem}`)
  }
  const path = url.pathname.replace(/\/+$/, '')
  const host = `${url.hostname}${path}`
  // What IAM takes as an OIDC provider URL, and so in the role's Federated principal and its
  // condition keys: `*` would be a wildcard there, `$`/`{` a policy variable, `%` an escape.
  if (!ISSUER_RE.test(`https://${host}`)) {
    throw new TrustPolicyError('INVALID_ISSUER', `Invalid GitLab issuer URL ${JSON.stringify(issuer)}: an IAM OIDC provider URL may only have ` +
      'a host of lower-case letters, digits, dots and dashes and path segments of letters, digits and . _ ~ - ' +
      '(no *, $, {, % or other characters IAM would read as a wildcard or variable in the role\'s Federated principal). ' +
      'Give the GitLab instance URL exactly as its tokens\' iss (CI_SERVER_URL).')
  }
  return { url: `https://${host}`, host }
}

/** `arn:<partition>:iam::<account>:oidc-provider/<host[/path]>` */
export function providerArn (params: { account: string, partition?: string, issuer?: string }): string {
  const account = validateAccount(params.account)
  const partition = validatePartition(params.partition ?? DEFAULT_PARTITION)
  const { host } = normalizeIssuer(params.issuer)
  return iamArn({ partition, account, resource: 'oidc-provider', name: host })
}
