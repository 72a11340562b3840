/**
 * The one answer to "what would the plugin do in this job?": `preflight` reads the stage (as
 * Architect parses the command), the settings, the token and its claims, runs every guard, and
 * names the session and the exchange request; it returns a plan, or the refusal with what it had
 * learnt by then. `exchange` sends a plan's request to STS, and explains a refusal.
 *
 * `arc` (activate.ts, while Architect loads the plugin) and `arc-gitlab-oidc doctor` both call
 * these two functions, so doctor refuses exactly what a deploy refuses, with the same message.
 * Everything from the world (env, cwd, the clock, the exchange itself) is passed in.
 */
import type { Invocation, Stage } from './detect.ts'
import { hasOtherCredentials } from './handover.ts'
import { ManifestError, readManifest } from './manifest.ts'
import { SettingsError, resolveSettings, type Settings } from './settings.ts'
import { chooseStage, type StageChoice } from './stage.ts'
import { TokenError, checkClaims, decodeToken, findToken, findWebIdentityToken, readTokenFile, type FoundToken } from './token.ts'
import { runGuards } from './guards.ts'
import { architectEngines, lowestMajor, satisfies } from './engines.ts'
import { runWarnings, type Notice } from './warnings.ts'
import { proxiesOf, proxyEnvOf, supportsProxyEnv } from './proxy.ts'
import { REFUSALS, type RefusalName } from './refusals.ts'
import type { IssuedCredentials } from './exchange.ts'
import { describeSource, type Setting } from '../shared/setting-source.ts'
import { DEFAULT_TOKEN_VARIABLE, audiences, type Claims, type Origin } from '../shared/id-token.ts'
import { PluginError, type Problem } from '../shared/problem.ts'
import { ExchangeError, type ExchangeContext, type ExchangeRequest } from '../shared/sts.ts'
import { DEFAULT_PARTITION, isIamArn, looseArnParts, parseRoleArn } from '../iam/arns.ts'

export interface World {
  env: NodeJS.ProcessEnv
  cwd: string
  now: () => Date
  /** doctor's --token-file: the token is read from this file, the job's variables are not consulted. */
  tokenFile?: string
  /** The Node.js running `arc` (default this process's). */
  nodeVersion?: string
}

/** Everything an exchange needs, checked. */
export interface Plan {
  origin: Origin
  choice: StageChoice
  settings: Settings
  role: Setting<string>
  found: FoundToken
  claims: Claims
  sessionName: string
  request: ExchangeRequest
  /** What an STS failure is explained with. */
  context: ExchangeContext
  /** What the job should know, though nothing stops it (warnings.ts): `arc` and doctor print them. */
  warnings: Notice[]
}

/** What the preflight had learnt when it stopped (doctor shows it next to the refusal). */
export interface Seen {
  origin?: Origin
  choice?: StageChoice
  settings?: Settings
  found?: FoundToken
  claims?: Claims
}

export type Preflight =
  | { kind: 'idle', reason: string }
  | { kind: 'existing-credentials', choice: StageChoice, settings: Settings, seen: Seen }
  | { kind: 'plan', plan: Plan }
  | { kind: 'refused', refusal: RefusalName, problem: Problem, seen: Seen }

/** A refusal on its way out of the steps below. */
class Refused extends Error {
  readonly refusal: RefusalName
  readonly problem: Problem
  constructor (refusal: RefusalName, problem: Problem) {
    super(problem.title)
    this.refusal = refusal
    this.problem = problem
  }
}

export async function preflight (invocation: Invocation, world: World): Promise<Preflight> {
  if (!invocation.gitlab && !invocation.webIdentity) return { kind: 'idle', reason: 'not a GitLab job' }
  if (!invocation.awsBound) return { kind: 'idle', reason: `\`${invocation.command ?? 'arc'}\` does not talk to AWS` }
  const seen: Seen = { origin: invocation.gitlab ? 'gitlab' : 'web-identity' }
  try { return await steps(invocation, world, seen) }
  catch (err) {
    if (err instanceof Refused) return { kind: 'refused', refusal: err.refusal, problem: err.problem, seen }
    throw err
  }
}

