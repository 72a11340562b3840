// STS: AssumeRoleWithWebIdentity (unsigned, web identity token), GetCallerIdentity
// (signed), and the fault injection applied to STS requests.
import { asList, evaluateTrustPolicy, NotModelled, type PolicyDocument } from './iam-policy.ts'
import { MSG_VERIFICATION_KEY, OidcVerifier } from './oidc.ts'
import { AwsError, notImplemented, queryResult, t, x, type HttpResult } from './protocol.ts'
import { queryParams, type Service } from './service.ts'
import { accountOfArn, iamId, newSecret, newSessionToken, type AwsState, type Session } from './state.ts'

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/'

/** Faults the stand-in can apply to STS requests instead of answering normally. */
export type StsFault =
  | 'unavailable' //        503 ServiceUnavailable
  | 'throttling' //         400 Throttling "Rate exceeded"
  | 'idp-communication' //  400 IDPCommunicationError
  | 'verification-key' //   400 InvalidIdentityToken "Couldn't retrieve verification key…"
  | 'idp-rejected' //       403 IDPRejectedClaim
  | 'region-disabled' //    403 RegionDisabledException
  | 'hang' //               accept the request, never answer
  | 'reset' //              destroy the connection without answering
  | { delayMs: number } //  answer normally, but only after delayMs
  | { status: number, code: string, message: string, type?: 'Sender' | 'Receiver' }
  // Answers that are not STS's, as something between the runner and AWS gives them:
  | 'proxy-html' //         502 text/html: a proxy's or gateway's error page
  | 'redirect' //           302 to a login page: a captive portal or an authenticating proxy
  | 'not-xml' //            200 application/json: something else listening where STS should be
  | 'malformed' //          200 text/xml whose elements do not nest
  | 'truncated' //          STS's own answer, cut in the middle (a connection dropped by a middlebox)
  // A 200 whose content does not check out (a tampering middlebox, an impostor endpoint):
  | { answer: AnswerTamper }

/** How a `{ answer }` fault changes the real answer's XML. */
export type AnswerTamper = 'expired' | 'late-expiry' | 'other-account' | 'other-role' | 'empty-arn' | 'escape-arn' | 'key-newline'

