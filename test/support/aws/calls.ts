/**
 * The AWS stand-in's call log: one record per request, with who called, what was asked and
 * what was answered, for tests to assert on (`aws.calls`, `stsCalls()`, `awsCalls()`).
 */
import type { IncomingMessage } from 'node:http'
import type { HttpResult } from './protocol.ts'
import { unescapeXml } from './protocol.ts'
import type { Session } from './state.ts'

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
  /** The `Via` header, which a forwarding proxy adds (RFC 9110, 7.6.3). */
  via?: string
  /** The TCP port the request came from (a proxy's or a TLS front's upstream connection). */
  remotePort?: number
}

/** What a record says of the STS session a call used or issued (never its secrets). */
export function sessionOf (s: Session): NonNullable<CallRecord['session']> {
  const { roleArn, roleName, sessionName, durationSeconds, accessKeyId } = s
  return { roleArn, roleName, sessionName, durationSeconds, accessKeyId }
}

/** A new record for a request, before anything is known of its caller or outcome. */
export function newRecord (req: IncomingMessage, rawPath: string, seq: number, started: number, scope: string | undefined): CallRecord {
  const record: CallRecord = {
    seq,
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
    ...(typeof req.headers.via === 'string' ? { via: req.headers.via } : {}),
    ...(req.socket.remotePort ? { remotePort: req.socket.remotePort } : {}),
  }
  return record
}

/** The status answered and, for an error, AWS's code and message as the client will read them. */
export function recordAnswer (record: CallRecord, result: HttpResult): void {
  record.status = result.status
  if (result.status >= 300 && !record.errorCode) {
    const text = result.body?.toString() ?? ''
    record.errorCode = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? /"__type":"([^"]+)"/.exec(text)?.[1] ?? (result.status === 404 ? 'NotFound' : `HTTP${result.status}`)
    const xmlMessage = /<Message>([^<]*)<\/Message>/.exec(text)?.[1]
    record.errorMessage = xmlMessage !== undefined ? unescapeXml(xmlMessage) : /"message":"([^"]*)"/.exec(text)?.[1]
  }
}
