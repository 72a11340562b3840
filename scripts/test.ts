/**
 * `npm test`: typecheck, lint, then one run of Node's test runner over the unit and end-to-end tests.
 * The plugin is built and packed once here (as `npm pack` does for a user) and every
 * end-to-end test installs that tarball, instead of each test process packing its own.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name: string) => join(root, 'node_modules', '.bin', name)
const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

console.log(`# node ${process.version}: typecheck`)
run(bin('tsc'), ['-p', 'tsconfig.test.json'])
// The linter (eslint.config.js) over sources, tests and scripts: an error stops the run here.
console.log('# lint')
run(bin('eslint'), ['.'])

// One pack directory per run, and the build under the lock packPlugin() takes, so runs started
// side by side (several people in one work tree) never build into or delete each other's tarball.
const { ARCHITECT11_VERSION, ARCHITECT_VERSION, installBase, withLock } = await import('../test/support/install.ts')
const packDir = join(root, '.cache', 'pack', String(process.pid))
rmSync(packDir, { recursive: true, force: true })
mkdirSync(packDir, { recursive: true })
process.once('exit', () => rmSync(packDir, { recursive: true, force: true }))
console.log('# npm pack (builds on prepack)')
const pack = await withLock('pack', () => spawnSync('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: root, stdio: 'inherit' }))
if (pack.status !== 0) process.exit(pack.status ?? 1)
const tarball = readdirSync(packDir).find(f => f.endsWith('.tgz'))
if (!tarball) throw new Error('npm pack produced no tarball')

// Install step: the e2e apps (the packed plugin next to @architect/architect 12, and next to
// Architect 11 for test/e2e/architect11.test.ts) are installed here, where npm may fetch what
// its cache lacks; the tests themselves then run offline.
for (const architect of [ARCHITECT_VERSION, ARCHITECT11_VERSION]) {
  console.log(`# installing an end-to-end app: the packed plugin next to @architect/architect ${architect}`)
  await installBase(join(packDir, tarball), { online: true, architect })
}

const only = process.argv.slice(2)
const files = only.length ? only : ['test/unit/**/*.test.ts', 'test/e2e/**/*.test.ts']
run(process.execPath, ['--test', '--test-concurrency=2', ...files], { ...process.env, E2E_PLUGIN_TARBALL: join(packDir, tarball) })
