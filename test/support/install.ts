// Packing and installing for the end-to-end tests: the plugin as `npm pack` makes it, installed
// next to @architect/architect (12 by default, or another version such as 11.3) in a shared
// node_modules, offline from npm's cache. One install per Architect version and tarball,
// shared by every scenario and test process.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const EXAMPLE_APP = join(ROOT, 'example-app')
/** Node 22 from the `node` devDependency (Architect 12 needs >= 22). */
export const NODE22 = join(ROOT, 'node_modules', '.bin', 'node')
/** Node 24 from the `node24` devDependency. */
export const NODE24 = join(ROOT, 'node_modules', 'node24', 'bin', 'node')
const CACHE = join(ROOT, '.cache', 'e2e')
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string
  version: string
  devDependencies: Record<string, string>
}
/** The exact @architect/architect version the project tests against. */
export const ARCHITECT_VERSION = PACKAGE.devDependencies['@architect/architect']!
/** The Architect 11 release the plugin also supports (Inventory 4, deploy 5); installed by `npm test`'s install step. */
export const ARCHITECT11_VERSION = '11.3.0'

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

/** A directory-based lock across test processes (stale after 10 minutes); 'pack' serializes builds and packs. */
export async function withLock<T> (name: string, fn: () => T | Promise<T>): Promise<T> {
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
    // Everything the tarball is built from: the sources, and the build's own scripts and locked packages (esbuild, the SDK it bundles).
    const key = hashFiles([ 'src', 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts/bundle-plugin.ts', 'scripts/bundle-sdk.ts', 'README.md', 'LICENSE', 'CHANGELOG.md', 'iam', 'docs', 'templates' ].map(p => join(ROOT, p)))
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

export interface InstallBaseOptions {
  /** Allow npm to fetch what its cache lacks (`--prefer-offline`; the install step of `npm test`). */
  online?: boolean
  /** @architect/architect version to install (default: the devDependency's, ARCHITECT_VERSION). */
  architect?: string
}

/**
 * node_modules with @architect/architect (the exact devDependency version, or opts.architect)
 * and, unless tarball is null, the packed plugin; installed with `npm install --offline` so only
 * npm's cache is used. Shared across scenarios and processes (keyed by Architect version and
 * tarball content); returns its directory.
 */
export function installBase (tarball: string | null, opts: InstallBaseOptions = {}): Promise<string> {
  const architect = opts.architect ?? ARCHITECT_VERSION
  const key = createHash('sha256').update(architect).update('\0')
    .update(tarball ? readFileSync(tarball) : 'no-plugin').digest('hex').slice(0, 16)
  let pending = installs.get(key)
  if (!pending) {
    pending = withLock(`install-${key}`, () => {
      const dir = join(CACHE, `install-${key}`)
      if (existsSync(join(dir, 'node_modules', '@architect', 'architect', 'package.json'))) return dir
      const staging = mkdtempSync(join(CACHE, `install-${key}-tmp-`))
      const devDependencies: Record<string, string> = { '@architect/architect': architect }
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
      pruneCache('install-', 4)
      return dir
    })
    installs.set(key, pending)
  }
  return pending
}
