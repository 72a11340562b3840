/**
 * Step 2b: the plugin's settings, from the `@gitlab-oidc` pragma and CI variables.
 * CI variables win over the manifest. Every value remembers where it came from, so a
 * bad value can be named by the setting the user has to fix.
 */
import type { Stage } from './detect.ts'
import { pragmaEntries, type Manifest } from './manifest.ts'
import { SettingReader, notA } from './setting-sources.ts'
import { PRAGMA, describeSource, type Setting, type Source } from '../shared/setting-source.ts'
import { bare, looksLikeJwt, ownString, shown } from '../shared/redact.ts'
import { accountOf, isAccountId, isIamArn } from '../iam/arns.ts'
import { DEFAULT_TOKEN_VARIABLE } from '../shared/id-token.ts'

export interface Settings {
  stage: Stage
  /** The role for this stage, if any setting names one. */
  role?: Setting<string>
  /** The role each stage would use (for `doctor` and messages). */
  roles: Record<Stage, Setting<string> | undefined>
  /** The permissions boundary for this stage's roles, if any setting names one. */
  boundary?: Setting<string>
  boundaries: Record<Stage, Setting<string> | undefined>
  tokenVariable?: Setting<string>
  duration: Setting<number>
  sessionName?: Setting<string>
  region: Setting<string>
  allowUnprotectedProduction: Setting<boolean>
  /** Refuse a job whose GitLab deployment tier contradicts the stage. */
  environmentCheck: Setting<boolean>
  allowedAccounts?: Setting<string[]>
  /** Upper bound, in seconds, for the whole exchange including retries. */
  timeout: Setting<number>
  /** Reports written after a deploy in a GitLab job, relative to the app. */
  dotenvReport: Setting<string>
  annotationsReport: Setting<string>
  /** `iam-parameters`: Name=value pairs the IAM stack was deployed with, beyond setup's own. */
  iamParameters?: Setting<string[]>
  /** The manifest file the pragma was read from, if any. */
  manifestFile?: string
}

export const DEFAULTS = { duration: 3600, region: 'us-west-2', timeout: 60, dotenvReport: 'arc-deploy.env', annotationsReport: 'arc-deploy-annotations.json' }

/** The pragma's keys, and the CI variables that override each (first set wins). */
export const KEYS = {
  role: ['ARC_ROLE_ARN', 'AWS_ROLE_ARN'],
  'production-role': ['ARC_ROLE_ARN', 'AWS_ROLE_ARN'],
  'staging-role': ['ARC_ROLE_ARN', 'AWS_ROLE_ARN'],
  'permissions-boundary': ['ARC_PERMISSIONS_BOUNDARY'],
  'production-permissions-boundary': ['ARC_PERMISSIONS_BOUNDARY'],
  'staging-permissions-boundary': ['ARC_PERMISSIONS_BOUNDARY'],
  'token-variable': ['ARC_OIDC_TOKEN_VARIABLE'],
  duration: ['ARC_ROLE_DURATION'],
  'allow-unprotected-production': ['ARC_ALLOW_UNPROTECTED_PRODUCTION'],
  'environment-check': ['ARC_ENVIRONMENT_CHECK'],
  'allowed-accounts': ['ARC_ALLOWED_ACCOUNTS'],
  timeout: ['ARC_OIDC_TIMEOUT'],
  'dotenv-report': ['ARC_DEPLOY_DOTENV'],
  'annotations-report': ['ARC_DEPLOY_ANNOTATIONS'],
  // The IAM template's parameters beyond what setup computes from the manifest (Name=value ...):
  // setup prints them, the deploy's template check assumes them. No CI variable: one source.
  'iam-parameters': [],
} as const
export type Key = keyof typeof KEYS

export const SESSION_NAME = /^[\w+=,.@-]{2,64}$/
/** An AWS region name (us-west-2, us-gov-west-1, cn-north-1, eu-isoe-west-1...), checked before the SDK sees it. */
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/

export class SettingsError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(problems.join('\n'))
    this.problems = problems
  }

  /** Where the bad values are: CI variables, the manifest, or both. */
  get where (): 'variables' | 'manifest' | 'both' {
    const variables = this.problems.filter(p => p.startsWith('CI variable')).length
    return variables === this.problems.length ? 'variables' : variables ? 'both' : 'manifest'
  }
}

