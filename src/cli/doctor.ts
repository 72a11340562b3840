/**
 * `arc-gitlab-oidc doctor`: what the plugin would do in this job, and why, without deploying.
 * Shows which role and permissions boundary each stage would use and from which setting, the
 * token's non-sensitive claims, a trust-policy condition matching this job, and with --exchange
 * does a real exchange. Never prints the token, a secret key or a session token.
 */
import { parseArgs } from 'node:util'
import { ExchangeError } from '../plugin/sts-errors.ts'
import { explainExchange } from '../report/explain.ts'
import { ManifestError } from '../plugin/manifest.ts'
import { PluginError, assertedRows, bothTimes, formatProblem, rows, type Row } from '../report/format.ts'
import { SettingsError, describeSource, type Setting, type Settings } from '../plugin/settings.ts'
import { exchangeContext, exchangeRequest, findTokenFor, readSettings, sessionNameFor } from '../plugin/steps.ts'
import { idTokensBlock } from '../plugin/problems.ts'
import { TokenError, checkClaims, decodeToken, readTokenFile, wrongClaims, type FoundToken } from '../plugin/token.ts'
import { isGitLabJob, type Stage } from '../plugin/detect.ts'
import { FORK_FIX, forkOf } from '../plugin/fork.ts'
import type { Claims } from '../shared/claims.ts'
import { humanDuration } from '../shared/duration.ts'
import type { Origin } from '../shared/origin.ts'
import { isTime, oneLine, redact, shown } from '../shared/redact.ts'
import { DEFAULT_SUB_CLAIM_COMPONENTS, conditionForClaims, refOptionsFor, subClaimComponentsOf } from '../iam/trust-policy.ts'
import { sharedAccountOf, sharedAccountWarning } from '../iam/account-fence.ts'
import type { CliIo } from './io.ts'

/** The same I/O as the rest of the CLI. */
export type DoctorIo = CliIo

export const DOCTOR_HELP = `Usage: arc-gitlab-oidc doctor [--token-file FILE] [--exchange] [--stage staging|production]

Checks this job's GitLab OIDC setup for arc-plugin-gitlab-oidc:
  the role and permissions boundary each stage would use and which setting
  each comes from, the ID token's claims (never the token), its expiry, and
  a trust-policy condition that matches this job.

Options:
  --token-file FILE   read the ID token from FILE instead of the job's variables
  --exchange          also exchange the token with AWS STS and print the assumed role
  --stage STAGE       the stage to exchange for (default: staging)
  -h, --help          show this help

Exit codes: 0 all good, 1 a problem was found, 2 usage error.`

interface Options { tokenFile?: string, exchange: boolean, stage: Stage }

/** A run of the checks: problems are counted as they are printed. */
class Report {
  problems = 0
  readonly io: DoctorIo
  /** A GitLab job, or elsewhere (AWS's standard variables, --token-file): as the plugin itself decides. */
  readonly origin: Origin
  constructor (io: DoctorIo, origin: Origin) {
    this.io = io
    this.origin = origin
  }

  out (text: string): void { this.io.stdout(text) }
  fail (text: string): void { this.problems++; this.io.stderr(text) }
}

export async function doctor (args: string[], io: DoctorIo): Promise<number> {
  const options = parse(args, io)
  if (typeof options === 'number') return options
  const env: NodeJS.ProcessEnv = { ...io.env }
  const report = new Report(io, isGitLabJob(env) ? 'gitlab' : 'web-identity')
  const settings = settingsSection(env, options.stage, report)
  if (!settings) return 1
  const token = tokenSection(env, settings, report, options.tokenFile)
  if (token && options.exchange) await exchangeSection(token, settings, env, options.stage, report)
  report.out(report.problems ? `\n${report.problems} problem${report.problems === 1 ? '' : 's'} found.` : '\nNo problems found.')
  return report.problems ? 1 : 0
}

