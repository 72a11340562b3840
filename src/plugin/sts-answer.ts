/**
 * Answers checked before they are trusted. Between the runner and AWS there may be a proxy, a
 * gateway or a captive portal: an HTML 502, a redirect to a login page or a cut-off body is not
 * STS refusing anything, and is named for what it is (and retried where it may pass). A success
 * is checked before anything of it is printed or handed to Architect: the session is of the role
 * asked for, in its account and partition, with the session name asked for; it expires in the
 * future and within the duration asked for; its keys have AWS's shape. The exchange
 * (plugin/exchange.ts) applies these to what the SDK received; the codes it then throws with
 * (NOT_STS_ANSWER, INVALID_STS_ANSWER) are in shared/sts.ts, where report/ reads them.
 *
 * What STS answers, from its API reference (AssumeRoleWithWebIdentity, Common Errors, the Query
 * API's XML): https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
 *   success  HTTP 200, <AssumeRoleWithWebIdentityResponse>…</AssumeRoleWithWebIdentityResponse>
 *   refusal  HTTP 4xx/5xx, <ErrorResponse><Error><Type/><Code/><Message/></Error>…</ErrorResponse>
 *   Credentials (API_Credentials.html): AccessKeyId 16 to 128 characters of [\w]; temporary ones start ASIA.
 */
import { parseAssumedRoleArn, parseRoleArn } from '../iam/arns.ts'

/** The most of a body the exchange reads: STS's answers are a few kilobytes. */
export const MAX_ANSWER_BYTES = 256 * 1024

/** An answer that is not STS's: what it is, and whether another attempt may get STS's own. */
export interface NotSts { what: string, transient: boolean }

const ENTITY = /^&(?:lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/
const TAG = /^<(\/?)([A-Za-z_][\w.:-]*)(?:\s+[^<>]*?)?(\/?)>/

/** Whether text is one well-formed XML element (after an optional declaration): tags balanced, no stray `<` or `&`. Linear. */
export function wellFormedXml (xml: string): boolean {
  const body = xml.replace(/^\s*<\?xml[^>]*\?>/, '').trim()
  const open: string[] = []
  let roots = 0
  for (let i = 0; i < body.length;) {
    const at = body.indexOf('<', i)
    const text = body.slice(i, at === -1 ? body.length : at)
    if (/&/.test(text) && !text.split('&').slice(1).every(part => ENTITY.test(`&${part}`))) return false
    if (text.trim() && open.length === 0) return false
    if (at === -1) break
    const tag = TAG.exec(body.slice(at, at + 512))
    if (!tag) return false
    const [whole, close, name, selfClosing] = tag as unknown as [string, string, string, string]
    if (close) {
      if (open.pop() !== name) return false
    }
    else {
      if (open.length === 0) roots++
      if (!selfClosing) open.push(name)
    }
    i = at + whole.length
  }
  return open.length === 0 && roots === 1
}

/**
 * What an HTTP answer to AssumeRoleWithWebIdentity is when it is not STS's, or undefined when it
 * is STS's own (a success or an ErrorResponse, whole and well-formed). A gateway's 5xx and a
 * cut-off body are transient (the next attempt may reach STS); a redirect or a page is not.
 */
export function notStsAnswer (status: number, contentType: string | undefined, body: string, location?: string): NotSts | undefined {
  const transient = status >= 500
  const text = body.trim()
  if (status >= 300 && status < 400) return { what: `a redirect (HTTP ${status}${location ? ` to ${hostOf(location)}` : ''})`, transient: false }
  const root = /^(?:<\?xml[^>]*\?>\s*)?<([A-Za-z_][\w.:-]*)/.exec(text)?.[1]
  if (/html/i.test(contentType ?? '') || /^<!doctype html|^<html/i.test(text) || root?.toLowerCase() === 'html') return { what: `an HTML page (HTTP ${status})`, transient }
  if (!text) return { what: `an empty answer (HTTP ${status})`, transient: true }
  if (!root) return { what: `an answer that is not XML (HTTP ${status}${contentType ? `, ${contentType}` : ''})`, transient }
  const expected = status >= 200 && status < 300 ? 'AssumeRoleWithWebIdentityResponse' : 'ErrorResponse'
  if (root !== expected) return { what: `XML that is not STS's (<${root.slice(0, 64)}> where STS answers <${expected}>, HTTP ${status})`, transient }
  if (!text.endsWith(`</${root}>`)) return { what: `a cut-off answer (HTTP ${status}, ${body.length} characters, without its closing </${root}>)`, transient: true }
  if (!wellFormedXml(text)) return { what: `malformed XML (HTTP ${status})`, transient }
  return undefined
}

function hostOf (location: string): string {
  try { return new URL(location).host || 'a relative address' }
  catch { return 'an address that is not a URL' }
}

/** A success as the exchange received it (before it is trusted). */
export interface Answer {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  expiration: Date
  assumedRoleArn: string
}

/** STS's temporary keys: AccessKeyId 16 to 128 characters, ASIA…; a secret key of 40 base64 characters; a session token of base64. */
const ACCESS_KEY_ID = /^ASIA[A-Z0-9]{12,124}$/
const SECRET_KEY = /^[A-Za-z0-9/+]{40}$/
const SESSION_TOKEN = /^[A-Za-z0-9/+=]{16,16384}$/

/** Clock skew tolerated between STS and the runner on the expiration. */
const SKEW_MS = 5 * 60_000

/**
 * What is wrong with a success, or undefined when it checks out: the session is of the role asked
 * for (its name, account and partition; the session name asked for), expires after `now` and no
 * later than the duration asked for (with clock skew), and its keys have AWS's shape. Never
 * names a key's value.
 */
export function answerProblem (
  asked: { roleArn: string, sessionName: string, durationSeconds: number }, answer: Answer, now: Date,
): string | undefined {
  let session
  try { session = parseAssumedRoleArn(answer.assumedRoleArn) }
  catch { return 'its assumed-role ARN is not one' }
  const role = parseRoleArn(asked.roleArn)
  const roleName = role.name.split('/').pop()
  if (session.partition !== role.partition || session.account !== role.account) {
    return `its session is in account ${session.account} (${session.partition}), not the role's ${role.account} (${role.partition})`
  }
  if (session.roleName !== roleName) return `its session is of role ${session.roleName}, not ${roleName}`
  if (session.sessionName !== asked.sessionName) return `its session is named ${session.sessionName}, not ${asked.sessionName}`
  const expires = answer.expiration instanceof Date ? answer.expiration.getTime() : NaN
  if (!Number.isFinite(expires)) return 'its expiration is not a time'
  if (expires <= now.getTime()) return `its credentials expired at ${new Date(expires).toISOString()}, before they were issued`
  if (expires > now.getTime() + asked.durationSeconds * 1000 + SKEW_MS) {
    return `its credentials expire at ${new Date(expires).toISOString()}, later than the ${asked.durationSeconds} s asked for`
  }
  if (!ACCESS_KEY_ID.test(answer.accessKeyId)) return 'its access key ID does not have the shape of an STS key (ASIA and 12 to 124 capitals and digits)'
  if (!SECRET_KEY.test(answer.secretAccessKey)) return 'its secret access key does not have the shape of an AWS secret key (40 base64 characters)'
  if (!SESSION_TOKEN.test(answer.sessionToken)) return 'its session token does not have the shape of one (base64 characters only)'
  return undefined
}