interface Inputs {
  env: NodeJS.ProcessEnv
  manifest: Manifest | undefined
  stage: Stage
}

export function resolveSettings ({ env, manifest, stage }: Inputs): Settings {
  const read = new SettingReader(env, manifest)
  const problems = read.problems
  for (const key of read.entries.keys()) {
    if (Object.hasOwn(KEYS, key)) continue
    const close = nearest(key, Object.keys(KEYS))
    problems.push(`Unknown setting \`${bare(key)}\` in @${PRAGMA} (${read.file})${close ? `: did you mean \`${close}\`?` : ''}; known settings: ${Object.keys(KEYS).join(', ')}`)
  }
  const pick = (key: Key) => read.pick(key, KEYS[key])

  const roles = perStage(read, 'role', KEYS.role)
  for (const candidate of new Set([roles.production, roles.staging])) {
    if (candidate && !isIamArn(candidate.value, 'role')) problems.push(notA(candidate, 'an IAM role ARN', 'arn:aws:iam::<12-digit account>:role/<name>'))
  }
  const boundaries = perStage(read, 'permissions-boundary', KEYS['permissions-boundary'])
  for (const candidate of new Set([boundaries.production, boundaries.staging])) {
    if (candidate && !isIamArn(candidate.value, 'policy')) problems.push(notA(candidate, 'an IAM managed policy ARN', 'arn:aws:iam::<12-digit account>:policy/<path/name>'))
  }
  for (const s of ['production', 'staging'] as const) {
    const role = roles[s], boundary = boundaries[s]
    // A CI variable (ARC_ROLE_ARN, AWS_ROLE_ARN, ARC_PERMISSIONS_BOUNDARY) names only this job's
    // role or boundary, usually scoped to its GitLab environment: the other stage's pair is
    // checked when both are the manifest's.
    const known = s === stage || (role?.source.kind === 'manifest' && boundary?.source.kind === 'manifest')
    const roleAccount = role && accountOf(role.value), boundaryAccount = boundary && accountOf(boundary.value)
    if (known && role && boundary && roleAccount && boundaryAccount && roleAccount !== boundaryAccount) {
      problems.push(`${describeSource(boundary.source)} is in account ${boundaryAccount}, but the ${s} role (${describeSource(role.source)}) is in ${roleAccount}: a permissions boundary must be a policy of the role's own account`)
    }
  }

  const tokenVariable = pick('token-variable')
  if (tokenVariable && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenVariable.value)) {
    problems.push(looksLikeJwt(tokenVariable.value)
      ? `${describeSource(tokenVariable.source)} holds the token itself (${shown(tokenVariable.value)}): it takes the NAME of the variable that holds the token, e.g. ${DEFAULT_TOKEN_VARIABLE}`
      : `${describeSource(tokenVariable.source)} is not a variable name: ${shown(tokenVariable.value)}`)
  }
  const sessionName = read.variable(['ARC_ROLE_SESSION_NAME', 'AWS_ROLE_SESSION_NAME'])
  if (sessionName && !SESSION_NAME.test(sessionName.value)) {
    problems.push(`${describeSource(sessionName.source)} is not a valid STS session name: ${shown(sessionName.value)} (2 to 64 characters of letters, digits and _+=,.@-)`)
  }
  const settings = {
    stage,
    roles,
    boundaries,
    duration: read.integer('duration', KEYS.duration, DEFAULTS.duration, 900, 43200),
    timeout: read.integer('timeout', KEYS.timeout, DEFAULTS.timeout, 5, 900),
    allowUnprotectedProduction: read.flag('allow-unprotected-production', KEYS['allow-unprotected-production'], false),
    environmentCheck: read.flag('environment-check', KEYS['environment-check'], true),
    dotenvReport: read.path('dotenv-report', KEYS['dotenv-report'], DEFAULTS.dotenvReport),
    annotationsReport: read.path('annotations-report', KEYS['annotations-report'], DEFAULTS.annotationsReport),
    region: regionSetting(env, manifest, problems),
  }
  const allowedAccounts = allowedAccountsSetting(read), iamParameters = iamParametersSetting(read)
  if (problems.length) throw new SettingsError(problems)

  const role = roles[stage], boundary = boundaries[stage]
  return {
    ...settings,
    ...(role ? { role } : {}),
    ...(boundary ? { boundary } : {}),
    ...(tokenVariable ? { tokenVariable } : {}),
    ...(sessionName ? { sessionName } : {}),
    ...(allowedAccounts ? { allowedAccounts } : {}), ...(iamParameters ? { iamParameters } : {}),
    ...(manifest ? { manifestFile: manifest.file } : {}),
  }
}

