/**
 * The shape of one AssumeRoleWithWebIdentity request as the plugin sends it (plugin/exchange.ts
 * sends it; plugin/steps.ts builds it; the CLI's doctor sends the same one). No logic here.
 */
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
}
