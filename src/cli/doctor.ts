/**
 * `arc-gitlab-oidc doctor`: what the plugin would do in this job, and why, without deploying.
 * It runs the deploy's own preflight (src/plugin/preflight.ts: stage, settings, token, claims,
 * every guard, session, request), so it refuses exactly what `arc deploy` refuses, with the same
 * message, and exits 1. Around that it shows which role and permissions boundary each stage
 * would use and from which setting, the token's non-sensitive claims, a trust-policy condition
 * matching this job; with --exchange it runs the deploy's own exchange. Never prints the token,
 * a secret key or a session token.
 */
import { parseArgs } from 'node:util'
import { detect, type Invocation, type Stage } from '../plugin/detect.ts'
import { exchange, preflight, type Plan, type Seen } from '../plugin/preflight.ts'
import type { Settings } from '../plugin/settings.ts'
import { actionOf } from '../plugin/refusals.ts'
import { describeProxy, proxiesOf } from '../plugin/proxy.ts'
import { stsEndpoint } from '../plugin/warnings.ts'
import { wrongClaims } from '../plugin/token.ts'
import { describeSource, type Setting } from '../shared/setting-source.ts'
import type { Claims } from '../shared/id-token.ts'
import { PluginError, type Problem, type Row } from '../shared/problem.ts'
import { isTime, secretsOf, shown } from '../shared/redact.ts'
import { assertedRows, bothTimes, done, formatProblem, humanDuration, rows, warning } from '../report/format.ts'
import { DEFAULT_SUB_CLAIM_COMPONENTS, refOptionsFor, subClaimComponentsOf } from '../iam/sub-claims.ts'
import { conditionForClaims } from '../iam/trust-policy.ts'
import { sharedAccountOf, sharedAccountWarning } from '../iam/account-fence.ts'
import { templateSection } from './doctor-template.ts'
import { CliError, EXIT_FAILURE, EXIT_OK, UsageError, parseErrorMessage, type CliIo } from './io.ts'
import { shellWord } from '../shared/shell-word.ts'

export const DOCTOR_HELP = `Usage: arc-gitlab-oidc doctor [--token-file FILE] [--exchange] [--stage staging|production | -- <arc command>]

Runs the checks \`arc deploy\` runs in this job, before any AWS call, and says
what would fail and why: the role and permissions boundary each stage would use
and which setting each comes from, the ID token's claims (never the token), its
expiry, the plugin's guards, and a trust-policy condition that matches this job.

Options:
  --token-file FILE   read the ID token from FILE instead of the job's variables
  --exchange          also exchange the token with AWS STS and print the assumed role
  --stage STAGE       the stage to check, as \`arc deploy\` (staging) or
                      \`arc deploy --production\` (production) would (default: staging)
  -- <arc command>    check for this very command line instead, read as Architect
                      reads it: doctor -- deploy --production --name mr-7
  -h, --help          show this help

Exit codes: 0 all good, 1 a problem was found, 2 usage error.`

interface Options { tokenFile?: string, exchange: boolean, stage: Stage, command?: string[] }

export async function doctor (args: readonly string[], io: CliIo): Promise<number> {
  const options = parse(args)
  if (!options) {
    io.stdout(DOCTOR_HELP)
    return EXIT_OK
  }
  const env: NodeJS.ProcessEnv = { ...io.env }
  const invocation = invocationFor(env, options)
  const world = { env, cwd: io.cwd, now: io.now, ...(options.tokenFile === undefined ? {} : { tokenFile: options.tokenFile }) }
  const result = await preflight(invocation, world)
  if (result.kind === 'idle') {
    if (!invocation.awsBound) throw new CliError(`The plugin does nothing for this command: ${result.reason}`)
    throw new CliError(`The plugin does nothing here: ${result.reason} (GITLAB_CI is not true, and AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE are not both set)`, [
      'Run doctor in the deploy job, or check a token with --token-file FILE.',
    ])
  }
  const seen: Seen = result.kind === 'plan' ? result.plan : result.seen
  if (seen.settings) settingsSection(seen.settings, io)
  if (seen.found && seen.claims) tokenSection(seen as Required<Pick<Seen, 'found' | 'claims'>> & Seen, io)
  const secrets = secretsOf(env, [seen.found?.token])
  let problems = 0
  if (result.kind === 'refused') {
    problems++
    io.stderr(`\n${refusal(result.problem, result.refusal === 'noToken', secrets)}`)
  }
  else if (result.kind === 'existing-credentials') {
    io.stdout(`\n${warning(`No role for ${result.choice.stage}: a deploy would use the AWS credentials already in this job (no exchange).`)}`)
  }
  else {
    const { plan } = result
    io.stdout(`\n${done(`${capitalised(actionOf(plan.choice))} would assume ${plan.role.value}`, [
      ['session', plan.sessionName], ['duration', `${plan.request.durationSeconds} s`], ['region', plan.request.region],
      ['proxy', describeProxy(new URL(stsEndpoint(plan.request)), proxiesOf(env))],
    ])}`)
    for (const notice of plan.warnings) io.stdout(`\n! ${notice.title}\n${notice.lines.map(l => `  ${l}`).join('\n')}`)
    if (options.exchange) problems += await exchangeSection(plan, io, secrets)
  }
  if (result.kind !== 'refused' && seen.settings && seen.choice) problems += await templateSection(seen.settings, seen.choice.stage, io)
  io.stdout(problems ? `\n${problems} problem${problems === 1 ? '' : 's'} found.` : '\nNo problems found.')
  return problems ? EXIT_FAILURE : EXIT_OK
}

