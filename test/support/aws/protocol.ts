// Wire formats of the AWS protocols the stand-in speaks: XML building, and how
// each protocol family (AWS JSON, AWS Query, REST-XML, S3) renders errors.
import { randomBytes, randomUUID } from 'node:crypto'

export type Protocol = 'json' | 'query' | 'rest-xml' | 's3'

export interface HttpResult {
  status: number
  headers?: Record<string, string>
  body?: string | Buffer
}

/** An AWS error as a service reports it; rendered per protocol by errorResult(). */
export class AwsError extends Error {
  readonly code: string
  readonly status: number
  readonly type: 'Sender' | 'Receiver'
  readonly extra: Record<string, string>
  constructor (code: string, message: string, status = 400, type: 'Sender' | 'Receiver' = 'Sender', extra: Record<string, string> = {}) {
    super(message)
    this.code = code
    this.status = status
    this.type = type
    this.extra = extra
  }
}

export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')

export const unescapeXml = (s: string): string =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&amp;/g, '&')

type Child = string | null | undefined | false

/** Element with already-rendered children: x('Stacks', x('member', ...)). Attributes go in an object first. */
export function x (name: string, ...children: Array<Child | Record<string, string>>): string {
  let attrs = ''
  const first = children[0]
  if (first && typeof first === 'object') {
    attrs = Object.entries(first).map(([ k, v ]) => ` ${k}="${escapeXml(v)}"`).join('')
    children = children.slice(1)
  }
  return `<${name}${attrs}>${children.filter(c => typeof c === 'string').join('')}</${name}>`
}

/** Text element, skipped when the value is undefined/null. */
export function t (name: string, value: string | number | boolean | undefined | null): string {
  if (value === undefined || value === null) return ''
  return `<${name}>${escapeXml(String(value))}</${name}>`
}

/** All text contents of <tag>…</tag> in a (trusted, simple) XML document. */
export function xmlValues (xml: string, tag: string): string[] {
  const re = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g')
  return [ ...xml.matchAll(re) ].map(m => unescapeXml(m[1]!))
}

export const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'

export function xmlResult (body: string, status = 200, headers: Record<string, string> = {}): HttpResult {
  return { status, headers: { 'content-type': 'text/xml', ...headers }, body: XML_DECL + body }
}

export function jsonResult (body: unknown, status = 200): HttpResult {
  return { status, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) }
}

/** An AWS Query protocol success document: <ActionResponse><ActionResult>…</ActionResult><ResponseMetadata/></ActionResponse>. */
export function queryResult (action: string, xmlns: string, result: string, requestId: string): HttpResult {
  return xmlResult(x(`${action}Response`, { xmlns },
    x(`${action}Result`, result),
    x('ResponseMetadata', t('RequestId', requestId))),
  200, { 'x-amzn-requestid': requestId })
}

export const newRequestId = (): string => randomUUID()
export const newS3RequestId = (): string => randomBytes(8).toString('hex').toUpperCase()

/** Render an error the way the given protocol family does on the wire. */
export function errorResult (
  protocol: Protocol, err: AwsError, requestId: string, opts: { method?: string, xmlns?: string } = {},
): HttpResult {
  if (protocol === 'json') {
    return {
      status: err.status,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId },
      body: JSON.stringify({ __type: err.code, ...(err.message ? { message: err.message } : {}) }),
    }
  }
  if (protocol === 's3') {
    const headers = { 'content-type': 'application/xml', 'x-amz-request-id': requestId, 'x-amz-id-2': randomBytes(48).toString('base64') }
    // HEAD responses carry no body: S3 clients only see the status code
    if (opts.method === 'HEAD') return { status: err.status, headers }
    const extra = Object.entries(err.extra).map(([ k, v ]) => t(k, v)).join('')
    return {
      status: err.status,
      headers,
      body: XML_DECL + x('Error', t('Code', err.code), t('Message', err.message), extra, t('RequestId', requestId), t('HostId', headers['x-amz-id-2'])),
    }
  }
  const attrs: Record<string, string> = opts.xmlns ? { xmlns: opts.xmlns } : {}
  return {
    status: err.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: XML_DECL + x('ErrorResponse', attrs,
      x('Error', t('Type', err.type), t('Code', err.code), t('Message', err.message)),
      t('RequestId', requestId)),
  }
}

