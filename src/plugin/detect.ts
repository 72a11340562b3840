/**
 * Step 1: is this a GitLab job, and what did the user ask Architect to do?
 *
 * Cheap on purpose: this module is evaluated on every `arc` run, on a laptop too,
 * so it imports nothing but node:path and reads only `env` and `argv`.
 */
import { basename, sep } from 'node:path'

export type Stage = 'production' | 'staging'

/** The Architect commands that talk to AWS. */
export const AWS_COMMANDS = ['deploy', 'destroy', 'env', 'logs'] as const

export interface Invocation {
  /** GitLab sets GITLAB_CI=true in every job. */
  gitlab: boolean
  /**
   * Which Architect entry point loaded the plugin: `arc` (the main CLI), a command's own CLI
   * (`arc-deploy`...), or `script` when something else (a script calling @architect/deploy) did.
   */
  loader: 'arc' | 'command-cli' | 'script'
  /** The Architect command being run, when the loader is a CLI. */
  command?: string
  /** The command will talk to AWS (or, for a script, might). */
  awsBound: boolean
  /** Arguments after the command, as typed. */
  args: string[]
}

// Entry points, as `process.argv[1]` shows them (a bin link or the file it points to).
const COMMAND_CLIS: Record<string, string> = {
  'arc-deploy': 'deploy',
  'arc-destroy': 'destroy',
  'arc-env': 'env',
  'arc-logs': 'logs',
  'arc-hydrate': 'hydrate',
  'arc-sandbox': 'sandbox',
  'arc-create': 'create',
  sandbox: 'sandbox',
}
const COMMAND_CLI_FILES: Array<[string, string]> = [
  [['@architect', 'deploy', 'src', 'cli', 'index.js'].join(sep), 'deploy'],
  [['@architect', 'destroy', 'src', 'cli.js'].join(sep), 'destroy'],
  [['@architect', 'env', 'src', 'cli.js'].join(sep), 'env'],
  [['@architect', 'logs', 'src', 'cli.js'].join(sep), 'logs'],
  [['@architect', 'hydrate', 'src', 'cli.js'].join(sep), 'hydrate'],
  [['@architect', 'sandbox', 'src', 'cli'].join(sep), 'sandbox'],
  [['@architect', 'create', 'src', 'cli'].join(sep), 'create'],
]
const ARC_CLI_FILE = ['@architect', 'architect', 'src', 'index.js'].join(sep)
const HELP = ['help', '-h', '--help']

export function isGitLabJob (env: NodeJS.ProcessEnv): boolean {
  return env.GITLAB_CI === 'true'
}

export function detect (env: NodeJS.ProcessEnv, argv: readonly string[]): Invocation {
  const gitlab = isGitLabJob(env)
  const entry = argv[1] ?? ''
  const name = basename(entry).replace(/\.(c|m)?js$/, '')

  if (name === 'arc' || entry.endsWith(ARC_CLI_FILE)) {
    // Architect's own dispatch: `arc <command> ...`; a -h/--help anywhere prints help instead.
    const [command, ...args] = argv.slice(2)
    const help = command === undefined || HELP.includes(command) || args.some(a => a === '-h' || a === '--help')
    const awsBound = !help && (AWS_COMMANDS as readonly string[]).includes(command)
    return { gitlab, loader: 'arc', ...(command === undefined ? {} : { command }), awsBound, args }
  }

  const byName = COMMAND_CLIS[name]
  const byFile = COMMAND_CLI_FILES.find(([file]) => entry.includes(file))?.[1]
  const command = byName ?? byFile
  if (command) {
    const args = argv.slice(2)
    const help = args.some(a => a === '-h' || a === '--help')
    return { gitlab, loader: 'command-cli', command, awsBound: !help && (AWS_COMMANDS as readonly string[]).includes(command), args }
  }

  // Loaded by a script (for example one calling @architect/deploy directly): it may deploy.
  return { gitlab, loader: 'script', awsBound: true, args: argv.slice(2) }
}
