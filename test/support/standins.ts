// Both stand-ins wired together the way example-app expects AWS to be set up, one AWS
// account per stage: in each account an IAM OIDC provider for the GitLab issuer; in the
// production account (111111111111) a role only the default branch may assume, in the staging
// account (222222222222) a role any branch of the project may assume; and developer keys.
// Used by e2e tests, the demo and the benchmarks; also runnable, for any app:
//
//   node test/support/standins.ts [--app my-shop] [--project acme/my-shop] [--branch main]
//     [--default-branch main] [--environment production] [--aud https://gitlab.com]
//
// prints the endpoints and the environment of a job of that project on that branch, in that
// environment (its ID token minted, valid 1 h), to paste in a shell and run `arc`; Ctrl-C stops.
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { gitlabTrustPolicy, startAws, type AwsStandIn, type Credentials } from './aws.ts'
import { startGitLab, type ClaimOverrides, type GitLabClaims, type GitLabStandIn, type JobEnvOptions, type MintOptions } from './gitlab.ts'

/** The AWS account of each stage's role and boundary. */
export interface StageAccounts { production: string, staging: string }

/** example-app's layout: one AWS account per stage. */
export const STAGE_ACCOUNTS: StageAccounts = { production: '111111111111', staging: '222222222222' }

export interface StandInsOptions {
  /** Each stage's account (default STAGE_ACCOUNTS); the same ID twice is the one-account layout. */
  accounts?: StageAccounts
  /** @app name: roles are <app>-production-deploy and <app>-staging-deploy (as in example-app). */
  appName?: string
  projectPath?: string
  defaultBranch?: string
  /** Audience the provider and roles accept (default: the issuer URL). */
  audience?: string
  /** Variable the job's ID token is put in (default GITLAB_OIDC_TOKEN, the plugin's default). */
  tokenVariable?: string
  maxSessionDuration?: number
  /**
   * 'registered' (default): each account gets the issuer's OIDC provider and the two deploy roles
   * registered directly, allowed every action. 'none': the accounts start empty, for the IAM
   * template to create them (test/support/iam-setup.ts runs setup's commands).
   */
  iam?: 'registered' | 'none'
  /** The GitLab instance's public URL (https://..., no port), served on loopback (see startGitLab). */
  publicIssuer?: string
  log?: (line: string) => void
}

export interface Job {
  token: string
  claims: GitLabClaims
  /** GitLab's predefined variables plus the ID token variable (no AWS_* here). */
  env: Record<string, string>
}

export interface StandIns {
  gitlab: GitLabStandIn
  aws: AwsStandIn
  audience: string
  roles: { production: string, staging: string }
  /** Each stage's account (its role, its OIDC provider, its boundary's ARN). */
  accounts: StageAccounts
  /** The permissions boundary ARN of a stage, in its account (`<app>-<stage>-boundary`). */
  boundaries: { production: string, staging: string }
  developer: Credentials
  /** A GitLab job: token minted for the claims (default: default branch, production environment) and its env. */
  job (overrides?: ClaimOverrides, mint?: MintOptions, env?: JobEnvOptions): Job
  close (): Promise<void>
}

export async function startStandIns (opts: StandInsOptions = {}): Promise<StandIns> {
  const appName = opts.appName ?? 'oidc-example'
  const projectPath = opts.projectPath ?? 'acme/oidc-example'
  const defaultBranch = opts.defaultBranch ?? 'main'
  const tokenVariable = opts.tokenVariable ?? 'GITLAB_OIDC_TOKEN'
  const gitlab = await startGitLab({
    ...opts.audience ? { audience: opts.audience } : {}, ...opts.publicIssuer ? { publicIssuer: opts.publicIssuer } : {},
  })
  const accounts = { ...opts.accounts ?? STAGE_ACCOUNTS }
  const aws = await startAws({ accountId: accounts.production, log: opts.log })
  if (opts.publicIssuer) aws.locateIssuer(gitlab.issuer, gitlab.loopbackUrl)
  const audience = gitlab.audience
  const registered = (opts.iam ?? 'registered') === 'registered'
  // Each account has its own IAM OIDC provider for the issuer, which its role's trust policy names
  for (const accountId of new Set([ accounts.production, accounts.staging ])) {
    if (registered) aws.addOidcProvider({ url: gitlab.issuer, clientIds: [ audience ], accountId })
  }
  const trust = (accountId: string, sub: string) => gitlabTrustPolicy({ accountId, providerUrl: gitlab.providerUrl, aud: audience, sub })
  const maxSessionDuration = opts.maxSessionDuration ?? 3600
  const role = (stage: 'production' | 'staging', sub: string): string => registered
    ? aws.addRole({ name: `${appName}-${stage}-deploy`, trustPolicy: trust(accounts[stage], sub), maxSessionDuration, accountId: accounts[stage] })
    : `arn:aws:iam::${accounts[stage]}:role/${appName}-${stage}-deploy`
  const roles = {
    production: role('production', `project_path:${projectPath}:ref_type:branch:ref:${defaultBranch}`),
    staging: role('staging', `project_path:${projectPath}:ref_type:branch:ref:*`),
  }
  const boundary = (stage: 'production' | 'staging'): string => `arn:aws:iam::${accounts[stage]}:policy/${appName}-${stage}-boundary`
  const developer = aws.addDeveloperKey()
  return {
    gitlab,
    aws,
    audience,
    roles,
    accounts,
    boundaries: { production: boundary('production'), staging: boundary('staging') },
    developer,
    job (overrides = {}, mint = {}, env = {}) {
      const claims = gitlab.claims({ project_path: projectPath, ref: defaultBranch, ...overrides }, mint)
      const token = gitlab.mint(claims, mint)
      return { token, claims, env: gitlab.jobEnv(claims, { defaultBranch, ...env, idTokens: { [tokenVariable]: token, ...env.idTokens } }) }
    },
    async close () {
      await aws.close()
      await gitlab.close()
    },
  }
}

