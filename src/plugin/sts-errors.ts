/**
 * The exchange's failures, kept apart from exchange.ts so that code which only needs to
 * recognise or explain them does not load the AWS SDK (a pre-flight refusal never does).
 */

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

/** STS messages never contain the token, but a proxy's might: keep anything JWT-shaped out. */
export { redact } from '../shared/redact.ts'