/** A CI variable wins; then the stage's own key (`production-<key>`); then the shared key. */
function perStage (read: SettingReader, key: string, variables: readonly string[]): Record<Stage, Setting<string> | undefined> {
  const variable = read.variable(variables)
  const shared = read.single(key)
  return {
    production: variable ?? read.single(`production-${key}`) ?? shared,
    staging: variable ?? read.single(`staging-${key}`) ?? shared,
  }
}

/** `iam-parameters Name=value ...`: the IAM template's parameters setup cannot compute. */
function iamParametersSetting (read: SettingReader): Setting<string[]> | undefined {
  const found = read.list('iam-parameters')
  for (const pair of found?.value ?? []) {
    if (!/^[A-Z][A-Za-z]+=./.test(pair)) read.problems.push(`${describeSource(found!.source)} takes Name=value pairs of the IAM template's parameters, got ${shown(pair)}`)
  }
  return found
}

function allowedAccountsSetting (read: SettingReader): Setting<string[]> | undefined {
  const fromVariable = read.variable(KEYS['allowed-accounts'])
  const fromManifest = read.list('allowed-accounts')
  let allowed: Setting<string[]> | undefined
  if (fromVariable) allowed = { value: fromVariable.value.split(/[\s,]+/).filter(Boolean), source: fromVariable.source }
  // The .arc parser turns 012345678901 into a number and drops the leading zero: put it back.
  else if (fromManifest) allowed = { value: fromManifest.value.map(a => /^\d{1,11}$/.test(a) ? a.padStart(12, '0') : a), source: fromManifest.source }
  if (allowed) {
    const bad = allowed.value.filter(a => !isAccountId(a))
    if (bad.length || !allowed.value.length) {
      read.problems.push(`${describeSource(allowed.source)} must list 12-digit AWS account IDs, got ${bad.length ? bad.map(shown).join(' ') : '(nothing)'}`)
    }
  }
  return allowed
}

/**
 * `@aws region` in the manifest, else AWS_REGION, AWS_DEFAULT_REGION, us-west-2 (Architect's
 * default). A malformed region is a settings problem: the SDK would refuse it without sending.
 */
function regionSetting (env: NodeJS.ProcessEnv, manifest: Manifest | undefined, problems: string[]): Setting<string> {
  const region = findRegion(env, manifest, problems)
  if (region.source.kind !== 'default' && !REGION.test(region.value)) {
    problems.push(`${describeSource(region.source)} is not an AWS region: ${shown(region.value)} (expected a region name such as us-west-2)`)
  }
  return region
}

function findRegion (env: NodeJS.ProcessEnv, manifest: Manifest | undefined, problems: string[]): Setting<string> {
  if (manifest) {
    const aws = pragmaEntries(manifest.arc, 'aws')
    const source: Source = { kind: 'manifest', name: '@aws region', file: manifest.file }
    const bad = aws.invalid.find(i => i.key === 'region')
    if (bad) problems.push(`${describeSource(source)} must be a string, got ${bad.got}`)
    const fromArc = aws.get('region')?.[0]
    if (fromArc) return { value: fromArc, source }
  }
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION']) {
    const value = ownString(env, name)?.trim()
    if (value) return { value, source: { kind: 'variable', name } }
  }
  return { value: DEFAULTS.region, source: { kind: 'default', name: DEFAULTS.region } }
}

/**
 * The known word a mistyped one most resembles (Levenshtein distance), for "did you mean" hints.
 */
export function distance (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const cur = [ i ]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]!
}

/**
 * The nearest of `known` to `word` when it is close enough to be a typo (at most a third of
 * the word's length, and at least 1, edits away; case ignored); undefined otherwise.
 */
export function nearest (word: string, known: readonly string[]): string | undefined {
  const w = word.toLowerCase()
  let best: string | undefined
  let bestDistance = Infinity
  for (const k of known) {
    const d = distance(w, k.toLowerCase())
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return bestDistance <= Math.max(1, Math.ceil(w.length / 3)) ? best : undefined
}
