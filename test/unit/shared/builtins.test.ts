/**
 * src/shared/builtins.ts: the deploy path's node:fs, node:http and node:https, required rather
 * than imported. Shown both ways, in fresh Node processes (22 and 24): an ES import of node:http
 * loads undici (Node's fetch) and an ES import of node:fs loads fs/promises, while the module
 * gives the same builtins without loading either. test/e2e/deploy.test.ts checks the packed
 * plugin in `arc`; eslint.config.js keeps the ES imports out of src/.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { NODE22, NODE24, ROOT } from '../../support/install.ts'

const BUILTINS = pathToFileURL(join(ROOT, 'src', 'shared', 'builtins.ts')).href
/** What the process loaded of Node's internals that the facades pull in. */
const REPORT = `console.log(JSON.stringify(process.moduleLoadList.filter(m => /undici|fs\\/promises/.test(m))))`

function loaded (node: string, program: string): string[] {
  const r = spawnSync(node, ['--input-type=module', '-e', `${program}\n${REPORT}`], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as string[]
}

for (const [name, node] of [['Node 22', NODE22], ['Node 24', NODE24]] as const) {
  describe(name, () => {
    test('builtins.ts gives node:fs, node:http and node:https without loading undici or fs/promises', () => {
      const program = `const { fs, web } = await import(${JSON.stringify(BUILTINS)})
const { http, https } = web()
if (typeof fs.readFileSync !== 'function' || typeof http.Agent !== 'function' || typeof https.Agent !== 'function') throw new Error('not the builtins')
if (fs !== process.getBuiltinModule('node:fs') || http !== process.getBuiltinModule('node:http')) throw new Error('not the same modules')`
      assert.deepEqual(loaded(node, program), [])
    })

    test('what it avoids: ES imports of node:http and node:fs load them', () => {
      assert.ok(loaded(node, `await import('node:http')`).some(m => m.includes('undici')), 'import(\'node:http\') loads undici')
      assert.ok(loaded(node, `await import('node:fs')`).some(m => m.includes('fs/promises')), 'import(\'node:fs\') loads fs/promises')
    })
  })
}