async function steps (invocation: Invocation, world: World, seen: Seen): Promise<Preflight> {
  const { env } = world
  const origin = seen.origin!
  nodeFirst(world)
  const choice = seen.choice = chooseStage(invocation, env)
  if (choice.bareProduction) throw new Refused('bareProduction', REFUSALS.bareProduction({ command: invocation.command ?? 'deploy', args: invocation.args }))
  const settings = seen.settings = settingsFor(world, choice, origin)
  const found = tokenFor(world, settings, origin)
  if (found) seen.found = found

  const role = settings.role
  if (!role) {
    if (invocation.loader === 'script') return { kind: 'idle', reason: 'no role configured' }
    if (hasOtherCredentials(env)) return { kind: 'existing-credentials', choice, settings, seen }
    throw new Refused('noRole', REFUSALS.noRole(settings, found !== undefined))
  }
  if (!found) throw new Refused('noToken', REFUSALS.noToken(settings, env, role))

  const now = world.now()
  const claims = seen.claims = claimsOf(found, origin)
  const problems = checkClaims(claims, now)
  if (problems.length) throw new Refused('unusableToken', REFUSALS.unusableToken({ problems, found, claims, now, origin }))
  const refused = runGuards({ settings, role, claims, choice, env, origin })
  if (refused) throw new Refused(refused.guard, refused.problem)

  const sessionName = settings.sessionName?.value ?? (origin === 'gitlab' ? defaultSessionName(claims, env) : webIdentitySessionName(now))
  const request = exchangeRequest(found.token, role.value, sessionName, settings, env)
  return {
    kind: 'plan',
    plan: {
      origin, choice, settings, role, found, claims, sessionName,
      request,
      context: exchangeContext({ role, settings, sessionName, claims, found, origin, stage: choice.stage }),
      warnings: runWarnings({ settings, role, env, origin, request }),
    },
  }
}

/** Node first: a Node older than the installed Architect's engines is refused before anything else. */
function nodeFirst ({ cwd, nodeVersion = process.versions.node }: World): void {
  const engines = architectEngines(cwd)
  if (engines && satisfies(nodeVersion, engines.range) === false) {
    throw new Refused('nodeTooOld', REFUSALS.nodeTooOld({ node: nodeVersion, architect: engines.version, range: engines.range, major: lowestMajor(engines.range) }))
  }
}

/** The settings for this stage, from the app's manifest and the variables. */
function settingsFor ({ env, cwd }: World, choice: StageChoice, origin: Origin): Settings {
  try { return resolveSettings({ env, manifest: readManifest(cwd), stage: choice.stage }) }
  catch (err) {
    if (err instanceof ManifestError) throw new Refused('manifest', REFUSALS.manifest(err))
    if (err instanceof SettingsError) throw new Refused('settings', REFUSALS.settings(err, origin))
    throw err
  }
}

/** doctor's --token-file; in a GitLab job, the job's ID token (several places); elsewhere, AWS_WEB_IDENTITY_TOKEN_FILE only. */
function tokenFor ({ env, tokenFile }: World, settings: Settings, origin: Origin): FoundToken | undefined {
  try {
    if (tokenFile !== undefined) return readTokenFile(tokenFile, '--token-file')
    return origin === 'gitlab' ? findToken(env, settings.tokenVariable) : findWebIdentityToken(env)
  }
  catch (err) {
    if (err instanceof TokenError) throw new Refused('unreadableToken', REFUSALS.unreadableToken(err, origin, tokenFile !== undefined))
    throw err
  }
}

/** The token's claims (a JWT's; the caller checks that AWS could accept them). */
function claimsOf (found: FoundToken, origin: Origin): Claims {
  try { return decodeToken(found.token, found.source) }
  catch (err) {
    if (err instanceof TokenError) throw new Refused('notAJwt', REFUSALS.notAJwt(err, found, origin))
    throw err
  }
}