/** The options, or undefined for --help; throws UsageError. */
function parse (args: readonly string[]): Options | undefined {
  let values, positionals
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      options: {
        'token-file': { type: 'string' },
        exchange: { type: 'boolean', default: false },
        stage: { type: 'string', default: 'staging' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: true,
    }))
  }
  // parseArgs quotes the argument: a token pasted there is described, never shown.
  catch (err) { throw new UsageError(parseErrorMessage(err), 'doctor') }
  if (values.help) return undefined
  if (values.stage !== 'staging' && values.stage !== 'production') throw new UsageError(`--stage must be staging or production, got ${shown(values.stage)}`, 'doctor')
  // Words are only taken after `--`: they are the arc command line doctor stands in for.
  const dashes = args.indexOf('--')
  const command = dashes === -1 ? [] : args.slice(dashes + 1)
  if (positionals.length !== command.length) throw new UsageError(`Unexpected argument ${shown(positionals[0] ?? '')}: an arc command line goes after --`, 'doctor')
  if (command.length && args.slice(0, dashes).some(a => a.startsWith('--stage'))) throw new UsageError('Give --stage or an arc command line after --, not both', 'doctor')
  return {
    ...(values['token-file'] ? { tokenFile: values['token-file'] } : {}),
    exchange: values.exchange,
    stage: values.stage,
    ...(command.length ? { command } : {}),
  }
}

/**
 * The command doctor stands in for, as `arc` would see it in this environment: the command line
 * after `--`, else `arc deploy` or `arc deploy --production`.
 */
function invocationFor (env: NodeJS.ProcessEnv, options: Options): Invocation {
  const argv = options.command ?? ['deploy', ...(options.stage === 'production' ? ['--production'] : [])]
  const invocation = detect(env, ['node', 'arc', ...(argv[0] === 'arc' ? argv.slice(1) : argv)])
  // --token-file outside a job: checked as AWS's standard web-identity variables would be.
  return { ...invocation, webIdentity: invocation.webIdentity || (!invocation.gitlab && options.tokenFile !== undefined) }
}

/** The deploy's own refusal; doctor adds where a deploy would have stopped. */
function refusal (problem: Problem, noToken: boolean, secrets: readonly string[]): string {
  return formatProblem({
    ...problem,
    ...(noToken ? { fix: [...problem.fix, 'Or check a token you have: arc-gitlab-oidc doctor --token-file FILE.'] } : {}),
    footer: 'A deploy in this job would stop here, before any AWS call.',
    secrets,
  })
}

const sourced = (s: Setting<unknown>, value = String(s.value)): string => `${value} (from ${describeSource(s.source)})`

/** Settings for both stages: role and boundary, each with where it came from. */
function settingsSection (settings: Settings, io: CliIo): void {
  const perStage = (s: Stage): Row[] => {
    const role = settings.roles[s], boundary = settings.boundaries[s]
    return [
      [`${s} role`, role ? sourced(role) : `none: set ARC_ROLE_ARN or \`${s}-role\` in @gitlab-oidc`],
      [`${s} boundary`, boundary ? sourced(boundary) : `none: roles Architect creates for ${s} get no permissions boundary`],
    ]
  }
  io.stdout('Settings')
  io.stdout(rows([
    ...perStage('production'),
    ...perStage('staging'),
    ['region', sourced(settings.region)],
    ['duration', sourced(settings.duration, `${settings.duration.value} s`)],
    ['timeout', sourced(settings.timeout, `${settings.timeout.value} s`)],
    ['unprotected production', settings.allowUnprotectedProduction.value ? 'allowed' : 'refused'],
    ['environment check', settings.environmentCheck.value ? 'on (tier and stage must agree)' : 'off'],
    ...(settings.allowedAccounts ? [['allowed accounts', settings.allowedAccounts.value.join(', ')] as Row] : []),
  ]).join('\n'))
  // Both stages' roles in one account: a warning (every deploy prints it too), not a problem.
  const shared = sharedAccountOf(settings.roles)
  if (!shared) return
  const { title, lines } = sharedAccountWarning(shared)
  io.stdout(`\n! Account fence: ${title}\n${lines.map(l => `  ${l}`).join('\n')}`)
}

