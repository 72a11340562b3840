/**
 * AssumeRoleWithWebIdentity through the AWS SDK: what preflight.ts's `exchange` sends a plan's request with.
 *
 * The SDK brings the retry machinery (StandardRetryStrategy: exponential backoff with full
 * jitter, a retry quota, longer delays for throttling) and per-attempt connection and request
 * timeouts (NodeHttpHandler). Two things it does not do on its own, added here:
 *  - treat STS's "Couldn't retrieve verification key from your identity provider" as transient
 *    (it is: STS could not reach the GitLab instance's JWKS just then);
 *  - give up on the whole exchange after a bound, whatever the attempts are doing.
 * This module is only imported when the plugin acts, so the SDK never loads on a laptop.
 */
import type { Agent as HttpAgent } from 'node:http'
import type { Agent as HttpsAgent } from 'node:https'
import { createRequire } from 'node:module'
import type * as Sts from '@aws-sdk/client-sts'
import type * as Retry from '@smithy/core/retry'
import type { RetryErrorInfo, StandardRetryToken } from '@smithy/types'
import { ExchangeError, INVALID_STS_ANSWER, NOT_STS_ANSWER, isVerificationKeyFault, type AttemptFailure, type ExchangeRequest } from '../shared/sts.ts'
import { redact } from '../shared/redact.ts'
import { fs, web } from '../shared/builtins.ts'
import { MAX_ANSWER_BYTES, answerProblem, notStsAnswer } from './sts-answer.ts'

// The packed plugin carries the SDK's STS path as one CommonJS bundle next to this file
// (scripts/bundle-sdk.ts; it has no SDK dependency); the sources, in unit tests, use the packages.
// `require`, not `import`: no ESM scan of the module for named exports.
type Sdk = Pick<typeof Sts, 'STSClient' | 'AssumeRoleWithWebIdentityCommand'> & Pick<typeof Retry, 'StandardRetryStrategy'>
const require = createRequire(import.meta.url)
const BUNDLE = './sts-sdk.cjs'
const { AssumeRoleWithWebIdentityCommand, STSClient, StandardRetryStrategy }: Sdk = fs.existsSync(new URL(BUNDLE, import.meta.url))
  ? require(BUNDLE) as Sdk
  : { ...require('@aws-sdk/client-sts') as typeof Sts, ...require('@smithy/core/retry') as typeof Retry }

export interface IssuedCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  expiration: Date
  assumedRoleArn: string
  assumedRoleId?: string
  subject?: string
  audience?: string
  provider?: string
  attempts: number
  elapsedMs: number
}

/** StandardRetryStrategy that also retries verification-key faults, and remembers every failure. */
class JobRetryStrategy extends StandardRetryStrategy {
  readonly failures: AttemptFailure[] = []
  override async refreshRetryTokenForRetry (token: StandardRetryToken, errorInfo: RetryErrorInfo): Promise<StandardRetryToken> {
    this.failures.push(describeFailure(errorInfo.error))
    const error = (errorInfo.error ?? {}) as { name?: string, transient?: boolean }
    const transient = isVerificationKeyFault(error) || (error.name === NOT_STS_ANSWER && error.transient === true)
    const info: RetryErrorInfo = transient ? { ...errorInfo, errorType: 'TRANSIENT' } : errorInfo
    return super.refreshRetryTokenForRetry(token, info)
  }
}

export function attemptTimeouts (timeoutMs: number): { connectionTimeout: number, requestTimeout: number } {
  // Each attempt gets a share of the bound, so that a silent STS still leaves room for retries.
  const requestTimeout = Math.min(10_000, Math.max(1_000, Math.floor(timeoutMs / 4)))
  return { connectionTimeout: Math.min(3_000, requestTimeout), requestTimeout }
}