function parse (args: string[], io: DoctorIo): Options | number {
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
    // parseArgs quotes the argument: a token pasted there is described, never shown.
    io.stderr(`${redact(oneLine((err as Error).message.split('\n')[0] ?? ''))}\n\n${DOCTOR_HELP}`)
    return 2
  }
  if (values.help) {
    io.stdout(DOCTOR_HELP)
    return 0
  }
  if (values.stage !== 'staging' && values.stage !== 'production') {
    io.stderr(`--stage must be staging or production, got ${shown(values.stage)}`)
    return 2
  }
  return { ...(values['token-file'] ? { tokenFile: values['token-file'] } : {}), exchange: values.exchange, stage: values.stage }
}

const sourced = (s: Setting<unknown>, value = String(s.value)): string => `${value} (from ${describeSource(s.source)})`

/** Settings for both stages: role and boundary, each with where it came from. */
function settingsSection (env: NodeJS.ProcessEnv, stage: Stage, report: Report): Settings | undefined {
  let settings: Settings
  try {
    settings = readSettings(env, report.io.cwd, stage)
  }
  catch (err) {
    if (err instanceof SettingsError || err instanceof ManifestError) {
      report.fail(`× Settings: ${err.message}`)
      return undefined
    }
    throw err
  }
  const perStage = (s: Stage): Row[] => {
    const role = settings.roles[s], boundary = settings.boundaries[s]
    return [
      [`${s} role`, role ? sourced(role) : `none: set ARC_ROLE_ARN or \`${s}-role\` in @gitlab-oidc`],
      [`${s} boundary`, boundary ? sourced(boundary) : `none: roles Architect creates for ${s} get no permissions boundary`],
    ]
  }
  report.out('Settings')
  report.out(rows([
    ...perStage('production'),
    ...perStage('staging'),
    ['region', sourced(settings.region)],
    ['duration', sourced(settings.duration, `${settings.duration.value} s`)],
    ['timeout', sourced(settings.timeout, `${settings.timeout.value} s`)],
    ['unprotected production', settings.allowUnprotectedProduction.value ? 'allowed' : 'refused'],
    ['environment check', settings.environmentCheck.value ? 'on (tier and stage must agree)' : 'off'],
    ...(settings.allowedAccounts ? [['allowed accounts', settings.allowedAccounts.value.join(', ')] as Row] : []),
  ]).join('\n'))
  accountFence(settings, report)
  return settings
}

/** Both stages' roles in one account: shown as a warning (every deploy prints it too), not a problem. */
function accountFence (settings: Settings, report: Report): void {
  const shared = sharedAccountOf(settings.roles)
  if (!shared) return
  const { title, lines } = sharedAccountWarning(shared)
  report.out(`\n! Account fence: ${title}\n${lines.map(l => `  ${l}`).join('\n')}`)
}

/** The token: where it is, its claims and expiry, and a trust condition that matches it. */
interface CheckedToken { found: FoundToken, claims: Claims }

