/**
 * `arc-gitlab-oidc setup`: run in the app's repository, print what a new user does once per AWS
 * account (the exact `aws cloudformation deploy` of the shipped template, with every parameter
 * it computed), the @gitlab-oidc lines for the manifest and the CI include. It guesses nothing:
 * what it cannot determine is asked for by the flag that supplies it (exit 2, one message).
 */
import { parseArgs } from 'node:util'

import { ManifestError, pragmaEntries, readManifest, type ArcObject, type Manifest } from '../plugin/manifest.ts'
import { PRAGMA } from '../shared/setting-source.ts'
import { readApp } from './app-inventory.ts'
import { readAllows } from '../iam/allows.ts'
import { checkTemplate, templateProblem } from '../iam/template-check.ts'
import { appFactsOf, appParameters, type AppFacts } from '../iam/app-parameters.ts'
import { isGitLabJob } from '../plugin/detect.ts'
import { DEFAULT_ISSUER, iamArn, isAccountId, isIamArn, parseRoleArn } from '../iam/arns.ts'
import { decodeToken } from '../plugin/token.ts'
import { DEFAULT_TOKEN_VARIABLE } from '../shared/id-token.ts'
import { warning } from '../report/format.ts'
import { BIN, CliError, EXIT_OK, UsageError, parseErrorMessage, readVersion, type CliIo } from './io.ts'
import { shellWord } from '../shared/shell-word.ts'
import {
  originDefaultBranch, originUrl, parameterProblem, parseRemote, templateFileFor, templateParameters, toLogicalID,
  type TemplateParameter,
} from './setup-sources.ts'

export const SETUP_HELP = `Usage: ${BIN} setup [options]

Run in your Architect app's repository. Prints, for your two AWS accounts (staging and
production), the exact \`aws cloudformation deploy\` command for the IAM template this
package ships (iam/gitlab-oidc.yaml) with every parameter computed, then the @gitlab-oidc
lines for your manifest and the CI/CD include. Nothing is changed, nothing calls AWS.

Computed from:
  AppName, AppStackPrefix  the manifest's @app, read by Architect's own reader; the prefix
                           is Architect's toLogicalID(@app) (my-shop -> MyShop)
  ProjectPath              $CI_PROJECT_PATH in a job, else the origin remote (HTTPS or SSH)
  GitLabProjectId          $CI_PROJECT_ID in a job, else --project-id: the number GitLab
                           shows on the project's overview page, under its name (or
                           Settings > General). Both roles pin it (gitlab.com checks it;
                           it survives renames and transfers; a reused path does not get it)
  DefaultBranch            $CI_DEFAULT_BRANCH in a job, else origin/HEAD
  GitLabUrl                $CI_SERVER_URL in a job, else the HTTPS remote's host
                           (an SSH remote says it only for gitlab.com; a GitLab
                           under a path: give --gitlab-url and --project)
  StaticBucketArns, DeployBucket, LayerArns, AllowCloudFrontWrites
                           the manifest's @static <stage> <bucket>, @aws bucket,
                           @aws layers (and config.arc layers), @cdn; then the
                           Name=value pairs of @gitlab-oidc iam-parameters
  GitLabIssuer             the iss of the job's ID token when it is not the GitLab URL
                           (an instance with ci_id_tokens_issuer_url), else --issuer

Options:
  --project <path>           GitLab project path, e.g. acme/web/my-shop
  --project-id <id>          The project's ID (the number on its overview page)
  --no-project-id            Do not pin the roles to the project ID (not recommended: a
                             project that later gets this path could assume the roles)
  --branch <name>            The project's default branch (the production branch)
  --gitlab-url <url>         Your GitLab's URL, e.g. https://gitlab.example.com
  --issuer <url>             The ID tokens' iss, if your instance sets ci_id_tokens_issuer_url
  --aud <aud>                The aud your jobs' id_tokens request   [default: the GitLab URL]
  --staging-account <id>     12-digit account ID: print the staging ARNs themselves
  --production-account <id>  the same for production
  --staging-role-arn <arn>   the StagingRoleArn output, once the staging stack exists: the
                             @gitlab-oidc lines filled in (its boundary in the same account)
  --production-role-arn <arn>  the same for production
  --parameter <Name=value>   Any other template parameter; repeatable
  -h, --help                 Show this help

Exit codes: 0 printed; 2 something could not be determined (the message names the flag
that supplies it) or a flag is wrong; 1 no manifest, or a value the template refuses.
`