/** The token: where it is, its claims and expiry, and a trust condition that matches it. */
function tokenSection ({ found, claims, origin, settings }: Pick<Plan, 'found' | 'claims'> & Seen, io: CliIo): void {
  const now = io.now()
  io.stdout(`\nID token (from ${found.source})`)
  io.stdout(rows(assertedRows(claims)).join('\n'))
  if (isTime(claims.exp)) {
    const left = claims.exp - now.getTime() / 1000
    io.stdout(rows([['valid for', left > 0 ? `${humanDuration(left)} more (until ${bothTimes(new Date(claims.exp * 1000))})` : 'expired']]).join('\n'))
  }
  // A token whose claims are not text is shown in no trust condition (the refusal names them).
  if (wrongClaims(claims).length) return
  if (origin === 'gitlab' && claims.ref_protected === 'false') {
    io.stdout(rows([['note', `ref \`${String(claims.ref ?? '?')}\` is not protected: production deploys from it are refused${settings?.allowUnprotectedProduction.value ? ' (but allowed by your settings)' : ''}`]]).join('\n'))
  }
  try {
    const condition = JSON.stringify({ Condition: conditionForClaims(claims) }, null, 2)
    io.stdout(`\nA trust-policy condition that matches this job:\n${condition}`)
  }
  catch (err) { io.stdout(rows([['trust policy', `none matches this token: ${(err as Error).message}`]]).join('\n')) }
  // GitLab's sub formats are GitLab's: off GitLab the plugin does not read them either.
  if (origin === 'gitlab') subClaimSection(claims, io)
}

/** The project's sub format, read from the token, and the trust-policy command matching it. */
function subClaimSection (claims: Claims, io: CliIo): void {
  const format = subClaimComponentsOf(claims)
  if (!format) {
    io.stdout(rows([['sub claim', `${String(claims.sub)} is in none of the formats GitLab builds from project_path or project_id, ref_type and ref`]]).join('\n'))
    return
  }
  const note = format === DEFAULT_SUB_CLAIM_COMPONENTS ? ' (GitLab\'s default)' : ' (customised: trust policies must use this format)'
  const id = typeof claims.project_id === 'string' && /^[0-9]+$/.test(claims.project_id) ? ` --project-id ${claims.project_id}` : ''
  const out: Row[] = [
    ['sub claim components', `${format}${note}`],
    ['trust policy', `npx arc-gitlab-oidc trust-policy --project ${shellWord(String(claims.project_path))}${id} ${refOptionsFor(format, claims.ref_type, claims.ref)} --account <id>`],
  ]
  // A path-based subject is what GitLab refuses to issue for a path another project used before.
  if (format.startsWith('project_path')) {
    out.push(['reused path', 'if GitLab ever stops this project\'s jobs with "ID token issuance is disabled", another project used its path before:'],
      ['', `switch to a project_id subject (${format.replace('project_path', 'project_id')}) and trust it with --sub-claim-components ${format.replace('project_path', 'project_id')}${id}`])
  }
  io.stdout(rows(out).join('\n'))
}

/** The deploy's own exchange (the credentials are reported, never printed); the number of problems. */
async function exchangeSection (plan: Plan, io: CliIo, secrets: readonly string[]): Promise<number> {
  try {
    const creds = await exchange(plan)
    io.stdout(`\n${done(`Exchange for ${plan.choice.stage}: assumed ${creds.assumedRoleArn}`, [
      ['session', plan.sessionName], ['expires', bothTimes(creds.expiration)], ['attempts', String(creds.attempts)],
    ])}`)
    return 0
  }
  catch (err) {
    if (!(err instanceof PluginError)) throw err
    io.stderr(`\n${formatProblem({ ...err.problem, footer: 'No credentials were issued.', secrets })}`)
    return 1
  }
}

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1)
