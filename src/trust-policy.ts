/**
 * IAM trust policies for GitLab CI/CD ID tokens (pure functions, no I/O).
 *
 * A GitLab job that declares `id_tokens:` gets a JWT whose claims include
 *   iss  the GitLab instance URL (CI_SERVER_URL), e.g. https://gitlab.com
 *   aud  whatever the job asked for in `id_tokens: <VAR>: aud:`
 *   sub  project_path:<group>/<project>:ref_type:<branch|tag>:ref:<name>
 * AWS STS AssumeRoleWithWebIdentity accepts the token when the role's trust
 * policy names the account's IAM OIDC provider for that issuer and its
 * conditions match the token.
 *
 * What AWS lets a trust policy look at: for a generic OIDC provider IAM
 * exposes only `<provider>:aud` and `<provider>:sub` (plus `amr`, `azp`,
 * `oaud` and `email` for some providers) as condition keys. GitLab's other
 * claims (`ref_protected`, `environment`, `environment_protected`,
 * `pipeline_source`, ...) cannot be used in a trust policy, and GitLab's
 * `sub` can only be customised among `project_path`, `ref_type` and `ref`.
 * So a role can be scoped to a project and to branches or tags, but not to
 * a GitLab environment, and "protected" can only be approximated by pinning
 * the role to branches that are protected in GitLab.
 */

/** The issuer (and so the default audience) of GitLab.com's ID tokens. */
export const DEFAULT_ISSUER = 'https://gitlab.com'
export const DEFAULT_PARTITION = 'aws'
export const POLICY_VERSION = '2012-10-17'
export const ASSUME_ACTION = 'sts:AssumeRoleWithWebIdentity'

export type TrustPolicyErrorCode =
  | 'INVALID_PROJECT'
  | 'INVALID_REF'
  | 'INVALID_ACCOUNT'
  | 'MISSING_ACCOUNT'
  | 'INVALID_PARTITION'
  | 'INVALID_ROLE_ARN'
  | 'INVALID_ISSUER'
  | 'INVALID_AUDIENCE'
  | 'NO_REFS'
  | 'CONFLICTING_OPTIONS'
  | 'ENVIRONMENT_UNSUPPORTED'
  | 'INVALID_CLAIMS'

/** Every input problem is reported with one of these; `code` is stable, `message` is for humans. */
export class TrustPolicyError extends Error {
  readonly code: TrustPolicyErrorCode
  constructor (code: TrustPolicyErrorCode, message: string) {
    super(message)
    this.name = 'TrustPolicyError'
    this.code = code
  }
}

export interface TrustPolicyOptions {
  /** GitLab project path (CI_PROJECT_PATH), e.g. `my-group/sub-group/my-project`. Required. */
  project: string
  /** Branch names; `*` and `?` make a pattern (`*` = any branch, `release/*`). */
  branches?: readonly string[]
  /** Tag names; `*` and `?` make a pattern (`v*`). */
  tags?: readonly string[]
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

/** Decoded claims of a GitLab ID token (only what this module reads is typed). */
export interface GitLabClaims {
  iss?: string
  sub?: string
  aud?: string | string[]
  project_path?: string
  ref?: string
  ref_type?: string
  ref_protected?: string
  environment?: string
  [claim: string]: unknown
}

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

export interface SubjectPatterns {
  /** Full `sub` values to match exactly (StringEquals). */
  exact: string[]
  /** `sub` patterns with IAM wildcards `*` / `?` (StringLike). */
  like: string[]
}

const ACCOUNT_RE = /^\d{12}$/
const PARTITION_RE = /^aws(-[a-z]+)*$/
// One path segment of a GitLab namespace or project: letters, digits, '_', '-', '.',
// starting with a letter, digit or '_' (GitLab refuses a leading '-' or '.').
const PATH_SEGMENT_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

/** Validate a GitLab project path (`group[/subgroup...]/project`) and return it unchanged. */
export function validateProjectPath (project: unknown): string {
  if (typeof project !== 'string' || project.trim() === '') {
    throw new TrustPolicyError('INVALID_PROJECT', 'A GitLab project path is required, e.g. my-group/my-project (CI_PROJECT_PATH in a job)')
  }
  let hint = ''
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(project) || project.startsWith('git@')) {
    hint = ' Pass the path only (what CI_PROJECT_PATH holds), not the project URL.'
  }
  else if (project.endsWith('.git')) {
    hint = ' Drop the trailing .git.'
  }
  else if (project.startsWith('/') || project.endsWith('/')) {
    hint = ' Remove the leading/trailing slash.'
  }
  else if (project.includes('*') || project.includes('?')) {
    hint = ' Wildcards are not allowed in the project path.'
  }
  let segments = project.split('/')
  let ok = hint === '' &&
    segments.length >= 2 &&
    segments.every(s => PATH_SEGMENT_RE.test(s) && !s.endsWith('.') && !s.endsWith('.atom'))
  if (!ok) {
    throw new TrustPolicyError('INVALID_PROJECT',
      `Invalid GitLab project path ${JSON.stringify(project)}: expected <group>/<project> or <group>/<subgroup>/.../<project>.${hint}`)
  }
  return project
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

/** Parse `arn:<partition>:iam::<account>:role/<path/name>`. */
export function parseRoleArn (arn: string): RoleArn {
  let m = /^arn:([^:]+):iam::([^:]*):role\/([\w+=,.@/-]+)$/.exec(arn)
  if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined) {
    throw new TrustPolicyError('INVALID_ROLE_ARN',
      `Invalid IAM role ARN ${JSON.stringify(arn)}: expected arn:aws:iam::123456789012:role/<name>`)
  }
  return { partition: validatePartition(m[1]), account: validateAccount(m[2]), name: m[3] }
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
  let problem =
    url.protocol !== 'https:' ? 'it must use https (AWS only trusts https OIDC issuers)'
      : url.username || url.password ? 'it must not contain credentials'
        : url.port ? 'AWS IAM OIDC providers cannot have a port in their URL'
          : url.search || url.hash || issuer.includes('?') || issuer.includes('#') ? 'it must not have a query or fragment'
            : ''
  if (problem) {
    throw new TrustPolicyError('INVALID_ISSUER', `Invalid GitLab issuer URL ${JSON.stringify(issuer)}: ${problem}`)
  }
  let path = url.pathname.replace(/\/+$/, '')
  let host = `${url.hostname}${path}`
  return { url: `https://${host}`, host }
}

