// An AWS stand-in on 127.0.0.1 for everything `arc` and the plugin talk to, at one
// endpoint (AWS_ENDPOINT_URL). Requests are routed by the service in the SigV4
// credential scope; unsigned AssumeRoleWithWebIdentity form POSTs go to STS.
// Every non-STS request must carry a valid SigV4 signature made with either a
// registered developer key or credentials STS issued (with their session token).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { actionAllowed, type PolicyDocument } from './aws/iam-policy.ts'
import { providerUrlOf } from './aws/oidc.ts'
import {
  AwsError, accessDenied, authError, errorResult, newRequestId, newS3RequestId, notImplemented, unescapeXml,
  type HttpResult, type Protocol,
} from './aws/protocol.ts'
import { queryParams, type Service, type ServiceRequest } from './aws/service.ts'
import {
  amzDateToMs, canonicalRequest, decodeAwsChunked, parseAuthorization, requestAmzDate, scopeService,
  sha256Hex, signatureFor, signaturesEqual, signingKey,
} from './aws/sigv4.ts'
import { createState, iamId, newSecret, type AwsState, type DeveloperKey, type Session } from './aws/state.ts'
import { describeFault, faultError, StsService, stsSigned, STS_XMLNS, type StsFault } from './aws/sts.ts'
import { cloudformation } from './aws/cloudformation.ts'
import { cloudfront } from './aws/cloudfront.ts'
import { logs } from './aws/logs.ts'
import { s3 } from './aws/s3.ts'
import { ssm } from './aws/ssm.ts'

export type { StsFault } from './aws/sts.ts'
export type { PolicyDocument } from './aws/iam-policy.ts'
export { gitlabTrustPolicy } from './aws/iam-policy.ts'
export { signRequest } from './aws/sigv4.ts'

const SERVICES: Record<string, Service> = { ssm, s3, cloudformation, cloudfront, logs, sts: stsSigned }
const SKEW_MS = 15 * 60_000

export interface CallRecord {
  seq: number
  time: number
  service: string
  action: string
  method: string
  path: string
  region?: string
  /** Access key id the request was signed with (none for unsigned STS calls). */
  accessKeyId?: string
  /** Whether an X-Amz-Security-Token came with the request. */
  sessionToken: boolean
  signed: boolean
  /** Who the stand-in decided the caller is. */
  principal: 'developer' | 'session' | 'anonymous' | 'rejected'
  /** STS session the call used (non-STS) or issued (AssumeRoleWithWebIdentity). */
  session?: { roleArn: string, roleName: string, sessionName: string, durationSeconds: number, accessKeyId: string }
  /** What an AssumeRoleWithWebIdentity asked for (also when refused). */
  assume?: { roleArn?: string, sessionName?: string, durationSeconds?: number, subject?: string }
  /** HTTP status answered; 0 when the stand-in never answered (hang, reset). */
  status: number
  errorCode?: string
  errorMessage?: string
  fault?: string
  params: Record<string, string>
  durationMs: number
}

export interface Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export interface StartAwsOptions {
  port?: number
  accountId?: string
  /** Region used where a request does not say (default us-west-2). */
  region?: string
  /** DescribeStacks polls a new/updated stack stays *_IN_PROGRESS (default 0: completes at once). */
  stackPendingPolls?: number
  /** Called with a one-line summary of every request. */
  log?: (line: string) => void
}

