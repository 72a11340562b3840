/**
 * Step 2b: the plugin's settings, from the `@gitlab-oidc` pragma and CI variables.
 * CI variables win over the manifest. Every value remembers where it came from, so a
 * bad value can be named by the setting the user has to fix.
 */
import type { Stage } from './detect.ts'
import { pragmaEntries, type Manifest } from './manifest.ts'

export const PRAGMA = 'gitlab-oidc'

export type Source =
  | { kind: 'variable'; name: string }
  | { kind: 'manifest'; name: string; file: string }
  | { kind: 'default'; name: string }

export interface Setting<T> { value: T; source: Source }

export interface Settings {
  stage: Stage
  /** The role for this stage, if any setting names one. */
  role?: Setting<string>
  /** The role each stage would use (for `doctor` and messages). */
  roles: Record<Stage, Setting<string> | undefined>
  tokenVariable?: Setting<string>
  duration: Setting<number>
  sessionName?: Setting<string>
  region: Setting<string>
  allowUnprotectedProduction: Setting<boolean>
  allowedAccounts?: Setting<string[]>
  /** Upper bound, in seconds, for the whole exchange including retries. */
  timeout: Setting<number>
  /** The manifest file the pragma was read from, if any. */
  manifestFile?: string
}

export const DEFAULTS = { duration: 3600, region: 'us-west-2', timeout: 60 }

/** The pragma's keys, and the CI variable that overrides each (first set wins). */
export const KEYS = {
  role: ['ARC_ROLE_ARN', 'AWS_ROLE_ARN'],
  'production-role': ['ARC_ROLE_ARN', 'AWS_ROLE_ARN'],
  'staging-role': ['ARC_ROLE_ARN', 'AWS_ROLE_ARN'],
  'token-variable': ['ARC_OIDC_TOKEN_VARIABLE'],
  duration: ['ARC_ROLE_DURATION'],
  'allow-unprotected-production': ['ARC_ALLOW_UNPROTECTED_PRODUCTION'],
  'allowed-accounts': ['ARC_ALLOWED_ACCOUNTS'],
  timeout: ['ARC_OIDC_TIMEOUT'],
} as const
export type Key = keyof typeof KEYS

export const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/
export const SESSION_NAME = /^[\w+=,.@-]{2,64}$/
export const ACCOUNT = /^\d{12}$/

export class SettingsError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(problems.join('\n'))
    this.problems = problems
  }
}

export function describeSource (source: Source): string {
  switch (source.kind) {
    case 'variable': return `CI variable ${source.name}`
    case 'manifest': return source.name.startsWith('@') ? `${source.name} (${source.file})` : `\`${source.name}\` in @${PRAGMA} (${source.file})`
    case 'default': return `default ${source.name}`
  }
}

/** The account ID in a role ARN, or undefined when the ARN is malformed. */
export function accountOf (roleArn: string): string | undefined {
  return ROLE_ARN.exec(roleArn)?.[1]
}

interface Inputs {
  env: NodeJS.ProcessEnv
  manifest: Manifest | undefined
  stage: Stage
}