const OPTIONS = {
  project: { type: 'string' },
  'project-id': { type: 'string' },
  'no-project-id': { type: 'boolean' },
  issuer: { type: 'string' },
  branch: { type: 'string' },
  'gitlab-url': { type: 'string' },
  aud: { type: 'string' },
  'staging-account': { type: 'string' },
  'production-account': { type: 'string' },
  'staging-role-arn': { type: 'string' },
  'production-role-arn': { type: 'string' },
  parameter: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS, strict: true, allowPositionals: false }>>['values']

export const STAGES = [ 'staging', 'production' ] as const
type StageName = typeof STAGES[number]

export interface SetupPlan {
  manifestFile: string
  appName: string
  /** Every parameter printed, in template order, without Stages (set per account) and the app's settings. */
  parameters: Array<[string, string]>
  /** The app-settings parameters of each stage's account (src/iam/app-parameters.ts). */
  appParameters: Record<StageName, Array<[string, string]>>
  /** What the boundary will cap, and settings the template cannot take: printed as comments. */
  notes: string[]
  stackName: string
  templateFile: string
  accounts: Partial<Record<StageName, string>>
  /** A stage's role ARN as given (--<stage>-role-arn): the stack's output. */
  roles: Partial<Record<StageName, string>>
  gitlabUrl: string
  projectPath: string
  defaultBranch: string
  aud: string | undefined
  /** The project ID the roles pin, or undefined with --no-project-id. */
  projectId?: string | undefined
}

function parse (args: readonly string[]): Values {
  try {
    return parseArgs({ args: [ ...args ], allowPositionals: false, strict: true, options: OPTIONS }).values
  }
  catch (err) {
    throw new UsageError(parseErrorMessage(err), 'setup')
  }
}

