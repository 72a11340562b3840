/**
 * The plugin's work while Architect loads it, one step after the other:
 * detect the job → read settings → read and check the token → guards → exchange → process.env → report.
 *
 * Everything the steps need from the world (env, argv, cwd, the clock, output, the exchange
 * itself) comes in as arguments, so every path can be tested without touching globals.
 */
import type { Invocation, Stage } from './detect.ts'
import type { ExchangeRequest, IssuedCredentials } from './exchange.ts'
import { ExchangeError } from './sts-errors.ts'
import { bareProduction, runGuards } from './guards.ts'
import { handOver, hasOtherCredentials } from './handover.ts'
import { ManifestError } from './manifest.ts'
import { PluginError, status, warning } from '../report/format.ts'
import { SettingsError, describeSource, type Setting, type Settings } from './settings.ts'
import { chooseStage, type StageChoice } from './stage.ts'
import { exchangeContext, exchangeRequest, findTokenFor, readSettings, sessionNameFor } from './steps.ts'
import { scrubbing, secretsOf } from '../shared/redact.ts'
import type { Origin } from '../shared/origin.ts'
import { TokenError, checkClaims, decodeToken, type FoundToken } from './token.ts'
import type { Claims } from '../shared/claims.ts'

export interface Io {
  env: NodeJS.ProcessEnv
  cwd: string
  now: () => Date
  /** Status lines (stdout, like Architect's own). */
  out: (text: string) => void
  /** Warnings. */
  err: (text: string) => void
  /** The exchange; the real one talks to STS through the AWS SDK. */
  exchange?: (request: ExchangeRequest) => Promise<IssuedCredentials>
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
  let token: string | undefined
  const secrets = () => secretsOf(io.env, [token])
  const safe: Io = { ...io, out: scrubbing(io.out, secrets), err: scrubbing(io.err, secrets) }
  try {
    return await steps(invocation, safe, found => { token = found.token })
  }
  catch (err) {
    if (err instanceof PluginError) err.problem.secrets = secrets()
    throw err
  }
}

async function steps (invocation: Invocation, io: Io, tokenFound: (found: FoundToken) => void): Promise<Outcome> {
  const { env, now } = io
  if (!invocation.gitlab && !invocation.webIdentity) return { kind: 'idle', reason: 'not a GitLab job' }
  if (!invocation.awsBound) return { kind: 'idle', reason: `\`${invocation.command ?? 'arc'}\` does not talk to AWS` }
  const origin: Origin = invocation.gitlab ? 'gitlab' : 'web-identity'

  const choice = chooseStage(invocation, env)
  bareProduction(invocation, choice)
  const settings = await settingsFor(env, io.cwd, choice, origin)
  const found = tokenFor(env, settings, origin)
  if (found) tokenFound(found)

  const role = settings.role
  if (!role) {
    if (invocation.loader === 'script') return { kind: 'idle', reason: 'no role configured' }
    if (hasOtherCredentials(env)) {
      io.out(status(`No role configured for ${choice.stage}: using the AWS credentials already in this job`))
      return { kind: 'existing-credentials', stage: choice.stage, settings }
    }
    throw new PluginError((await import('./problems.ts')).noRole(settings, found !== undefined))
  }
  if (!found) throw new PluginError((await import('./problems.ts')).noToken(settings, env, role.value))

  const claims = claimsOf(found, now(), origin)
  runGuards({ settings, role, claims, choice, env, origin })

  const sessionName = sessionNameFor(settings, claims, env, origin, now())
  io.out(status(`Assuming ${role.value} for ${choice.stage}`, [
    ['role from', describeSource(role.source)],
    ['token from', found.source],
    ['subject', claims.sub ?? '?'],
  ]))
  if (found.legacy) io.err(warning('CI_JOB_JWT_V2 was removed in GitLab 17.0: declare an ID token with id_tokens: instead.'))

  const creds = await exchangeFor({ found, role, settings, sessionName, claims, env, origin }, io.exchange)
  handOver(env, creds, sessionName, io)
  return {
    kind: 'assumed',
    origin,
    stage: choice.stage,
    roleArn: role.value,
    assumedRoleArn: creds.assumedRoleArn,
    sessionName,
    expiration: creds.expiration,
    claims,
    settings,
  }
}

