/**
 * Who is calling the AWS stand-in, and may they: every request other than the unsigned
 * AssumeRoleWithWebIdentity must carry a valid SigV4 signature made with a registered developer
 * key or with credentials STS issued (with their session token), within AWS's 15 minutes of
 * clock skew; then the caller's permissions must allow the action.
 */
import type { IncomingMessage } from 'node:http'
import { sessionOf, type CallRecord } from './calls.ts'
import { authorize as authorizeRequest } from './iam-authz.ts'
import { requestsFor } from './request-resources.ts'
import { AwsError, accessDenied, authError, denialReason } from './protocol.ts'
import type { Service, ServiceRequest } from './service.ts'
import {
  amzDateToMs, canonicalRequest, decodeAwsChunked, parseAuthorization, requestAmzDate,
  sha256Hex, signatureFor, signaturesEqual, signingKey,
} from './sigv4.ts'
import type { AwsState, DeveloperKey, Session } from './state.ts'

const SKEW_MS = 15 * 60_000

export type Identity = { kind: 'developer', key: DeveloperKey } | { kind: 'session', session: Session }

/** Verify the request's signature and credentials; the body comes back unwrapped if it was aws-chunked. */
export function authenticate (
  state: AwsState, req: IncomingMessage, rawPath: string, rawQuery: string, body: Buffer, svc: Service, record: CallRecord,
): { identity: Identity, body: Buffer } {
  const protocol = svc.protocol
  const header = req.headers.authorization
  if (!header) throw authError(protocol, 'missing-auth')
  const auth = parseAuthorization(header)
  if (!auth) throw authError(protocol, 'malformed-auth', 'Authorization header is not a valid AWS4-HMAC-SHA256 header.')
  record.accessKeyId = auth.accessKeyId
  record.region = auth.region
  const token = req.headers['x-amz-security-token'] as string | undefined
  const developer = state.developerKeys.get(auth.accessKeyId)
  const session = state.sessions.get(auth.accessKeyId)
  if (!developer && !session) throw authError(protocol, 'unknown-key')
  if (developer && token) throw authError(protocol, 'bad-token')
  if (session) {
    record.session = sessionOf(session)
    if (!token) throw authError(protocol, 'missing-token')
    if (token !== session.sessionToken) throw authError(protocol, 'bad-token')
    if (Date.now() >= session.expiration) throw authError(protocol, 'expired')
  }
  if (!auth.signedHeaders.includes('host')) {
    throw authError(protocol, 'malformed-auth', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
  }
  const amzDate = requestAmzDate(req.headers)
  if (!amzDate) throw authError(protocol, 'malformed-auth', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
  const when = amzDateToMs(amzDate)
  const now = Date.now()
  if (Number.isNaN(when)) throw authError(protocol, 'malformed-auth', `Invalid X-Amz-Date: ${amzDate}`)
  if (Math.abs(now - when) > SKEW_MS) {
    const fmt = (ms: number): string => new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, '')
    throw authError(protocol, 'skew', when < now
      ? `Signature expired: ${amzDate} is now earlier than ${fmt(now - SKEW_MS)} (${fmt(now)} - 15 min.)`
      : `Signature not yet current: ${amzDate} is still later than ${fmt(now + SKEW_MS)} (${fmt(now)} + 15 min.)`)
  }
  if (auth.date !== amzDate.slice(0, 8)) throw authError(protocol, 'signature')

  const contentSha = req.headers['x-amz-content-sha256'] as string | undefined
  let payloadHash = sha256Hex(body)
  if (contentSha) {
    if (contentSha === 'UNSIGNED-PAYLOAD' || contentSha.startsWith('STREAMING-')) payloadHash = contentSha
    else if (contentSha !== payloadHash) {
      if (protocol === 's3') throw new AwsError('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", 400)
      throw authError(protocol, 'signature')
    }
  }
  else if (protocol === 's3') {
    throw new AwsError('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', 400)
  }
  const secret = developer?.secretAccessKey ?? session!.secretAccessKey
  const canonical = canonicalRequest({ method: req.method ?? 'GET', rawPath, rawQuery, headers: req.headers, signedHeaders: auth.signedHeaders, payloadHash, service: auth.service })
  const expected = signatureFor(secret, auth, amzDate, canonical)
  if (!signaturesEqual(expected, auth.signature)) throw authError(protocol, 'signature')

  if (contentSha?.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) {
    const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`
    const decoded = decodeAwsChunked(body, auth.signature, signingKey(secret, auth.date, auth.region, auth.service), amzDate, scope)
    if (!decoded) throw authError(protocol, 'signature')
    body = decoded
  }
  return { identity: developer ? { kind: 'developer', key: developer } : { kind: 'session', session: session! }, body }
}

/** Refuse with AccessDenied, as the service words it, unless the caller's policies allow every request the call is authorized as. */
export function authorize (svc: Service, action: string, req: ServiceRequest, params: Record<string, string>): void {
  const iamAction = svc.iamAction ? svc.iamAction(action) : `${svc.name}:${action}`
  if (iamAction === null || !req.caller) return
  const site = { state: req.state, region: req.region, account: req.caller.account, params }
  for (const request of requestsFor(svc, iamAction, req, site)) {
    const result = authorizeRequest(req.caller.policies, request)
    req.state.authz.push({ by: 'api', principal: req.caller.arn, action: request.action, resource: request.resource, decision: result.decision })
    if (result.decision !== 'allow') throw accessDenied(svc.protocol, req.caller.arn, request.action, request.resource, denialReason(result, request.action))
  }
}