/** The not-STS answers of the fault modes above, or undefined for a fault that is not one. */
export function foreignAnswer (fault: StsFault): HttpResult | undefined {
  const html = (title: string) => `<html><head><title>${title}</title></head><body><center><h1>${title}</h1></center><hr><center>nginx</center></body></html>\n`
  switch (fault) {
    case 'proxy-html': return { status: 502, headers: { 'content-type': 'text/html' }, body: html('502 Bad Gateway') }
    case 'redirect': return { status: 302, headers: { 'content-type': 'text/html', location: 'https://login.proxy.example/?next=sts' }, body: html('302 Found') }
    case 'not-xml': return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' }
    case 'malformed': return {
      status: 200, headers: { 'content-type': 'text/xml' },
      body: `<AssumeRoleWithWebIdentityResponse xmlns="${STS_XMLNS}"><AssumeRoleWithWebIdentityResult><Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
    }
    default: return undefined
  }
}

/** The real answer changed as a fault asks: cut in the middle, or one field tampered with. */
export function tamperedAnswer (fault: StsFault, result: HttpResult): HttpResult {
  const body = String(result.body ?? '')
  if (fault === 'truncated') return { ...result, body: body.slice(0, Math.floor(body.length / 2)) }
  if (typeof fault !== 'object' || !('answer' in fault)) return result
  const field = (name: string, change: (value: string) => string) => body.replace(new RegExp(`<${name}>([^<]*)</${name}>`), (_, v: string) => `<${name}>${change(v)}</${name}>`)
  const changed = {
    expired: () => field('Expiration', () => '1970-01-01T00:00:00Z'),
    'late-expiry': () => field('Expiration', v => new Date(Date.parse(v) + 86_400_000).toISOString()),
    'other-account': () => field('Arn', v => v.replace(/:sts::\d{12}:/, ':sts::999999999999:')),
    'other-role': () => field('Arn', v => v.replace(/:assumed-role\/[^/]+\//, ':assumed-role/another-role/')),
    'empty-arn': () => field('Arn', () => ''),
    'escape-arn': () => field('Arn', v => `${v}\u001b[2K\r\u2713 GitLab OIDC Assumed arn:aws:iam::111111111111:role/admin\u202e`),
    'key-newline': () => field('AccessKeyId', v => `${v}\nX`),
  }[fault.answer]()
  return { ...result, body: changed }
}

export function faultError (fault: StsFault, accountId: string): AwsError | undefined {
  if (typeof fault === 'object') {
    return 'code' in fault && 'status' in fault ? new AwsError(fault.code, fault.message, fault.status, fault.type ?? (fault.status >= 500 ? 'Receiver' : 'Sender')) : undefined
  }
  switch (fault) {
    case 'unavailable': return new AwsError('ServiceUnavailable', 'Service is unable to handle request.', 503, 'Receiver')
    case 'throttling': return new AwsError('Throttling', 'Rate exceeded', 400)
    case 'idp-communication': return new AwsError('IDPCommunicationError', 'The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached. This is often a transient error caused by network conditions. Retry the request a limited number of times and if the problem persists, contact the identity provider.', 400)
    case 'verification-key': return new AwsError('InvalidIdentityToken', MSG_VERIFICATION_KEY, 400)
    case 'idp-rejected': return new AwsError('IDPRejectedClaim', 'The identity provider (IdP) reported that authentication failed. This might be because the claim is invalid.', 403)
    case 'region-disabled': return new AwsError('RegionDisabledException', `STS is not activated in this region for account:${accountId}. Your account administrator can activate STS in this region using the IAM Console.`, 403)
    default: return undefined
  }
}

export const describeFault = (f: StsFault): string => typeof f === 'string' ? f : 'delayMs' in f ? `delay ${f.delayMs}ms` : 'answer' in f ? `answer ${f.answer}` : f.code

export interface AssumeOutcome {
  result: HttpResult
  session?: Session
  roleArn?: string
  sessionName?: string
  durationSeconds?: number
  subject?: string
}

/**
 * The claims STS evaluates as `gitlab.com:<claim>` condition keys, for tokens of the gitlab.com
 * identity provider only. AWS's Service Authorization Reference, "Actions, resources, and condition
 * keys for AWS Security Token Service" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html),
 * lists them under sts:AssumeRoleWithWebIdentity; the IAM User Guide's "Available keys for OIDC
 * federation" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif)
 * says a generic provider (a self-managed GitLab) gets only aud, sub (and amr) — so no other key
 * is in the request there, and a condition on one fails as an absent key does.
 */
export const GITLAB_COM_KEYS = [
  'project_id', 'namespace_id', 'ref_protected', 'pipeline_source', 'runner_environment',
  'user_access_level', 'user_id', 'user_login', 'user_email',
] as const

/** The condition keys STS puts in the request context for a verified web identity token. */
export function webIdentityKeys (
  providerUrl: string, claims: Record<string, unknown>, subject: string, audience: string,
): Record<string, string | string[]> {
  const keys: Record<string, string | string[]> = { [`${providerUrl}:sub`]: subject, [`${providerUrl}:aud`]: audience }
  if (typeof claims.amr === 'string' || Array.isArray(claims.amr)) keys[`${providerUrl}:amr`] = claims.amr as string | string[]
  if (providerUrl === 'gitlab.com') {
    for (const claim of GITLAB_COM_KEYS) {
      const value = claims[claim]
      if (typeof value === 'string' || typeof value === 'number') keys[`gitlab.com:${claim}`] = String(value)
    }
  }
  return keys
}

/**
 * A trust policy condition on a key of the token's provider that this stand-in does not know
 * (neither aud, sub, amr nor a gitlab.com key above) throws NotModelled: whether AWS would supply
 * it is not known here, so it must not count as simply absent.
 */
export function checkProviderKeys (policy: PolicyDocument, providerUrl: string): void {
  const known = new Set([ 'aud', 'sub', 'amr', ...GITLAB_COM_KEYS ])
  for (const st of asList(policy.Statement)) {
    for (const entries of Object.values(st.Condition ?? {})) {
      for (const key of Object.keys(entries)) {
        const [ prefix, name ] = [ key.slice(0, key.lastIndexOf(':')), key.slice(key.lastIndexOf(':') + 1) ]
        if (prefix.toLowerCase() === providerUrl.toLowerCase() && !known.has(name)) throw new NotModelled(`web identity condition key ${key}`)
      }
    }
  }
}

const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/
const SESSION_NAME_RE = /^[\w+=,.@-]*$/

function validationError (problems: string[]): AwsError {
  const n = problems.length
  return new AwsError('ValidationError', `${n} validation error${n > 1 ? 's' : ''} detected: ${problems.join('; ')}`, 400)
}

const shown = (v: string | null): string => v === null ? 'null' : `'${v}'`

/**
 * Parameter validation, with STS's ValidationError wording. The limits are AWS's, from the STS API
 * reference (API_AssumeRoleWithWebIdentity.html, "Request Parameters"): RoleArn 20 to 2048
 * characters; RoleSessionName 2 to 64 characters of [\w+=,.@-]*; WebIdentityToken 4 to 20,000
 * characters; DurationSeconds 900 to 43,200, and (checked after the trust policy) at most the
 * role's MaxSessionDuration ("IAM and AWS STS quotas" repeats the last two).
 */
function validate (p: URLSearchParams): { roleArn: string, sessionName: string, token: string, duration: number } {
  const roleArn = p.get('RoleArn')
  const sessionName = p.get('RoleSessionName')
  const token = p.get('WebIdentityToken')
  const durationRaw = p.get('DurationSeconds')
  const problems: string[] = []
  if (roleArn === null) problems.push(`Value null at 'roleArn' failed to satisfy constraint: Member must not be null`)
  else if (roleArn.length < 20) problems.push(`Value ${shown(roleArn)} at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20`)
  else if (roleArn.length > 2048) problems.push(`Value ${shown(roleArn)} at 'roleArn' failed to satisfy constraint: Member must have length less than or equal to 2048`)
  if (sessionName === null) problems.push(`Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null`)
  else {
    if (!SESSION_NAME_RE.test(sessionName)) problems.push(`Value ${shown(sessionName)} at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`)
    if (sessionName.length < 2) problems.push(`Value ${shown(sessionName)} at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2`)
    if (sessionName.length > 64) problems.push(`Value ${shown(sessionName)} at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64`)
  }
  if (token === null) problems.push(`Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null`)
  else if (token.length < 4) problems.push(`Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4`)
  else if (token.length > 20000) problems.push(`Value at 'webIdentityToken' failed to satisfy constraint: Member must have length less than or equal to 20000`)
  let duration = 3600
  if (durationRaw !== null) {
    duration = Number(durationRaw)
    if (!Number.isInteger(duration)) problems.push(`Value ${shown(durationRaw)} at 'durationSeconds' failed to satisfy constraint: Member must be an integer`)
    else if (duration < 900) problems.push(`Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`)
    else if (duration > 43200) problems.push(`Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`)
  }
  if (problems.length) throw validationError(problems)
  if (!ROLE_ARN_RE.test(roleArn!)) throw new AwsError('ValidationError', 'Request ARN is invalid', 400)
  return { roleArn: roleArn!, sessionName: sessionName!, token: token!, duration }
}

export class StsService {
  private readonly state: AwsState
  readonly verifier: OidcVerifier

  constructor (state: AwsState) {
    this.state = state
    this.verifier = new OidcVerifier()
  }

  /** AssumeRoleWithWebIdentity. Throws AwsError for every refusal; the outcome carries what was asked for logging. */
  async assumeRoleWithWebIdentity (
    params: URLSearchParams, requestId: string, nowMs: number, record: (o: Partial<AssumeOutcome>) => void,
  ): Promise<AssumeOutcome> {
    record({ roleArn: params.get('RoleArn') ?? undefined, sessionName: params.get('RoleSessionName') ?? undefined, durationSeconds: params.has('DurationSeconds') ? Number(params.get('DurationSeconds')) : undefined })
    const { roleArn, sessionName, token, duration } = validate(params)
    record({ durationSeconds: duration })

    // STS looks up the token's issuer among the IAM OIDC providers of the role's account
    const account = this.state.accounts.get(accountOfArn(roleArn))
    const verified = await this.verifier.verify(token, nowMs, account)
    record({ subject: verified.subject })

    const role = account?.roles.get(roleArn)
    const denied = new AwsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403)
    if (!role) throw denied
    const url = verified.provider.url
    const keys = { ...webIdentityKeys(url, verified.claims, verified.subject, verified.audience), 'sts:RoleSessionName': sessionName }
    checkProviderKeys(role.trustPolicy, url)
    const decision = evaluateTrustPolicy(role.trustPolicy, { federatedPrincipal: verified.provider.arn, action: 'sts:AssumeRoleWithWebIdentity', keys })
    if (decision !== 'allow') throw denied
    // DurationSeconds above the role's MaxSessionDuration (STS API reference, DurationSeconds): refused with this message.
    if (duration > role.maxSessionDuration) {
      throw new AwsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.', 400)
    }

    const session: Session = {
      accessKeyId: iamId('ASIA'),
      secretAccessKey: newSecret(),
      sessionToken: newSessionToken(),
      expiration: Math.floor(nowMs / 1000) * 1000 + duration * 1000,
      roleArn,
      roleName: role.name,
      sessionName,
      durationSeconds: duration,
      assumedRoleArn: `arn:aws:sts::${accountOfArn(roleArn)}:assumed-role/${role.name}/${sessionName}`,
      assumedRoleId: `${role.roleId}:${sessionName}`,
      subject: verified.subject,
      audience: verified.audience,
      provider: verified.provider.arn,
      issuedAt: nowMs,
    }
    this.state.sessions.set(session.accessKeyId, session)

    const result = queryResult('AssumeRoleWithWebIdentity', STS_XMLNS,
      t('SubjectFromWebIdentityToken', verified.subject) +
      t('Audience', verified.audience) +
      x('AssumedRoleUser', t('Arn', session.assumedRoleArn), t('AssumedRoleId', session.assumedRoleId)) +
      x('Credentials',
        t('AccessKeyId', session.accessKeyId),
        t('SecretAccessKey', session.secretAccessKey),
        t('SessionToken', session.sessionToken),
        t('Expiration', new Date(session.expiration).toISOString().replace(/\.\d{3}Z$/, 'Z'))) +
      t('Provider', verified.provider.url),
      requestId)
    return { result, session, roleArn, sessionName, durationSeconds: duration, subject: verified.subject }
  }

}

/** The signed STS actions (GetCallerIdentity), answered for the authenticated caller. */
export const stsSigned: Service = {
  name: 'sts',
  protocol: 'query',
  xmlns: STS_XMLNS,
  action: req => queryParams(req).get('Action') ?? 'Unknown',
  // GetCallerIdentity needs no permission, even when a policy denies it
  iamAction: action => action === 'GetCallerIdentity' ? null : `sts:${action}`,
  handle (req, action) {
    if (action !== 'GetCallerIdentity' || !req.caller) throw notImplemented('sts', action)
    return queryResult('GetCallerIdentity', STS_XMLNS,
      t('UserId', req.caller.userId) + t('Account', accountOfArn(req.caller.arn)) + t('Arn', req.caller.arn), req.requestId)
  },
}