async function settingsFor (env: NodeJS.ProcessEnv, cwd: string, choice: StageChoice, origin: Origin): Promise<Settings> {
  try {
    return readSettings(env, cwd, choice.stage)
  }
  catch (err) {
    if (err instanceof SettingsError || err instanceof ManifestError) throw new PluginError((await import('./problems.ts')).settingsProblem(err, origin))
    throw err
  }
}

/** The token for this origin (steps.ts); an unreadable one is the message to show. */
function tokenFor (env: NodeJS.ProcessEnv, settings: Settings, origin: Origin): FoundToken | undefined {
  try { return findTokenFor(env, settings, origin) }
  catch (err) {
    if (err instanceof TokenError) {
      throw new PluginError({
        title: err.message,
        fix: err.fix ?? (origin === 'gitlab'
          ? ['Point AWS_WEB_IDENTITY_TOKEN_FILE at a readable file holding the ID token, or unset it.']
          : ['Point AWS_WEB_IDENTITY_TOKEN_FILE at a readable file holding the OIDC token your platform issues (write it there before `arc` runs),', 'or unset AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN to use other credentials.']),
      })
    }
    throw err
  }
}

/** The token's claims, if AWS could accept it: a JWT, not expired, not early, with an audience. */
function claimsOf (found: FoundToken, now: Date, origin: Origin): Claims {
  const gitlab = origin === 'gitlab'
  let claims: Claims
  try { claims = decodeToken(found.token, found.source) }
  catch (err) {
    if (err instanceof TokenError) {
      throw new PluginError({
        title: err.message,
        facts: [['token from', found.source]],
        fix: [gitlab
          ? `${found.source} must hold the job's ID token as GitLab issues it (declare it under id_tokens: and don't modify it).`
          : `${found.source} must hold the OIDC token exactly as your platform issued it (a JWT).`],
      })
    }
    throw err
  }
  const problems = checkClaims(claims, now)
  if (problems.length) {
    throw new PluginError({
      title: `The ID token cannot be used: ${problems.join('; ')}`,
      facts: [['token from', found.source], ['checked at', now.toISOString()]],
      claims,
      origin,
      fix: gitlab
        ? [
          'Use the token GitLab issues to this job: declare it under id_tokens: with an aud, and deploy in the job that received it.',
          'A token from another job, or one that waited past its expiry, cannot be used.',
        ]
        : [
          'Write a fresh token to the file before `arc` runs (platforms refresh it: read it late, not at the start of a long job),',
          'with an audience (aud) that the IAM OIDC provider accepts; check this machine\'s clock too.',
        ],
    })
  }
  return claims
}

interface ExchangeInputs {
  found: FoundToken
  role: Setting<string>
  settings: Settings
  sessionName: string
  claims: Claims
  env: NodeJS.ProcessEnv
  origin: Origin
}

/** AssumeRoleWithWebIdentity; a refusal or fault becomes the message explaining it. */
async function exchangeFor (inputs: ExchangeInputs, injected: Io['exchange']): Promise<IssuedCredentials> {
  const { found, role, settings, sessionName, env } = inputs
  // The SDK is loaded here, once every check has passed.
  const run = injected ?? (await import('./exchange.ts')).exchange
  try { return await run(exchangeRequest(found.token, role.value, sessionName, settings, env)) }
  catch (err) {
    if (!(err instanceof ExchangeError)) throw err
    // Explaining loads the messages and the trust-policy builder: only when there is something to explain.
    const { explainExchange } = await import('../report/explain.ts')
    const problem = explainExchange(err, exchangeContext(inputs))
    throw new PluginError(problem)
  }
}
