/**
 * The exchange's data, apart from the AWS SDK (plugin/exchange.ts) so that code which builds a
 * request, or recognises and explains a failure, never loads the SDK (a refusal never does):
 * the request the plugin sends, the one context a failure is explained with (built once by the
 * preflight, read as is by report/explain.ts and its table), and the failure itself.
 */
import type { Claims, Origin } from './id-token.ts'

/** The exchange's code for an answer that did not come from STS. */
export const NOT_STS_ANSWER = 'NotAnStsAnswer'
/** The exchange's code for a success that does not check out. */
export const INVALID_STS_ANSWER = 'InvalidStsAnswer'

/** One AssumeRoleWithWebIdentity request as the plugin sends it (the preflight builds it; the exchange sends it). */
export interface ExchangeRequest {
  token: string
  roleArn: string
  sessionName: string
  durationSeconds: number
  region: string
  /** Whole exchange, retries included, in milliseconds. */
  timeoutMs: number
  /** Attempts at most (the SDK's own default is 3; STS deserves a few more). */
  maxAttempts: number
  /** AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL, when set. */
  endpoint?: string
  /** The job's proxy variables as Node's agents take them (`proxyEnv`), when one is set (plugin/proxy.ts). */
  proxyEnv?: { HTTP_PROXY?: string, HTTPS_PROXY?: string, NO_PROXY?: string }
}

/** Everything an STS failure is explained with: one shape from the preflight to the message. */
export interface ExchangeContext {
  roleArn: string
  /** Where the role came from ("CI variable ARC_ROLE_ARN"...). */
  roleSource: string
  /** From the role ARN: `aws`, `aws-cn`, `aws-us-gov`... */
  partition: string
  /** 12 digits, or `<account>` when the ARN does not say. */
  account: string
  /** The role's name without its path, as `aws iam update-role --role-name` wants it. */
  roleName: string
  sessionName: string
  durationSeconds: number
  durationSource: string
  region: string
  /** The token's claims, never user_email. */
  claims: Claims
  /** The token's `iss`, when it has one. */
  issuer: string | undefined
  /** The issuer without scheme or trailing slash: the IAM provider's name. */
  issuerHost: string
  audiences: string[]
  tokenSource: string
  /** The CI variable holding the token, for the `id_tokens:` example (the default name when a file held it). */
  tokenVariable: string
  /** A GitLab job's token (GitLab-specific fixes apply), or one from AWS's standard variables elsewhere. */
  origin: Origin
  /** The stage the role was chosen for: staging's role trusts every branch, production's the default branch. */
  stage: 'production' | 'staging'
}

/** What went wrong with one attempt: an AWS error code or a network fault, never a secret. */
export interface AttemptFailure { code: string, message: string, status?: number }

export class ExchangeError extends Error {
  readonly code: string
  readonly status: number | undefined
  readonly attempts: AttemptFailure[]
  readonly timedOut: boolean
  readonly elapsedMs: number
  constructor (
    code: string, message: string, status: number | undefined, attempts: AttemptFailure[], timedOut: boolean, elapsedMs: number,
  ) {
    super(message)
    this.name = 'ExchangeError'
    this.code = code
    this.status = status
    this.attempts = attempts
    this.timedOut = timedOut
    this.elapsedMs = elapsedMs
  }
}

/** Errors the SDK does not retry but which are transient at STS. */
export function isVerificationKeyFault (error: { name?: string, message?: string }): boolean {
  return /^InvalidIdentityToken/.test(error.name ?? '') && /retrieve verification key/i.test(error.message ?? '')
}