/** `arn:<partition>:iam::<account>:oidc-provider/<host[/path]>` */
export function providerArn (params: { account: string; partition?: string; issuer?: string }): string {
  let account = validateAccount(params.account)
  let partition = validatePartition(params.partition ?? DEFAULT_PARTITION)
  let { host } = normalizeIssuer(params.issuer)
  return `arn:${partition}:iam::${account}:oidc-provider/${host}`
}

/**
 * IAM treats `${...}` inside condition values as a policy variable. Git refs
 * may contain `${`, so a literal `$` before `{` is written as `${$}`.
 */
export function escapePolicyValue (value: string): string {
  return value.replace(/\$(?=\{)/g, '${$}')
}

/** The default-format GitLab `sub` for a ref (no escaping, no validation). */
export function subjectFor (project: string, refType: 'branch' | 'tag', ref: string): string {
  return `project_path:${project}:ref_type:${refType}:ref:${ref}`
}

function isPattern (name: string): boolean {
  return name.includes('*') || name.includes('?')
}

/**
 * Validate a branch or tag name (or pattern) against git's ref-name rules,
 * with `*` and `?` allowed as IAM wildcards (git forbids both in names, so a
 * pattern can never be confused with a real ref).
 */
export function validateRefName (kind: 'branch' | 'tag', name: unknown): string {
  let fail = (why: string): never => {
    throw new TrustPolicyError('INVALID_REF', `Invalid ${kind} ${JSON.stringify(name)}: ${why}`)
  }
  if (typeof name !== 'string' || name === '') return fail('it is empty')
  if (/^refs\//.test(name)) fail(`give the short name (GitLab's sub uses ${name.replace(/^refs\/(heads|tags)\//, '')}, not ${name})`)
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:\\[]/.test(name)) fail('git ref names cannot contain spaces, control characters or any of ~ ^ : \\ [')
  if (name.includes('..')) fail('git ref names cannot contain ..')
  if (name.includes('@{') || name === '@') fail('git ref names cannot contain @{ or be @')
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) fail('git ref names cannot start or end with / or contain //')
  if (name.endsWith('.')) fail('git ref names cannot end with .')
  if (name.split('/').some(c => c.startsWith('.') || c.endsWith('.lock'))) fail('no path component may start with . or end with .lock')
  return name
}

function unique (values: string[]): string[] {
  return [ ...new Set(values) ]
}

function one (values: string[]): ConditionValue {
  return values.length === 1 ? values[0] as string : values
}

/** The `sub` values (exact) and patterns (StringLike) a policy for `opts` must accept. */
export function subjectPatterns (opts: Pick<TrustPolicyOptions, 'project' | 'branches' | 'tags' | 'anyRef'>): SubjectPatterns {
  let project = validateProjectPath(opts.project)
  let branches = (opts.branches ?? []).map(b => validateRefName('branch', b))
  let tags = (opts.tags ?? []).map(t => validateRefName('tag', t))
  if (opts.anyRef) {
    if (branches.length || tags.length) {
      throw new TrustPolicyError('CONFLICTING_OPTIONS', 'anyRef already matches every branch and tag; do not combine it with branches or tags')
    }
    return { exact: [], like: [ `project_path:${project}:*` ] }
  }
  if (!branches.length && !tags.length) {
    throw new TrustPolicyError('NO_REFS', 'Say which refs may assume the role: one or more branches, tags, or anyRef')
  }
  let refs = [
    ...branches.map(name => ({ name, sub: subjectFor(project, 'branch', name) })),
    ...tags.map(name => ({ name, sub: subjectFor(project, 'tag', name) })),
  ]
  let exact = unique(refs.filter(r => !isPattern(r.name)).map(r => escapePolicyValue(r.sub)))
  let like = unique(refs.filter(r => isPattern(r.name)).map(r => escapePolicyValue(r.sub)))
  return { exact, like }
}

