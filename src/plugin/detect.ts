/**
 * Step 1: is this a GitLab job (or a place that set AWS's standard web-identity variables), and
 * what did the user ask Architect to do?
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
   * Not GitLab, but AWS's standard web-identity variables are set (AWS_ROLE_ARN and
   * AWS_WEB_IDENTITY_TOKEN_FILE: EKS service accounts, other CI systems) and no static keys or
   * profile would take precedence over them, as in the AWS SDKs.
   */
  webIdentity: boolean
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

/** AWS's standard web-identity variables, outside GitLab, with nothing in the way (static keys or a profile win). */
export function usesWebIdentity (env: NodeJS.ProcessEnv): boolean {
  if (isGitLabJob(env) || !env.AWS_ROLE_ARN?.trim() || !env.AWS_WEB_IDENTITY_TOKEN_FILE?.trim()) return false
  return !(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) && !env.AWS_PROFILE
}

/**
 * Set by this package's own CLI (setup, doctor) while it reads the app with Architect's Inventory,
 * which loads the plugins: the plugin loaded there must not exchange a token.
 */
export const INSPECTING = 'ARC_GITLAB_OIDC_INSPECTING'

export function detect (env: NodeJS.ProcessEnv, argv: readonly string[]): Invocation {
  if (env[INSPECTING] === '1') return { gitlab: false, webIdentity: false, loader: 'script', awsBound: false, args: [] }
  const gitlab = isGitLabJob(env)
  const webIdentity = usesWebIdentity(env)
  const entry = argv[1] ?? ''
  const name = basename(entry).replace(/\.(c|m)?js$/, '')

  if (name === 'arc' || entry.endsWith(ARC_CLI_FILE)) {
    // Architect's own dispatch: `arc <command> ...`; a -h/--help anywhere prints help instead.
    const [command, ...args] = argv.slice(2)
    const help = command === undefined || HELP.includes(command) || args.some(a => a === '-h' || a === '--help')
    const awsBound = !help && (AWS_COMMANDS as readonly string[]).includes(command)
    return { gitlab, webIdentity, loader: 'arc', ...(command === undefined ? {} : { command }), awsBound, args }
  }

  const byName = COMMAND_CLIS[name]
  const byFile = COMMAND_CLI_FILES.find(([file]) => entry.includes(file))?.[1]
  const command = byName ?? byFile
  if (command) {
    const args = argv.slice(2)
    const help = args.some(a => a === '-h' || a === '--help')
    return { gitlab, webIdentity, loader: 'command-cli', command, awsBound: !help && (AWS_COMMANDS as readonly string[]).includes(command), args }
  }

  // Loaded by a script (for example one calling @architect/deploy directly): it may deploy.
  return { gitlab, webIdentity, loader: 'script', awsBound: true, args: argv.slice(2) }
}
