/**
 * Which stage (and so which role) the command is for, read the way the installed Architect
 * command reads it: Architect's own minimist with the command's own boolean, alias and default
 * lists, so that the plugin and Architect cannot disagree on `--verbose production`, `-p=1`,
 * `-p1`, `--production=false` or `--no-production -p`.
 *
 * The lists are restated from the installed packages (deploy's `src/cli/flags.js`, destroy's,
 * logs' and env's `src/cli.js` build them inside functions that also act, so they cannot be
 * imported); test/unit/plugin/stage.test.ts reads those files and fails when they drift.
 * Loaded only once a job needs the plugin: detect.ts, the idle path, does not import this.
 */
import { createRequire } from 'node:module'
import type { Invocation, Stage } from './detect.ts'

const require = createRequire(import.meta.url)

type Minimist = (args: string[], opts: ArchitectFlags) => { _: Array<string | number>, [flag: string]: unknown }

export interface ArchitectFlags {
  alias: Record<string, string[]>
  boolean: string[]
  default?: Record<string, unknown>
}

/**
 * Each AWS-bound command's options, as its installed CLI passes them to minimist (and where it
 * does); `values`: the options whose value the command reads (`args.name`...).
 */
export const ARCHITECT_FLAGS = {
  deploy: {
    file: '@architect/deploy/src/cli/flags.js',
    alias: { debug: ['d'], direct: ['dirty'], fast: ['f'], name: ['n'], production: ['p'], static: ['s'], tag: ['tags', 't'], verbose: ['v'] },
    boolean: ['direct', 'debug', 'dry-run', 'eject', 'fast', 'no-hydrate', 'production', 'static', 'verbose'],
    default: { hydrate: true },
    values: ['name', 'tag'],
  },
  destroy: {
    file: '@architect/destroy/src/cli.js',
    alias: { force: ['f'], production: ['p'], debug: ['d'], verbose: ['v'] },
    boolean: ['debug', 'force', 'now', 'no-timeout', 'production', 'static', 'verbose'],
    default: { now: false, timeout: true },
    values: ['app', 'name'],
  },
  logs: {
    file: '@architect/logs/src/cli.js',
    alias: { production: ['p'], debug: ['d'], verbose: ['v'] },
    boolean: ['debug', 'destroy', 'production', 'verbose'],
    values: [],
  },
  env: {
    file: '@architect/env/src/cli.js',
    alias: { add: ['a'], env: ['e'], remove: ['r'], debug: ['d'], verbose: ['v'] },
    boolean: ['add', 'debug', 'remove', 'verbose'],
    values: ['env'],
  },
} as const satisfies Record<string, ArchitectFlags & { file: string, values: readonly string[] }>

export type AwsCommand = keyof typeof ARCHITECT_FLAGS

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

/** The command's arguments as its CLI parses them: `arc deploy ...` and `arc-deploy deploy ...` both drop the command word. */
export function architectArgs (inv: Invocation, command: AwsCommand): { _: Array<string | number>, [flag: string]: unknown } {
  const minimist = require('@architect/utils/minimist') as Minimist
  const { alias, boolean } = ARCHITECT_FLAGS[command]
  const flags: ArchitectFlags = ARCHITECT_FLAGS[command]
  const defaults = flags.default
  const argv = inv.loader === 'arc' ? [command, ...inv.args] : [...inv.args]
  const options = {
    alias: structuredClone(alias) as Record<string, string[]>,
    boolean: [...boolean],
    ...(defaults ? { default: { ...defaults } } : {}),
  }
  const parsed = minimist(argv, options)
  if (parsed._[0] === command) parsed._.splice(0, 1)
  return parsed
}

/**
 * The word `production` where Architect ignores it: a bare argument, whatever comes before it, or
 * the value of an option the command does not read (`--force production` to deploy). The value
 * of an option it reads (`--name production`, a stack name) is not ignored.
 */
function ignoresProduction (parsed: ReturnType<typeof architectArgs>, command: AwsCommand): boolean {
  const { alias, values } = ARCHITECT_FLAGS[command]
  const read = new Set<string>(values.flatMap(v => [v, ...((alias as Record<string, readonly string[]>)[v] ?? [])]))
  return Object.entries(parsed).some(([key, value]) => key === '_'
    ? (value as unknown[]).some(a => String(a) === 'production')
    : value === 'production' && !read.has(key))
}

export function chooseStage (inv: Invocation, env: NodeJS.ProcessEnv): StageChoice {
  const command = inv.command
  if (inv.loader === 'script' || !command || !Object.hasOwn(ARCHITECT_FLAGS, command)) {
    const wanted = env.ARC_OIDC_STAGE
    if (wanted === 'production' || wanted === 'staging') {
      return { stage: wanted, reason: `ARC_OIDC_STAGE=${wanted}`, bareProduction: false }
    }
    return { stage: 'staging', reason: 'default for scripts (set ARC_OIDC_STAGE=production to change)', bareProduction: false }
  }
  const parsed = architectArgs(inv, command as AwsCommand)
  if (command === 'env') {
    // `arc env --env production ...` / `-e production`: @architect/env acts on the stage --env names.
    const production = parsed.env === 'production'
    return { stage: production ? 'production' : 'staging', reason: production ? '--env production' : 'no --env production', bareProduction: false, command }
  }
  // deploy, destroy and logs: `args.production ? 'production' : 'staging'`, truthy as Architect tests it (`-p=1` is 1).
  const production = Boolean(parsed.production)
  // Only where Architect would act on the wrong stack: `arc logs production` fails on its own.
  const bareProduction = !production && (command === 'deploy' || command === 'destroy') && ignoresProduction(parsed, command)
  return {
    stage: production ? 'production' : 'staging',
    reason: production ? '--production' : 'no --production flag',
    bareProduction,
    command,
  }
}
