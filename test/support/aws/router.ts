/**
 * The AWS stand-in's HTTP front: every request is logged, routed by the service in its SigV4
 * credential scope (unsigned AssumeRoleWithWebIdentity form POSTs go to STS), authenticated and
 * authorised, answered by that service module in AWS's own protocol, and its outcome recorded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { authenticate, authorize, type Identity } from './auth.ts'
import { newRecord, recordAnswer, type CallRecord } from './calls.ts'
import { cloudformation } from './cloudformation.ts'
import { cloudfront } from './cloudfront.ts'
import { logs } from './logs.ts'
import { AwsError, errorResult, newRequestId, newS3RequestId, notImplemented, type HttpResult, type Protocol } from './protocol.ts'
import { s3 } from './s3.ts'
import { queryParams, type Service, type ServiceRequest } from './service.ts'
import { scopeService } from './sigv4.ts'
import { ssm } from './ssm.ts'
import { accountOfArn, type AwsState } from './state.ts'
import { callerPolicies, type Caller } from './principals.ts'
import { stsSigned, STS_XMLNS } from './sts.ts'
import type { StsFront } from './sts-front.ts'

const SERVICES: Record<string, Service> = { ssm, s3, cloudformation, cloudfront, logs, sts: stsSigned }

/** What the front shares with the stand-in that started it. */
export interface Front {
  state: AwsState
  sts: StsFront
  calls: CallRecord[]
  /** The next call's sequence number (it keeps counting when the log is cleared). */
  nextSeq: () => number
  /** Region used where a request does not say. */
  defaultRegion: string
  log?: ((line: string) => void) | undefined
}

/** One request as it arrived. */
interface Incoming {
  req: IncomingMessage
  rawPath: string
  rawQuery: string
  body: Buffer
  /** The service named in the SigV4 credential scope, if the request is signed. */
  scope: string | undefined
  record: CallRecord
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

/** The request listener of the stand-in's loopback server. */
export function createHandler (front: Front): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async function handle (req, res) {
    const started = Date.now()
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const rawPath = q < 0 ? url : url.slice(0, q)
    const rawQuery = q < 0 ? '' : url.slice(q + 1)
    const body = await readBody(req)
    const scope = scopeService(req.headers.authorization)
    const record = newRecord(req, rawPath, front.nextSeq(), started, scope)
    front.calls.push(record)
    const result = await answer(front, { req, rawPath, rawQuery, body, scope, record })
    record.durationMs = Date.now() - started
    respond(front, res, record, result)
  }
}

function serviceRequest (front: Front, incoming: Incoming, body: Buffer, requestId: string): ServiceRequest {
  const { req, rawPath, rawQuery, record } = incoming
  return {
    method: record.method, rawPath, query: new URLSearchParams(rawQuery), headers: req.headers, body,
    region: record.region ?? front.defaultRegion, requestId, state: front.state,
  }
}

/** STS's answer for AssumeRoleWithWebIdentity, otherwise the service's; a bug in the stand-in is a 500. */
async function answer (front: Front, incoming: Incoming): Promise<HttpResult | 'no-answer'> {
  const { req, scope, record } = incoming
  const requestId = newRequestId()
  try {
    const formParams = queryParams(serviceRequest(front, incoming, incoming.body, requestId))
    const isAssume = formParams.get('Action') === 'AssumeRoleWithWebIdentity' && (!scope || scope === 'sts')
    if (isAssume) return await answerAssume(front, req, formParams, record, requestId)
    return await answerService(front, incoming, requestId)
  }
  catch (err) {
    // A bug in the stand-in: answer 500 with the stack so the client's error shows it
    const message = err instanceof Error ? err.stack ?? err.message : String(err)
    record.errorCode = 'StandInInternalError'
    record.errorMessage = message
    return { status: 500, headers: { 'content-type': 'text/plain' }, body: `AWS stand-in internal error: ${message}` }
  }
}

async function answerAssume (front: Front, req: IncomingMessage, formParams: URLSearchParams, record: CallRecord, requestId: string): Promise<HttpResult | 'no-answer'> {
  record.service = 'sts'
  record.action = 'AssumeRoleWithWebIdentity'
  record.principal = 'anonymous'
  try {
    return await front.sts.handle(req, formParams, record, requestId)
  }
  catch (err) {
    if (err instanceof AwsError) return errorResult('query', err, requestId, { xmlns: STS_XMLNS })
    else throw err
  }
}

async function answerService (front: Front, incoming: Incoming, firstRequestId: string): Promise<HttpResult> {
  const { req, rawPath, rawQuery, scope, record } = incoming
  let body = incoming.body
  let requestId = firstRequestId
  const baseReq = (): ServiceRequest => serviceRequest(front, incoming, body, requestId)
  const svc = SERVICES[scope ?? ''] ?? unknownService(scope ?? 'unknown', guessProtocol(req))
  const protocol = svc.protocol
  if (protocol === 's3') requestId = newS3RequestId()
  record.action = svc.action(baseReq())
  record.params = svc.summarize?.(baseReq(), record.action) ?? {}
  try {
    const authed = authenticate(front.state, req, rawPath, rawQuery, body, svc, record)
    body = authed.body
    record.principal = authed.identity.kind
    const identity = authed.identity
    const caller = callerOf(identity)
    const account = caller.kind === 'developer' ? caller.accountId : accountOfArn(caller.roleArn)
    const sreq: ServiceRequest = {
      ...baseReq(),
      caller: {
        arn: caller.arn,
        userId: identity.kind === 'session' ? identity.session.assumedRoleId : identity.key.accessKeyId,
        account,
        policies: callerPolicies(front.state, caller),
      },
    }
    authorize(svc, record.action, sreq, record.params)
    return await svc.handle(sreq, record.action)
  }
  catch (err) {
    if (err instanceof AwsError) return errorResult(protocol, err, requestId, { method: record.method, xmlns: svc.xmlns })
    else throw err
  }
}

function callerOf (identity: Identity): Caller {
  return identity.kind === 'developer'
    ? { kind: 'developer', permissions: identity.key.permissions, accountId: identity.key.accountId, arn: identity.key.arn }
    : { kind: 'session', roleArn: identity.session.roleArn, arn: identity.session.assumedRoleArn }
}

/** Write the answer (none for a fault that hangs or resets) and log one line for it. */
function respond (front: Front, res: ServerResponse, record: CallRecord, result: HttpResult | 'no-answer'): void {
  if (result === 'no-answer') {
    front.log?.(`${record.service}:${record.action} -> (no answer: ${record.fault})`)
    return
  }
  recordAnswer(record, result)
  const line = `${record.service}:${record.action} ${record.principal}${record.accessKeyId ? ' ' + record.accessKeyId : ''} -> ${record.status}${record.errorCode ? ' ' + record.errorCode : ''}`
  front.log?.(line)
  const payload = result.body === undefined ? undefined : Buffer.isBuffer(result.body) ? result.body : Buffer.from(result.body)
  const headers: Record<string, string> = { ...result.headers }
  if (!headers['content-length'] && record.method !== 'HEAD' && result.status !== 204) headers['content-length'] = String(payload?.length ?? 0)
  res.writeHead(result.status, headers)
  res.end(record.method === 'HEAD' ? undefined : payload)
}
