/**
 * The house rules on src/'s imports (issue 16), read from the source itself:
 * - report/ and hooks/ import nothing from plugin/ but types (data flows one way: the plugin's
 *   steps use the report and the hooks, never the other way round);
 * - no import cycles anywhere in src/ (static, type and dynamic imports alike);
 * - the idle path: src/index.ts loads only plugin/detect.ts up front, and detect.ts nothing of src/;
 * - one home per name: no re-exports for old paths (only the package's entry, index.ts, may).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'

const SRC = join(import.meta.dirname, '../../src')

interface Import { from: string, target: string, typeOnly: boolean, dynamic: boolean, text: string }

/** Every import and re-export of a module's text that names a relative path. */
export function importsOf (file: string, text: string): Import[] {
  const found: Import[] = []
  const statement = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]/gm
  for (const m of text.matchAll(statement)) {
    const path = m[4] ?? m[5]!
    const names = m[3] ?? ''
    // `import { type A, type B }` is type-only too; `import { type A, b }` is not
    const inner = /^\{([^}]*)\}$/.exec(names.trim())?.[1]
    const allTyped = inner !== undefined && inner.split(',').map(s => s.trim()).filter(Boolean).every(s => s.startsWith('type '))
    found.push({ from: file, target: resolveFrom(file, path), typeOnly: Boolean(m[2]) || allTyped, dynamic: false, text: m[0].trim() })
  }
  for (const m of text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    found.push({ from: file, target: resolveFrom(file, m[1]!), typeOnly: false, dynamic: true, text: m[0] })
  }
  return found
}

function resolveFrom (file: string, path: string): string {
  return normalize(join(dirname(file), path))
}

/** A cycle of the graph (as a path that comes back to its start), or undefined. */
export function findCycle (graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined
    if (state.get(node) === 'open') return [ ...stack.slice(stack.indexOf(node)), node ]
    state.set(node, 'open')
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next)
      if (cycle) return cycle
    }
    stack.pop()
    state.set(node, 'done')
    return undefined
  }
  for (const node of graph.keys()) {
    const cycle = visit(node)
    if (cycle) return cycle
  }
  return undefined
}

const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter(f => f.endsWith('.ts')).sort()
const imports = files.flatMap(f => importsOf(f, readFileSync(join(SRC, f), 'utf8')))

describe('layers of src/', () => {
  it('reads every module and its imports', () => {
    assert.ok(files.length > 30, files.join(' '))
    assert.ok(imports.length > 100)
    for (const i of imports) assert.ok(files.includes(i.target), `${i.from}: ${i.text} names no module of src/`)
  })

  it('report/ and hooks/ import nothing from plugin/ but types', () => {
    const upward = imports.filter(i => /^(report|hooks)\//.test(i.from) && i.target.startsWith('plugin/') && !i.typeOnly)
    assert.deepEqual(upward.map(i => `${i.from}: ${i.text}`), [])
    // and the check sees the type imports that are allowed
    assert.ok(imports.some(i => i.from.startsWith('hooks/') && i.target === join('plugin', 'activate.ts') && i.typeOnly))
  })

  it('shared/ is the leaf: it imports only itself; iam/ only itself and shared/', () => {
    const out = imports.filter(i => (i.from.startsWith('shared/') && !i.target.startsWith('shared/')) ||
      (i.from.startsWith('iam/') && !/^(shared|iam)\//.test(i.target)))
    assert.deepEqual(out.map(i => `${i.from}: ${i.text}`), [])
  })

  it('no import cycles', () => {
    const graph = new Map<string, string[]>(files.map(f => [ f, [] ]))
    for (const i of imports) graph.get(i.from)!.push(i.target)
    assert.equal(findCycle(graph)?.join(' -> '), undefined)
  })

  it('one home per name: no module re-exports another\'s names (only index.ts, the package\'s entry, may)', () => {
    const reexports = files.filter(f => f !== 'index.ts').flatMap(f => {
      const text = readFileSync(join(SRC, f), 'utf8')
      return [...text.matchAll(/^\s*export\s+(type\s+)?(\*|\{[^}]*\})\s*from\s*['"][^'"]+['"]/gm)].map(m => `${f}: ${m[0].trim()}`)
    })
    assert.deepEqual(reexports, [])
    // and the check sees one where there is one
    assert.equal(/^\s*export\s+(type\s+)?(\*|\{[^}]*\})\s*from\s*['"][^'"]+['"]/m.test("export { a } from './a.ts'"), true)
  })

  it('the idle path: index.ts imports only plugin/detect.ts up front (the rest is type-only or dynamic), detect.ts nothing', () => {
    const loaded = imports.filter(i => i.from === 'index.ts' && !i.typeOnly && !i.dynamic).map(i => i.target)
    assert.deepEqual(loaded, [ join('plugin', 'detect.ts') ])
    assert.deepEqual(imports.filter(i => i.from === join('plugin', 'detect.ts')), [])
  })
})

describe('the checks themselves', () => {
  it('tell type imports from value imports, and see dynamic ones', () => {
    const found = importsOf('report/x.ts', [
      'import type { A } from \'../plugin/a.ts\'',
      'import { type B, type C } from \'../plugin/b.ts\'',
      'import { type D, e } from \'../plugin/d.ts\'',
      'export { f } from \'../plugin/f.ts\'',
      'const g = await import(\'../plugin/g.ts\')',
    ].join('\n'))
    assert.deepEqual(found.map(i => [ relative('.', i.target), i.typeOnly, i.dynamic ]), [
      [ 'plugin/a.ts', true, false ], [ 'plugin/b.ts', true, false ], [ 'plugin/d.ts', false, false ], [ 'plugin/f.ts', false, false ],
      [ 'plugin/g.ts', false, true ],
    ])
  })

  it('find a cycle where there is one, and none in a tree', () => {
    assert.deepEqual(findCycle(new Map([ [ 'a', [ 'b' ] ], [ 'b', [ 'c' ] ], [ 'c', [ 'a' ] ] ])), [ 'a', 'b', 'c', 'a' ])
    assert.equal(findCycle(new Map([ [ 'a', [ 'b', 'c' ] ], [ 'b', [ 'c' ] ], [ 'c', [] ] ])), undefined)
  })
})