/** What `node test/support/standins.ts` is asked for: the app, the project and the job. */
export interface StandInsCliOptions {
  app: string
  project: string
  /** The job's branch. */
  branch: string
  defaultBranch: string
  /** The job's GitLab environment (its deployment tier follows from the name, as GitLab guesses it). */
  environment: string
  /** The ID token's audience, which the provider and roles accept; default the issuer URL. */
  aud: string | undefined
}

export const STANDINS_HELP = `Usage: node test/support/standins.ts [options]

Starts the loopback GitLab issuer and AWS stand-ins for an app, and prints the environment of a
GitLab job (its ID token minted) to paste in a shell before running \`arc\` in the app.

  --app <name>             the @app name: roles <app>-production-deploy (account 111111111111) /
                           <app>-staging-deploy (account 222222222222)                 [oidc-example]
  --project <path>         the GitLab project path the roles trust                     [acme/oidc-example]
  --branch <name>          the job's branch                                            [the default branch]
  --default-branch <name>  the only branch the production role trusts                  [main]
  --environment <name>     the job's GitLab environment     [production on the default branch, else staging]
  --aud <aud>              the audience of the token, the provider and the roles       [the issuer URL]
`

export function parseStandInsArgs (argv: string[]): StandInsCliOptions | 'help' {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      app: { type: 'string' }, project: { type: 'string' }, branch: { type: 'string' }, 'default-branch': { type: 'string' },
      environment: { type: 'string' }, aud: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  })
  if (v.help) return 'help'
  const defaultBranch = v['default-branch'] ?? 'main'
  const branch = v.branch ?? defaultBranch
  return {
    app: v.app ?? 'oidc-example',
    project: v.project ?? 'acme/oidc-example',
    branch,
    defaultBranch,
    environment: v.environment ?? (branch === defaultBranch ? 'production' : 'staging'),
    aud: v.aud,
  }
}

/** GitLab's guess of a deployment tier from an environment's name. */
export function tierOf (environment: string): string {
  if (/^(production|prod|live)$/i.test(environment)) return 'production'
  if (/^(staging|stage|model|pre-?prod|demo)/i.test(environment)) return 'staging'
  if (/^(test|qc|qa)/i.test(environment)) return 'testing'
  if (/^(dev|review|trunk)/i.test(environment)) return 'development'
  return 'other'
}

export function startStandInsFor (o: StandInsCliOptions, log?: (line: string) => void): Promise<StandIns> {
  return startStandIns({
    appName: o.app, projectPath: o.project, defaultBranch: o.defaultBranch, ...(o.aud ? { audience: o.aud } : {}), ...(log ? { log } : {}),
  })
}

/**
 * The job the options describe, and what to run in it: its environment plus AWS_ENDPOINT_URL,
 * and ARC_ROLE_ARN / ARC_PERMISSIONS_BOUNDARY naming the stand-in's role and boundary for the
 * job's stage (CI variables win over the manifest, so any app's manifest works unchanged).
 */
export function standInsJob (s: StandIns, o: StandInsCliOptions): Job & { stage: 'production' | 'staging', command: string } {
  const tier = tierOf(o.environment)
  const stage = tier === 'production' ? 'production' : 'staging'
  const job = s.job({
    ref: o.branch, ref_protected: o.branch === o.defaultBranch ? 'true' : 'false',
    environment: o.environment, environment_protected: tier === 'production' ? 'true' : 'false', deployment_tier: tier,
  })
  const env = {
    ...job.env,
    AWS_ENDPOINT_URL: s.aws.endpoint,
    ARC_ROLE_ARN: s.roles[stage],
    ARC_PERMISSIONS_BOUNDARY: s.boundaries[stage],
  }
  return { ...job, env, stage, command: stage === 'production' ? 'npx arc deploy --production' : 'npx arc deploy' }
}

const shellQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`

export function describeStandIns (s: StandIns, o: StandInsCliOptions): string[] {
  const job = standInsJob(s, o)
  return [
    `GitLab issuer:  ${s.gitlab.issuer} (audience ${s.audience})`,
    `AWS endpoint:   ${s.aws.endpoint}`,
    `Roles:          ${s.roles.production} (production account; project ${o.project}, branch ${o.defaultBranch})`,
    `                ${s.roles.staging} (staging account; project ${o.project}, any branch)`,
    `Developer keys: AWS_ACCESS_KEY_ID=${s.developer.accessKeyId} AWS_SECRET_ACCESS_KEY=${s.developer.secretAccessKey}`,
    '',
    `A job of ${o.project} on branch ${o.branch}, environment ${o.environment} (deployment tier ${tierOf(o.environment)}), token valid 1h.`,
    `Paste these lines in a shell, then in the app (@app ${o.app}, the plugin installed): ${job.command}`,
    ...Object.entries(job.env).map(([ k, v ]) => `export ${k}=${shellQuote(v)}`),
  ]
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const o = parseStandInsArgs(process.argv.slice(2))
  if (o === 'help') {
    console.log(STANDINS_HELP)
    process.exit(0)
  }
  const s = await startStandInsFor(o, line => console.error(`[aws] ${line}`))
  console.log(describeStandIns(s, o).join('\n'))
  // Closing can fail (a socket already gone): say so and still exit, with a failure code.
  const stop = () => s.close().then(() => process.exit(0), (err: unknown) => {
    console.error(`stand-ins: closing failed: ${String(err)}`)
    process.exit(1)
  })
  process.once('SIGINT', () => { void stop() })
  process.once('SIGTERM', () => { void stop() })
}