/** The STS session name (CloudTrail shows it as "who"): `gitlab-<project id>-<pipeline id>-<job id>`, reduced to STS's [\w+=,.@-]{2,64}. */
export function defaultSessionName (claims: Claims, env: NodeJS.ProcessEnv): string {
  const pick = (claim: unknown, variable: string | undefined) => (typeof claim === 'string' || typeof claim === 'number') ? String(claim) : variable
  const parts = [
    pick(claims.project_id, env.CI_PROJECT_ID),
    pick(claims.pipeline_id, env.CI_PIPELINE_ID),
    pick(claims.job_id, env.CI_JOB_ID),
  ].filter((p): p is string => Boolean(p))
  return toSessionName(['gitlab', ...parts].join('-'))
}

export function toSessionName (raw: string): string {
  const cleaned = raw.replace(/[^\w+=,.@-]+/g, '-').slice(0, 64)
  return cleaned.length >= 2 ? cleaned : 'gitlab-job'
}

/** Outside GitLab, without AWS_ROLE_SESSION_NAME: a name that says where the session came from, and when. */
export function webIdentitySessionName (now: Date): string {
  return `arc-web-identity-${Math.floor(now.getTime() / 1000)}`
}

/** The request the exchange sends: the SDK's endpoint variables, AWS_MAX_ATTEMPTS and the job's proxy honoured. */
export function exchangeRequest (
  token: string, roleArn: string, sessionName: string, settings: Settings, env: NodeJS.ProcessEnv,
): ExchangeRequest {
  const endpoint = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL || undefined
  const proxyEnv = supportsProxyEnv() ? proxyEnvOf(proxiesOf(env)) : undefined
  return {
    token,
    roleArn,
    sessionName,
    durationSeconds: settings.duration.value,
    region: settings.region.value,
    timeoutMs: settings.timeout.value * 1000,
    maxAttempts: maxAttempts(env),
    ...(endpoint ? { endpoint } : {}),
    ...(proxyEnv ? { proxyEnv } : {}),
  }
}

/** AWS_MAX_ATTEMPTS (the SDK's own setting) when valid, else 5. */
export function maxAttempts (env: NodeJS.ProcessEnv): number {
  const n = Number(env.AWS_MAX_ATTEMPTS)
  return Number.isInteger(n) && n >= 1 && n <= 20 ? n : 5
}

interface ContextInputs {
  role: Setting<string>
  settings: Settings
  sessionName: string
  claims: Claims
  found: FoundToken
  origin: Origin
  stage: Stage
}

/** What an STS failure is explained with, worked out once; the claims without user_email. */
export function exchangeContext ({ role, settings, sessionName, claims: all, found, origin, stage }: ContextInputs): ExchangeContext {
  const { user_email: _email, ...claims } = all
  const roleName = role.value.split('/').pop() || '<role>'
  const { partition = DEFAULT_PARTITION, account = '<account>' } = isIamArn(role.value, 'role') ? parseRoleArn(role.value) : looseArnParts(role.value)
  return {
    roleArn: role.value,
    roleSource: describeSource(role.source),
    partition,
    account,
    roleName,
    sessionName,
    durationSeconds: settings.duration.value,
    durationSource: describeSource(settings.duration.source),
    region: settings.region.value,
    claims,
    issuer: claims.iss,
    issuerHost: (claims.iss ?? '').replace(/^https?:\/\//, '').replace(/\/$/, ''),
    audiences: audiences(claims),
    tokenSource: found.source,
    tokenVariable: found.variable ?? DEFAULT_TOKEN_VARIABLE,
    origin,
    stage,
  }
}

/** The SDK's AssumeRoleWithWebIdentity, or a stand-in for it (tests). */
export type Send = (request: ExchangeRequest) => Promise<IssuedCredentials>

/** Sends the plan's request; a refusal or fault becomes the PluginError explaining it. */
export async function exchange (plan: Plan, send?: Send): Promise<IssuedCredentials> {
  // The SDK is loaded here, once every check has passed.
  const run = send ?? (await import('./exchange.ts')).assumeRole
  try { return await run(plan.request) }
  catch (err) {
    if (!(err instanceof ExchangeError)) throw err
    // Explaining loads the messages and the trust-policy builder: only when there is something to explain.
    const { explainExchange } = await import('../report/explain.ts')
    throw new PluginError(explainExchange(err, plan.context))
  }
}