export function resolveSettings ({ env, manifest, stage }: Inputs): Settings {
  const problems: string[] = []
  const entries = manifest ? pragmaEntries(manifest.arc, PRAGMA) : new Map<string, string[]>()
  const file = manifest?.file ?? 'app.arc'

  for (const key of entries.keys()) {
    if (!(key in KEYS)) problems.push(`Unknown setting \`${key}\` in @${PRAGMA} (${file}); known settings: ${Object.keys(KEYS).join(', ')}`)
  }

  const fromVariable = (names: readonly string[]): Setting<string> | undefined => {
    for (const name of names) {
      const value = env[name]?.trim()
      if (value) return { value, source: { kind: 'variable', name } }
    }
    return undefined
  }
  const fromManifest = (key: Key): Setting<string[]> | undefined => {
    const values = entries.get(key)
    if (!values) return undefined
    return { value: values, source: { kind: 'manifest', name: key, file } }
  }
  const single = (key: Key): Setting<string> | undefined => {
    const found = fromManifest(key)
    if (!found) return undefined
    if (found.value.length !== 1) {
      problems.push(`${describeSource(found.source)} takes exactly one value, got ${found.value.length}`)
      return undefined
    }
    return { value: found.value[0] as string, source: found.source }
  }
  const pick = (key: Key): Setting<string> | undefined => fromVariable(KEYS[key]) ?? single(key)

  // Roles: a CI variable wins; then the stage's own role; then the shared `role`.
  const roleVariable = fromVariable(KEYS.role)
  const sharedRole = single('role')
  const roles: Record<Stage, Setting<string> | undefined> = {
    production: roleVariable ?? single('production-role') ?? sharedRole,
    staging: roleVariable ?? single('staging-role') ?? sharedRole,
  }
  for (const candidate of new Set([roles.production, roles.staging])) {
    if (candidate && !ROLE_ARN.test(candidate.value)) {
      problems.push(`${describeSource(candidate.source)} is not an IAM role ARN: "${candidate.value}" (expected arn:aws:iam::<12-digit account>:role/<name>)`)
    }
  }

  const tokenVariable = pick('token-variable')
  if (tokenVariable && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenVariable.value)) {
    problems.push(`${describeSource(tokenVariable.source)} is not a variable name: "${tokenVariable.value}"`)
  }

  const integer = (key: Key, fallback: number, min: number, max: number): Setting<number> => {
    const found = pick(key)
    if (!found) return { value: fallback, source: { kind: 'default', name: String(fallback) } }
    const value = Number(found.value)
    if (!/^\d+$/.test(found.value) || value < min || value > max) {
      problems.push(`${describeSource(found.source)} must be a whole number of seconds from ${min} to ${max}, got "${found.value}"`)
      return { value: fallback, source: found.source }
    }
    return { value, source: found.source }
  }
  const duration = integer('duration', DEFAULTS.duration, 900, 43200)
  const timeout = integer('timeout', DEFAULTS.timeout, 5, 900)

  const sessionName = fromVariable(['ARC_ROLE_SESSION_NAME', 'AWS_ROLE_SESSION_NAME'])
  if (sessionName && !SESSION_NAME.test(sessionName.value)) {
    problems.push(`${describeSource(sessionName.source)} is not a valid STS session name: "${sessionName.value}" (2 to 64 characters of letters, digits and _+=,.@-)`)
  }

  const flag = pick('allow-unprotected-production')
  let allowUnprotectedProduction: Setting<boolean> = { value: false, source: { kind: 'default', name: 'false' } }
  if (flag) {
    if (flag.value !== 'true' && flag.value !== 'false') problems.push(`${describeSource(flag.source)} must be true or false, got "${flag.value}"`)
    allowUnprotectedProduction = { value: flag.value === 'true', source: flag.source }
  }

  let allowedAccounts: Setting<string[]> | undefined
  const accountsVariable = fromVariable(KEYS['allowed-accounts'])
  const accountsManifest = fromManifest('allowed-accounts')
  if (accountsVariable) {
    allowedAccounts = { value: accountsVariable.value.split(/[\s,]+/).filter(Boolean), source: accountsVariable.source }
  }
  else if (accountsManifest) {
    // The .arc parser turns 012345678901 into a number and drops the leading zero: put it back.
    allowedAccounts = { value: accountsManifest.value.map(a => /^\d{1,11}$/.test(a) ? a.padStart(12, '0') : a), source: accountsManifest.source }
  }
  if (allowedAccounts) {
    const bad = allowedAccounts.value.filter(a => !ACCOUNT.test(a))
    if (bad.length || !allowedAccounts.value.length) {
      problems.push(`${describeSource(allowedAccounts.source)} must list 12-digit AWS account IDs, got "${bad.join(' ') || '(nothing)'}"`)
    }
  }

  const region = regionSetting(env, manifest)
  if (problems.length) throw new SettingsError(problems)

  const role = roles[stage]
  return {
    stage,
    ...(role ? { role } : {}),
    roles,
    ...(tokenVariable ? { tokenVariable } : {}),
    duration,
    ...(sessionName ? { sessionName } : {}),
    region,
    allowUnprotectedProduction,
    ...(allowedAccounts ? { allowedAccounts } : {}),
    timeout,
    ...(manifest ? { manifestFile: manifest.file } : {}),
  }
}

/** `@aws region` in the manifest, else AWS_REGION, AWS_DEFAULT_REGION, us-west-2 (Architect's default). */
function regionSetting (env: NodeJS.ProcessEnv, manifest: Manifest | undefined): Setting<string> {
  const fromArc = manifest ? pragmaEntries(manifest.arc, 'aws').get('region')?.[0] : undefined
  if (fromArc && manifest) return { value: fromArc, source: { kind: 'manifest', name: '@aws region', file: manifest.file } }
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION']) {
    const value = env[name]?.trim()
    if (value) return { value, source: { kind: 'variable', name } }
  }
  return { value: DEFAULTS.region, source: { kind: 'default', name: DEFAULTS.region } }
}
