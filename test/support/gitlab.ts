// A GitLab-like OpenID Connect issuer on 127.0.0.1: discovery document, JWKS,
// and a mint() that signs ID tokens shaped like the ones a GitLab CI job gets
// through `id_tokens:`. Also builds the predefined CI/CD variables of such a job.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto'
import { createSigningKey, signJwt, type SigningKey } from './jwt.ts'
import { listenLoopback } from './loopback.ts'

/** The claims of a GitLab CI ID token (GitLab 17/18). Numeric ids are strings, as GitLab sends them. */
export interface GitLabClaims {
  namespace_id: string
  namespace_path: string
  project_id: string
  project_path: string
  user_id: string
  user_login: string
  user_email: string
  user_access_level: string
  pipeline_id: string
  pipeline_source: string
  job_id: string
  ref: string
  ref_type: 'branch' | 'tag'
  ref_path: string
  ref_protected: 'true' | 'false'
  environment?: string
  environment_protected?: 'true' | 'false'
  deployment_tier?: string
  environment_action?: string
  runner_id: number
  runner_environment: 'gitlab-hosted' | 'self-hosted'
  sha: string
  project_visibility: 'public' | 'internal' | 'private'
  ci_config_ref_uri: string
  ci_config_sha: string
  jti: string
  iss: string
  iat: number
  nbf: number
  exp: number
  sub: string
  aud: string | string[]
  [claim: string]: unknown
}

export type ClaimOverrides = Partial<GitLabClaims> & Record<string, unknown>

export interface MintOptions {
  /** The `aud` claim (what the job's `id_tokens: NAME: aud:` says). Default: the stand-in's audience. */
  aud?: string | string[]
  /** Put `exp` in the past (token issued 2 hours ago, valid for 1 hour). */
  expired?: boolean
  /** Token lifetime in seconds (default 3600). */
  ttlSeconds?: number
  /** `iat` in epoch seconds (default now). */
  issuedAt?: number
  /** Claim a different issuer in `iss` (still signed with this issuer's key). */
  iss?: string
  /** Sign with a key this issuer does not publish: a foreign kid, or the issuer's own kid (so only the signature is wrong). */
  signWith?: 'issuer' | 'unknown-key' | 'unknown-key-same-kid'
  /** Claims to drop entirely (e.g. ['environment', 'environment_protected', 'deployment_tier']). */
  omit?: string[]
  /** Mangle the token: cut the signature off, or return a non-JWT string. */
  malformed?: 'no-signature' | 'not-a-jwt'
  /**
   * The project's ci_id_token_sub_claim_components, comma-separated (default
   * project_path,ref_type,ref): `sub` is each component as `<claim>:<value>`, joined with `:`,
   * from the token's final claims (overrides included).
   */
  subClaimComponents?: string
}

/** The values every GitLab with the setting accepts for ci_id_token_sub_claim_components (the default first). */
export const SUB_CLAIM_FORMATS = [ 'project_path,ref_type,ref', 'project_path,ref,ref_type', 'project_path,ref', 'project_path,ref_type' ]

/**
 * The newer ones: project_id first; ref_protected, environment_protected, deployment_tier after
 * (docs/compatibility.md names the GitLab versions). Each component at most once.
 */
const NEWER_FORMAT = /^project_(path|id)(,(ref_type|ref|ref_protected|environment_protected|deployment_tier))+$/

/** `sub` as GitLab builds it for a project using `format`. */
export function gitlabSub (format: string, claims: Record<string, unknown>): string {
  const parts = format.split(',')
  if (!SUB_CLAIM_FORMATS.includes(format) && !(NEWER_FORMAT.test(format) && new Set(parts).size === parts.length)) {
    throw new Error(`GitLab refuses ci_id_token_sub_claim_components ${format}`)
  }
  return parts.map(c => `${c}:${String(claims[c] ?? '')}`).join(':')
}

export interface JobEnvOptions {
  /** The job's ID token variables, e.g. { GITLAB_OIDC_TOKEN: token }. */
  idTokens?: Record<string, string>
  /** GitLab instance URL (default: the claims' iss). */
  serverUrl?: string
  defaultBranch?: string
  jobName?: string
  jobStage?: string
}