export interface AwsStandIn {
  /** http://127.0.0.1:<port>: use as AWS_ENDPOINT_URL. */
  endpoint: string
  accountId: string
  state: AwsState
  /** Register an IAM OIDC identity provider (issuer URL, audiences). Returns its ARN. */
  addOidcProvider (opts: { url: string, clientIds: string[] }): string
  /** Register a role with a trust policy. Returns its ARN. */
  addRole (opts: { name: string, trustPolicy: PolicyDocument | string, maxSessionDuration?: number, permissions?: string[] }): string
  /** Register long-term "developer" keys (AKIA…, no session token). */
  addDeveloperKey (opts?: { accessKeyId?: string, secretAccessKey?: string, userName?: string, permissions?: string[] }): Credentials
  /** Faults for the next STS requests, one per request, in order. */
  injectStsFaults (...faults: StsFault[]): void
  /** A fault applied to every STS request until cleared with null (after queued ones run out). */
  setStsFault (fault: StsFault | null): void
  /** Make issued STS credentials expire now (all of them without an argument). */
  expireCredentials (accessKeyId?: string): void
  calls: CallRecord[]
  stsCalls (): CallRecord[]
  awsCalls (): CallRecord[]
  /** `service:Action` of every non-STS call, in order. */
  callNames (): string[]
  clearCalls (): void
  /** Calls the stand-in does not implement (answered 400 NotImplementedByStandIn): should be none. */
  unimplementedCalls (): CallRecord[]
  /** Names of the stacks that exist now. */
  readonly stacks: string[]
  /** Sessions STS issued, in order. */
  readonly sessions: Session[]
  /** URLs the STS verifier fetched from issuers (discovery, JWKS). */
  readonly issuerFetches: string[]
  /** Forget cached issuer keys. */
  clearKeyCache (): void
  close (): Promise<void>
}

