/**
 * The plugin's work while Architect loads it: the preflight (preflight.ts: stage, settings,
 * token, claims, guards, session, request), then the exchange, then the credentials into
 * process.env (handover.ts), each step reported in Architect's style. `doctor` runs the same
 * preflight and exchange.
 *
 * Everything the steps need from the world (env, argv, cwd, the clock, output, the exchange
 * itself) comes in as arguments, so every path can be tested without touching globals.
 */
import type { Invocation, Stage } from './detect.ts'
import { exchange, preflight, type Send } from './preflight.ts'
import { handOver } from './handover.ts'
import { proxiesOf, proxyEnvOf, proxyFor, routeAgentsThroughProxy, shownProxy, supportsProxyEnv } from './proxy.ts'
import { stsEndpoint } from './warnings.ts'
import type { Settings } from './settings.ts'
import { describeSource } from '../shared/setting-source.ts'
import type { Claims, Origin } from '../shared/id-token.ts'
import { PluginError } from '../shared/problem.ts'
import { keptSecrets, scrubbing } from '../shared/redact.ts'
import { status, warning } from '../report/format.ts'

export interface Io {
  env: NodeJS.ProcessEnv
  cwd: string
  now: () => Date
  /** Status lines (stdout, like Architect's own). */
  out: (text: string) => void
  /** Warnings. */
  err: (text: string) => void
  /** The exchange; the real one talks to STS through the AWS SDK. */
  exchange?: Send
}

export type Outcome =
  | { kind: 'idle', reason: string }
  | { kind: 'existing-credentials', stage: Stage, settings: Settings }
  | {
    kind: 'assumed'
    /** Where the token came from: a GitLab job, or AWS's standard web-identity variables. */
    origin: Origin
    stage: Stage
    roleArn: string
    assumedRoleArn: string
    sessionName: string
    expiration: Date
    claims: Claims
    settings: Settings
  }

/**
 * Runs the exchange if this job needs one. Throws PluginError with the one message to show.
 * Whatever it prints or throws has the job's token (whatever its shape, wherever it was read
 * from) and every secret of the environment scrubbed out (src/shared/redact.ts).
 */
export async function activate (invocation: Invocation, io: Io): Promise<Outcome> {
  // The environment's secrets are found once; the token is added when it is found.
  const kept = keptSecrets(io.env)
  const secrets = kept.list
  const out = scrubbing(io.out, secrets), err = scrubbing(io.err, secrets)
  try {
    const result = await preflight(invocation, io)
    switch (result.kind) {
      case 'idle': return result
      case 'refused':
        kept.add(result.seen.found?.token)
        throw new PluginError(result.problem)
      case 'existing-credentials':
        proxyArchitect(io.env)
        out(status(`No role configured for ${result.choice.stage}: using the AWS credentials already in this job`))
        return { kind: 'existing-credentials', stage: result.choice.stage, settings: result.settings }
    }
    const { plan } = result
    kept.add(plan.found.token)
    const proxy = proxyArchitect(io.env) ? proxyFor(new URL(stsEndpoint(plan.request)), proxiesOf(io.env)) : undefined
    out(status(`Assuming ${plan.role.value} for ${plan.choice.stage}`, [
      ['role from', describeSource(plan.role.source)],
      ['token from', plan.found.source],
      ['subject', plan.claims.sub ?? '?'],
      ...(proxy ? [['proxy', `${shownProxy(proxy.value)} (${proxy.variable})`] as [string, string]] : []),
    ]))
    if (plan.found.legacy) err(warning('CI_JOB_JWT_V2 was removed in GitLab 17.0: declare an ID token with id_tokens: instead.'))
    for (const notice of plan.warnings) err(warning(notice.title, notice.lines))
    const creds = await exchange(plan, io.exchange)
    handOver(io.env, creds, plan.sessionName, { out, err })
    return {
      kind: 'assumed',
      origin: plan.origin,
      stage: plan.choice.stage,
      roleArn: plan.role.value,
      assumedRoleArn: creds.assumedRoleArn,
      sessionName: plan.sessionName,
      expiration: creds.expiration,
      claims: plan.claims,
      settings: plan.settings,
    }
  }
  catch (error) {
    if (error instanceof PluginError) error.problem.secrets = secrets()
    throw error
  }
}

/** Architect's own calls through the job's proxy too (plugin/proxy.ts); whether a proxy is in use. */
function proxyArchitect (env: NodeJS.ProcessEnv): boolean {
  return supportsProxyEnv() && routeAgentsThroughProxy(proxyEnvOf(proxiesOf(env)))
}
