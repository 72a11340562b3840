/**
 * The plugin's work while Architect loads it, one step after the other:
 * detect the job → read settings → read and check the token → exchange → process.env → report.
 *
 * Everything the steps need from the world (env, argv, cwd, the clock, output, the exchange
 * itself) comes in as arguments, so every path can be tested without touching globals.
 */
import type { Invocation, Stage } from './detect.ts'
import type { ExchangeRequest, IssuedCredentials } from './exchange.ts'
import { ExchangeError } from './sts-errors.ts'
import { explainExchange } from '../report/explain.ts'
import { applyCredentials, hasOtherCredentials } from './handover.ts'
import { ManifestError, readManifest } from './manifest.ts'
import { PluginError, bothTimes, done, status, warning, type Problem, type Row } from '../report/format.ts'
import { defaultSessionName } from './session.ts'
import { SettingsError, accountOf, describeSource, resolveSettings, type Setting, type Settings, PRAGMA } from './settings.ts'
import { chooseStage, type StageChoice } from './stage.ts'
import { DEFAULT_TOKEN_VARIABLE, TokenError, checkClaims, decodeToken, findToken, type Claims, type FoundToken } from './token.ts'

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
  | { kind: 'idle'; reason: string }
  | { kind: 'existing-credentials'; stage: Stage }
  | {
    kind: 'assumed'
    stage: Stage
    roleArn: string
    assumedRoleArn: string
    sessionName: string
    expiration: Date
    claims: Claims
  }

/** Runs the exchange if this job needs one. Throws PluginError with the one message to show. */
export async function activate (invocation: Invocation, io: Io): Promise<Outcome> {
  const { env, now } = io
  if (!invocation.gitlab) return { kind: 'idle', reason: 'not a GitLab job' }
  if (!invocation.awsBound) return { kind: 'idle', reason: `\`${invocation.command ?? 'arc'}\` does not talk to AWS` }

  const choice = stageOf(invocation, env)
  const settings = settingsFor(env, io.cwd, choice)
  const found = tokenFor(env, settings)

  const role = settings.role
  if (!role) {
    if (invocation.loader === 'script') return { kind: 'idle', reason: 'no role configured' }
    if (hasOtherCredentials(env)) {
      io.out(status(`No role configured for ${choice.stage}: using the AWS credentials already in this job`))
      return { kind: 'existing-credentials', stage: choice.stage }
    }
    throw new PluginError(noRole(settings, found !== undefined))
  }
  if (!found) throw new PluginError(noToken(settings, env, role.value))

  const claims = claimsOf(found, now())
  guard(settings, role, claims, choice, env)

  const sessionName = settings.sessionName?.value ?? defaultSessionName(claims, env)
  io.out(status(`Assuming ${role.value} for ${choice.stage}`, [
    ['role from', describeSource(role.source)],
    ['token from', found.source],
    ['subject', claims.sub ?? '?'],
  ]))
  if (found.legacy) io.err(warning('CI_JOB_JWT_V2 was removed in GitLab 17.0: declare an ID token with id_tokens: instead.'))

  const creds = await exchangeFor({ found, role, settings, sessionName, claims, env }, io.exchange)
  handOver(env, creds, sessionName, io)
  return {
    kind: 'assumed',
    stage: choice.stage,
    roleArn: role.value,
    assumedRoleArn: creds.assumedRoleArn,
    sessionName,
    expiration: creds.expiration,
    claims,
  }
}

/** The stage, as Architect reads it; `arc deploy production` (a bare word) is refused. */
function stageOf (invocation: Invocation, env: NodeJS.ProcessEnv): StageChoice {
  const choice = chooseStage(invocation, env)
  if (choice.bareProduction) {
    throw new PluginError({
      title: `\`arc ${invocation.command} production\` would ${invocation.command} the STAGING stack: Architect ignores a bare \`production\` argument`,
      facts: [['command', ['arc', invocation.command ?? '', ...invocation.args].join(' ').trim()]],
      fix: [`Write the flag: arc ${invocation.command} --production ${invocation.args.filter(a => a !== 'production').join(' ')}`.trimEnd()],
    })
  }
  return choice
}

