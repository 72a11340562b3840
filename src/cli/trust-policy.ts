/**
 * `arc-gitlab-oidc trust-policy`: print the IAM trust policy (JSON) that lets this project's jobs
 * assume a role with their ID token, and a summary of what it allows on stderr.
 */
import { parseArgs } from 'node:util'

import { done, warning } from '../report/format.ts'
import { buildTrustPolicy, ENVIRONMENT_EXPLANATION, pinnedBy, type TrustPolicy, type TrustPolicyOptions } from '../iam/trust-policy.ts'
import { DEFAULT_ISSUER, normalizeIssuer } from '../iam/arns.ts'
import { SUB_CLAIM_COMPONENTS, subClaimComponentsOf } from '../iam/sub-claims.ts'
import { TrustPolicyError } from '../iam/errors.ts'
import { decodeToken } from '../plugin/token.ts'
import { isGitLabJob } from '../plugin/detect.ts'
import { DEFAULT_TOKEN_VARIABLE, audiences, type Claims } from '../shared/id-token.ts'
import { BIN, EXIT_OK, UsageError, parseErrorMessage, type CliIo } from './io.ts'

export const TRUST_POLICY_HELP = `Usage: ${BIN} trust-policy --project <group/project> (--branch <name> | --tag <name> | --any-ref)
                    (--account <id> | --role-arn <arn>) [options]

Print the IAM role trust policy (JSON, on stdout) that allows GitLab CI/CD jobs of a
project to call sts:AssumeRoleWithWebIdentity with their ID token. The policy names the
account's IAM OIDC provider for the GitLab instance and tests the token's aud and sub
claims; GitLab's sub is project_path:<group>/<project>:ref_type:<branch|tag>:ref:<name>
unless the project changed its sub claim components (--sub-claim-components).

Options:
  --project <path>     GitLab project path, e.g. acme/web/shop         [job: $CI_PROJECT_PATH]
  --branch <name>      A branch that may assume the role; repeatable. * and ? are
                       wildcards: --branch '*' is any branch, --branch 'release/*'
                                                                [job: $CI_DEFAULT_BRANCH]
  --tag <name>         A tag that may assume the role; repeatable; e.g. --tag 'v*'
  --ref <name>         A branch or tag of that name; repeatable (for projects whose
                       sub has no ref_type)
  --any-ref            Any branch or tag of the project
  --sub-claim-components <components>
                       How the project builds sub (its ci_id_token_sub_claim_components):
                       ${SUB_CLAIM_COMPONENTS.join('\n                       ')}
                       [default: ${SUB_CLAIM_COMPONENTS[0]}; \`doctor\` shows the project's]
                       Refs the format cannot express are refused with the reason.
  --project-id <id>    The project's numeric ID (its overview page shows it, under the name)
                       pinned as gitlab.com:project_id for gitlab.com, and in sub when the
                       format starts with project_id                  [job: $CI_PROJECT_ID]
  --protected-ref      Only protected refs (for production): gitlab.com:ref_protected for
                       gitlab.com, ref_protected:true in sub when the format carries it
  --environment <name> Not supported by AWS: a trust policy cannot test GitLab's
                       environment claim (exits 2 with the explanation)
  --account <id>       12-digit AWS account ID that holds the OIDC provider
  --role-arn <arn>     Take the account (and partition) from the role's ARN
  --partition <name>   aws, aws-cn or aws-us-gov                         [default: aws]
  --issuer <url>       The tokens' iss: the GitLab URL unless the instance sets
                       ci_id_tokens_issuer_url   [job: the token's iss or $CI_SERVER_URL, else ${DEFAULT_ISSUER}]
  --audience <aud>     The aud your jobs request in id_tokens
                       [job: the aud of the job's ID token, else the issuer URL]
  -h, --help           Show this help

Inside a GitLab job (GITLAB_CI=true) the values marked [job: ...] default to GitLab's
predefined variables; the default branch is used only when no --branch, --tag, --ref or
--any-ref is given, and --sub-claim-components defaults to the format of the job's own
ID token (${DEFAULT_TOKEN_VARIABLE}, or the variable ARC_OIDC_TOKEN_VARIABLE names).

Examples:
  ${BIN} trust-policy --project acme/shop --project-id 4242 --branch main --protected-ref --account 123456789012 > trust.json
  ${BIN} trust-policy --project acme/shop --branch '*' --role-arn arn:aws:iam::123456789012:role/shop-staging
  ${BIN} trust-policy --project acme/shop --tag 'v*' --account 123456789012 --issuer https://git.example.com
`

export interface TrustPolicyCommand {
  options: TrustPolicyOptions
  /** Which options were filled from GitLab's predefined variables. */
  fromJob: string[]
}

