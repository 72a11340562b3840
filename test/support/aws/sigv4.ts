// AWS Signature Version 4, from the server's side: rebuild the canonical request
// from what arrived on the wire and compare signatures. Also a small signer for
// tests and scripts (verified against @smithy/signature-v4 in the unit tests).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

export interface ParsedAuthorization {
  accessKeyId: string
  date: string // YYYYMMDD
  region: string
  service: string
  signedHeaders: string[]
  signature: string
}

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest()

const AUTH_RE = /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})\s*$/

/** Parse `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-west-2/s3/aws4_request, SignedHeaders=..., Signature=...`. */
export function parseAuthorization (header: string | undefined): ParsedAuthorization | null {
  if (!header) return null
  const m = AUTH_RE.exec(header)
  if (!m) return null
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!, signedHeaders: m[5]!.split(';'), signature: m[6]! }
}

/** The credential scope's service, read without validating anything else (for routing). */
export function scopeService (header: string | undefined): string | undefined {
  return header ? /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(header)?.[1] : undefined
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ */
export function uriEncode (s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

function safeDecode (s: string): string {
  try {
    return decodeURIComponent(s)
  }
  catch {
    return s
  }
}

/**
 * Canonical URI. S3: each segment decoded once and encoded once, no normalisation.
 * Other services: dot-segments and repeated slashes normalised, the wire form encoded again (double encoding).
 */
export function canonicalUri (rawPath: string, service: string): string {
  if (!rawPath || rawPath === '/') return '/'
  if (service === 's3') {
    return rawPath.split('/').map(seg => uriEncode(safeDecode(seg))).join('/')
  }
  const out: string[] = []
  const segments = rawPath.replace(/\/{2,}/g, '/').split('/')
  for (const seg of segments) {
    if (seg === '..') out.pop()
    else if (seg !== '.') out.push(uriEncode(seg))
  }
  const path = out.join('/')
  return path.startsWith('/') ? path : '/' + path
}

/** Canonical query string: decode every pair, re-encode strictly, sort by name then value. */
export function canonicalQuery (rawQuery: string): string {
  if (!rawQuery) return ''
  const pairs: Array<[string, string]> = []
  for (const part of rawQuery.split('&')) {
    if (!part) continue
    const i = part.indexOf('=')
    const k = i < 0 ? part : part.slice(0, i)
    const v = i < 0 ? '' : part.slice(i + 1)
    pairs.push([ uriEncode(safeDecode(k.replace(/\+/g, '%20'))), uriEncode(safeDecode(v.replace(/\+/g, '%20'))) ])
  }
  pairs.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)
  return pairs.map(([ k, v ]) => `${k}=${v}`).join('&')
}

export function headerValue (headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name]
  if (v === undefined) return undefined
  return (Array.isArray(v) ? v.join(',') : String(v)).trim().replace(/\s+/g, ' ')
}

export interface CanonicalInput {
  method: string
  rawPath: string
  rawQuery: string
  headers: IncomingHttpHeaders
  signedHeaders: string[]
  payloadHash: string
  service: string
}

export function canonicalRequest (input: CanonicalInput): string {
  const canonicalHeaders = input.signedHeaders.map(h => `${h}:${headerValue(input.headers, h) ?? ''}\n`).join('')
  return [
    input.method.toUpperCase(),
    canonicalUri(input.rawPath, input.service),
    canonicalQuery(input.rawQuery),
    canonicalHeaders,
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n')
}

export function signingKey (secretAccessKey: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac('AWS4' + secretAccessKey, date), region), service), 'aws4_request')
}

