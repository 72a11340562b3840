/**
 * IAM trust policies for GitLab CI/CD ID tokens (pure functions, no I/O).
 *
 * A GitLab job that declares `id_tokens:` gets a JWT whose claims include
 *   iss  the GitLab instance URL (CI_SERVER_URL), e.g. https://gitlab.com
 *   aud  whatever the job asked for in `id_tokens: <VAR>: aud:`
 *   sub  project_path:<group>/<project>:ref_type:<branch|tag>:ref:<name> by default; a project
 *        may build it from other components (sub-claims.ts), and a policy must match that
 * AWS STS AssumeRoleWithWebIdentity accepts the token when the role's trust
 * policy names the account's IAM OIDC provider for that issuer and its
 * conditions match the token.
 *
 * What AWS lets a trust policy look at: for a generic OIDC provider (a self-managed GitLab) IAM
 * exposes only `<provider>:aud` and `<provider>:sub` as condition keys. For the gitlab.com
 * provider STS also evaluates GitLab's `gitlab.com:project_id`, `gitlab.com:ref_protected` and
 * other claims: there a role pins the project ID (which a rename, transfer or re-registered path
 * does not carry over) and production a protected ref. Elsewhere the project's sub format decides
 * what can be pinned (sub-claims.ts): a project_id subject, a ref_protected component.
 * GitLab's environment name is never testable, so a role cannot be scoped to an environment.
 */

import { DEFAULT_ISSUER, DEFAULT_PARTITION, normalizeIssuer, parseRoleArn, providerArn, validateAccount, validatePartition } from './arns.ts'
import { TrustPolicyError } from './errors.ts'
import { escapePolicyValue, validateAudience, validateProjectPath, validateRefName } from './gitlab-names.ts'
import { audiences, type Claims } from '../shared/id-token.ts'
import { anyRefSubject, DEFAULT_SUB_CLAIM_COMPONENTS, parseSubClaimComponents, subjectForSpec, subjectIn, type RefSpec, type SubjectPins } from './sub-claims.ts'

export const POLICY_VERSION = '2012-10-17'
export const ASSUME_ACTION = 'sts:AssumeRoleWithWebIdentity'

export interface TrustPolicyOptions {
  /** GitLab project path (CI_PROJECT_PATH), e.g. `my-group/sub-group/my-project`. Required. */
  project: string
  /** Branch names; `*` and `?` make a pattern (`*` = any branch, `release/*`). */
  branches?: readonly string[]
  /** Tag names; `*` and `?` make a pattern (`v*`). */
  tags?: readonly string[]
  /** Ref names, branch or tag alike (for projects whose `sub` has no ref_type). */
  refs?: readonly string[]
  /**
   * How the project builds `sub` (its ci_id_token_sub_claim_components), one of
   * SUB_CLAIM_COMPONENTS; default `project_path,ref_type,ref`. Refs the format cannot express
   * are refused (UNEXPRESSIBLE_REF) with what to do instead.
   */
  subClaimComponents?: string
  /**
   * GitLab environments. AWS cannot match them (see the module comment):
   * a non-empty list is rejected with ENVIRONMENT_UNSUPPORTED rather than
   * silently producing a policy that is broader than asked for.
   */
  environments?: readonly string[]
  /** Any branch or tag of the project: `project_path:<project>:*`. Excludes branches/tags. */
  anyRef?: boolean
  /** 12-digit AWS account ID that holds the OIDC provider. Required unless `roleArn` is given. */
  account?: string
  /** A role ARN to take the account (and partition) from. */
  roleArn?: string
  /** AWS partition: `aws` (default), `aws-cn`, `aws-us-gov`, ... */
  partition?: string
  /** GitLab instance URL, which is the tokens' `iss` (default https://gitlab.com). May have a path. */
  issuer?: string
  /** The `aud` the jobs request in `id_tokens:` (default: the issuer URL, as GitLab's AWS docs use). */
  audience?: string
  /**
   * The project's numeric ID (CI_PROJECT_ID). Pinned with `gitlab.com:project_id` for the
   * gitlab.com issuer, and in `sub` when the project's format starts with project_id.
   */
  projectId?: string
  /**
   * Only protected refs (production): `gitlab.com:ref_protected` = "true" for the gitlab.com
   * issuer, and `ref_protected:true` in `sub` when the project's format carries it.
   */
  requireProtectedRef?: boolean
}

/** The issuer whose tokens STS evaluates GitLab's own condition keys for (gitlab.com:...). */
export const GITLAB_COM_HOST = 'gitlab.com'

/** Whether a role for `issuer` can pin `what` beyond sub and aud, and how (for summaries and docs). */
export function pinnedBy (opts: Pick<TrustPolicyOptions, 'issuer' | 'subClaimComponents'>, what: 'project_id' | 'ref_protected'): 'key' | 'sub' | undefined {
  const host = normalizeIssuer(opts.issuer ?? DEFAULT_ISSUER).host
  if (host === GITLAB_COM_HOST) return 'key'
  const parts = (opts.subClaimComponents ?? DEFAULT_SUB_CLAIM_COMPONENTS).split(',')
  return (what === 'project_id' ? parts[0] === 'project_id' : parts.includes('ref_protected')) ? 'sub' : undefined
}

