// End-to-end plumbing: pack the plugin as npm would publish it, install it next
// to Architect in a throwaway app (offline, from npm's cache), and run the real
// `arc` CLI with a clean, network-free environment pointed at the stand-ins.
import { runProcessGroup, type ProcessResult } from './process.ts'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { EXAMPLE_APP, NODE22, NODE24, installBase, packPlugin } from './install.ts'

export {
  ARCHITECT11_VERSION, ARCHITECT_VERSION, EXAMPLE_APP, NODE22, NODE24, ROOT, installBase, packPlugin, type InstallBaseOptions,
} from './install.ts'

/** Remove @pragma sections (default: the plugin's own, @plugins and @gitlab-oidc) from an app.arc text. */
export function stripPragmas (arc: string, pragmas: string[] = [ 'plugins', 'gitlab-oidc' ]): string {
  const out: string[] = []
  let skipping = false
  for (const line of arc.split('\n')) {
    const m = /^@([\w-]+)/.exec(line)
    if (m) skipping = pragmas.includes(m[1]!)
    if (!skipping) out.push(line)
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n')
}

export interface InstallAppOptions {
  /** App to copy (default: example-app). */
  from?: string
  /** Replace app.arc with this text. */
  arc?: string
  /** Remove @plugins and @gitlab-oidc from the manifest (deploy without the plugin). */
  stripPlugin?: boolean
  /** Extra files to write, path relative to the app → content. */
  files?: Record<string, string>
  /** Plugin tarball to install (default: packPlugin()); null installs Architect only. */
  tarball?: string | null
  /** Files of the copied app to delete (e.g. ['app.arc'] to use another manifest format). */
  omit?: string[]
  /** @architect/architect version to run (default: ARCHITECT_VERSION; e.g. ARCHITECT11_VERSION). */
  architect?: string
}

export interface App {
  dir: string
  /** The shared install whose node_modules the app links to. */
  installDir: string
  remove (): void
}

const SKIP = new Set([ 'node_modules', 'sam.json', '.arc-env', 'static.json' ])

/** A fresh app directory for one scenario: copied app files, node_modules linked to the shared install. */
export async function installApp (opts: InstallAppOptions = {}): Promise<App> {
  const tarball = opts.tarball === undefined ? await packPlugin() : opts.tarball
  const installDir = await installBase(tarball, opts.architect ? { architect: opts.architect } : {})
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'arc-e2e-app-')))
  const from = opts.from ?? EXAMPLE_APP
  cpSync(from, dir, { recursive: true, filter: src => !SKIP.has(relative(from, src).split(/[\\/]/)[0]!) })
  for (const path of opts.omit ?? []) rmSync(join(dir, path), { force: true })
  if (opts.arc !== undefined) writeFileSync(join(dir, 'app.arc'), opts.arc)
  if (opts.stripPlugin) writeFileSync(join(dir, 'app.arc'), stripPragmas(readFileSync(join(dir, 'app.arc'), 'utf8')))
  for (const [ path, content ] of Object.entries(opts.files ?? {})) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), content)
  }
  symlinkSync(join(installDir, 'node_modules'), join(dir, 'node_modules'), 'dir')
  return { dir, installDir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

let home: string | undefined
/** An empty HOME for arc runs (no ~/.aws, no npm cache, no update-notifier state). */
function emptyHome (): string {
  if (!home) {
    home = mkdtempSync(join(tmpdir(), 'arc-e2e-home-'))
    const h = home
    process.once('exit', () => rmSync(h, { recursive: true, force: true }))
  }
  return home
}

/** Drop ANSI escapes (colours, Architect's spinner cursor moves) for assertions on output. */
// The escape character written as \x1b is what the pattern is for.
// eslint-disable-next-line no-control-regex
export const stripAnsi = (text: string): string => text.replace(/\x1b\[[?0-9;]*[A-Za-z]/g, '')

export interface RunArcOptions {
  /** Variables on top of the clean base (a value of undefined removes a base variable). */
  env?: Record<string, string | undefined>
  /** 'node22' (default), 'node24', or a path to a node binary. */
  node?: 'node22' | 'node24' | string
  /** AWS_ENDPOINT_URL for the run (usually the AWS stand-in's endpoint). */
  endpoint?: string
  timeoutMs?: number
}

/** What a run of `arc` gave: exit code or signal, output, duration, whether it timed out. */
export type ArcResult = ProcessResult

/**
 * The clean environment arc runs with: nothing inherited (no AWS_*, no CI vars, no proxies),
 * HOME and AWS config files pointing at an empty temp dir, instance metadata and update
 * checks off, npm offline.
 */
export function cleanEnv (nodeBin: string, opts: RunArcOptions = {}): Record<string, string> {
  const h = emptyHome()
  const env: Record<string, string | undefined> = {
    PATH: `${dirname(nodeBin)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: h,
    TMPDIR: tmpdir(),
    LANG: 'C.UTF-8',
    FORCE_COLOR: '0',
    NO_UPDATE_NOTIFIER: '1',
    AWS_CONFIG_FILE: join(h, '.aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(h, '.aws', 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    ...(opts.endpoint ? { AWS_ENDPOINT_URL: opts.endpoint } : {}),
    ...opts.env,
  }
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined))
}

export function nodeBinary (node: RunArcOptions['node'] = 'node22'): string {
  if (node === 'node22') return realpathSync(NODE22)
  if (node === 'node24') return realpathSync(NODE24)
  return node
}

/** Run the real `arc` CLI of the app's install with the chosen Node, a clean env and a timeout. */
export function runArc (appDir: string, args: string[], opts: RunArcOptions = {}): Promise<ArcResult> {
  const nodeBin = nodeBinary(opts.node)
  const arc = join(appDir, 'node_modules', '@architect', 'architect', 'src', 'index.js')
  return runProcessGroup(nodeBin, [ arc, ...args ], { cwd: appDir, env: cleanEnv(nodeBin, opts), timeoutMs: opts.timeoutMs ?? 120_000 })
}