/** What setup computes, or the one message saying which flags must supply what it could not. */
export function planSetup (v: Values, io: Pick<CliIo, 'env' | 'cwd'>, inv?: unknown): SetupPlan {
  const manifest = readManifest(io.cwd)
  if (!manifest) throw new Error(`No Architect manifest (app.arc, .arc, arc.json, arc.yaml or package.json's arc) in ${io.cwd}: run ${BIN} setup in your app's directory`)
  const app = manifest.arc.app?.[0]
  if (typeof app !== 'string' || !app) throw new Error(`${manifest.file} has no @app name`)
  const inJob = isGitLabJob(io.env)
  const remoteUrl = inJob && io.env.CI_PROJECT_PATH ? undefined : originUrl(io.cwd)
  const remote = remoteUrl ? parseRemote(remoteUrl) : undefined
  const job = (name: string) => (inJob ? io.env[name] || undefined : undefined)
  const computed: Record<string, string | undefined> = {
    ProjectPath: v.project ?? job('CI_PROJECT_PATH') ?? remote?.projectPath,
    DefaultBranch: v.branch ?? job('CI_DEFAULT_BRANCH') ?? originDefaultBranch(io.cwd),
    AppName: app,
    AppStackPrefix: toLogicalID(app),
    GitLabUrl: v['gitlab-url'] ?? job('CI_SERVER_URL') ?? remote?.gitlabUrl,
    Audience: v.aud,
    GitLabProjectId: projectId(v, job('CI_PROJECT_ID')),
  }
  const issuer = v.issuer ?? (inJob ? jobIssuer(io.env) : undefined)
  if (issuer !== undefined && issuer !== computed.GitLabUrl) computed.GitLabIssuer = issuer
  const missing: string[] = []
  if (!computed.ProjectPath) missing.push(`the GitLab project path (${remoteUrl ? `origin ${redact(remoteUrl)} is not a GitLab project URL` : 'no origin remote'}): give --project <group/project>`)
  if (!computed.GitLabProjectId) missing.push(PROJECT_ID_MISSING)
  if (!computed.DefaultBranch) missing.push('the default branch (git does not know origin/HEAD; `git remote set-head origin --auto` sets it): give --branch <name>')
  if (!computed.GitLabUrl) missing.push(`your GitLab's URL (${remote ? `the remote's host ${remote.host} does not say its web address` : 'no HTTPS remote'}): give --gitlab-url https://<host>`)
  const { accounts, roles } = stageArns(v)
  const template = templateParameters()
  for (const pair of v.parameter ?? []) {
    const [ name = '', ...rest ] = pair.split('=')
    if (!rest.length || !template.some(p => p.name === name)) throw new UsageError(`--parameter ${pair}: give Name=value, Name one of ${template.map(p => p.name).join(', ')}`, 'setup')
    if (name === 'Stages') throw new UsageError('--parameter Stages: setup prints one command per account, Stages=staging and Stages=production', 'setup')
    computed[name] = rest.join('=')
  }
  sessionMaximum(manifest, template, computed)
  const parameters = parametersFor(template, computed, missing)
  if (missing.length) throw new UsageError('setup cannot determine, and does not guess:', 'setup', missing)
  const facts = appFactsOf(inv ?? manifestFacts(manifest.arc))
  const pairs = pragmaEntries(manifest.arc, 'gitlab-oidc').get('iam-parameters') ?? []
  const appParams = {} as SetupPlan['appParameters']
  for (const stage of STAGES) {
    const given = Object.entries(appParameters(facts, stage, pairs))
    for (const [ name, value ] of given) {
      const p = template.find(t => t.name === name)
      const problem = p ? parameterProblem(p, value) : `no such parameter (one of ${template.map(t => t.name).join(', ')})`
      if (problem) throw new Error(`${name}=${value} (from ${manifest.file}) is refused by the template: ${problem}`)
    }
    appParams[stage] = given.filter(([ name ]) => !parameters.some(([ n ]) => n === name))
  }
  return {
    manifestFile: manifest.file, appName: app, parameters, appParameters: appParams, notes: notesFor(facts), stackName: `${app}-gitlab-oidc`,
    templateFile: templateFileFor(io.cwd), accounts, roles, aud: v.aud,
    gitlabUrl: computed.GitLabUrl!, projectPath: computed.ProjectPath!, defaultBranch: computed.DefaultBranch!,
    projectId: computed.GitLabProjectId === 'none' ? undefined : computed.GitLabProjectId,
  }
}

/** @static, @aws and @cdn as Inventory has them, from the manifest alone (when Inventory cannot load the app). */
function manifestFacts (arc: ArcObject): unknown {
  const one = (pragma: string, key: string) => pragmaEntries(arc, pragma).get(key)?.[0]
  return {
    static: { staging: one('static', 'staging'), production: one('static', 'production') },
    aws: { bucket: one('aws', 'bucket'), layers: pragmaEntries(arc, 'aws').get('layers'), policies: pragmaEntries(arc, 'aws').get('policies') },
    cdn: arc.cdn !== undefined,
  }
}

/** What setup says about the app beyond the parameters: policies the boundary will cap. */
function notesFor (facts: AppFacts): string[] {
  return facts.policies.map(({ fn, policies }) => `${fn}: policies ${policies.map(p => typeof p === 'string' ? p : '<statement>').join(', ')} are capped by the ` +
    'permissions boundary; list the actions the functions call in @gitlab-oidc iam-parameters BoundaryActions=<service:Action,...>')
}

const PROJECT_ID_MISSING = 'the GitLab project ID (the number on the project\'s overview page, under its name; or Settings > General): ' +
  'give --project-id <id>, or --no-project-id to leave the roles unpinned'

/** --project-id, CI_PROJECT_ID in a job, or `none` for --no-project-id; both flags at once are refused. */
function projectId (v: Values, fromJob: string | undefined): string | undefined {
  if (v['project-id'] !== undefined && v['no-project-id']) throw new UsageError('--project-id and --no-project-id: give one of them', 'setup')
  const id = v['project-id'] ?? (v['no-project-id'] ? undefined : fromJob)
  if (id !== undefined && !/^[1-9][0-9]{0,19}$/.test(id)) throw new UsageError(`--project-id ${id}: GitLab's project ID is a number (the project's overview page shows it)`, 'setup')
  return id ?? (v['no-project-id'] ? 'none' : undefined)
}

/** The iss of the job's own ID token (no signature check: only what it says is read). */
function jobIssuer (env: NodeJS.ProcessEnv): string | undefined {
  const name = env.ARC_OIDC_TOKEN_VARIABLE || DEFAULT_TOKEN_VARIABLE
  const token = env[name]?.trim()
  if (!token) return undefined
  try {
    const iss = decodeToken(token, `CI variable ${name}`).iss
    return typeof iss === 'string' && iss ? iss.replace(/\/+$/, '') : undefined
  }
  catch { return undefined }
}

/**
 * The roles' MaxSessionDuration against the session the manifest asks for (`duration`): a longer
 * session than the roles allow is refused by STS on every deploy. Not given, the maximum is set
 * to the duration (when the template's default is shorter); given shorter, setup says so.
 */
function sessionMaximum (manifest: Manifest, template: TemplateParameter[], computed: Record<string, string | undefined>): void {
  const declared = template.find(p => p.name === 'MaxSessionDuration')
  const duration = pragmaEntries(manifest.arc, PRAGMA).get('duration')?.[0]
  if (!declared || duration === undefined || !/^\d+$/.test(duration)) return
  const given = computed.MaxSessionDuration
  const maximum = Number(given ?? declared.default)
  if (Number(duration) <= maximum) return
  if (given === undefined) {
    computed.MaxSessionDuration = duration
    return
  }
  throw new UsageError(`--parameter MaxSessionDuration=${given} is shorter than \`duration\` ${duration} in @${PRAGMA} (${manifest.file}): STS would refuse every exchange (ValidationError)`, 'setup', [
    `Give --parameter MaxSessionDuration=${duration} (at most 43200), or lower \`duration\` in ${manifest.file}.`,
  ])
}

/** Each stage's account (--<stage>-account) and role ARN (--<stage>-role-arn), checked. */
function stageArns (v: Values): Pick<SetupPlan, 'accounts' | 'roles'> {
  const accounts: SetupPlan['accounts'] = {}
  const roles: SetupPlan['roles'] = {}
  for (const stage of STAGES) {
    const id = v[`${stage}-account`]
    if (id !== undefined && !isAccountId(id)) throw new UsageError(`--${stage}-account ${id}: an AWS account ID is 12 digits`, 'setup')
    if (id) accounts[stage] = id
    const role = v[`${stage}-role-arn`]
    if (role === undefined) continue
    if (!isIamArn(role, 'role')) throw new UsageError(`--${stage}-role-arn ${role}: give the ${cap(stage)}RoleArn output, arn:aws:iam::<12 digits>:role/<name>`, 'setup')
    const account = parseRoleArn(role).account
    if (id && id !== account) throw new UsageError(`--${stage}-role-arn ${role} is in account ${account}, --${stage}-account says ${id}: give the ${stage} stack's own output`, 'setup')
    roles[stage] = role
    accounts[stage] = account
  }
  return { accounts, roles }
}

/** The template's parameters with the values computed for them; Stages is added per account. */
function parametersFor (
  template: TemplateParameter[], computed: Record<string, string | undefined>, missing: string[],
): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const p of template) {
    if (p.name === 'Stages') continue
    const value = computed[p.name]
    if (value === undefined) {
      if (p.default === undefined && !(p.name in computed)) missing.push(`the template's ${p.name}: give --parameter ${p.name}=<value>`)
      continue
    }
    const problem = parameterProblem(p, value)
    if (problem) throw new Error(`${p.name}=${value} is refused by the template: ${problem}`)
    out.push([ p.name, value ])
  }
  if (!template.some(p => p.name === 'Stages')) throw new Error('The template has no Stages parameter')
  return out
}