/** Authentication failures, worded the way each protocol family words them. */
export type AuthFailure = 'unknown-key' | 'missing-token' | 'bad-token' | 'expired' | 'signature' | 'missing-auth' | 'malformed-auth' | 'skew'

export function authError (protocol: Protocol, failure: AuthFailure, detail = ''): AwsError {
  const invalidToken = 'The security token included in the request is invalid.'
  const sigMismatchQuery = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
  if (protocol === 's3') {
    switch (failure) {
      case 'unknown-key':
      case 'missing-token': return new AwsError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403)
      case 'bad-token': return new AwsError('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400)
      case 'expired': return new AwsError('ExpiredToken', 'The provided token has expired.', 400)
      case 'signature': return new AwsError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', 403)
      case 'missing-auth': return new AwsError('AccessDenied', 'Access Denied', 403)
      case 'malformed-auth': return new AwsError('AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail || 'the Credential is mal-formed.'}`, 400)
      case 'skew': return new AwsError('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', 403)
    }
  }
  if (protocol === 'json') {
    switch (failure) {
      case 'unknown-key':
      case 'missing-token':
      case 'bad-token': return new AwsError('UnrecognizedClientException', invalidToken, 400)
      case 'expired': return new AwsError('ExpiredTokenException', 'The security token included in the request is expired', 400)
      case 'signature': return new AwsError('InvalidSignatureException', sigMismatchQuery, 400)
      case 'missing-auth': return new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 400)
      case 'malformed-auth': return new AwsError('IncompleteSignatureException', detail || 'Authorization header requires \'Credential\' parameter.', 400)
      case 'skew': return new AwsError('InvalidSignatureException', detail, 400)
    }
  }
  switch (failure) {
    case 'unknown-key':
    case 'missing-token':
    case 'bad-token': return new AwsError('InvalidClientTokenId', invalidToken, 403)
    case 'expired': return new AwsError('ExpiredToken', 'The security token included in the request is expired', 403)
    case 'signature': return new AwsError('SignatureDoesNotMatch', sigMismatchQuery, 403)
    case 'missing-auth': return new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403)
    case 'malformed-auth': return new AwsError('IncompleteSignature', detail || 'Authorization header requires \'Credential\' parameter.', 400)
    case 'skew': return new AwsError('SignatureDoesNotMatch', detail, 403)
  }
}

/**
 * Why IAM denied a request, as AWS's AccessDenied messages say it: "because no identity-based
 * policy allows the <action> action", "with an explicit deny in an identity-based policy", and the
 * same for a permissions boundary (IAM User Guide, "Troubleshoot access denied error messages").
 */
export function denialReason (result: { decision: string, deniedBy?: 'identity' | 'boundary' }, iamAction: string): string {
  const kind = result.deniedBy === 'boundary' ? 'permissions boundary' : 'identity-based policy'
  return result.decision === 'explicit-deny' ? `with an explicit deny in ${kind === 'identity-based policy' ? 'an' : 'a'} ${kind}` : `because no ${kind} allows the ${iamAction} action`
}

/** Permission refusals, per protocol family. */
export function accessDenied (protocol: Protocol, principalArn: string, iamAction: string, resource: string, reason = `because no identity-based policy allows the ${iamAction} action`): AwsError {
  if (protocol === 's3') return new AwsError('AccessDenied', `User: ${principalArn} is not authorized to perform: ${iamAction} on resource: "${resource}" ${reason}`, 403)
  const message = `User: ${principalArn} is not authorized to perform: ${iamAction} on resource: ${resource} ${reason}`
  if (protocol === 'json') return new AwsError('AccessDeniedException', message, 400)
  return new AwsError('AccessDenied', message, 403)
}

/** An operation this stand-in does not implement: a 4xx (not 5xx, which clients would retry) with a clear message. */
export function notImplemented (service: string, action: string): AwsError {
  return new AwsError('NotImplementedByStandIn', `The AWS stand-in does not implement ${service} ${action}`, 400)
}
