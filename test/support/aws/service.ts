// The contract between the stand-in's HTTP front (aws.ts) and each service module.
import type { IncomingHttpHeaders } from 'node:http'
import type { RolePolicies } from './iam-authz.ts'
import type { HttpResult, Protocol } from './protocol.ts'
import type { AwsState } from './state.ts'

export interface ServiceRequest {
  method: string
  /** Path as it arrived (still percent-encoded). */
  rawPath: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  /** Decoded payload (aws-chunked bodies already unwrapped). */
  body: Buffer
  /** Region of the SigV4 credential scope. */
  region: string
  requestId: string
  state: AwsState
  /** The authenticated caller (set once SigV4 verification passed): who, in which account, with which policies. */
  caller?: { arn: string, userId: string, account: string, policies: RolePolicies }
}

export interface Service {
  /** Service name as in the SigV4 credential scope. */
  name: string
  protocol: Protocol
  xmlns?: string
  /** API action the request asks for ('Unknown…' when not recognised). */
  action (req: ServiceRequest): string
  /** IAM action to authorise (default `<name>:<action>`); null when no permission is needed. */
  iamAction? (action: string): string | null
  /** Interesting parameters for the call log (stack name, bucket/key, parameter name...). */
  summarize? (req: ServiceRequest, action: string): Record<string, string>
  /** Answer the request; throw AwsError to refuse. */
  handle (req: ServiceRequest, action: string): HttpResult | Promise<HttpResult>
}

/** Parameters of an AWS Query request, from the query string and/or a form body. */
export function queryParams (req: ServiceRequest): URLSearchParams {
  const params = new URLSearchParams(req.query)
  const type = String(req.headers['content-type'] ?? '')
  if (req.body.length && (type.includes('x-www-form-urlencoded') || !type)) {
    for (const [ k, v ] of new URLSearchParams(req.body.toString('utf8'))) params.append(k, v)
  }
  return params
}

export function jsonBody (req: ServiceRequest): Record<string, unknown> {
  if (!req.body.length) return {}
  try {
    const parsed = JSON.parse(req.body.toString('utf8'))
    return parsed && typeof parsed === 'object' ? parsed : {}
  }
  catch {
    return {}
  }
}

export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
