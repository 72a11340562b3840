/**
 * deploy.start: the credentials were obtained while Architect loaded the plugin; here the
 * plugin confirms they are for the stage Architect is actually deploying, and says who deploys.
 */
import type { Outcome } from '../plugin/activate.ts'
import { PluginError, bothTimes, done, warning } from '../report/format.ts'
import { humanDuration } from '../plugin/token.ts'

export interface DeployStartParams { stage?: string; stackName?: string; dryRun?: boolean }

/** A deploy that needs longer than the credentials last fails half-way; warn below this. */
export const MIN_REMAINING_MS = 15 * 60 * 1000

export function deployStart (outcome: Outcome, params: DeployStartParams, now: Date, out: (s: string) => void, err: (s: string) => void): void {
  if (outcome.kind !== 'assumed') return
  const stage = params.stage ?? 'staging'
  if (stage !== outcome.stage) {
    throw new PluginError({
      title: `Architect is deploying ${stage}, but the credentials were obtained for ${outcome.stage}`,
      facts: [['role', outcome.roleArn], ['stack', params.stackName ?? '?']],
      fix: [
        'Pass the same stage to everything: `arc deploy --production` for production, `arc deploy` for staging.',
        'A script calling @architect/deploy sets ARC_OIDC_STAGE=production for production.',
      ],
    })
  }
  const remaining = outcome.expiration.getTime() - now.getTime()
  out(done(`Deploying ${stage}${params.stackName ? ` (${params.stackName})` : ''}${params.dryRun ? ' [dry-run]' : ''} as ${outcome.assumedRoleArn}`, [
    ['session', outcome.sessionName],
    ['expires', `${bothTimes(outcome.expiration)}, in ${humanDuration(remaining / 1000)}`],
  ]))
  if (remaining < MIN_REMAINING_MS) {
    err(warning(`The credentials expire in ${humanDuration(remaining / 1000)}; a deploy can take longer.`, [
      'Raise `duration` in @gitlab-oidc (or ARC_ROLE_DURATION), within the role\'s MaxSessionDuration.',
    ]))
  }
}
