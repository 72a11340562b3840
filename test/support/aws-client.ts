/**
 * What a client puts on the wire to the AWS stand-in, raw, for the stand-ins' own tests
 * (test/unit/support/aws/*.test.ts): an AssumeRoleWithWebIdentity form POST as the SDK sends it,
 * a request signed with our signer, and the answer's status, error code and message.
 */
import { unescapeXml } from './aws/protocol.ts'
import { signRequest, type AwsStandIn, type Credentials } from './aws.ts'

export interface Wire { status: number, body: string, code?: string, message?: string }

export async function wire (res: Response): Promise<Wire> {
  const body = await res.text()
  return {
    status: res.status,
    body,
    code: /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? /"__type":"([^"]+)"/.exec(body)?.[1],
    message: unescapeXml(/<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? /"message":"([^"]*)"/.exec(body)?.[1] ?? ''),
  }
}

/** A raw AssumeRoleWithWebIdentity form POST, exactly as @aws-sdk/client-sts sends it. */
export async function assume (endpoint: string, params: Record<string, string>, signal?: AbortSignal): Promise<Wire> {
  const body = new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', ...params }).toString()
  return wire(await fetch(endpoint + '/', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, signal }))
}

export const xmlText = (body: string, tag: string): string | undefined => {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(body)
  return m ? unescapeXml(m[1]!) : undefined
}

export interface SignedRequest {
  service: string
  method?: string
  path?: string
  headers?: Record<string, string>
  body?: string
  contentSha256?: string
  date?: Date
  /** Changes the signed headers before sending. */
  tamper?: (h: Record<string, string>) => void
}

/** Sign a request with our signer and send it. */
export async function signed (aws: AwsStandIn, creds: Credentials, req: SignedRequest): Promise<Wire> {
  const url = aws.endpoint + (req.path ?? '/')
  const headers = signRequest({ method: req.method ?? 'POST', url, service: req.service, region: 'us-west-2', headers: req.headers, body: req.body, credentials: creds, contentSha256: req.contentSha256, date: req.date })
  req.tamper?.(headers)
  const { host: _host, ...sendHeaders } = headers
  return wire(await fetch(url, { method: req.method ?? 'POST', headers: sendHeaders, body: req.body }))
}

export const ssmCall = (target: string, body: object): { service: string, headers: Record<string, string>, body: string } =>
  ({ service: 'ssm', headers: { 'x-amz-target': `AmazonSSM.${target}`, 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) })
