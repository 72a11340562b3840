/**
 * The steps the load-time flow (activate.ts) and `arc-gitlab-oidc doctor` share, so the two
 * cannot drift: reading the settings, finding the token (by origin), the session name, the
 * exchange request and the context a refusal is explained with.
 */
import type { Stage } from './detect.ts'
import { readManifest } from './manifest.ts'
import { defaultSessionName, webIdentitySessionName } from './session.ts'
import { describeSource, resolveSettings, type Setting, type Settings } from './settings.ts'
import { findToken, findWebIdentityToken, type FoundToken } from './token.ts'
import type { Claims } from '../shared/claims.ts'
import type { ExchangeRequest } from '../shared/exchange-request.ts'
import type { Origin } from '../shared/origin.ts'
import type { ExchangeContext } from '../report/explain.ts'

/** The settings for this stage, from the app's manifest and the variables (throws SettingsError or ManifestError). */
export function readSettings (env: NodeJS.ProcessEnv, cwd: string, stage: Stage): Settings {
  return resolveSettings({ env, manifest: readManifest(cwd), stage })
}

/** In a GitLab job: the job's ID token (several places); elsewhere: AWS_WEB_IDENTITY_TOKEN_FILE only (throws TokenError). */
export function findTokenFor (env: NodeJS.ProcessEnv, settings: Settings, origin: Origin): FoundToken | undefined {
  return origin === 'gitlab' ? findToken(env, settings.tokenVariable) : findWebIdentityToken(env)
}

/** AWS_ROLE_SESSION_NAME / ARC_ROLE_SESSION_NAME; else the GitLab job's ids, or a dated name elsewhere. */
export function sessionNameFor (settings: Settings, claims: Claims, env: NodeJS.ProcessEnv, origin: Origin, now: Date): string {
  return settings.sessionName?.value ?? (origin === 'gitlab' ? defaultSessionName(claims, env) : webIdentitySessionName(now))
}

/** The request the exchange sends: the SDK's endpoint variables and AWS_MAX_ATTEMPTS honoured. */
export function exchangeRequest (
  token: string, roleArn: string, sessionName: string, settings: Settings, env: NodeJS.ProcessEnv,
): ExchangeRequest {
  const endpoint = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL || undefined
  return {
    token,
    roleArn,
    sessionName,
    durationSeconds: settings.duration.value,
    region: settings.region.value,
    timeoutMs: settings.timeout.value * 1000,
    maxAttempts: maxAttempts(env),
    ...(endpoint ? { endpoint } : {}),
  }
}

/** AWS_MAX_ATTEMPTS (the SDK's own setting) when valid, else 5. */
export function maxAttempts (env: NodeJS.ProcessEnv): number {
  const n = Number(env.AWS_MAX_ATTEMPTS)
  return Number.isInteger(n) && n >= 1 && n <= 20 ? n : 5
}

export interface ContextInputs {
  found: FoundToken
  role: Setting<string>
  settings: Settings
  sessionName: string
  claims: Claims
  origin: Origin
}

/** What an STS refusal is explained with (report/explain.ts). */
export function exchangeContext ({ found, role, settings, sessionName, claims, origin }: ContextInputs): ExchangeContext {
  return {
    roleArn: role.value,
    roleSource: describeSource(role.source),
    sessionName,
    durationSeconds: settings.duration.value,
    durationSource: describeSource(settings.duration.source),
    region: settings.region.value,
    claims,
    tokenSource: found.source,
    ...(found.variable ? { tokenVariable: found.variable } : {}),
    origin,
  }
}