const OPTIONS = {
  project: { type: 'string' },
  branch: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  ref: { type: 'string', multiple: true },
  'sub-claim-components': { type: 'string' },
  environment: { type: 'string', multiple: true },
  'any-ref': { type: 'boolean' },
  'project-id': { type: 'string' },
  'protected-ref': { type: 'boolean' },
  account: { type: 'string' },
  'role-arn': { type: 'string' },
  partition: { type: 'string' },
  issuer: { type: 'string' },
  audience: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS, strict: true, allowPositionals: false }>>['values']

/** Parse `trust-policy` arguments and apply the job's defaults; throws UsageError. */
export function parseTrustPolicyArgs (args: readonly string[], env: NodeJS.ProcessEnv): TrustPolicyCommand & { help: boolean } {
  let v: Values
  try {
    v = parseArgs({ args: [ ...args ], allowPositionals: false, strict: true, options: OPTIONS }).values
  }
  catch (err) {
    throw new UsageError(parseErrorMessage(err), 'trust-policy')
  }
  const help = v.help === true
  // The job's ID token, decoded once: it gives the issuer, the audience and the sub format.
  const token = isGitLabJob(env) ? jobToken(env) : undefined
  const { project, projectId, issuer, audience, branches, fromJob } = jobDefaults(v, env, token)
  const subClaimComponents = v['sub-claim-components'] ?? (token && subClaimComponentsOf(token))
  if (v['sub-claim-components'] === undefined && subClaimComponents !== undefined) fromJob.push('sub claim components (the job\'s ID token)')
  const tags = v.tag ?? []
  const refs = v.ref ?? []
  const anyRef = v['any-ref'] === true
  if (!help) checkRequired(v, { project, branches, tags: [ ...tags, ...refs ], anyRef })

  const options: TrustPolicyOptions = {
    project: project ?? '',
    branches,
    tags,
    refs,
    environments: v.environment ?? [],
    ...(subClaimComponents !== undefined ? { subClaimComponents } : {}),
    anyRef,
    ...(projectId !== undefined ? { projectId } : {}),
    ...(v['protected-ref'] === true ? { requireProtectedRef: true } : {}),
    ...(v.account !== undefined ? { account: v.account } : {}),
    ...(v['role-arn'] !== undefined ? { roleArn: v['role-arn'] } : {}),
    ...(v.partition !== undefined ? { partition: v.partition } : {}),
    ...(issuer !== undefined ? { issuer } : {}),
    ...(v.audience !== undefined ? { audience: v.audience } : audience !== undefined ? { audience } : {}),
  }
  return { options, fromJob, help }
}

/** Inside a GitLab job, the project, issuer and (when no ref is named) the default branch default to the job's. */
interface JobDefaults { project?: string, projectId?: string, issuer?: string, audience?: string, branches: string[], fromJob: string[] }

function jobDefaults (v: Values, env: NodeJS.ProcessEnv, token: Claims | undefined): JobDefaults {
  const inJob = isGitLabJob(env)
  const fromJob: string[] = []
  const fromEnv = (given: string | undefined, name: 'CI_PROJECT_PATH' | 'CI_PROJECT_ID' | 'CI_SERVER_URL', what: string): string | undefined => {
    if (given !== undefined || !inJob || !env[name]) return given
    fromJob.push(`${what} (${name})`)
    return env[name]
  }
  const project = fromEnv(v.project, 'CI_PROJECT_PATH', 'project')
  const projectId = fromEnv(v['project-id'], 'CI_PROJECT_ID', 'project ID')
  const tokenIss = v.issuer === undefined ? token?.iss : undefined
  if (typeof tokenIss === 'string' && tokenIss) fromJob.push('issuer (the job\'s ID token)')
  const issuer = typeof tokenIss === 'string' && tokenIss ? tokenIss : fromEnv(v.issuer, 'CI_SERVER_URL', 'issuer')
  // What the job's id_tokens entry asks for: with an issuer of its own (ci_id_tokens_issuer_url), not the issuer URL.
  const tokenAud = v.audience === undefined && token ? audiences(token) : []
  let branches = v.branch ?? []
  if (!branches.length && !(v.tag ?? []).length && !(v.ref ?? []).length && v['any-ref'] !== true && inJob && env.CI_DEFAULT_BRANCH) {
    branches = [ env.CI_DEFAULT_BRANCH ]
    fromJob.push('branch (CI_DEFAULT_BRANCH)')
  }
  if (tokenAud.length === 1) fromJob.push('audience (the job\'s ID token)')
  const out: JobDefaults = { branches, fromJob }
  if (tokenAud.length === 1) out.audience = tokenAud[0]!
  if (project !== undefined) out.project = project
  if (projectId !== undefined) out.projectId = projectId
  if (issuer !== undefined) out.issuer = issuer
  return out
}

/** The job's own ID token's claims (no signature check: only what it says is read). */
function jobToken (env: NodeJS.ProcessEnv): Claims | undefined {
  const name = env.ARC_OIDC_TOKEN_VARIABLE || DEFAULT_TOKEN_VARIABLE
  const token = env[name]?.trim()
  if (!token) return undefined
  try { return decodeToken(token, `CI variable ${name}`) }
  catch { return undefined }
}