function readBody (req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function guessProtocol (req: IncomingMessage): Protocol {
  return req.headers['x-amz-target'] ? 'json' : 'query'
}

/** A service this stand-in does not know: authenticate, log, and refuse clearly. */
function unknownService (name: string, protocol: Protocol): Service {
  return {
    name,
    protocol,
    action: r => String(r.headers['x-amz-target'] ?? '').split('.').pop() || queryParams(r).get('Action') || `${r.method} ${r.rawPath}`,
    handle: (_r, action) => { throw notImplemented(name, action) },
  }
}

type Identity = { kind: 'developer', key: DeveloperKey } | { kind: 'session', session: Session }

/** Start the AWS stand-in on 127.0.0.1 (random port unless given). */
export async function startAws (options: StartAwsOptions = {}): Promise<AwsStandIn> {
  const accountId = options.accountId ?? '111111111111'
  const defaultRegion = options.region ?? 'us-west-2'
  const state = createState(accountId)
  state.settings.stackPendingPolls = options.stackPendingPolls ?? 0
  const sts = new StsService(state)
  const calls: CallRecord[] = []
  const faultQueue: StsFault[] = []
  let permanentFault: StsFault | null = null
  const sockets = new Set<Socket>()
  const closing = new AbortController()
  let seq = 0

  function authenticate (req: IncomingMessage, rawPath: string, rawQuery: string, body: Buffer, svc: Service, record: CallRecord): { identity: Identity, body: Buffer } {
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
      record.session = { roleArn: session.roleArn, roleName: session.roleName, sessionName: session.sessionName, durationSeconds: session.durationSeconds, accessKeyId: session.accessKeyId }
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

  function authorize (svc: Service, action: string, identity: Identity, params: Record<string, string>, region: string): void {
    const iamAction = svc.iamAction ? svc.iamAction(action) : `${svc.name}:${action}`
    if (iamAction === null) return
    const patterns = identity.kind === 'developer' ? identity.key.permissions : state.roles.get(identity.session.roleArn)?.permissions ?? []
    if (actionAllowed(patterns, iamAction)) return
    const principal = identity.kind === 'developer' ? identity.key.arn : identity.session.assumedRoleArn
    let resource = '*'
    if (svc.name === 's3' && params.Bucket) resource = `arn:aws:s3:::${params.Bucket}${params.Key ? '/' + params.Key : ''}`
    if (svc.name === 'ssm' && (params.Name || params.Path)) resource = `arn:aws:ssm:${region}:${accountId}:parameter${params.Name ?? params.Path}`
    if (svc.name === 'cloudformation' && params.StackName) resource = `arn:aws:cloudformation:${region}:${accountId}:stack/${params.StackName}/*`
    throw accessDenied(svc.protocol, principal, iamAction, resource)
  }

  async function handleSts (req: IncomingMessage, params: URLSearchParams, record: CallRecord, requestId: string): Promise<HttpResult | 'no-answer'> {
    const fault = faultQueue.shift() ?? permanentFault ?? undefined
    if (fault) {
      record.fault = describeFault(fault)
      if (fault === 'hang') return 'no-answer'
      if (fault === 'reset') {
        req.socket.destroy()
        return 'no-answer'
      }
      if (typeof fault === 'object' && 'delayMs' in fault) {
        await sleep(fault.delayMs, undefined, { signal: closing.signal }).catch(() => undefined)
        if (closing.signal.aborted) return 'no-answer'
      }
      const err = faultError(fault, accountId)
      if (err) throw err
    }
    const outcome = await sts.assumeRoleWithWebIdentity(params, requestId, Date.now(), o => {
      record.assume = { ...record.assume, ...Object.fromEntries(Object.entries(o).filter(([ , v ]) => v !== undefined)) }
    })
    const s = outcome.session!
    record.session = { roleArn: s.roleArn, roleName: s.roleName, sessionName: s.sessionName, durationSeconds: s.durationSeconds, accessKeyId: s.accessKeyId }
    return outcome.result
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now()
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const rawPath = q < 0 ? url : url.slice(0, q)
    const rawQuery = q < 0 ? '' : url.slice(q + 1)
    let body = await readBody(req)
    const scope = scopeService(req.headers.authorization)
    const record: CallRecord = {
      seq: ++seq,
      time: started,
      service: scope ?? 'unknown',
      action: 'Unknown',
      method: req.method ?? 'GET',
      path: rawPath,
      sessionToken: typeof req.headers['x-amz-security-token'] === 'string',
      signed: !!req.headers.authorization,
      principal: 'rejected',
      status: 0,
      params: {},
      durationMs: 0,
    }
    calls.push(record)

    let requestId = newRequestId()
    let result: HttpResult | 'no-answer'
    const baseReq = (): ServiceRequest => ({
      method: record.method, rawPath, query: new URLSearchParams(rawQuery), headers: req.headers, body, region: record.region ?? defaultRegion, requestId, state,
    })
    try {
      const formParams = queryParams(baseReq())
      const isAssume = formParams.get('Action') === 'AssumeRoleWithWebIdentity' && (!scope || scope === 'sts')
      if (isAssume) {
        record.service = 'sts'
        record.action = 'AssumeRoleWithWebIdentity'
        record.principal = 'anonymous'
        try {
          result = await handleSts(req, formParams, record, requestId)
        }
        catch (err) {
          if (err instanceof AwsError) result = errorResult('query', err, requestId, { xmlns: STS_XMLNS })
          else throw err
        }
      }
      else {
        const svc = SERVICES[scope ?? ''] ?? unknownService(scope ?? 'unknown', guessProtocol(req))
        const protocol = svc.protocol
        if (protocol === 's3') requestId = newS3RequestId()
        record.action = svc.action(baseReq())
        record.params = svc.summarize?.(baseReq(), record.action) ?? {}
        try {
          const authed = authenticate(req, rawPath, rawQuery, body, svc, record)
          body = authed.body
          record.principal = authed.identity.kind
          const identity = authed.identity
          const sreq = {
            ...baseReq(),
            caller: identity.kind === 'session'
              ? { arn: identity.session.assumedRoleArn, userId: identity.session.assumedRoleId }
              : { arn: identity.key.arn, userId: identity.key.accessKeyId },
          }
          authorize(svc, record.action, identity, record.params, sreq.region)
          result = await svc.handle(sreq, record.action)
        }
        catch (err) {
          if (err instanceof AwsError) result = errorResult(protocol, err, requestId, { method: record.method, xmlns: svc.xmlns })
          else throw err
        }
      }
    }
    catch (err) {
      // A bug in the stand-in: answer 500 with the stack so the client's error shows it
      const message = err instanceof Error ? err.stack ?? err.message : String(err)
      result = { status: 500, headers: { 'content-type': 'text/plain' }, body: `AWS stand-in internal error: ${message}` }
      record.errorCode = 'StandInInternalError'
      record.errorMessage = message
    }

    record.durationMs = Date.now() - started
    if (result === 'no-answer') {
      options.log?.(`${record.service}:${record.action} -> (no answer: ${record.fault})`)
      return
    }
    record.status = result.status
    if (result.status >= 300 && !record.errorCode) {
      const text = result.body?.toString() ?? ''
      record.errorCode = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? /"__type":"([^"]+)"/.exec(text)?.[1] ?? (result.status === 404 ? 'NotFound' : `HTTP${result.status}`)
      const xmlMessage = /<Message>([^<]*)<\/Message>/.exec(text)?.[1]
      record.errorMessage = xmlMessage !== undefined ? unescapeXml(xmlMessage) : /"message":"([^"]*)"/.exec(text)?.[1]
    }
    const line = `${record.service}:${record.action} ${record.principal}${record.accessKeyId ? ' ' + record.accessKeyId : ''} -> ${record.status}${record.errorCode ? ' ' + record.errorCode : ''}`
    options.log?.(line)
    const payload = result.body === undefined ? undefined : Buffer.isBuffer(result.body) ? result.body : Buffer.from(result.body)
    const headers: Record<string, string> = { ...result.headers }
    if (!headers['content-length'] && record.method !== 'HEAD' && result.status !== 204) headers['content-length'] = String(payload?.length ?? 0)
    res.writeHead(result.status, headers)
    res.end(record.method === 'HEAD' ? undefined : payload)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(err => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(String(err))
      }
    })
  })
  server.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    endpoint: `http://127.0.0.1:${port}`,
    accountId,
    state,
    addOidcProvider ({ url, clientIds }) {
      const providerUrl = providerUrlOf(url)
      const arn = `arn:aws:iam::${accountId}:oidc-provider/${providerUrl}`
      state.providers.set(providerUrl, { arn, url: providerUrl, clientIds: [ ...clientIds ] })
      return arn
    },
    addRole ({ name, trustPolicy, maxSessionDuration = 3600, permissions = [ '*' ] }) {
      if (maxSessionDuration < 3600 || maxSessionDuration > 43200) throw new RangeError('MaxSessionDuration must be 3600..43200')
      const arn = `arn:aws:iam::${accountId}:role/${name}`
      const policy = typeof trustPolicy === 'string' ? JSON.parse(trustPolicy) as PolicyDocument : trustPolicy
      state.roles.set(arn, { arn, name: name.split('/').pop()!, roleId: iamId('AROA', 17), trustPolicy: policy, maxSessionDuration, permissions })
      return arn
    },
    addDeveloperKey (opts = {}) {
      const key: DeveloperKey = {
        accessKeyId: opts.accessKeyId ?? iamId('AKIA'),
        secretAccessKey: opts.secretAccessKey ?? newSecret(),
        userName: opts.userName ?? 'developer',
        arn: `arn:aws:iam::${accountId}:user/${opts.userName ?? 'developer'}`,
        permissions: opts.permissions ?? [ '*' ],
      }
      state.developerKeys.set(key.accessKeyId, key)
      return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }
    },
    injectStsFaults (...faults) { faultQueue.push(...faults) },
    setStsFault (fault) { permanentFault = fault },
    expireCredentials (accessKeyId) {
      for (const s of state.sessions.values()) {
        if (!accessKeyId || s.accessKeyId === accessKeyId) s.expiration = Date.now() - 1000
      }
    },
    calls,
    stsCalls: () => calls.filter(c => c.service === 'sts'),
    awsCalls: () => calls.filter(c => c.service !== 'sts'),
    callNames: () => calls.filter(c => c.service !== 'sts').map(c => `${c.service}:${c.action}`),
    clearCalls () { calls.length = 0 },
    unimplementedCalls: () => calls.filter(c => c.errorCode === 'NotImplementedByStandIn' || c.errorCode === 'StandInInternalError'),
    get stacks () { return [ ...state.stacks.keys() ] },
    get sessions () { return [ ...state.sessions.values() ] },
    get issuerFetches () { return sts.verifier.fetches },
    clearKeyCache () { sts.verifier.clearCache() },
    async close () {
      closing.abort()
      server.close()
      for (const s of sockets) s.destroy()
      server.closeAllConnections()
    },
  }
}

/** Environment for a process that should talk to the stand-in with the given credentials. */
export function awsEnv (aws: Pick<AwsStandIn, 'endpoint'>, creds?: Credentials): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: aws.endpoint,
    ...(creds ? { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey } : {}),
    ...(creds?.sessionToken ? { AWS_SESSION_TOKEN: creds.sessionToken } : {}),
  }
}
