/**
 * deploy.start: the credentials were obtained while Architect loaded the plugin; here the
 * plugin confirms they are for the stage Architect is actually deploying, says who deploys,
 * and puts the stage's permissions boundary on every role of the template.
 */
import type { Outcome } from '../plugin/activate.ts'
import { describeSource } from '../shared/setting-source.ts'
import { PluginError, type Row } from '../shared/problem.ts'
import { bothTimes, done, humanDuration, warning } from '../report/format.ts'
import { BoundaryConflict, applyBoundary, type Template } from './boundary.ts'
import { sharedAccountOf, sharedAccountWarning } from '../iam/account-fence.ts'
import { checkTemplate, roleCheckInput, templateProblem, templateWarnings } from '../iam/template-check.ts'

export interface DeployStartParams {
  stage?: string
  stackName?: string
  dryRun?: boolean
  cloudformation?: Template
  /** Architect's Inventory (`inventory.inv` is what the template was generated from). */
  inventory?: { inv?: { app?: unknown } & Record<string, unknown> }
}

export interface HookIo { now: Date, out: (s: string) => void, err: (s: string) => void }

/** How a refusal in a deploy hook ends: Architect has read from AWS by then, but changed nothing. */
export const STOPPED = 'Architect was stopped before it deployed anything.'

/** A deploy that needs longer than the credentials last fails half-way; warn below this. */
export const MIN_REMAINING_MS = 15 * 60 * 1000

/** Returns the template with boundaries when one is configured (Architect deploys what the hook returns). */
export function deployStart (outcome: Outcome, params: DeployStartParams, io: HookIo): Template | undefined {
  if (outcome.kind === 'idle') return undefined
  if (outcome.kind === 'assumed') confirmStage(outcome, params, io)
  warnSharedAccount(outcome, io)
  checkAgainstRole(outcome, params, io)
  return withBoundary(outcome, params, io)
}

/**
 * When the role is the IAM template's (`<app>-<stage>-deploy`), the template Architect generated
 * is compared with what that role and its boundary allow, before CloudFormation starts: the one
 * message names each resource and the template parameter that fixes it. Other roles: not checked.
 */
function checkAgainstRole (outcome: Exclude<Outcome, { kind: 'idle' }>, params: DeployStartParams, io: HookIo): void {
  const input = roleCheckInput({
    role: outcome.kind === 'assumed' ? outcome.roleArn : outcome.settings.role?.value, stage: outcome.stage, inv: params.inventory?.inv,
    template: params.cloudformation, stackName: params.stackName ?? '', iamParameters: outcome.settings.iamParameters?.value,
  })
  if (!input) return
  const result = checkTemplate(input)
  const warnings = templateWarnings(result)
  if (warnings.length) io.err(warning(`The ${outcome.stage} permissions boundary will cap what the functions may do:`, warnings))
  const problem = templateProblem(result, input)
  if (problem) throw new PluginError({ ...problem, footer: STOPPED })
}

/**
 * Both stages' roles in one AWS account: a warning on every deploy, not a refusal. The check runs
 * in the job a branch controls (it can edit app.arc and the plugin's settings), so refusing would
 * fence nothing; the fence is the account layout, and the warning says how to get it.
 */
function warnSharedAccount (outcome: Exclude<Outcome, { kind: 'idle' }>, io: HookIo): void {
  const shared = sharedAccountOf(outcome.settings.roles)
  if (!shared) return
  const { title, lines } = sharedAccountWarning(shared)
  io.err(warning(title, lines))
}

function confirmStage (outcome: Extract<Outcome, { kind: 'assumed' }>, params: DeployStartParams, io: HookIo): void {
  const stage = params.stage ?? 'staging'
  if (stage !== outcome.stage) {
    throw new PluginError({
      title: `Architect is deploying ${stage}, but the credentials were obtained for ${outcome.stage}`,
      facts: [['role', outcome.roleArn], ['stack', params.stackName ?? '?']],
      fix: [
        'Pass the same stage to everything: `arc deploy --production` for production, `arc deploy` for staging.',
        'A script calling @architect/deploy sets ARC_OIDC_STAGE=production for production.',
      ],
      footer: STOPPED,
    })
  }
  const remaining = outcome.expiration.getTime() - io.now.getTime()
  const { claims } = outcome
  const facts: Row[] = [
    ['session', outcome.sessionName],
    ['expires', `${bothTimes(outcome.expiration)}, in ${humanDuration(remaining / 1000)}`],
  ]
  if (typeof claims.environment === 'string') {
    const details = [claims.environment_protected === 'true' ? 'protected' : 'not protected', ...(typeof claims.deployment_tier === 'string' ? [`tier ${claims.deployment_tier}`] : [])]
    facts.push(['environment', `${claims.environment} (${details.join(', ')})`])
  }
  io.out(done(`Deploying ${stage}${params.stackName ? ` (${params.stackName})` : ''}${params.dryRun ? ' [dry-run]' : ''} as ${outcome.assumedRoleArn}`, facts))
  if (remaining < MIN_REMAINING_MS) {
    io.err(warning(`The credentials expire in ${humanDuration(remaining / 1000)}; a deploy can take longer.`, [
      'Raise `duration` in @gitlab-oidc (or ARC_ROLE_DURATION), within the role\'s MaxSessionDuration.',
    ]))
  }
}

function withBoundary (outcome: Exclude<Outcome, { kind: 'idle' }>, params: DeployStartParams, io: HookIo): Template | undefined {
  const boundary = outcome.settings.boundary
  if (!boundary || !params.cloudformation) return undefined
  try {
    const { template, roles } = applyBoundary(params.cloudformation, boundary.value)
    io.out(done(`Permissions boundary on ${roles.length} role${roles.length === 1 ? '' : 's'}: ${boundary.value}`, [['boundary from', describeSource(boundary.source)]]))
    return template
  }
  catch (err) {
    if (!(err instanceof BoundaryConflict)) throw err
    throw new PluginError({
      title: `${err.conflicts.length === 1 ? 'A role' : `${err.conflicts.length} roles`} of the template already name${err.conflicts.length === 1 ? 's' : ''} another permissions boundary than ${boundary.value}`,
      facts: [
        ...err.conflicts.map(c => [c.id, `${c.type}, PermissionsBoundary ${JSON.stringify(c.current)}`] as Row),
        ['boundary from', describeSource(boundary.source)],
      ],
      fix: [
        'One boundary per stage: remove the other PermissionsBoundary (a plugin or a custom template step sets it),',
        `or make the ${outcome.stage} boundary setting name that policy.`,
      ],
      footer: STOPPED,
    })
  }
}