export type ConditionValue = string | string[]

export interface TrustCondition {
  StringEquals: Record<string, ConditionValue>
  StringLike?: Record<string, ConditionValue>
}

export interface TrustStatement {
  Sid: string
  Effect: 'Allow'
  Principal: { Federated: string }
  Action: typeof ASSUME_ACTION
  Condition: TrustCondition
}

export interface TrustPolicy {
  Version: typeof POLICY_VERSION
  Statement: TrustStatement[]
}

export interface SubjectPatterns {
  /** Full `sub` values to match exactly (StringEquals). */
  exact: string[]
  /** `sub` patterns with IAM wildcards `*` / `?` (StringLike). */
  like: string[]
}

/** The default-format GitLab `sub` for a ref (no escaping, no validation). */
export const subjectFor = (project: string, refType: 'branch' | 'tag', ref: string): string => subjectIn(DEFAULT_SUB_CLAIM_COMPONENTS, project, refType, ref)

// Project paths and git ref names cannot contain * or ?: a subject with one is a pattern.
function isPattern (subject: string): boolean {
  return subject.includes('*') || subject.includes('?')
}

function unique (values: string[]): string[] {
  return [ ...new Set(values) ]
}

function one (values: string[]): ConditionValue {
  return values.length === 1 ? values[0] as string : values
}

/** The `sub` values (exact) and patterns (StringLike) a policy for `opts` must accept. */
export function subjectPatterns (opts: Pick<TrustPolicyOptions, 'project' | 'branches' | 'tags' | 'refs' | 'anyRef' | 'subClaimComponents' | 'projectId' | 'requireProtectedRef'>): SubjectPatterns {
  const project = validateProjectPath(opts.project)
  const format = opts.subClaimComponents === undefined ? DEFAULT_SUB_CLAIM_COMPONENTS : parseSubClaimComponents(opts.subClaimComponents)
  const specs: RefSpec[] = [
    ...(opts.branches ?? []).map(name => ({ kind: 'branch' as const, name: validateRefName('branch', name) })),
    ...(opts.tags ?? []).map(name => ({ kind: 'tag' as const, name: validateRefName('tag', name) })),
    ...(opts.refs ?? []).map(name => ({ kind: 'ref' as const, name: validateRefName('ref', name) })),
  ]
  const pins: SubjectPins = { requireProtectedRef: opts.requireProtectedRef === true }
  if (opts.projectId !== undefined) pins.projectId = validateProjectId(opts.projectId)
  if (opts.anyRef) {
    if (specs.length) {
      throw new TrustPolicyError('CONFLICTING_OPTIONS', 'anyRef already matches every branch and tag; do not combine it with branches, tags or refs')
    }
    const subject = anyRefSubject(format, project, pins)
    return isPattern(subject) ? { exact: [], like: [ subject ] } : { exact: [ subject ], like: [] }
  }
  if (!specs.length) {
    throw new TrustPolicyError('NO_REFS', 'Say which refs may assume the role: one or more branches, tags, refs, or anyRef')
  }
  const subjects = specs.map(spec => subjectForSpec(format, project, spec, pins))
  const exact = unique(subjects.filter(s => !isPattern(s)).map(escapePolicyValue))
  const like = unique(subjects.filter(isPattern).map(escapePolicyValue))
  return { exact, like }
}

/** A GitLab project ID: a positive integer, as CI_PROJECT_ID gives it. */
export function validateProjectId (id: string): string {
  if (!/^[1-9][0-9]{0,19}$/.test(id)) throw new TrustPolicyError('INVALID_PROJECT_ID', `Invalid project ID ${JSON.stringify(id)}: GitLab's project ID is a number (CI_PROJECT_ID; the project's overview page shows it)`)
  return id
}

function resolveAccount (opts: TrustPolicyOptions): { account: string, partition: string } {
  const fromArn = opts.roleArn !== undefined ? parseRoleArn(opts.roleArn) : undefined
  if (opts.account !== undefined) validateAccount(opts.account)
  if (opts.partition !== undefined) validatePartition(opts.partition)
  if (fromArn && opts.account !== undefined && opts.account !== fromArn.account) {
    throw new TrustPolicyError('CONFLICTING_OPTIONS', `The account ${opts.account} differs from the role ARN's account ${fromArn.account}`)
  }
  if (fromArn && opts.partition !== undefined && opts.partition !== fromArn.partition) {
    throw new TrustPolicyError('CONFLICTING_OPTIONS', `The partition ${opts.partition} differs from the role ARN's partition ${fromArn.partition}`)
  }
  const account = opts.account ?? fromArn?.account
  if (account === undefined) {
    throw new TrustPolicyError('MISSING_ACCOUNT', 'The AWS account ID (12 digits) that holds the OIDC provider is required: give the account or the role ARN')
  }
  return { account, partition: opts.partition ?? fromArn?.partition ?? DEFAULT_PARTITION }
}

