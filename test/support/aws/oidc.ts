// How STS checks a web identity token against an IAM OIDC provider: find the
// provider by `iss` among the role's account's providers, fetch the issuer's discovery document and JWKS over HTTP
// (cached), verify the RS256 signature, then `exp` and `aud`.
import { get } from 'node:http'
import { get as getHttps } from 'node:https'
import { decodeJwt, verifyRs256, type RsaJwk } from '../jwt.ts'
import { AwsError } from './protocol.ts'
import type { IamAccount, OidcProvider } from './state.ts'

export const MSG_VERIFICATION_KEY = "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements"
export const MSG_NOT_VALIDATED = 'The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.'

export interface VerifiedToken {
  provider: OidcProvider
  claims: Record<string, unknown>
  subject: string
  /** The audience that matched one of the provider's client IDs. */
  audience: string
}

interface CachedKeys {
  keys: RsaJwk[]
  fetchedAt: number
}

/** Provider URL form of an issuer: no scheme, no trailing slash. */
export const providerUrlOf = (issuer: string): string => issuer.replace(/^https?:\/\//i, '').replace(/\/+$/, '')

function fetchJson (url: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const fn = url.startsWith('https:') ? getHttps : get
    const req = fn(url, { agent: false, headers: { accept: 'application/json', connection: 'close' }, timeout: timeoutMs }, res => {
      const chunks: Buffer[] = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: HTTP ${res.statusCode}`))
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
        }
        catch (err) {
          reject(err)
        }
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)))
    req.on('error', reject)
  })
}

export class OidcVerifier {
  private readonly cache = new Map<string, CachedKeys>()
  /** How long fetched keys are trusted before refetching (default 10 minutes). */
  cacheTtlMs = 10 * 60_000
  /** Timeout of each fetch from the issuer. */
  fetchTimeoutMs = 5_000
  /** Issuer fetches made (discovery + JWKS), for assertions. */
  fetches: string[] = []
  /**
   * Where a public issuer is served (issuer URL → loopback URL): what DNS and a trusted TLS
   * certificate give the real STS for https://gitlab.example.test.
   */
  readonly hosts = new Map<string, string>()

  private located (url: string): string {
    for (const [ from, to ] of this.hosts) if (url === from || url.startsWith(from + '/')) return to + url.slice(from.length)
    return url
  }

  clearCache (): void {
    this.cache.clear()
  }

  private async fetchKeys (issuer: string): Promise<RsaJwk[]> {
    const discoveryUrl = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`
    this.fetches.push(discoveryUrl)
    const discovery = await fetchJson(this.located(discoveryUrl), this.fetchTimeoutMs) as { jwks_uri?: unknown }
    if (typeof discovery?.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri')
    this.fetches.push(discovery.jwks_uri)
    const jwks = await fetchJson(this.located(discovery.jwks_uri), this.fetchTimeoutMs) as { keys?: unknown }
    if (!Array.isArray(jwks?.keys)) throw new Error('JWKS has no keys')
    const keys = (jwks.keys as RsaJwk[]).filter(k => k && k.kty === 'RSA')
    this.cache.set(issuer, { keys, fetchedAt: Date.now() })
    return keys
  }

  private async keyFor (issuer: string, kid: unknown): Promise<RsaJwk | undefined> {
    const cached = this.cache.get(issuer)
    const find = (keys: RsaJwk[]): RsaJwk | undefined => keys.find(k => kid === undefined || k.kid === kid)
    if (cached && Date.now() - cached.fetchedAt < this.cacheTtlMs) {
      const hit = find(cached.keys)
      if (hit) return hit
    }
    // Unknown kid or stale cache: fetch again (key rotation)
    let keys: RsaJwk[]
    try {
      keys = await this.fetchKeys(issuer)
    }
    catch {
      throw new AwsError('InvalidIdentityToken', MSG_VERIFICATION_KEY, 400)
    }
    return find(keys)
  }

  /**
   * Verify like STS does, against the OIDC providers of `account` (the role's: each account has
   * its own; none when the stand-in serves no such account); throws AwsError with STS's codes and wording.
   */
  async verify (token: string, nowMs: number, account: IamAccount | undefined): Promise<VerifiedToken> {
    const jwt = decodeJwt(token)
    if (!jwt) {
      throw new AwsError('InvalidIdentityToken', 'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)', 400)
    }
    const iss = jwt.payload.iss
    if (typeof iss !== 'string' || !iss) throw new AwsError('InvalidIdentityToken', 'No OpenIDConnect provider found in your account for undefined', 400)
    const provider = account?.providers.get(providerUrlOf(iss))
    if (!provider) throw new AwsError('InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${iss}`, 400)

    const key = await this.keyFor(iss, jwt.header.kid)
    if (!key || !verifyRs256(jwt, key)) throw new AwsError('InvalidIdentityToken', MSG_NOT_VALIDATED, 400)

    const now = Math.floor(nowMs / 1000)
    const exp = jwt.payload.exp
    if (typeof exp !== 'number') throw new AwsError('InvalidIdentityToken', MSG_NOT_VALIDATED, 400)
    if (exp <= now) {
      throw new AwsError('ExpiredTokenException', `Token expired: current date/time ${now} must be before the expiration date/time ${exp}`, 400)
    }
    const nbf = jwt.payload.nbf
    if (typeof nbf === 'number' && nbf > now + 300) throw new AwsError('InvalidIdentityToken', MSG_NOT_VALIDATED, 400)

    const azp = typeof jwt.payload.azp === 'string' ? jwt.payload.azp : undefined
    const auds = (Array.isArray(jwt.payload.aud) ? jwt.payload.aud : [ jwt.payload.aud ]).filter((a): a is string => typeof a === 'string')
    const audience = azp && provider.clientIds.includes(azp) ? azp : auds.find(a => provider.clientIds.includes(a))
    if (!audience) throw new AwsError('InvalidIdentityToken', 'Incorrect token audience', 400)

    const subject = typeof jwt.payload.sub === 'string' ? jwt.payload.sub : ''
    return { provider, claims: jwt.payload, subject, audience }
  }
}
