/**
 * 4. Install footprint: what the plugin adds to an app's production install.
 *
 * Three throwaway apps, installed with `npm install --prefer-offline --omit=dev` (npm's cache serves
 * what it holds; the registry only what it lacks), in parallel:
 *  - arc:           dependencies { @architect/architect }             (the app without the plugin)
 *  - arc + plugin:  dependencies { @architect/architect, <packed plugin tarball> }
 *  - plugin alone:  dependencies { <packed plugin tarball> }
 *  - before:        arc + plugin + the AWS SDK packages the plugin depended on until issue 23
 *                   bundled them (@aws-sdk/client-sts, @smithy/core, at the versions of its
 *                   devDependencies): the install as it was, for the "not larger" target
 * Packages are counted by walking node_modules (every package root, nested ones included);
 * sizes are `du -sb` (apparent bytes) and `du -sB1` (bytes on disk) of node_modules.
 */
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ARCHITECT_VERSION, ROOT } from '../../test/support/harness.ts'
import { verdict, type Context, type Row } from './context.ts'
import { mb, timed } from './util.ts'

const TARGET_MB = 20
/** What the plugin depended on before its SDK was bundled (issue 23). */
const FORMER_SDK_DEPENDENCIES = ['@aws-sdk/client-sts', '@smithy/core']

interface Install {
  packages: Map<string, { id: string, bytes: number }>
  apparentBytes: number
  diskBytes: number
  seconds: number
}

/** Every package under node_modules (relative path → name@version and its own files' bytes). */
function walkPackages (nodeModules: string): Map<string, { id: string, bytes: number }> {
  const found = new Map<string, { id: string, bytes: number }>()
  const visitDir = (dir: string): void => {
    if (!existsSync(dir)) return
    for (const entry of readdirSync(dir)) {
      if (entry.startsWith('.')) continue // .bin, .package-lock.json
      if (entry.startsWith('@')) for (const sub of readdirSync(join(dir, entry))) visitPackage(join(dir, entry, sub))
      else visitPackage(join(dir, entry))
    }
  }
  const visitPackage = (dir: string): void => {
    const manifest = join(dir, 'package.json')
    if (lstatSync(dir).isSymbolicLink() || !existsSync(manifest)) return
    const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string, version: string }
    found.set(dir.slice(nodeModules.length + 1), { id: `${name}@${version}`, bytes: ownBytes(dir) })
    visitDir(join(dir, 'node_modules'))
  }
  visitDir(nodeModules)
  return found
}

/** Apparent bytes of a package's files, its nested node_modules excluded. */
function ownBytes (dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) { if (entry.name !== 'node_modules') total += ownBytes(path) }
    else total += lstatSync(path).size
  }
  return total
}

async function install (dependencies: Record<string, string>): Promise<Install> {
  const dir = mkdtempSync(join(tmpdir(), 'arc-bench-footprint-'))
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'footprint', private: true, dependencies }, null, 2))
    const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined))
    const r = await timed('npm', ['install', '--prefer-offline', '--omit=dev', '--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=error'], { cwd: dir, env, timeoutMs: 300_000 })
    if (r.code !== 0) throw new Error(`npm install ${Object.keys(dependencies).join(' ')} failed (exit ${r.code})\n${r.stdout}\n${r.stderr}`)
    const du = async (flag: string) => {
      const d = await timed('du', ['-s', flag, join(dir, 'node_modules')], { env: { PATH: '/usr/bin:/bin', LANG: 'C' } })
      return Number(d.stdout.split(/\s/)[0])
    }
    return { packages: walkPackages(join(dir, 'node_modules')), apparentBytes: await du('-b'), diskBytes: await du('-B1'), seconds: r.wallMs / 1000 }
  }
  finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function benchFootprint (ctx: Context): Promise<Row[]> {
  const architect = { '@architect/architect': ARCHITECT_VERSION }
  const plugin = { 'arc-plugin-gitlab-oidc': `file:${ctx.tarball}` }
  const dev = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies
  const formerSdk = Object.fromEntries(FORMER_SDK_DEPENDENCIES.map(name => [name, dev[name]!]))
  const [arc, both, alone, before] = await Promise.all([
    install(architect), install({ ...architect, ...plugin }), install(plugin), install({ ...architect, ...plugin, ...formerSdk }),
  ])

  const addedPackages = both.packages.size - arc.packages.size
  const addedApparent = both.apparentBytes - arc.apparentBytes
  const addedDisk = both.diskBytes - arc.diskBytes
  // Which packages are new (by name@version), grouped by scope.
  const inArc = new Set([...arc.packages.values()].map(p => p.id))
  const groups = new Map<string, { count: number, bytes: number }>()
  for (const p of both.packages.values()) {
    if (inArc.has(p.id)) continue
    const name = p.id.slice(0, p.id.lastIndexOf('@'))
    const group = name === 'arc-plugin-gitlab-oidc' ? 'the plugin itself' : name.startsWith('@') ? `${name.split('/')[0]}/*` : 'other'
    const g = groups.get(group) ?? { count: 0, bytes: 0 }
    groups.set(group, { count: g.count + 1, bytes: g.bytes + p.bytes })
  }
  const breakdown = [...groups.entries()].sort((a, b) => b[1].bytes - a[1].bytes)
    .map(([name, g]) => `${name} ${g.count} (${mb(g.bytes)})`).join(', ')

  console.log('\n## 4. Install footprint (`npm install --omit=dev`, node_modules)')
  const line = (label: string, i: Install) => console.log(`   ${label.padEnd(24)} ${String(i.packages.size).padStart(4)} packages  ${mb(i.apparentBytes).padStart(9)} (du -sb)  ${mb(i.diskBytes).padStart(9)} on disk   [${i.seconds.toFixed(1)} s]`)
  line('@architect/architect', arc)
  line('architect + plugin', both)
  line('plugin alone', alone)
  line('before (SDK as a dep.)', before)
  console.log(`   added by the plugin      ${addedPackages} packages, ${mb(addedApparent)} (${mb(addedDisk)} on disk)`)
  console.log(`   new packages (file bytes) ${breakdown}`)

  return [
    {
      measure: '4. Install: added to @architect/architect\'s production install',
      value: `+${addedPackages} packages, +${mb(addedApparent)} (${mb(addedDisk)} on disk)`,
      target: `< ${TARGET_MB} MB`,
      result: verdict(Math.max(addedApparent, addedDisk) < TARGET_MB * 1e6),
    },
    {
      measure: `4. Install: added now / before issue 23 (with ${FORMER_SDK_DEPENDENCIES.join(', ')} as dependencies)`,
      value: `+${addedPackages} vs +${before.packages.size - arc.packages.size} packages, +${mb(addedApparent)} vs +${mb(before.apparentBytes - arc.apparentBytes)}`,
      target: 'not larger',
      result: verdict(both.packages.size <= before.packages.size && both.apparentBytes <= before.apparentBytes),
    },
    {
      measure: '4. Install: the plugin alone',
      value: `${alone.packages.size} packages, ${mb(alone.apparentBytes)} (${mb(alone.diskBytes)} on disk)`,
      target: '–',
      result: 'info',
    },
  ]
}