/** A remote URL without its user part (which may hold a token). */
function redact (url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1')
}

const OUTPUTS: Array<[string, string]> = [ [ 'role', 'RoleArn' ], [ 'permissions-boundary', 'BoundaryArn' ] ]
const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1)

/**
 * The ARN the template's output has, for a role ARN or an account given on the command line
 * (the boundary in the role's account and partition, named as the template names it); undefined
 * when neither was given.
 */
function outputValue (plan: SetupPlan, stage: StageName, suffix: string): string | undefined {
  const role = plan.roles[stage]
  if (role && suffix === 'RoleArn') return role
  const account = plan.accounts[stage]
  if (!account) return undefined
  const partition = role ? parseRoleArn(role).partition : undefined
  return suffix === 'RoleArn'
    ? iamArn({ partition, account, resource: 'role', name: `${plan.appName}-${stage}-deploy` })
    : iamArn({ partition, account, resource: 'policy', name: `${plan.appName}-${stage}-boundary` })
}

/**
 * The @gitlab-oidc lines. A value setup does not know is a comment (`# staging-role <paste ...>`):
 * pasted before the stacks exist, the manifest still parses (a bare `<` is a parse error in Architect).
 */
function manifestLines (plan: SetupPlan): string[] {
  const lines: string[] = []
  for (const stage of STAGES) {
    for (const [ key, suffix ] of OUTPUTS) {
      const value = outputValue(plan, stage, suffix)
      lines.push(value ? `${stage}-${key} ${value}` : `# ${stage}-${key} <paste the ${cap(stage)}${suffix} output of the ${stage} account's stack>`)
    }
  }
  if (lines.some(l => l.startsWith('#'))) {
    lines.unshift(`# Once the stacks exist: uncomment each line with its output pasted, or run ${BIN} setup again`,
      '# with --staging-role-arn and --production-role-arn (the StagingRoleArn and ProductionRoleArn outputs).')
  }
  return lines
}

