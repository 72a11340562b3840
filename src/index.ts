/**
 * arc-plugin-gitlab-oidc
 *
 * Architect loads this ES module while it builds its Inventory, before it creates its AWS
 * client and before any hook runs; top-level await makes Architect wait for the exchange, so
 * the role's credentials are in process.env in time for Architect's first AWS call.
 *
 * Off GitLab (and for commands that don't talk to AWS) it stops at `detect`: nothing printed,
 * nothing else imported, no AWS SDK loaded.
 */
import { detect } from './plugin/detect.ts'
import type { Outcome } from './plugin/activate.ts'
import type { DeployStartParams } from './hooks/deploy-start.ts'

const invocation = detect(process.env, process.argv)
const fromCli = invocation.loader !== 'script'
let outcome: Outcome = { kind: 'idle', reason: 'not a GitLab job, or a command that does not talk to AWS' }

/** One message, then stop `arc`; a script calling Architect gets an Error it can catch instead. */
async function fail (error: unknown): Promise<never> {
  const { PluginError, formatProblem } = await import('./report/format.ts')
  if (fromCli && error instanceof PluginError) {
    console.error(formatProblem(error.problem))
    process.exit(1)
  }
  if (error instanceof PluginError) throw new Error(formatProblem(error.problem))
  throw error
}

if (invocation.gitlab && invocation.awsBound) {
  const { activate } = await import('./plugin/activate.ts')
  try {
    outcome = await activate(invocation, {
      env: process.env,
      cwd: process.cwd(),
      now: () => new Date(),
      out: text => console.log(text),
      err: text => console.error(text),
    })
  }
  catch (error) {
    await fail(error)
  }
}

const plugin = {
  deploy: {
    async start (params: DeployStartParams): Promise<undefined> {
      if (outcome.kind !== 'assumed') return undefined
      const { deployStart } = await import('./hooks/deploy-start.ts')
      try {
        deployStart(outcome, params, new Date(), text => console.log(text), text => console.error(text))
      }
      catch (error) {
        await fail(error)
      }
      return undefined
    },
  },
}

export default plugin