export interface GitLabStandIn {
  /** http://127.0.0.1:<port> (or the public issuer given) — the `iss` of minted tokens and CI_SERVER_URL. */
  issuer: string
  /** Where the issuer is served: http://127.0.0.1:<port>[prefix]. */
  loopbackUrl: string
  /** Host[:port] form used in IAM condition keys (`<providerUrl>:sub`) and the OIDC provider ARN. */
  providerUrl: string
  /** Default `aud` of minted tokens (default: the issuer URL, as in GitLab's AWS guide). */
  audience: string
  /** The published signing key. */
  key: SigningKey
  /** Default claims (plus overrides) without signing. */
  claims (overrides?: ClaimOverrides, options?: MintOptions): GitLabClaims
  /** Sign an ID token with GitLab's real claim set; overrides win over defaults. */
  mint (overrides?: ClaimOverrides, options?: MintOptions): string
  /** Predefined CI/CD variables of the job the claims describe. */
  jobEnv (claims: GitLabClaims, options?: JobEnvOptions): Record<string, string>
  /** Paths requested on the issuer (discovery, JWKS...). */
  requests: string[]
  /** Make discovery/JWKS fail: 'error' answers 500, 'hang' never answers; null restores. */
  setFault (fault: 'error' | 'hang' | null): void
  /** Publish a new signing key (old tokens stop verifying once the verifier refreshes its JWKS). */
  rotateKey (): void
  close (): Promise<void>
}

let foreignKey: SigningKey | undefined
/** A key nobody publishes (generated once per process). */
function getForeignKey (): SigningKey {
  foreignKey ??= createSigningKey()
  return foreignKey
}

export interface StartGitLabOptions {
  port?: number
  /** Serve the issuer under a path, e.g. '/gitlab' → iss http://127.0.0.1:port/gitlab. */
  pathPrefix?: string
  /** Default `aud` of minted tokens (default: the issuer URL, as GitLab's AWS guide configures it). */
  audience?: string
  /**
   * The issuer's public URL (e.g. https://gitlab.example.test), as a real instance has: the `iss`
   * of minted tokens, CI_SERVER_URL and the discovery document's URLs. Still served on loopback:
   * whoever fetches from it maps it to `loopbackUrl` (the AWS stand-in's STS does).
   */
  publicIssuer?: string
}