function settingsFor (env: NodeJS.ProcessEnv, cwd: string, choice: StageChoice): Settings {
  try {
    return resolveSettings({ env, manifest: readManifest(cwd), stage: choice.stage })
  }
  catch (err) {
    if (err instanceof SettingsError) {
      throw new PluginError({
        title: `Invalid @${PRAGMA} setting${err.problems.length > 1 ? 's' : ''}`,
        facts: err.problems.map((p, i) => [`problem ${i + 1}`, p] as Row),
        fix: ['Correct the values above (CI variables: Settings → CI/CD → Variables; or the app manifest).'],
      })
    }
    if (err instanceof ManifestError) {
      throw new PluginError({ title: `Cannot read the app manifest: ${err.message}`, fix: ['Fix the manifest so that `arc` can read it.'] })
    }
    throw err
  }
}

function tokenFor (env: NodeJS.ProcessEnv, settings: Settings): FoundToken | undefined {
  try { return findToken(env, settings.tokenVariable) }
  catch (err) {
    if (err instanceof TokenError) throw new PluginError({ title: err.message, fix: ['Point AWS_WEB_IDENTITY_TOKEN_FILE at a readable file holding the ID token, or unset it.'] })
    throw err
  }
}

/** The token's claims, if AWS could accept it: a JWT, not expired, not early, with an audience. */
function claimsOf (found: FoundToken, now: Date): Claims {
  let claims: Claims
  try { claims = decodeToken(found.token, found.source) }
  catch (err) {
    if (err instanceof TokenError) {
      throw new PluginError({
        title: err.message,
        facts: [['token from', found.source]],
        fix: [`${found.source} must hold the job's ID token as GitLab issues it (declare it under id_tokens: and don't modify it).`],
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
      fix: [
        'Use the token GitLab issues to this job: declare it under id_tokens: with an aud, and deploy in the job that received it.',
        'A token from another job, or one that waited past its expiry, cannot be used.',
      ],
    })
  }
  return claims
}

/** The plugin's own rules: allowed accounts, and no production from an unprotected ref. */
function guard (settings: Settings, role: Setting<string>, claims: Claims, choice: StageChoice, env: NodeJS.ProcessEnv): void {
  const account = accountOf(role.value)
  if (settings.allowedAccounts && account && !settings.allowedAccounts.value.includes(account)) {
    throw new PluginError({
      title: `The role is in AWS account ${account}, which is not an allowed account`,
      facts: [['role', `${role.value} (from ${describeSource(role.source)})`], ['allowed', `${settings.allowedAccounts.value.join(', ')} (from ${describeSource(settings.allowedAccounts.source)})`]],
      claims,
      fix: ['Check the role setting (a CI variable scoped to the wrong project or environment?), or add the account to the allowed list.'],
    })
  }
  const refProtected = claims.ref_protected ?? env.CI_COMMIT_REF_PROTECTED
  if (choice.stage === 'production' && refProtected !== 'true' && !settings.allowUnprotectedProduction.value) {
    throw new PluginError({
      title: `Refusing a production deploy from ${claims.ref_type ?? 'ref'} \`${claims.ref ?? env.CI_COMMIT_REF_NAME ?? '?'}\`, which is not protected`,
      facts: [['stage', `production (${choice.reason})`], ['role', role.value]],
      claims,
      fix: [
        'Deploy production from a protected branch or tag (Settings → Repository → Protected branches),',
        `or, if this is intended, set \`allow-unprotected-production true\` in @${PRAGMA} or ARC_ALLOW_UNPROTECTED_PRODUCTION=true.`,
      ],
    })
  }
}

interface ExchangeInputs {
  found: FoundToken
  role: Setting<string>
  settings: Settings
  sessionName: string
  claims: Claims
  env: NodeJS.ProcessEnv
}

/** AssumeRoleWithWebIdentity; a refusal or fault becomes the message explaining it. */
async function exchangeFor (inputs: ExchangeInputs, injected: Io['exchange']): Promise<IssuedCredentials> {
  const { found, role, settings, sessionName, claims, env } = inputs
  const endpoint = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL || undefined
  const request: ExchangeRequest = {
    token: found.token,
    roleArn: role.value,
    sessionName,
    durationSeconds: settings.duration.value,
    region: settings.region.value,
    timeoutMs: settings.timeout.value * 1000,
    maxAttempts: maxAttempts(env),
    ...(endpoint ? { endpoint } : {}),
  }
  // The SDK is loaded here, once every check has passed.
  const run = injected ?? (await import('./exchange.ts')).exchange
  try { return await run(request) }
  catch (err) {
    if (!(err instanceof ExchangeError)) throw err
    throw new PluginError(explainExchange(err, {
      roleArn: role.value,
      roleSource: describeSource(role.source),
      sessionName,
      durationSeconds: settings.duration.value,
      durationSource: describeSource(settings.duration.source),
      region: settings.region.value,
      claims,
      tokenSource: found.source,
    }))
  }
}

/** Credentials into process.env, and the report of who this job now is. */
function handOver (env: NodeJS.ProcessEnv, creds: IssuedCredentials, sessionName: string, io: Io): void {
  const handover = applyCredentials(env, creds)
  const facts: Row[] = [
    ['session', sessionName],
    ['expires', bothTimes(creds.expiration)],
  ]
  if (creds.attempts > 1) facts.push(['attempts', `${creds.attempts} (earlier ones failed transiently)`])
  io.out(done(`Assumed ${creds.assumedRoleArn}`, facts))
  if (handover.replaced.length || handover.removed.length) {
    io.err(warning('The role\'s credentials replaced AWS credentials already set in this job', [
      ...(handover.replaced.length ? [`replaced: ${handover.replaced.join(', ')}`] : []),
      ...(handover.removed.length ? [`unset (it would take precedence in AWS SDKs): ${handover.removed.join(', ')}`] : []),
    ]))
  }
}

/** AWS_MAX_ATTEMPTS (the SDK's own setting) when valid, else 5. */
export function maxAttempts (env: NodeJS.ProcessEnv): number {
  const n = Number(env.AWS_MAX_ATTEMPTS)
  return Number.isInteger(n) && n >= 1 && n <= 20 ? n : 5
}

function noRole (settings: Settings, hasToken: boolean): Problem {
  const stage = settings.stage
  const other = stage === 'production' ? 'staging' : 'production'
  return {
    title: hasToken
      ? `This job has an ID token but no IAM role to assume for ${stage}, and no other AWS credentials`
      : `No IAM role to assume for ${stage}, no ID token, and no other AWS credentials in this job`,
    facts: [
      ['manifest', settings.manifestFile ?? '(none found)'],
      ...(settings.roles[other] ? [[`${other} role`, `${settings.roles[other]!.value} (from ${describeSource(settings.roles[other]!.source)})`] as Row] : []),
    ],
    fix: [
      `Name the role for ${stage} in the app manifest:`,
      `  @${PRAGMA}`,
      `  ${stage}-role arn:aws:iam::<account>:role/<name>`,
      'or set the CI variable ARC_ROLE_ARN (Settings → CI/CD → Variables).',
      'Note: a *protected* CI variable is only given to jobs on protected branches and tags; on other refs the job sees nothing.',
      ...(hasToken ? [] : ['And declare the ID token under id_tokens: in .gitlab-ci.yml (see the README).']),
    ],
  }
}

function noToken (settings: Settings, env: NodeJS.ProcessEnv, roleArn: string): Problem {
  const variable = settings.tokenVariable?.value ?? DEFAULT_TOKEN_VARIABLE
  const aud = env.CI_SERVER_URL || 'https://gitlab.com'
  return {
    title: settings.tokenVariable
      ? `No ID token in ${variable} (named by ${describeSource(settings.tokenVariable.source)})`
      : `A role is configured for ${settings.stage} but this job has no ID token`,
    facts: [['role', `${roleArn} (from ${describeSource(settings.role!.source)})`], ['job', env.CI_JOB_NAME ?? '?']],
    fix: [
      'Add this to the deploy job in .gitlab-ci.yml:',
      '  id_tokens:',
      `    ${variable}:`,
      `      aud: ${aud}`,
      'The aud must be a client ID (audience) of the AWS IAM OIDC provider for this GitLab instance.',
    ],
  }
}