function checkRequired (v: Values, c: { project: string | undefined, branches: string[], tags: string[], anyRef: boolean }): void {
  const usage = (message: string): never => { throw new UsageError(message, 'trust-policy') }
  if (v.environment?.length) usage(`--environment cannot be honoured. ${ENVIRONMENT_EXPLANATION}`)
  if (c.anyRef && ((v.branch ?? []).length || c.tags.length)) usage('--any-ref already matches every branch and tag: drop --branch, --tag and --ref, or --any-ref')
  if (c.project === undefined) usage('--project <group/project> is required (outside a GitLab job there is no CI_PROJECT_PATH to default to)')
  if (!c.branches.length && !c.tags.length && !c.anyRef) usage('Say which refs may assume the role: --branch <name>, --tag <name>, --ref <name> or --any-ref')
  if (v.account === undefined && v['role-arn'] === undefined) usage('--account <12-digit id> or --role-arn <arn> is required: the policy must name the account\'s OIDC provider')
}

function describeRefs (options: TrustPolicyOptions): string {
  if (options.anyRef) return 'any branch or tag'
  const parts: string[] = []
  const b = options.branches ?? []
  const t = options.tags ?? []
  const r = options.refs ?? []
  if (b.length) parts.push(`${b.length === 1 ? 'branch' : 'branches'} ${b.join(', ')}`)
  if (t.length) parts.push(`${t.length === 1 ? 'tag' : 'tags'} ${t.join(', ')}`)
  if (r.length) parts.push(`${r.length === 1 ? 'branch or tag' : 'branches or tags'} ${r.join(', ')}`)
  return parts.join('; ')
}

function summary (policy: TrustPolicy, command: TrustPolicyCommand): string[] {
  const { options, fromJob } = command
  const issuer = normalizeIssuer(options.issuer ?? DEFAULT_ISSUER)
  const first = policy.Statement[0]
  const audience = options.audience ?? issuer.url
  const facts: [string, string][] = [
    [ 'provider', first?.Principal.Federated ?? '' ],
    [ 'audience', `${audience} (must equal the aud of the job's id_tokens entry)` ],
  ]
  if (options.subClaimComponents !== undefined) facts.push([ 'sub claim components', options.subClaimComponents ])
  const idPin = pinnedBy(options, 'project_id')
  facts.push([ 'project ID', options.projectId === undefined ? 'not pinned' : idPin === 'key' ? `${options.projectId} (${issuer.host}:project_id)` : idPin === 'sub' ? `${options.projectId} (in sub)` : `${options.projectId} (not testable here: AWS sees only sub and aud)` ])
  if (fromJob.length) facts.push([ 'from this job', fromJob.join(', ') ])
  const out = [ done(`Trust policy for ${options.project}: ${describeRefs(options)}`, facts) ]

  const broad = options.anyRef || [ ...(options.branches ?? []), ...(options.refs ?? []) ].some(b => b.includes('*') || b.includes('?'))
  if (broad) {
    out.push(warning('this role can be assumed from branches that are not protected, i.e. by anyone who can push to the project.',
      [ 'Give such a role only what a staging deploy needs; keep production on a role pinned to protected branches.' ]))
  }
  else if ((options.branches ?? []).length && !(options.requireProtectedRef && pinnedBy(options, 'ref_protected'))) {
    const how = pinnedBy(options, 'ref_protected') ? 'add --protected-ref to make AWS check it, and ' : `AWS cannot see whether a branch is protected here (${issuer.host} tokens are tested on sub and aud only, and this sub format has no ref_protected): `
    out.push(warning(`${how}protect these branches in GitLab (Settings > Repository > Protected branches).`))
  }
  if (options.projectId === undefined && pinnedBy(options, 'project_id') === 'key') {
    out.push(warning(`not pinned to the project ID: a project that later takes over the path ${options.project} could assume this role. Give --project-id <id>.`))
  }
  if (!broad && (options.refs ?? []).length) {
    out.push(warning('--ref admits a branch and a tag of that name alike: protect the name as a branch and as a tag in GitLab (Protected branches, Protected tags).'))
  }
  return out
}

export async function trustPolicy (args: readonly string[], io: CliIo): Promise<number> {
  const command = parseTrustPolicyArgs(args, io.env)
  if (command.help) {
    io.stdout(TRUST_POLICY_HELP)
    return EXIT_OK
  }
  let policy: TrustPolicy
  try {
    policy = buildTrustPolicy(command.options)
  }
  catch (err) {
    if (err instanceof TrustPolicyError) throw new UsageError(err.message, 'trust-policy')
    throw err
  }
  io.stdout(`${JSON.stringify(policy, null, 2)}\n`)
  io.stderr(summary(policy, command).join('\n'))
  return EXIT_OK
}
