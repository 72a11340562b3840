// Minimal RS256 JSON Web Token toolkit (node:crypto only), shared by the GitLab
// stand-in (signing) and the AWS STS stand-in (verification).
import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'

export interface RsaJwk {
  kty: 'RSA'
  n: string
  e: string
  kid?: string
  use?: string
  alg?: string
}

export interface SigningKey {
  kid: string
  privateKey: KeyObject
  publicJwk: RsaJwk & { kid: string }
}

export interface DecodedJwt {
  header: Record<string, unknown>
  payload: Record<string, unknown>
  signingInput: string
  signature: Buffer
}

export const b64url = (input: Buffer | string): string => Buffer.from(input).toString('base64url')

/** RFC 7638 JWK thumbprint (SHA-256, base64url), the kind of kid GitLab publishes. */
export function jwkThumbprint (jwk: { e: string, n: string }): string {
  const canonical = JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n })
  return createHash('sha256').update(canonical).digest('base64url')
}

/** A fresh 2048-bit RSA key pair with a thumbprint kid (or the kid you give). */
export function createSigningKey (kid?: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string, e: string }
  const id = kid ?? jwkThumbprint(jwk)
  return {
    kid: id,
    privateKey,
    publicJwk: { kty: 'RSA', kid: id, e: jwk.e, n: jwk.n, use: 'sig', alg: 'RS256' },
  }
}

/** Sign a payload as a compact RS256 JWS. Extra header fields (e.g. a different kid) may be given. */
export function signJwt (payload: object, key: SigningKey, header: Record<string, unknown> = {}): string {
  const head = { kid: key.kid, typ: 'JWT', alg: 'RS256', ...header }
  const signingInput = `${b64url(JSON.stringify(head))}.${b64url(JSON.stringify(payload))}`
  const signature = sign('sha256', Buffer.from(signingInput), key.privateKey)
  return `${signingInput}.${b64url(signature)}`
}

/** Split and parse a compact JWS without verifying it; null when it is not a well-formed JWT. */
export function decodeJwt (token: string): DecodedJwt | null {
  const parts = token.split('.')
  if (parts.length !== 3 || parts.some(p => !/^[A-Za-z0-9_-]*$/.test(p))) return null
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'))
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'))
    if (!isObject(header) || !isObject(payload)) return null
    return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') }
  }
  catch {
    return null
  }
}

/** Verify an RS256 signature against a public JWK. */
export function verifyRs256 (jwt: DecodedJwt, jwk: RsaJwk): boolean {
  if (jwt.header.alg !== 'RS256') return false
  try {
    const key = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' })
    return verify('sha256', Buffer.from(jwt.signingInput), key, jwt.signature)
  }
  catch {
    return false
  }
}

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
