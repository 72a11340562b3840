// Both stand-ins wired together the way example-app expects AWS to be set up:
// an IAM OIDC provider for the GitLab issuer, a production role only the default
// branch may assume, a staging role any branch of the project may assume, and
// developer keys. Used by e2e tests, the demo and the benchmarks; also runnable:
//
//   node test/support/standins.ts     (prints the endpoints and a job's environment, Ctrl-C stops)
import { fileURLToPath } from 'node:url'
import { gitlabTrustPolicy, startAws, type AwsStandIn, type Credentials } from './aws.ts'
import { startGitLab, type ClaimOverrides, type GitLabClaims, type GitLabStandIn, type JobEnvOptions, type MintOptions } from './gitlab.ts'

export interface StandInsOptions {
  accountId?: string
  /** @app name: roles are <app>-production-deploy and <app>-staging-deploy (as in example-app). */
  appName?: string
  projectPath?: string
  defaultBranch?: string
  /** Audience the provider and roles accept (default: the issuer URL). */
  audience?: string
  /** Variable the job's ID token is put in (default GITLAB_OIDC_TOKEN, the plugin's default). */
  tokenVariable?: string
  maxSessionDuration?: number
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
  const gitlab = await startGitLab(opts.audience ? { audience: opts.audience } : {})
  const aws = await startAws({ accountId: opts.accountId ?? '111111111111', log: opts.log })
  const audience = gitlab.audience
  aws.addOidcProvider({ url: gitlab.issuer, clientIds: [ audience ] })
  const trust = (sub: string) => gitlabTrustPolicy({ accountId: aws.accountId, providerUrl: gitlab.providerUrl, aud: audience, sub })
  const maxSessionDuration = opts.maxSessionDuration ?? 3600
  const roles = {
    production: aws.addRole({ name: `${appName}-production-deploy`, trustPolicy: trust(`project_path:${projectPath}:ref_type:branch:ref:${defaultBranch}`), maxSessionDuration }),
    staging: aws.addRole({ name: `${appName}-staging-deploy`, trustPolicy: trust(`project_path:${projectPath}:ref_type:branch:ref:*`), maxSessionDuration }),
  }
  const developer = aws.addDeveloperKey()
  return {
    gitlab,
    aws,
    audience,
    roles,
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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const s = await startStandIns({ log: line => console.log(`[aws] ${line}`) })
  const { env } = s.job()
  console.log(`GitLab issuer:  ${s.gitlab.issuer}`)
  console.log(`AWS endpoint:   ${s.aws.endpoint}`)
  console.log(`Roles:          ${s.roles.production}\n                ${s.roles.staging}`)
  console.log(`Developer keys: AWS_ACCESS_KEY_ID=${s.developer.accessKeyId} AWS_SECRET_ACCESS_KEY=${s.developer.secretAccessKey}`)
  console.log('\nA production deploy job (token valid 1h):')
  console.log(`export AWS_ENDPOINT_URL=${s.aws.endpoint}`)
  for (const [ k, v ] of Object.entries(env)) console.log(`export ${k}='${v}'`)
  process.once('SIGINT', () => { s.close().then(() => process.exit(0)) })
}