/** Start the GitLab OIDC issuer stand-in on 127.0.0.1 (random port unless given). */
export async function startGitLab (options: StartGitLabOptions = {}): Promise<GitLabStandIn> {
  const prefix = (options.pathPrefix ?? '').replace(/\/+$/, '')
  let key = createSigningKey()
  let fault: 'error' | 'hang' | null = null
  const requests: string[] = []

  const loopback = await listenLoopback((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!
    requests.push(path)
    if (fault === 'hang') return
    if (fault === 'error') return send(res, 500, { message: '500 Internal Server Error' })
    if (path === `${prefix}/.well-known/openid-configuration`) return send(res, 200, discovery(issuer))
    if (path === `${prefix}/oauth/discovery/keys`) return send(res, 200, { keys: [ key.publicJwk ] })
    send(res, 404, { error: '404 Not Found' })
  }, options.port)
  const issuer = options.publicIssuer ?? `${loopback.url}${prefix}`
  const providerUrl = options.publicIssuer ? options.publicIssuer.replace(/^https?:\/\//, '') : `127.0.0.1:${loopback.port}${prefix}`
  const audience = options.audience ?? issuer

  function claims (overrides: ClaimOverrides = {}, opts: MintOptions = {}): GitLabClaims {
    return buildClaims(issuer, overrides, { aud: audience, ...opts })
  }

  return {
    issuer,
    loopbackUrl: `${loopback.url}${prefix}`,
    providerUrl,
    audience,
    get key () { return key },
    claims,
    mint (overrides = {}, opts = {}) {
      if (opts.malformed === 'not-a-jwt') return 'glcbt-' + randomBytes(20).toString('hex')
      const payload = claims(overrides, opts)
      let token: string
      if (opts.signWith === 'unknown-key') token = signJwt(payload, getForeignKey())
      else if (opts.signWith === 'unknown-key-same-kid') token = signJwt(payload, getForeignKey(), { kid: key.kid })
      else token = signJwt(payload, key)
      if (opts.malformed === 'no-signature') token = token.slice(0, token.lastIndexOf('.') + 1)
      return token
    },
    jobEnv: (c, opts = {}) => jobEnv(c, { serverUrl: issuer, ...opts }),
    requests,
    setFault (f) { fault = f },
    rotateKey () { key = createSigningKey() },
    close: () => loopback.close(),
  }
}

function send (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function discovery (issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    userinfo_endpoint: `${issuer}/oauth/userinfo`,
    jwks_uri: `${issuer}/oauth/discovery/keys`,
    scopes_supported: [ 'api', 'read_api', 'read_user', 'openid', 'profile', 'email' ],
    response_types_supported: [ 'code' ],
    response_modes_supported: [ 'query', 'fragment', 'form_post' ],
    grant_types_supported: [ 'authorization_code', 'password', 'client_credentials', 'device_code', 'refresh_token' ],
    token_endpoint_auth_methods_supported: [ 'client_secret_basic', 'client_secret_post' ],
    subject_types_supported: [ 'public' ],
    id_token_signing_alg_values_supported: [ 'RS256' ],
    claim_types_supported: [ 'normal' ],
    claims_supported: [ 'iss', 'sub', 'aud', 'exp', 'iat', 'sub_legacy', 'name', 'nickname', 'preferred_username', 'email', 'email_verified', 'website', 'profile', 'picture', 'groups', 'groups_direct' ],
    code_challenge_methods_supported: [ 'plain', 'S256' ],
  }
}

/**
 * Claims of a deploy job on a protected `main` branch with a protected `production` environment,
 * then overrides (aud defaults to the issuer).
 */
export function buildClaims (issuer: string, overrides: ClaimOverrides = {}, opts: MintOptions = {}): GitLabClaims {
  const now = Math.floor(Date.now() / 1000)
  const ttl = opts.ttlSeconds ?? 3600
  const iat = opts.issuedAt ?? (opts.expired ? now - 2 * ttl : now)
  const host = issuer.replace(/^https?:\/\//, '').replace(/\/+$/, '')

  const project_path = overrides.project_path ?? 'acme/oidc-example'
  const ref = overrides.ref ?? 'main'
  const ref_type = overrides.ref_type ?? 'branch'
  const ref_path = overrides.ref_path ?? `refs/${ref_type === 'tag' ? 'tags' : 'heads'}/${ref}`
  const sha = overrides.sha ?? randomBytes(20).toString('hex')

  const base: GitLabClaims = {
    namespace_id: String(randomInt(1_000, 99_999_999)),
    namespace_path: project_path.includes('/') ? project_path.slice(0, project_path.lastIndexOf('/')) : project_path,
    project_id: projectIdOf(project_path),
    project_path,
    user_id: String(randomInt(1, 9_999_999)),
    user_login: 'deploy-bot',
    user_email: 'deploy-bot@example.com',
    user_access_level: 'maintainer',
    pipeline_id: String(randomInt(100_000_000, 999_999_999)),
    pipeline_source: 'push',
    job_id: String(randomInt(1_000_000_000, 9_999_999_999)),
    ref,
    ref_type,
    ref_path,
    ref_protected: 'true',
    environment: 'production',
    environment_protected: 'true',
    deployment_tier: 'production',
    environment_action: 'start',
    runner_id: randomInt(1, 99_999_999),
    runner_environment: 'gitlab-hosted',
    sha,
    project_visibility: 'private',
    ci_config_ref_uri: `${host}/${project_path}//.gitlab-ci.yml@${ref_path}`,
    ci_config_sha: sha,
    jti: randomUUID(),
    iss: opts.iss ?? issuer,
    iat,
    nbf: iat - 5,
    exp: iat + ttl,
    sub: '',
    aud: opts.aud ?? issuer,
  }
  // An environment named without a tier gets the tier GitLab guesses from its name.
  const tier = typeof overrides.environment === 'string' && overrides.deployment_tier === undefined ? { deployment_tier: guessTier(overrides.environment) } : {}
  const merged = { ...base, ...tier, ...overrides } as GitLabClaims
  // GitLab 18.4 (gitlab-org/gitlab!202241, backported to 18.3) adds the project the job runs in:
  // the token's own project for every pipeline but a fork's merge request (override them for that).
  const claims = {
    ...merged,
    job_project_path: overrides.job_project_path ?? merged.project_path,
    job_project_id: overrides.job_project_id ?? merged.project_id,
    job_namespace_path: overrides.job_namespace_path ?? merged.namespace_path,
    job_namespace_id: overrides.job_namespace_id ?? merged.namespace_id,
  } as GitLabClaims
  if (overrides.sub === undefined) claims.sub = gitlabSub(opts.subClaimComponents ?? SUB_CLAIM_FORMATS[0]!, claims)
  for (const name of opts.omit ?? []) delete claims[name]
  return claims
}

/**
 * The project ID the stand-in gives a project path: stable, as a project's ID is on GitLab (so
 * roles pinned to it keep admitting that project's jobs); a test claiming another project under
 * the same path overrides project_id.
 */
export function projectIdOf (projectPath: string): string {
  return String(1_000 + (createHash('sha256').update(projectPath).digest().readUInt32BE(0) % 99_000_000))
}

/** GitLab's guess of an environment's deployment tier from its name (when the job does not set one). */
export function guessTier (environment: string): string {
  const name = environment.toLowerCase()
  if (/^(prod|production|live)\b/.test(name)) return 'production'
  if (/^(stag|staging|model|demo)/.test(name)) return 'staging'
  if (/^(test|tst|int|ac(ce|)pt|qa|qc|control|quality)/.test(name)) return 'testing'
  if (/^(dev|review|trunk)/.test(name)) return 'development'
  return 'other'
}

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63)

/** The predefined variables GitLab sets in the job these claims describe (consistent with the token). */
export function jobEnv (claims: GitLabClaims, opts: JobEnvOptions = {}): Record<string, string> {
  const serverUrl = (opts.serverUrl ?? claims.iss).replace(/\/+$/, '')
  const url = new URL(serverUrl)
  const projectUrl = `${serverUrl}/${claims.project_path}`
  const env: Record<string, string> = {
    GITLAB_CI: 'true',
    CI: 'true',
    CI_SERVER: 'yes',
    CI_SERVER_URL: serverUrl,
    CI_SERVER_HOST: url.hostname,
    CI_SERVER_PORT: url.port || (url.protocol === 'https:' ? '443' : '80'),
    CI_SERVER_PROTOCOL: url.protocol.replace(':', ''),
    CI_SERVER_FQDN: url.host,
    CI_API_V4_URL: `${serverUrl}/api/v4`,
    CI_PROJECT_ID: claims.project_id,
    CI_PROJECT_PATH: claims.project_path,
    CI_PROJECT_PATH_SLUG: slug(claims.project_path),
    CI_PROJECT_NAME: claims.project_path.split('/').pop()!,
    CI_PROJECT_NAMESPACE: claims.namespace_path,
    CI_PROJECT_NAMESPACE_ID: claims.namespace_id,
    CI_PROJECT_ROOT_NAMESPACE: claims.namespace_path.split('/')[0]!,
    CI_PROJECT_URL: projectUrl,
    CI_PROJECT_VISIBILITY: claims.project_visibility,
    CI_PIPELINE_ID: claims.pipeline_id,
    CI_PIPELINE_SOURCE: claims.pipeline_source,
    CI_PIPELINE_URL: `${projectUrl}/-/pipelines/${claims.pipeline_id}`,
    CI_JOB_ID: claims.job_id,
    CI_JOB_NAME: opts.jobName ?? 'deploy',
    CI_JOB_STAGE: opts.jobStage ?? 'deploy',
    CI_JOB_URL: `${projectUrl}/-/jobs/${claims.job_id}`,
    CI_JOB_STARTED_AT: new Date(claims.iat * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    CI_COMMIT_SHA: claims.sha,
    CI_COMMIT_SHORT_SHA: claims.sha.slice(0, 8),
    CI_COMMIT_REF_NAME: claims.ref,
    CI_COMMIT_REF_SLUG: slug(claims.ref),
    CI_COMMIT_REF_PROTECTED: claims.ref_protected,
    CI_DEFAULT_BRANCH: opts.defaultBranch ?? 'main',
    CI_RUNNER_ID: String(claims.runner_id),
    GITLAB_USER_ID: claims.user_id,
    GITLAB_USER_LOGIN: claims.user_login,
    GITLAB_USER_EMAIL: claims.user_email,
  }
  if (claims.ref_type === 'tag') env.CI_COMMIT_TAG = claims.ref
  else env.CI_COMMIT_BRANCH = claims.ref
  if (claims.environment) {
    env.CI_ENVIRONMENT_NAME = claims.environment
    env.CI_ENVIRONMENT_SLUG = slug(claims.environment)
    if (claims.deployment_tier) env.CI_ENVIRONMENT_TIER = claims.deployment_tier
    if (claims.environment_action) env.CI_ENVIRONMENT_ACTION = claims.environment_action
  }
  return { ...env, ...opts.idTokens }
}
