/**
 * arc-plugin-gitlab-oidc
 *
 * Architect loads this ES module while it builds its Inventory, before it creates its AWS
 * client and before any hook runs; top-level await makes Architect wait for the exchange, so
 * the role's credentials are in process.env in time for Architect's first AWS call.
 *
 * Off GitLab (and without AWS's standard web-identity variables), and for commands that don't
 * talk to AWS, it stops at `detect`: nothing printed, nothing else imported, no AWS SDK loaded.
 *
 * The hooks act on the outcome:
 *   deploy.start     confirm the stage, say who deploys, put the permissions boundary on every role
 *   deploy.services  check that no plugin after this one added a role without it
 *   deploy.end       tell GitLab where the app is (dotenv and annotations reports)
 */
import { detect } from './plugin/detect.ts'
import type { Outcome } from './plugin/activate.ts'
import type { DeployStartParams } from './hooks/deploy-start.ts'
import type { DeployServicesParams } from './hooks/deploy-services.ts'
import type { DeployEndParams } from './hooks/deploy-end.ts'
import type { Template } from './hooks/boundary.ts'

const invocation = detect(process.env, process.argv)
const fromCli = invocation.loader !== 'script'
let outcome: Outcome = { kind: 'idle', reason: 'not a GitLab job, or a command that does not talk to AWS' }
/** What the hooks print passes through this once the plugin acts: secrets of the environment scrubbed out. */
let safe = (text: string) => text
const out = (text: string) => console.log(safe(text))
const err = (text: string) => console.error(safe(text))

/**
 * One message, then stop `arc`; a script calling Architect gets an Error it can catch instead.
 * An unexpected error (a bug) is one message too, never a stack trace that could show a value.
 */
async function fail (error: unknown, footer?: string): Promise<never> {
  const { PluginError } = await import('./shared/problem.ts')
  const { formatProblem } = await import('./report/format.ts')
  const { redact, secretsOf } = await import('./shared/redact.ts')
  const known = error instanceof PluginError
    ? error
    : new PluginError({
      title: `Unexpected error in the plugin: ${error instanceof Error ? `${error.name}: ${redact(error.message)}` : 'a non-Error value was thrown'}`,
      fix: ['This is a bug in arc-plugin-gitlab-oidc: please report it with this message (it shows no secret).'],
      ...(footer ? { footer } : {}),
    })
  known.problem.secrets ??= secretsOf(process.env)
  if (fromCli) {
    console.error(formatProblem(known.problem))
    process.exit(1)
  }
  throw new Error(formatProblem(known.problem))
}

if ((invocation.gitlab || invocation.webIdentity) && invocation.awsBound) {
  const { keptSecrets, printableLines, scrub } = await import('./shared/redact.ts')
  // The environment is read for secrets once (not at every line); the role's session, set later, is re-read by name.
  const kept = keptSecrets(process.env)
  safe = text => printableLines(scrub(text, kept.list()))
  const { activate } = await import('./plugin/activate.ts')
  try {
    // activate() scrubs its own output (with the token it found, wherever it read it from).
    const raw = { out: (text: string) => console.log(printableLines(text)), err: (text: string) => console.error(printableLines(text)) }
    outcome = await activate(invocation, { env: process.env, cwd: process.cwd(), now: () => new Date(), ...raw })
  }
  catch (error) {
    await fail(error)
  }
}

async function start (params: DeployStartParams): Promise<Template | undefined> {
  if (outcome.kind === 'idle') return undefined
  const { deployStart, STOPPED } = await import('./hooks/deploy-start.ts')
  try { return deployStart(outcome, params, { now: new Date(), out, err }) }
  catch (error) { return fail(error, STOPPED) }
}

async function services (params: DeployServicesParams): Promise<undefined> {
  if (outcome.kind === 'idle') return undefined
  const { checkBoundaries } = await import('./hooks/deploy-services.ts')
  const { STOPPED } = await import('./hooks/deploy-start.ts')
  try { checkBoundaries(outcome, params, start) }
  catch (error) { await fail(error, STOPPED) }
  return undefined
}

/** After the deploy: whatever goes wrong here warns, never fails a deploy that has finished. */
async function end (params: DeployEndParams): Promise<void> {
  if (outcome.kind !== 'assumed') return
  try {
    const { deployEnd } = await import('./hooks/deploy-end.ts')
    await deployEnd(outcome, params, { out, err })
  }
  catch (error) {
    const { warning } = await import('./report/format.ts')
    err(warning(`The deploy finished, but its reports were not written: ${(error as Error).message}`))
  }
}

const plugin = { deploy: { start, services, end } }

export default plugin