/** Why `environments` is refused (also shown by the CLI for --environment). */
export const ENVIRONMENT_EXPLANATION =
  'AWS IAM cannot restrict a role to a GitLab environment: for a generic OIDC provider, trust policies can only test the ' +
  'token\'s aud and sub claims, and GitLab\'s sub never carries the environment\'s name (for gitlab.com, STS has no key ' +
  'for it either). Scope the role by branch or tag instead (e.g. only the protected default branch for production), ' +
  'and protect that branch (and the environment) in GitLab.'

/**
 * Build the trust policy. Exact subjects go into one statement under
 * StringEquals; patterns go into a second statement under StringLike. They
 * must be separate statements: conditions under different operators are
 * ANDed, statements are ORed.
 */
export function buildTrustPolicy (opts: TrustPolicyOptions): TrustPolicy {
  if (opts.environments && opts.environments.length > 0) {
    throw new TrustPolicyError('ENVIRONMENT_UNSUPPORTED', `${ENVIRONMENT_EXPLANATION} (asked for: ${opts.environments.join(', ')})`)
  }
  const { exact, like } = subjectPatterns(opts)
  const { account, partition } = resolveAccount(opts)
  const issuer = normalizeIssuer(opts.issuer ?? DEFAULT_ISSUER)
  // The audience is a literal: `${` in it would be read as a policy variable, as in sub.
  const audience = escapePolicyValue(validateAudience(opts.audience ?? issuer.url))
  const Federated = providerArn({ account, partition, issuer: issuer.url })
  const audKey = `${issuer.host}:aud`
  const subKey = `${issuer.host}:sub`
  const base = { Effect: 'Allow', Principal: { Federated }, Action: ASSUME_ACTION } as const
  // STS evaluates GitLab's own keys for the gitlab.com provider only (gitlab.com:project_id, ...)
  const pins: Record<string, string> = {}
  if (issuer.host === GITLAB_COM_HOST) {
    if (opts.projectId !== undefined) pins[`${GITLAB_COM_HOST}:project_id`] = opts.projectId
    if (opts.requireProtectedRef) pins[`${GITLAB_COM_HOST}:ref_protected`] = 'true'
  }

  const Statement: TrustStatement[] = []
  if (exact.length) {
    Statement.push({
      Sid: 'GitLabRefs',
      ...base,
      Condition: { StringEquals: { [audKey]: audience, [subKey]: one(exact), ...pins } },
    })
  }
  if (like.length) {
    Statement.push({
      Sid: opts.anyRef ? 'GitLabAnyRef' : 'GitLabRefPatterns',
      ...base,
      Condition: { StringEquals: { [audKey]: audience, ...pins }, StringLike: { [subKey]: one(like) } },
    })
  }
  return { Version: POLICY_VERSION, Statement }
}

/**
 * The exact minimal condition that lets the job holding these claims assume
 * a role: StringEquals on `<issuer host>:sub` and `<issuer host>:aud` (and, for gitlab.com,
 * `gitlab.com:project_id`).
 * `issuer` (when given and non-empty) overrides the token's own `iss`.
 */
export function conditionForClaims (claims: Claims, issuer?: string): TrustCondition {
  const iss = issuer || claims.iss
  if (typeof iss !== 'string' || iss === '') {
    throw new TrustPolicyError('INVALID_CLAIMS', 'The token has no iss claim and no issuer was given')
  }
  // The token's issuer is what it is: name the condition keys after it as IAM does (scheme
  // dropped), without the checks that apply to an issuer a user types in.
  const host = iss.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '')
  if (typeof claims.sub !== 'string' || claims.sub === '') {
    throw new TrustPolicyError('INVALID_CLAIMS', 'The token has no sub claim')
  }
  // Every audience must be text: a list with anything else in it makes no condition.
  const auds = audiences(claims)
  if (!auds.length || (Array.isArray(claims.aud) && auds.length !== claims.aud.length)) {
    throw new TrustPolicyError('INVALID_CLAIMS', 'The token has no aud claim')
  }
  const audValue: ConditionValue = typeof claims.aud === 'string' ? escapePolicyValue(claims.aud) : one(auds.map(escapePolicyValue))
  // gitlab.com: STS also sees the project ID, which pins the project where its path cannot
  const pin = host === GITLAB_COM_HOST && typeof claims.project_id === 'string' && /^[0-9]+$/.test(claims.project_id)
  return {
    StringEquals: {
      [`${host}:aud`]: audValue,
      [`${host}:sub`]: escapePolicyValue(claims.sub),
      ...(pin ? { [`${GITLAB_COM_HOST}:project_id`]: claims.project_id as string } : {}),
    },
  }
}