function resolveAccount (opts: TrustPolicyOptions): { account: string; partition: string } {
  let fromArn = opts.roleArn !== undefined ? parseRoleArn(opts.roleArn) : undefined
  if (opts.account !== undefined) validateAccount(opts.account)
  if (opts.partition !== undefined) validatePartition(opts.partition)
  if (fromArn && opts.account !== undefined && opts.account !== fromArn.account) {
    throw new TrustPolicyError('CONFLICTING_OPTIONS', `The account ${opts.account} differs from the role ARN's account ${fromArn.account}`)
  }
  if (fromArn && opts.partition !== undefined && opts.partition !== fromArn.partition) {
    throw new TrustPolicyError('CONFLICTING_OPTIONS', `The partition ${opts.partition} differs from the role ARN's partition ${fromArn.partition}`)
  }
  let account = opts.account ?? fromArn?.account
  if (account === undefined) {
    throw new TrustPolicyError('MISSING_ACCOUNT', 'The AWS account ID (12 digits) that holds the OIDC provider is required: give the account or the role ARN')
  }
  return { account, partition: opts.partition ?? fromArn?.partition ?? DEFAULT_PARTITION }
}

function validateAudience (audience: unknown): string {
  // eslint-disable-next-line no-control-regex
  if (typeof audience !== 'string' || audience.trim() === '' || /[\x00-\x1f\x7f]/.test(audience)) {
    throw new TrustPolicyError('INVALID_AUDIENCE', `Invalid audience ${JSON.stringify(audience)}: expected the aud value of the job's id_tokens entry, e.g. https://gitlab.com`)
  }
  return audience
}

/** Why `environments` is refused (also shown by the CLI for --environment). */
export const ENVIRONMENT_EXPLANATION =
  'AWS IAM cannot restrict a role to a GitLab environment: for a generic OIDC provider, trust policies can only test the ' +
  'token\'s aud and sub claims, and GitLab\'s sub never carries the environment (it can only be built from project_path, ' +
  'ref_type and ref). Scope the role by branch or tag instead (e.g. only the protected default branch for production), ' +
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
  let { exact, like } = subjectPatterns(opts)
  let { account, partition } = resolveAccount(opts)
  let issuer = normalizeIssuer(opts.issuer ?? DEFAULT_ISSUER)
  let audience = validateAudience(opts.audience ?? issuer.url)
  let Federated = providerArn({ account, partition, issuer: issuer.url })
  let audKey = `${issuer.host}:aud`
  let subKey = `${issuer.host}:sub`
  let base = { Effect: 'Allow', Principal: { Federated }, Action: ASSUME_ACTION } as const

  let Statement: TrustStatement[] = []
  if (exact.length) {
    Statement.push({
      Sid: 'GitLabRefs',
      ...base,
      Condition: { StringEquals: { [audKey]: audience, [subKey]: one(exact) } },
    })
  }
  if (like.length) {
    Statement.push({
      Sid: opts.anyRef ? 'GitLabAnyRef' : 'GitLabRefPatterns',
      ...base,
      Condition: { StringEquals: { [audKey]: audience }, StringLike: { [subKey]: one(like) } },
    })
  }
  return { Version: POLICY_VERSION, Statement }
}

/**
 * The exact minimal condition that lets the job holding these claims assume
 * a role: StringEquals on `<issuer host>:sub` and `<issuer host>:aud`.
 * `issuer` (when given and non-empty) overrides the token's own `iss`.
 */
export function conditionForClaims (claims: GitLabClaims, issuer?: string): TrustCondition {
  let iss = issuer || claims.iss
  if (typeof iss !== 'string' || iss === '') {
    throw new TrustPolicyError('INVALID_CLAIMS', 'The token has no iss claim and no issuer was given')
  }
  // The token's issuer is what it is: name the condition keys after it as IAM does (scheme
  // dropped), without the checks that apply to an issuer a user types in.
  let host = iss.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '')
  if (typeof claims.sub !== 'string' || claims.sub === '') {
    throw new TrustPolicyError('INVALID_CLAIMS', 'The token has no sub claim')
  }
  let aud = claims.aud
  let audValue: ConditionValue
  if (typeof aud === 'string' && aud !== '') audValue = aud
  else if (Array.isArray(aud) && aud.length > 0 && aud.every(a => typeof a === 'string')) audValue = one(aud)
  else throw new TrustPolicyError('INVALID_CLAIMS', 'The token has no aud claim')
  return {
    StringEquals: {
      [`${host}:aud`]: audValue,
      [`${host}:sub`]: escapePolicyValue(claims.sub),
    },
  }
}
