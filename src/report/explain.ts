/**
 * Turn an STS refusal or fault into one message: what it means, what GitLab asserted, the fix.
 * The refusals and their fixes are a table (explanations.ts); faults and timeouts are summed up here.
 */
import { redact } from '../shared/redact.ts'
import type { Problem, Row } from '../shared/problem.ts'
import { INVALID_STS_ANSWER, NOT_STS_ANSWER, type ExchangeContext, type ExchangeError } from '../shared/sts.ts'
import { findExplanation, type Explained } from './explanations.ts'

/** AWS's code without the SDK's "Exception" suffix (ExpiredTokenException is AWS's own spelling). */
export function baseCode (code: string): string {
  return code === 'ExpiredTokenException' ? 'ExpiredToken' : code.replace(/Exception$/, '')
}

const FAULT_CODES = new Set(['Throttling', 'IDPCommunicationError', 'ServiceUnavailable', 'InternalFailure', 'InternalError', 'TimeoutError', 'RequestTimeout', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'Timeout'])

/** Transient: STS or the network failing, not STS refusing. */
export function isFault (code: string): boolean {
  return FAULT_CODES.has(baseCode(code))
}

export function explainExchange (error: ExchangeError, ctx: ExchangeContext): Problem {
  const facts: Row[] = [
    ['role', `${ctx.roleArn} (from ${ctx.roleSource})`],
    ['region', ctx.region],
    ['session', `${ctx.sessionName}, ${ctx.durationSeconds} s (duration from ${ctx.durationSource})`],
    [error.code === NOT_STS_ANSWER ? 'answer' : 'AWS said', `${error.code}${error.status ? ` (HTTP ${error.status})` : ''}: ${redact(error.message)}`],
  ]
  const code = baseCode(error.code)
  const explained = error.code === NOT_STS_ANSWER && !error.timedOut ? notSts(error, ctx)
    : error.code === INVALID_STS_ANSWER ? invalidAnswer(error)
    : error.timedOut || isFault(code) ? explainFault(error)
    : findExplanation(code, error.message)?.explain(ctx) ?? unknown(error.code)
  return { ...explained, facts, claims: ctx.claims, origin: ctx.origin }
}

function explainFault (error: ExchangeError): Explained {
  const n = error.attempts.length
  const attempts = `${n} failed attempt${n === 1 ? '' : 's'}`
  const tally = summarizeAttempts(error.attempts)
  return {
    title: error.timedOut
      ? `Gave up on AWS STS after ${Math.round(error.elapsedMs / 1000)} s and ${attempts} (${tally})`
      : `AWS STS kept failing: ${n} attempt${n === 1 ? '' : 's'} failed (${tally})`,
    fix: [
      'These faults are usually passing: retry the job.',
      'If it keeps happening: check that the runner can reach sts.<region>.amazonaws.com (proxy, firewall, DNS),',
      'and https://status.aws.amazon.com. For throttling, spread out concurrent deploys (resource_group in .gitlab-ci.yml).',
      'The bound is `timeout` in @gitlab-oidc or ARC_OIDC_TIMEOUT (seconds, default 60).',
    ],
  }
}

/** Something between the runner and AWS answered (a proxy's page, a redirect, a cut-off body): never a trust-policy matter. */
function notSts (error: ExchangeError, ctx: ExchangeContext): Explained {
  const n = error.attempts.length
  return {
    title: `The answer to the STS request was not an STS answer: ${error.message.replace(/^not an STS answer: /, '')}${n > 1 ? `, after ${n} attempts` : ''}; nothing was assumed`,
    fix: [
      `Something between this runner and AWS STS answered instead of STS (a proxy, a gateway, a captive portal, or AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS pointing elsewhere).`,
      `Check that the runner reaches sts.${ctx.region}.amazonaws.com directly or through a proxy that passes it (HTTPS_PROXY, NO_PROXY), then retry the job.`,
    ],
  }
}

/** A success that does not check out (wrong role or account, an expiration in the past, keys of another shape): not used. */
function invalidAnswer (error: ExchangeError): Explained {
  return {
    title: `${error.message}; the credentials were not used`,
    fix: [
      'Whatever answered is not behaving as AWS STS: check AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS and any proxy between the runner and AWS.',
      'Against AWS itself this does not happen: retry the job, and report it if it persists.',
    ],
  }
}

function unknown (code: string): Explained {
  return {
    title: `AWS STS refused the exchange (${code})`,
    fix: ['See what AWS said above; check the role ARN and its trust policy.'],
  }
}

/** "3 × Throttling, 2 × HTTP 503". */
function summarizeAttempts (attempts: ExchangeError['attempts']): string {
  const counts = new Map<string, number>()
  for (const a of attempts) {
    const name = a.code === NOT_STS_ANSWER ? 'not an STS answer' : baseCode(a.code)
    const label = a.code === 'Timeout' ? 'overall time bound reached' : `${name}${a.status && (a.status >= 500 || a.code === NOT_STS_ANSWER) ? ` (HTTP ${a.status})` : ''}`
    counts.set(label, (counts.get(label) ?? 0) + 1)
  }
  return [...counts].map(([label, n]) => `${n} × ${label}`).join(', ') || 'no answer'
}