export function renderSetup (plan: SetupPlan): string {
  const pairs = (stage: StageName) => [ ...plan.parameters, ...plan.appParameters[stage], [ 'Stages', stage ] ].map(([ k, v ]) => `${k}=${shellWord(v!)}`).join(' ')
  const lines = [
    `# ${BIN} setup: app ${plan.appName} (${plan.manifestFile}), GitLab project ${plan.projectPath}${plan.projectId ? ` (ID ${plan.projectId})` : ''} on ${plan.gitlabUrl},`,
    `# production from its default branch ${plan.defaultBranch}; one AWS account for staging, one for production.`,
    '',
    '# AWS, once in each account, with that account\'s administrator credentials: the deploy role,',
    '# its permissions boundary and the OIDC provider for your GitLab (add CreateOidcProvider=false',
    '# if the account has one for it already).',
    ...plan.notes.map(n => `# Note: ${n}.`),
  ]
  for (const stage of STAGES) {
    lines.push('', `# ${stage} account${plan.accounts[stage] ? ` (${plan.accounts[stage]})` : ''}`,
      'aws cloudformation deploy \\',
      `  --stack-name ${shellWord(plan.stackName)} \\`,
      `  --template-file ${shellWord(plan.templateFile)} \\`,
      '  --capabilities CAPABILITY_NAMED_IAM \\',
      `  --parameter-overrides ${pairs(stage)}`)
  }
  lines.push('', '# The stack outputs (in each account) go into your manifest; this prints them:',
    `aws cloudformation describe-stacks --stack-name ${shellWord(plan.stackName)} --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text`,
    '', `# In ${plan.manifestFile} (list the plugin last under @plugins; other formats take the same keys):`,
    '@plugins', 'arc-plugin-gitlab-oidc', '', '@gitlab-oidc', ...manifestLines(plan))
  lines.push('', ...ciInclude(plan), '')
  return lines.join('\n')
}

function ciInclude (plan: SetupPlan): string[] {
  const component = `gitlab.com/arc-gitlab-oidc/arc-plugin-gitlab-oidc/arc-deploy@${readVersion()}`
  const out = [
    '# .gitlab-ci.yml: the CI/CD component deploys staging from branches, production from the default',
    '# branch, and review apps (the same jobs written out: node_modules/arc-plugin-gitlab-oidc/docs/gitlab-ci.md).',
  ]
  if (plan.gitlabUrl !== DEFAULT_ISSUER) out.push(`# On ${plan.gitlabUrl}, include the component from a mirror of the project there.`)
  out.push('include:', `  - component: ${component}`)
  if (plan.aud) out.push('    inputs:', `      aud: ${plan.aud}`)
  return out
}

/**
 * The deploy's template check on the template Architect generates for each stage, with the
 * parameters printed: what a deploy would refuse is said now, before anything is created.
 */
async function templateNotes (plan: SetupPlan, cwd: string): Promise<string[]> {
  const notes: string[] = []
  for (const stage of STAGES) {
    const read = await readApp(cwd, stage)
    if (!('template' in read) || !read.template) continue
    const prefix = plan.parameters.find(([ n ]) => n === 'AppStackPrefix')?.[1] ?? ''
    const input = {
      template: read.template, stage, stackName: `${prefix}${cap(stage)}`, allows: readAllows(),
      parameters: Object.fromEntries([ ...plan.parameters, ...plan.appParameters[stage] ]),
    }
    const problem = templateProblem(checkTemplate(input), input)
    if (problem) notes.push(`${problem.title}: ${[ ...problem.facts ?? [] ].map(([ id, what ]) => `${id}: ${what}`).join('; ')}. ${problem.fix.join('; ')}`)
  }
  return notes
}

export async function setup (args: readonly string[], io: CliIo): Promise<number> {
  const v = parse(args)
  if (v.help) {
    io.stdout(SETUP_HELP)
    return EXIT_OK
  }
  let plan: SetupPlan
  try {
    const app = await readApp(io.cwd)
    plan = planSetup(v, io, 'inv' in app ? app.inv : undefined)
    if ('inv' in app) plan.notes.push(...await templateNotes(plan, io.cwd))
  }
  catch (err) {
    if (err instanceof CliError) throw err
    throw new CliError(err instanceof ManifestError ? `The manifest cannot be read: ${err.message}` : (err as Error).message)
  }
  io.stdout(renderSetup(plan))
  if (plan.projectId === undefined) {
    io.stderr(warning(`--no-project-id: the roles are not pinned to the project's ID, only to its path ${plan.projectPath}.`, [
      'A project that later takes over that path (after a rename, transfer or deletion) could assume them.',
      'Run setup again with --project-id <id> (the number on the project\'s overview page) and redeploy the stacks.',
    ]))
  }
  return EXIT_OK
}