export async function assumeRole (request: ExchangeRequest): Promise<IssuedCredentials> {
  const started = Date.now()
  const retryStrategy = new JobRetryStrategy(request.maxAttempts)
  const client = new STSClient({
    region: request.region,
    ...(request.endpoint ? { endpoint: request.endpoint } : {}),
    retryStrategy,
    requestHandler: { ...attemptTimeouts(request.timeoutMs), throwOnRequestTimeout: true, ...proxyAgents(request.proxyEnv) },
    // AssumeRoleWithWebIdentity is unsigned: no credentials are looked up or needed.
    credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
  })
  // Inside the SDK's deserializer: every answer is STS's own before the SDK reads it (sts-answer.ts).
  client.middlewareStack.add(next => async args => checkAnswer(await next(args)), { step: 'deserialize', priority: 'low', name: 'stsAnswerCheck' })
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), request.timeoutMs)
  try {
    const out = await client.send(new AssumeRoleWithWebIdentityCommand({
      RoleArn: request.roleArn,
      RoleSessionName: request.sessionName,
      WebIdentityToken: request.token,
      DurationSeconds: request.durationSeconds,
    }), { abortSignal: abort.signal })
    const c = out.Credentials
    const answer = {
      accessKeyId: c?.AccessKeyId ?? '', secretAccessKey: c?.SecretAccessKey ?? '', sessionToken: c?.SessionToken ?? '',
      expiration: c?.Expiration ?? new Date(NaN), assumedRoleArn: out.AssumedRoleUser?.Arn ?? '',
    }
    // Checked before anything of it is printed or handed over; a success that does not check out is not used.
    const problem = answerProblem(request, answer, new Date())
    if (problem) {
      throw new ExchangeError(INVALID_STS_ANSWER, `STS's answer does not check out: ${problem}`, 200, retryStrategy.failures, false, Date.now() - started)
    }
    return {
      ...answer,
      ...(out.AssumedRoleUser?.AssumedRoleId ? { assumedRoleId: out.AssumedRoleUser.AssumedRoleId } : {}),
      ...(out.SubjectFromWebIdentityToken ? { subject: out.SubjectFromWebIdentityToken } : {}),
      ...(out.Audience ? { audience: out.Audience } : {}),
      ...(out.Provider ? { provider: out.Provider } : {}),
      attempts: out.$metadata.attempts ?? retryStrategy.failures.length + 1,
      elapsedMs: Date.now() - started,
    }
  }
  catch (err) {
    if (err instanceof ExchangeError) throw err
    const elapsedMs = Date.now() - started
    const timedOut = abort.signal.aborted
    const failures = [...retryStrategy.failures]
    const last = describeFailure(err)
    // The retry strategy saw every failed attempt, the final one included, unless the bound cut it short.
    if (timedOut) failures.push({ code: 'Timeout', message: `no answer within the ${Math.round(request.timeoutMs / 1000)} s bound` })
    else if (!failures.length) failures.push(last)
    const main = timedOut ? { code: 'Timeout', message: `STS did not answer within ${Math.round(request.timeoutMs / 1000)} s`, status: undefined } : last
    throw new ExchangeError(main.code, main.message, main.status, failures, timedOut, elapsedMs)
  }
  finally {
    clearTimeout(timer)
    client.destroy()
  }
}

interface RawResponse { statusCode: number, headers: Record<string, string | undefined>, body: unknown }

/** The raw answer read whole (at most MAX_ANSWER_BYTES), given back to the SDK as bytes, or the error naming what it is instead. */
async function checkAnswer<T extends { response: unknown }> (result: T): Promise<T> {
  const response = result.response as RawResponse
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of (response.body ?? []) as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_ANSWER_BYTES) {
      ;(response.body as { destroy?: () => void }).destroy?.()
      throw notSts({ what: `an answer longer than ${MAX_ANSWER_BYTES / 1024} KiB (HTTP ${response.statusCode})`, transient: false }, response.statusCode)
    }
    chunks.push(chunk)
  }
  const bytes = Buffer.concat(chunks)
  response.body = bytes
  const problem = notStsAnswer(response.statusCode, response.headers['content-type'], bytes.toString('utf8'), response.headers.location)
  if (problem) throw notSts(problem, response.statusCode)
  return result
}

function notSts (problem: { what: string, transient: boolean }, status: number): Error {
  return Object.assign(new Error(`not an STS answer: ${problem.what}`), { name: NOT_STS_ANSWER, transient: problem.transient, $metadata: { httpStatusCode: status } })
}

/** Agents that go through the job's proxy (Node's `proxyEnv`: HTTPS_PROXY, HTTP_PROXY, NO_PROXY), when one is set. */
function proxyAgents (proxyEnv: ExchangeRequest['proxyEnv']): { httpAgent?: HttpAgent, httpsAgent?: HttpsAgent } {
  if (!proxyEnv) return {}
  // @types/node does not list proxyEnv yet (Node 22.21 / 24.5 take it): the options go in as a variable.
  const options = { keepAlive: true, proxyEnv }
  const { http, https } = web()
  return { httpAgent: new http.Agent(options), httpsAgent: new https.Agent(options) }
}

function describeFailure (error: unknown): AttemptFailure {
  const e = (error ?? {}) as { name?: string, code?: string, message?: string, $metadata?: { httpStatusCode?: number } }
  // The SDK names modeled errors `XxxException`; report AWS's own code as the user will search for it.
  let code = e.name && e.name !== 'Error' ? e.name : e.code ?? 'Error'
  if (e.code && /^E[A-Z]+$/.test(e.code)) code = e.code
  const status = e.$metadata?.httpStatusCode
  return { code, message: redact(e.message ?? String(error)), ...(status ? { status } : {}) }
}
