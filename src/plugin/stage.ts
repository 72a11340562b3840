/**
 * Which stage (and so which role) the command is for, read the way Architect reads it:
 * with Architect's own minimist and the same flags, so the plugin and Architect can't disagree.
 */
import { createRequire } from 'node:module'
import type { Invocation, Stage } from './detect.ts'

const require = createRequire(import.meta.url)

type Minimist = (args: string[], opts: { boolean?: string[], string?: string[], alias?: Record<string, string[]> }) =>
  { _: Array<string | number>, [flag: string]: unknown }

export interface StageChoice {
  stage: Stage
  /** How the stage was decided, for messages ("--production", "default"...). */
  reason: string
  /**
   * `arc deploy production`: a bare word Architect >= 10 ignores, so it would deploy *staging*.
   */
  bareProduction: boolean
  /** The Architect command (deploy, destroy, env, logs), for messages in its own words; none for scripts. */
  command?: string | undefined
}

export function chooseStage (inv: Invocation, env: NodeJS.ProcessEnv): StageChoice {
  if (inv.loader === 'script') {
    const wanted = env.ARC_OIDC_STAGE
    if (wanted === 'production' || wanted === 'staging') {
      return { stage: wanted, reason: `ARC_OIDC_STAGE=${wanted}`, bareProduction: false }
    }
    return { stage: 'staging', reason: 'default for scripts (set ARC_OIDC_STAGE=production to change)', bareProduction: false }
  }
  const minimist = require('@architect/utils/minimist') as Minimist
  const args = [...inv.args]
  if (inv.loader === 'command-cli' && args[0] === inv.command) args.shift()

  if (inv.command === 'env') {
    // `arc env --env production ...` / `-e production`
    const parsed = minimist(args, { string: ['env'], alias: { env: ['e'] } })
    const production = parsed.env === 'production'
    return { stage: production ? 'production' : 'staging', reason: production ? '--env production' : 'no --env production', bareProduction: false, command: 'env' }
  }
  const parsed = minimist(args, { boolean: ['production'], alias: { production: ['p'] } })
  const production = parsed.production === true
  // Only where Architect would act on the wrong stack: `arc logs production` fails on its own.
  const bareProduction = !production && (inv.command === 'deploy' || inv.command === 'destroy') && parsed._.some(a => String(a) === 'production')
  return {
    stage: production ? 'production' : 'staging',
    reason: production ? '--production' : 'no --production flag',
    bareProduction,
    command: inv.command,
  }
}
