// End-to-end plumbing: pack the plugin as npm would publish it, install it next
// to Architect in a throwaway app (offline, from npm's cache), and run the real
// `arc` CLI with a clean, network-free environment pointed at the stand-ins.
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const EXAMPLE_APP = join(ROOT, 'example-app')
/** Node 22 from the `node` devDependency (Architect 12 needs >= 22). */
export const NODE22 = join(ROOT, 'node_modules', '.bin', 'node')
/** Node 24 from the `node24` devDependency. */
export const NODE24 = join(ROOT, 'node_modules', 'node24', 'bin', 'node')
const CACHE = join(ROOT, '.cache', 'e2e')
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string, version: string, devDependencies: Record<string, string>
}
/** The exact @architect/architect version the project tests against. */
export const ARCHITECT_VERSION = PACKAGE.devDependencies['@architect/architect']!

function hashFiles (paths: string[]): string {
  const h = createHash('sha256')
  const walk = (p: string): void => {
    if (!existsSync(p)) return
    if (statSync(p).isDirectory()) {
      for (const name of readdirSync(p).sort()) walk(join(p, name))
      return
    }
    h.update(relative(ROOT, p)).update('\0').update(readFileSync(p)).update('\0')
  }
  paths.forEach(walk)
  return h.digest('hex').slice(0, 16)
}

/** Run a command synchronously; throw with its output when it fails. */
function run (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed with ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`)
  }
  return r.stdout
}

/** A directory-based lock across test processes (stale after 10 minutes). */
async function withLock<T> (name: string, fn: () => T | Promise<T>): Promise<T> {
  const lock = join(CACHE, `${name}.lock`)
  mkdirSync(CACHE, { recursive: true })
  for (;;) {
    try {
      mkdirSync(lock)
      break
    }
    catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10 * 60_000) rmSync(lock, { recursive: true, force: true })
      }
      catch { /* released meanwhile */ }
      await new Promise(r => setTimeout(r, 200))
    }
  }
  try {
    return await fn()
  }
  finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/** Keep the newest few cached packs/installs; drop older ones unused for an hour (sources change often). */
function pruneCache (prefix: 'pack-' | 'install-', keep = 3): void {
  const entries = readdirSync(CACHE).filter(n => n.startsWith(prefix) && !n.includes('-tmp-'))
    .map(n => ({ path: join(CACHE, n), mtime: statSync(join(CACHE, n)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime)
  for (const old of entries.slice(keep)) {
    if (Date.now() - old.mtime > 60 * 60_000) rmSync(old.path, { recursive: true, force: true })
  }
}

let packed: Promise<string> | undefined

/**
 * Build and `npm pack` the plugin (its prepack script runs the TypeScript build) once per
 * process; the tarball is cached under .cache/e2e by a hash of the sources, so other test
 * processes reuse it. E2E_PLUGIN_TARBALL=/path/to.tgz uses a given tarball instead.
 */
export function packPlugin (): Promise<string> {
  packed ??= (async () => {
    if (process.env.E2E_PLUGIN_TARBALL) return resolve(process.env.E2E_PLUGIN_TARBALL)
    const key = hashFiles([ join(ROOT, 'src'), join(ROOT, 'package.json'), join(ROOT, 'tsconfig.json'), join(ROOT, 'README.md') ])
    const dir = join(CACHE, `pack-${key}`)
    const tarball = join(dir, `${PACKAGE.name}-${PACKAGE.version}.tgz`)
    return withLock('pack', () => {
      if (existsSync(tarball)) return tarball
      mkdirSync(dir, { recursive: true })
      // npm puts node_modules/.bin first on PATH for the prepack script, so the build runs on Node 22
      run('npm', [ 'pack', '--pack-destination', dir, '--silent' ], ROOT)
      if (!existsSync(tarball)) throw new Error(`npm pack did not produce ${tarball}`)
      pruneCache('pack-')
      return tarball
    })
  })()
  return packed
}

const installs = new Map<string, Promise<string>>()

/**
 * node_modules with @architect/architect (the exact devDependency version) and, unless
 * tarball is null, the packed plugin; installed with `npm install --offline` so only npm's
 * cache is used. Shared across scenarios and processes (keyed by content); returns its directory.
 */
export function installBase (tarball: string | null, opts: { online?: boolean } = {}): Promise<string> {
  const key = createHash('sha256').update(ARCHITECT_VERSION).update('\0')
    .update(tarball ? readFileSync(tarball) : 'no-plugin').digest('hex').slice(0, 16)
  let pending = installs.get(key)
  if (!pending) {
    pending = withLock(`install-${key}`, () => {
      const dir = join(CACHE, `install-${key}`)
      if (existsSync(join(dir, 'node_modules', '@architect', 'architect', 'package.json'))) return dir
      const staging = mkdtempSync(join(CACHE, `install-${key}-tmp-`))
      const devDependencies: Record<string, string> = { '@architect/architect': ARCHITECT_VERSION }
      if (tarball) devDependencies[PACKAGE.name] = `file:${tarball}`
      writeFileSync(join(staging, 'package.json'), JSON.stringify({ name: 'arc-e2e-install', private: true, devDependencies }, null, 2))
      // Tests never touch the network: `npm test` prepares this install beforehand (online: true,
      // its install step, which may fetch package metadata a lockfile-based `npm ci` left out of
      // npm's cache); a test process that finds no prepared install tries the cache alone.
      const mode = opts.online ? '--prefer-offline' : '--offline'
      try {
        run('npm', [ 'install', mode, '--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=error' ], staging)
      }
      catch (err) {
        rmSync(staging, { recursive: true, force: true })
        if (!opts.online && /ENOTCACHED/.test(String(err))) {
          throw new Error('npm\'s cache lacks packages for the end-to-end app install; run the tests with `npm test`, which installs them first', { cause: err })
        }
        throw err
      }
      rmSync(dir, { recursive: true, force: true })
      renameSync(staging, dir)
      pruneCache('install-')
      return dir
    })
    installs.set(key, pending)
  }
  return pending
}

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
  const installDir = await installBase(tarball)
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

export interface ArcResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  durationMs: number
  timedOut: boolean
}

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
  const timeoutMs = opts.timeoutMs ?? 120_000
  const started = Date.now()
  return new Promise((resolvePromise, reject) => {
    const child = spawn(nodeBin, [ arc, ...args ], {
      cwd: appDir,
      env: cleanEnv(nodeBin, opts),
      stdio: [ 'ignore', 'pipe', 'pipe' ],
      detached: true, // own process group, so a timeout kills arc and anything it spawned
    })
    let stdout = '', stderr = '', timedOut = false
    child.stdout.setEncoding('utf8').on('data', d => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', d => { stderr += d })
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid!, 'SIGKILL')
      }
      catch { /* already gone */ }
    }, timeoutMs)
    child.on('error', err => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolvePromise({ code, signal, stdout, stderr, durationMs: Date.now() - started, timedOut })
    })
  })
}
