/**
 * `arc-gitlab-oidc doctor`: what the plugin would do in this job, and why, without deploying.
 * Shows the token's non-sensitive claims, which role each stage would use and from which
 * setting, a trust-policy condition matching this job, and with --exchange does a real exchange.
 * Never prints the token, a secret key or a session token.
 */
import { parseArgs } from 'node:util'
import { maxAttempts } from '../plugin/activate.ts'
import { ExchangeError } from '../plugin/sts-errors.ts'
import { explainExchange } from '../report/explain.ts'
import { ManifestError, readManifest } from '../plugin/manifest.ts'
import { PluginError, assertedRows, bothTimes, formatProblem, rows, type Row } from '../report/format.ts'
import { defaultSessionName } from '../plugin/session.ts'
import { SettingsError, describeSource, resolveSettings } from '../plugin/settings.ts'
import { TokenError, checkClaims, decodeToken, findToken, humanDuration, type Claims, type FoundToken } from '../plugin/token.ts'
import { conditionForClaims } from '../iam/trust-policy.ts'
import type { Stage } from '../plugin/detect.ts'
import type { CliIo } from './io.ts'

/** The same I/O as the rest of the CLI. */
export type DoctorIo = CliIo

export const DOCTOR_HELP = `Usage: arc-gitlab-oidc doctor [--token-file FILE] [--exchange] [--stage staging|production]

Checks this job's GitLab OIDC setup for arc-plugin-gitlab-oidc:
  the ID token's claims (never the token), its expiry, the role each stage
  would use and which setting it comes from, and a trust-policy condition
  that matches this job.

Options:
  --token-file FILE   read the ID token from FILE instead of the job's variables
  --exchange          also exchange the token with AWS STS and print the assumed role
  --stage STAGE       the stage to exchange for (default: staging)
  -h, --help          show this help

Exit codes: 0 all good, 1 a problem was found, 2 usage error.`

export async function doctor (args: string[], io: DoctorIo): Promise<number> {
  let values
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'token-file': { type: 'string' },
        exchange: { type: 'boolean', default: false },
        stage: { type: 'string', default: 'staging' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }))
  }
  catch (err) {
    io.stderr(`${(err as Error).message}\n\n${DOCTOR_HELP}`)
    return 2
  }
  if (values.help) {
    io.stdout(DOCTOR_HELP)
    return 0
  }
  if (values.stage !== 'staging' && values.stage !== 'production') {
    io.stderr(`--stage must be staging or production, got "${values.stage}"`)
    return 2
  }
  const stage: Stage = values.stage
  const env: NodeJS.ProcessEnv = values['token-file'] ? { ...io.env, AWS_WEB_IDENTITY_TOKEN_FILE: values['token-file'], GITLAB_OIDC_TOKEN: undefined, ARC_OIDC_TOKEN_VARIABLE: undefined } : { ...io.env }
  let problems = 0
  const fail = (text: string) => { problems++; io.stderr(text) }

  // Settings, for both stages.
  let settings
  try {
    settings = resolveSettings({ env, manifest: readManifest(io.cwd), stage })
  }
  catch (err) {
    if (err instanceof SettingsError || err instanceof ManifestError) {
      io.stderr(`× Settings: ${err.message}`)
      return 1
    }
    throw err
  }
  const roleRow = (s: Stage): Row => {
    const role = settings.roles[s]
    return [s, role ? `${role.value} (from ${describeSource(role.source)})` : 'none: set ARC_ROLE_ARN or `' + s + '-role` in @gitlab-oidc']
  }
  io.stdout('Settings')
  io.stdout(rows([
    roleRow('production'),
    roleRow('staging'),
    ['region', `${settings.region.value} (from ${describeSource(settings.region.source)})`],
    ['duration', `${settings.duration.value} s (from ${describeSource(settings.duration.source)})`],
    ['timeout', `${settings.timeout.value} s (from ${describeSource(settings.timeout.source)})`],
    ['unprotected production', settings.allowUnprotectedProduction.value ? 'allowed' : 'refused'],
    ...(settings.allowedAccounts ? [['allowed accounts', settings.allowedAccounts.value.join(', ')] as Row] : []),
  ]).join('\n'))

  // The token.
  let found: FoundToken | undefined
  try { found = findToken(env, settings.tokenVariable) }
  catch (err) {
    if (err instanceof TokenError) { fail(`× Token: ${err.message}`); return 1 }
    throw err
  }
  if (!found) {
    fail(`× Token: none found. Declare one in .gitlab-ci.yml:\n    id_tokens:\n      ${settings.tokenVariable?.value ?? 'GITLAB_OIDC_TOKEN'}:\n        aud: ${env.CI_SERVER_URL || 'https://gitlab.com'}\n  or pass --token-file FILE.`)
    return 1
  }
  let claims: Claims
  try { claims = decodeToken(found.token, found.source) }
  catch (err) {
    if (err instanceof TokenError) { fail(`× Token: ${err.message}`); return 1 }
    throw err
  }
  io.stdout(`\nID token (from ${found.source})`)
  io.stdout(rows(assertedRows(claims)).join('\n'))
  if (typeof claims.exp === 'number') {
    const left = claims.exp - io.now().getTime() / 1000
    io.stdout(rows([['valid for', left > 0 ? `${humanDuration(left)} more (until ${bothTimes(new Date(claims.exp * 1000))})` : 'expired']]).join('\n'))
  }
  for (const problem of checkClaims(claims, io.now())) fail(`× Token: ${problem}`)
  if (claims.ref_protected === 'false') {
    io.stdout(rows([['note', `ref \`${claims.ref}\` is not protected: production deploys from it are refused${settings.allowUnprotectedProduction.value ? ' (but allowed by your settings)' : ''}`]]).join('\n'))
  }

  try {
    io.stdout('\nA trust-policy condition that matches this job:')
    io.stdout(JSON.stringify({ Condition: conditionForClaims(claims) }, null, 2))
  }
  catch (err) { fail(`× Trust policy: ${(err as Error).message}`) }

  if (values.exchange) {
    const role = settings.roles[stage]
    if (!role) {
      fail(`× Exchange: no role for ${stage}`)
      return 1
    }
    const sessionName = settings.sessionName?.value ?? defaultSessionName(claims, env)
    const endpoint = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL || undefined
    const { exchange } = await import('../plugin/exchange.ts')
    try {
      const creds = await exchange({
        token: found.token, roleArn: role.value, sessionName, durationSeconds: settings.duration.value,
        region: settings.region.value, timeoutMs: settings.timeout.value * 1000, maxAttempts: maxAttempts(env), ...(endpoint ? { endpoint } : {}),
      })
      io.stdout(`\n✓ Exchange for ${stage}: assumed ${creds.assumedRoleArn}`)
      io.stdout(rows([['session', sessionName], ['expires', bothTimes(creds.expiration)], ['attempts', String(creds.attempts)]]).join('\n'))
    }
    catch (err) {
      if (!(err instanceof ExchangeError)) throw err
      const problem = explainExchange(err, {
        roleArn: role.value, roleSource: describeSource(role.source), sessionName,
        durationSeconds: settings.duration.value, durationSource: describeSource(settings.duration.source),
        region: settings.region.value, claims, tokenSource: found.source,
      })
      fail(formatProblem(new PluginError(problem).problem).replace('Architect was stopped before any AWS call.', 'No credentials were issued.'))
    }
  }
  io.stdout(problems ? `\n${problems} problem${problems === 1 ? '' : 's'} found.` : '\nNo problems found.')
  return problems ? 1 : 0
}
