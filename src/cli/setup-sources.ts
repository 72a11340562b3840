/**
 * Where `arc-gitlab-oidc setup` gets its facts: the git remote and default branch of the app's
 * repository, Architect's own toLogicalID, and the shipped IAM template's Parameters (read from
 * the template itself, so parameters added to it need no change here).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { DEFAULT_ISSUER } from '../iam/arns.ts'

const require = createRequire(import.meta.url)

/** The IAM template shipped in this package (iam/gitlab-oidc.yaml at the package root). */
export const TEMPLATE_PATH = fileURLToPath(new URL('../../iam/gitlab-oidc.yaml', import.meta.url))

/** Architect's own stack-name prefix of an @app name (`my-shop` → `MyShop`). */
export function toLogicalID (name: string): string {
  const fn = require('@architect/utils/to-logical-id') as (s: string) => string
  return fn(name)
}

export interface TemplateParameter {
  name: string
  /** undefined: the parameter has no default, so it must be supplied. */
  default: string | undefined
  allowedPattern?: string
  allowedValues?: string[]
  constraint?: string
  /** A Number parameter's bounds. */
  minValue?: number
  maxValue?: number
}

interface YamlLoad { load (text: string): unknown }

/** The js-yaml Architect's parser ships, found from Architect's inventory (a dependency of ours). */
function yaml (): YamlLoad {
  const fromInventory = createRequire(require.resolve('@architect/inventory'))
  return fromInventory('@architect/parser/src/compat/vendor/js-yaml.min.js') as YamlLoad
}

/**
 * The template's Parameters section. Only that section is parsed: the rest uses
 * CloudFormation's short-form tags (!Ref, !Sub), which plain YAML does not know.
 */
export function templateParameters (path: string = TEMPLATE_PATH): TemplateParameter[] {
  const text = readFileSync(path, 'utf8')
  const section = /^Parameters:\n(?:(?:[ \t].*|#.*)?\n)+/m.exec(text)
  if (!section) throw new Error(`No Parameters section in ${path}`)
  const parsed = yaml().load(section[0]) as { Parameters: Record<string, Record<string, unknown>> }
  return Object.entries(parsed.Parameters).map(([ name, p ]) => ({
    name,
    default: p.Default === undefined ? undefined : String(p.Default),
    allowedPattern: typeof p.AllowedPattern === 'string' ? p.AllowedPattern : undefined,
    allowedValues: Array.isArray(p.AllowedValues) ? p.AllowedValues.map(String) : undefined,
    constraint: typeof p.ConstraintDescription === 'string' ? p.ConstraintDescription.trim() : undefined,
    ...(typeof p.MinValue === 'number' ? { minValue: p.MinValue } : {}),
    ...(typeof p.MaxValue === 'number' ? { maxValue: p.MaxValue } : {}),
  }))
}

/** Why a value does not fit a parameter, or undefined when it does. */
export function parameterProblem (p: TemplateParameter, value: string): string | undefined {
  if (p.allowedValues && !p.allowedValues.includes(value)) return `one of ${p.allowedValues.join(', ')}`
  if (p.allowedPattern && !new RegExp(p.allowedPattern).test(value)) return p.constraint ?? `matching ${p.allowedPattern}`
  if (p.minValue !== undefined || p.maxValue !== undefined) {
    const n = Number(value)
    const min = p.minValue ?? -Infinity, max = p.maxValue ?? Infinity
    if (!/^\d+$/.test(value) || n < min || n > max) return `a whole number from ${min} to ${max}`
  }
  return undefined
}

/* ------------------------------------------------------------------------ */
/* git                                                                       */
/* ------------------------------------------------------------------------ */

function git (cwd: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: [ 'ignore', 'pipe', 'ignore' ] }).trim() || undefined
  }
  catch {
    return undefined
  }
}

/** URL of the `origin` remote, if the directory is in a git repository that has one. */
export function originUrl (cwd: string): string | undefined {
  return git(cwd, [ 'remote', 'get-url', 'origin' ])
}

/** The default branch as the remote named it when cloned (origin/HEAD), if git knows it. */
export function originDefaultBranch (cwd: string): string | undefined {
  const ref = git(cwd, [ 'symbolic-ref', '--quiet', 'refs/remotes/origin/HEAD' ])
  return ref?.startsWith('refs/remotes/origin/') ? ref.slice('refs/remotes/origin/'.length) : undefined
}

export interface Remote {
  host: string
  /** group[/subgroup...]/project, without `.git`. */
  projectPath: string
  /** The web URL of the GitLab instance, when the remote says it (HTTPS remotes, and SSH to gitlab.com). */
  gitlabUrl: string | undefined
}

/**
 * A GitLab project from a git remote URL: `https://[user[:token]@]host[:port]/group/sub/project[.git]`,
 * `ssh://git@host[:port]/group/sub/project.git` or `git@host:group/sub/project.git`. The user
 * part (which may hold a token) is dropped and never returned.
 */
export function parseRemote (url: string): Remote | undefined {
  let host: string
  let path: string
  let gitlabUrl: string | undefined
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(.+)$/.exec(url)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    let u: URL
    try { u = new URL(url) }
    catch { return undefined }
    host = u.hostname.toLowerCase()
    path = decodeURIComponent(u.pathname)
    if (u.protocol === 'https:') gitlabUrl = `https://${u.host.toLowerCase()}`
    else if (![ 'http:', 'ssh:', 'git+ssh:' ].includes(u.protocol)) return undefined
  }
  else if (scp) {
    host = scp[1]!.toLowerCase()
    path = scp[2]!
  }
  else return undefined
  if (host === 'gitlab.com') gitlabUrl = DEFAULT_ISSUER
  const projectPath = path.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\.git$/, '')
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$/.test(projectPath)) return undefined
  return { host, projectPath, gitlabUrl }
}

/** The template path to print: the installed package's, relative to the app, when it is there. */
export function templateFileFor (cwd: string): string {
  const installed = 'node_modules/arc-plugin-gitlab-oidc/iam/gitlab-oidc.yaml'
  return existsSync(`${cwd}/${installed}`) ? installed : TEMPLATE_PATH
}
