/**
 * The plugin's own rules, checked after the token and before the exchange: each refuses a job
 * that AWS might let through but that is almost certainly a mistake.
 */
import type { Invocation } from './detect.ts'
import { PluginError } from '../report/format.ts'
import { PRAGMA, describeSource, type Setting, type Settings } from './settings.ts'
import type { StageChoice } from './stage.ts'
import type { Claims } from '../shared/claims.ts'
import { FORK_FIX, forkOf } from './fork.ts'
import { accountOf } from '../iam/arns.ts'
import type { Origin } from '../shared/origin.ts'

export interface GuardInputs {
  settings: Settings
  role: Setting<string>
  claims: Claims
  choice: StageChoice
  env: NodeJS.ProcessEnv
  /** GitLab's own rules (forks, protected refs, environment tiers) only apply in GitLab jobs. */
  origin: Origin
}

export function runGuards (inputs: GuardInputs): void {
  if (inputs.origin === 'gitlab') forkMergeRequest(inputs)
  allowedAccount(inputs)
  if (inputs.origin !== 'gitlab') return
  protectedProduction(inputs)
  environmentTier(inputs)
}

/** `arc deploy production` (a bare word) would deploy staging: refused. */
export function bareProduction (invocation: Invocation, choice: StageChoice): void {
  if (!choice.bareProduction) return
  throw new PluginError({
    title: `\`arc ${invocation.command} production\` would ${invocation.command} the STAGING stack: Architect ignores a bare \`production\` argument`,
    facts: [['command', ['arc', invocation.command ?? '', ...invocation.args].join(' ').trim()]],
    fix: [`Write the flag: arc ${invocation.command} --production ${invocation.args.filter(a => a !== 'production').join(' ')}`.trimEnd()],
  })
}

function forkMergeRequest ({ claims, env }: GuardInputs): void {
  const fork = forkOf(claims, env)
  if (!fork) return
  throw new PluginError({
    title: `This pipeline is for a merge request from a fork (${fork.source} into ${fork.target}): forks never deploy with this project's roles`,
    facts: [['token project', String(claims.project_path ?? '?')], ['job project', env.CI_PROJECT_PATH ?? '?'], ...(env.CI_MERGE_REQUEST_IID ? [['merge request', `!${env.CI_MERGE_REQUEST_IID}`] as [string, string]] : [])],
    claims,
    fix: FORK_FIX(fork),
  })
}

function allowedAccount ({ settings, role, claims, origin }: GuardInputs): void {
  const account = accountOf(role.value)
  if (!settings.allowedAccounts || !account || settings.allowedAccounts.value.includes(account)) return
  throw new PluginError({
    title: `The role is in AWS account ${account}, which is not an allowed account`,
    facts: [['role', `${role.value} (from ${describeSource(role.source)})`], ['allowed', `${settings.allowedAccounts.value.join(', ')} (from ${describeSource(settings.allowedAccounts.source)})`]],
    claims,
    origin,
    fix: ['Check the role setting (a CI variable scoped to the wrong project or environment?), or add the account to the allowed list.'],
  })
}

/** What is being done, in the command's own words: "a production deploy", "`arc env` on production". */
export function actionOf (choice: Pick<StageChoice, 'stage' | 'command'>): string {
  const command = choice.command ?? 'deploy'
  return command === 'deploy' || command === 'destroy' ? `a ${choice.stage} ${command}` : `\`arc ${command}\` on ${choice.stage}`
}

function protectedProduction ({ settings, role, claims, choice, env }: GuardInputs): void {
  const refProtected = claims.ref_protected ?? env.CI_COMMIT_REF_PROTECTED
  if (choice.stage !== 'production' || refProtected === 'true' || settings.allowUnprotectedProduction.value) return
  const ref = claims.ref ?? env.CI_COMMIT_REF_NAME
  const defaultBranch = env.CI_DEFAULT_BRANCH
  const fromOtherRef = !(claims.ref_type === 'branch' && ref !== undefined && ref === defaultBranch)
  throw new PluginError({
    title: `Refusing ${actionOf(choice)} from ${claims.ref_type ?? 'ref'} \`${ref ?? '?'}\`, which is not protected`,
    facts: [['stage', `production (${choice.reason})`], ['role', role.value], ...(defaultBranch ? [['default branch', defaultBranch] as [string, string]] : [])],
    claims,
    fix: [
      ...(fromOtherRef
        ? [
          `Run this job only on the default branch${defaultBranch ? ` (\`${defaultBranch}\`)` : ''}: give it rules, as the arc-deploy component's jobs do:`,
          '  rules:',
          '    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH',
          'and protect that branch (Settings → Repository → Protected branches);',
          `or, to deploy production from \`${ref ?? 'this ref'}\` on purpose, protect it too.`,
        ]
        : [`Protect the branch \`${ref}\` (Settings → Repository → Protected branches).`]),
      `Last resort, to deploy production from unprotected refs: \`allow-unprotected-production true\` in @${PRAGMA} or ARC_ALLOW_UNPROTECTED_PRODUCTION=true.`,
    ],
  })
}

/**
 * GitLab's ID token names the job's environment and its deployment tier. A job whose tier is
 * `production` deploying staging, or a production deploy from a job of another tier, is a
 * pipeline mistake (a copied job, a wrong flag): refused before any AWS call.
 */
function environmentTier ({ settings, claims, choice }: GuardInputs): void {
  const tier = typeof claims.deployment_tier === 'string' ? claims.deployment_tier : undefined
  if (!tier || !settings.environmentCheck.value) return
  const production = choice.stage === 'production'
  if (production === (tier === 'production')) return
  const environment = `${claims.environment ?? '?'} (deployment tier ${tier})`
  const flag = choice.command === 'env' ? '--env production' : '--production'
  throw new PluginError({
    title: production
      ? `Refusing ${actionOf(choice)} from a job whose GitLab environment is not production: ${environment}`
      : `Refusing ${actionOf(choice)} from a job in GitLab environment ${environment}`,
    facts: [['stage', `${choice.stage} (${choice.reason})`], ['environment', environment]],
    claims,
    fix: [
      ...(production
        ? ['Give this job the production environment (environment: name: production, or deployment_tier: production),', `or drop ${flag} if it should act on staging.`]
        : [`Add ${flag} to the command if this job acts on production,`, 'or give the job a non-production environment (environment: deployment_tier: staging).']),
      `If this is intended, set \`environment-check false\` in @${PRAGMA} or ARC_ENVIRONMENT_CHECK=false.`,
    ],
  })
}