function tokenSection (env: NodeJS.ProcessEnv, settings: Settings, report: Report, tokenFile?: string): CheckedToken | undefined {
  let found: FoundToken | undefined
  let claims: Claims
  try {
    // --token-file is read as given: the job's variables are not consulted (and not named).
    found = tokenFile === undefined ? findTokenFor(env, settings, report.origin) : readTokenFile(tokenFile, '--token-file')
    if (!found) {
      report.fail(noTokenMessage(settings, env, report.origin))
      return undefined
    }
    claims = decodeToken(found.token, found.source)
  }
  catch (err) {
    if (err instanceof TokenError) { report.fail(`× Token: ${err.message}`); return undefined }
    throw err
  }
  const now = report.io.now()
  report.out(`\nID token (from ${found.source})`)
  report.out(rows(assertedRows(claims)).join('\n'))
  if (isTime(claims.exp)) {
    const left = claims.exp - now.getTime() / 1000
    report.out(rows([['valid for', left > 0 ? `${humanDuration(left)} more (until ${bothTimes(new Date(claims.exp * 1000))})` : 'expired']]).join('\n'))
  }
  const problems = checkClaims(claims, now)
  for (const problem of problems) report.fail(`× Token: ${problem}`)
  // A token AWS would refuse is not sent to it (--exchange), nor shown in a trust condition if its claims are not text.
  if (wrongClaims(claims).length) return undefined
  if (report.origin === 'gitlab' && claims.ref_protected === 'false') {
    report.out(rows([['note', `ref \`${String(claims.ref ?? '?')}\` is not protected: production deploys from it are refused${settings.allowUnprotectedProduction.value ? ' (but allowed by your settings)' : ''}`]]).join('\n'))
  }
  try {
    report.out('\nA trust-policy condition that matches this job:')
    report.out(JSON.stringify({ Condition: conditionForClaims(claims) }, null, 2))
  }
  catch (err) { report.fail(`× Trust policy: ${(err as Error).message}`) }
  // GitLab's sub formats and forks are GitLab's: off GitLab the plugin does not check them either.
  if (report.origin !== 'gitlab') return problems.length ? undefined : { found, claims }
  subClaimSection(claims, report)
  const fork = forkOf(claims, env)
  if (fork) report.fail(`× Fork: this pipeline is for a merge request from a fork (${fork.source} into ${fork.target}); the plugin refuses to deploy it with this project's roles.\n  ${FORK_FIX(fork).join('\n  ')}`)
  return problems.length ? undefined : { found, claims }
}

/** The project's sub format, read from the token, and the trust-policy command matching it. */
function subClaimSection (claims: Claims, report: Report): void {
  const format = subClaimComponentsOf(claims)
  if (!format) {
    report.out(rows([['sub claim', `${String(claims.sub)} is in none of the formats GitLab builds from project_path, ref_type and ref`]]).join('\n'))
    return
  }
  const note = format === DEFAULT_SUB_CLAIM_COMPONENTS ? ' (GitLab\'s default)' : ' (customised: trust policies must use this format)'
  report.out(rows([
    ['sub claim components', `${format}${note}`],
    ['trust policy', `npx arc-gitlab-oidc trust-policy --project ${String(claims.project_path)} ${refOptionsFor(format, claims.ref_type, claims.ref)} --account <id>`],
  ]).join('\n'))
}

/** A real exchange for the stage (the credentials are reported, never printed). */
async function exchangeSection (
  token: CheckedToken, settings: Settings, env: NodeJS.ProcessEnv, stage: Stage, report: Report,
): Promise<void> {
  const role = settings.roles[stage]
  if (!role) {
    report.fail(`× Exchange: no role for ${stage}`)
    return
  }
  const { found, claims } = token
  const sessionName = sessionNameFor(settings, claims, env, report.origin, report.io.now())
  const { exchange } = await import('../plugin/exchange.ts')
  try {
    const creds = await exchange(exchangeRequest(found.token, role.value, sessionName, settings, env))
    report.out(`\n✓ Exchange for ${stage}: assumed ${creds.assumedRoleArn}`)
    report.out(rows([['session', sessionName], ['expires', bothTimes(creds.expiration)], ['attempts', String(creds.attempts)]]).join('\n'))
  }
  catch (err) {
    if (!(err instanceof ExchangeError)) throw err
    const problem = explainExchange(err, exchangeContext({ found, role, settings, sessionName, claims, origin: report.origin }))
    report.fail(formatProblem(new PluginError({ ...problem, footer: 'No credentials were issued.' }).problem))
  }
}

/** No token: in a GitLab job, the same id_tokens: block the load-time message shows; elsewhere, AWS's variable. */
function noTokenMessage (settings: Settings, env: NodeJS.ProcessEnv, origin: Origin): string {
  const where = origin === 'gitlab'
    ? ['Declare one in .gitlab-ci.yml:', ...idTokensBlock(settings, env).map(l => `  ${l}`)]
    : ['Point AWS_WEB_IDENTITY_TOKEN_FILE at a file holding the OIDC token your platform issues (with AWS_ROLE_ARN),']
  return `× Token: none found. ${where.join('\n')}\n  or pass --token-file FILE.`
}