export function stringToSign (amzDate: string, scope: string, canonical: string): string {
  return [ 'AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical) ].join('\n')
}

export function signatureFor (secretAccessKey: string, auth: Pick<ParsedAuthorization, 'date' | 'region' | 'service'>, amzDate: string, canonical: string): string {
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`
  return createHmac('sha256', signingKey(secretAccessKey, auth.date, auth.region, auth.service))
    .update(stringToSign(amzDate, scope, canonical), 'utf8').digest('hex')
}

export function signaturesEqual (a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex'), y = Buffer.from(b, 'hex')
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y)
}

/** x-amz-date (ISO basic) of the request, falling back to an RFC 1123 Date header. */
export function requestAmzDate (headers: IncomingHttpHeaders): string | undefined {
  const amz = headerValue(headers, 'x-amz-date')
  if (amz) return amz
  const date = headerValue(headers, 'date')
  if (!date) return undefined
  const t = new Date(date)
  return Number.isNaN(t.getTime()) ? undefined : toAmzDate(t)
}

export const toAmzDate = (d: Date): string => d.toISOString().replace(/[:-]|\.\d{3}/g, '')

export function amzDateToMs (amzDate: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate)
  if (!m) return NaN
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
}

/**
 * Decode an `aws-chunked` body (x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD),
 * checking every chunk signature against the seed signature. Null when malformed or a chunk signature is wrong.
 */
export function decodeAwsChunked (body: Buffer, seedSignature: string, key: Buffer, amzDate: string, scope: string): Buffer | null {
  const out: Buffer[] = []
  let offset = 0
  let previous = seedSignature
  const emptyHash = sha256Hex('')
  while (offset < body.length) {
    const lineEnd = body.indexOf('\r\n', offset)
    if (lineEnd < 0) return null
    const m = /^([0-9a-fA-F]+);chunk-signature=([0-9a-f]{64})$/.exec(body.subarray(offset, lineEnd).toString('latin1'))
    if (!m) return null
    const size = parseInt(m[1]!, 16)
    const data = body.subarray(lineEnd + 2, lineEnd + 2 + size)
    if (data.length !== size) return null
    const toSign = [ 'AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, emptyHash, sha256Hex(data) ].join('\n')
    const expected = createHmac('sha256', key).update(toSign, 'utf8').digest('hex')
    if (!signaturesEqual(expected, m[2]!)) return null
    previous = m[2]!
    out.push(data)
    offset = lineEnd + 2 + size + 2
    if (size === 0) break
  }
  return Buffer.concat(out)
}

export interface SignInput {
  method: string
  url: string
  service: string
  region: string
  headers?: Record<string, string>
  body?: string | Buffer
  credentials: { accessKeyId: string, secretAccessKey: string, sessionToken?: string }
  date?: Date
  /** S3 style: send x-amz-content-sha256 (hash of the body, or 'UNSIGNED-PAYLOAD'). */
  contentSha256?: string
}

/** Sign a request (header auth). Returns the headers to send, Authorization included. */
export function signRequest (input: SignInput): Record<string, string> {
  const url = new URL(input.url)
  const body = input.body ?? ''
  const amzDate = toAmzDate(input.date ?? new Date())
  const headers: Record<string, string> = { ...input.headers, host: url.host, 'x-amz-date': amzDate }
  if (input.credentials.sessionToken) headers['x-amz-security-token'] = input.credentials.sessionToken
  const payloadHash = input.contentSha256 ?? sha256Hex(body)
  if (input.service === 's3' || input.contentSha256) headers['x-amz-content-sha256'] = payloadHash
  const lower: IncomingHttpHeaders = {}
  for (const [ k, v ] of Object.entries(headers)) lower[k.toLowerCase()] = v
  const signedHeaders = Object.keys(lower).sort()
  const canonical = canonicalRequest({
    method: input.method,
    rawPath: url.pathname,
    rawQuery: url.search.slice(1),
    headers: lower,
    signedHeaders,
    payloadHash,
    service: input.service,
  })
  const auth = { date: amzDate.slice(0, 8), region: input.region, service: input.service }
  const signature = signatureFor(input.credentials.secretAccessKey, auth, amzDate, canonical)
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${auth.date}/${auth.region}/${auth.service}/aws4_request, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`
  return headers
}
