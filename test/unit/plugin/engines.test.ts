/**
 * src/plugin/engines.ts: the installed Architect's engines.node, read from the app's node_modules
 * (else the one next to the plugin), and npm's range syntax as Architect's releases use it.
 * A property checks the reader against a direct comparison for `>=`/`<` bounds and `^`/`~`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { architectEngines, lowestMajor, satisfies } from '../../../src/plugin/engines.ts'
import { params } from '../../support/property.ts'

test('ranges as npm reads them', () => {
  const cases: Array<[string, string, boolean | undefined]> = [
    ['20.19.0', '>=22', false], ['22.0.0', '>=22', true], ['24.1.0', '>=22', true],
    ['20.19.0', '^20.19 || >=22.12', true], ['22.11.0', '^20.19 || >=22.12', false], ['22.12.0', '^20.19 || >=22.12', true],
    ['18.0.0', '>=16 <19', true], ['19.0.0', '>=16 <19', false], ['20.5.1', '20.x', true], ['21.0.0', '20.x', false],
    ['14.0.0', '>= 14', true], ['0.2.5', '^0.2.3', true], ['0.3.0', '^0.2.3', false], ['1.2.9', '~1.2.3', true], ['1.3.0', '~1.2.3', false],
    ['20.0.0', 'bogus', undefined], ['20.0.0', '*', true],
  ]
  for (const [version, range, expected] of cases) assert.equal(satisfies(version, range), expected, `${version} in ${range}`)
  assert.equal(lowestMajor('>=22'), 22)
  assert.equal(lowestMajor('^20.19 || >=22.12'), 20)
  assert.equal(lowestMajor('bogus'), undefined)
})

test('the app\'s installed Architect first, else the one next to the plugin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-engines-'))
  try {
    const app = join(dir, 'app', 'src')
    mkdirSync(app, { recursive: true })
    mkdirSync(join(dir, 'node_modules', '@architect', 'architect'), { recursive: true })
    writeFileSync(join(dir, 'node_modules', '@architect', 'architect', 'package.json'), JSON.stringify({ version: '13.0.0', engines: { node: '>=24' } }))
    assert.deepEqual(architectEngines(app), { version: '13.0.0', range: '>=24' })
    // The repository's own devDependency (Architect 12: node >=22).
    const pinned = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies['@architect/architect']
    assert.equal(architectEngines(tmpdir())?.version, pinned)
  }
  finally { rmSync(dir, { recursive: true, force: true }) }
})

test('property: >= and < bounds, ^ and ~ agree with comparing the numbers', () => {
  const v = fc.tuple(fc.nat(30), fc.nat(30), fc.nat(30))
  fc.assert(fc.property(v, v, ([a, b, c], [x, y, z]) => {
    const cmp = a - x || b - y || c - z
    const version = `${a}.${b}.${c}`, bound = `${x}.${y}.${z}`
    assert.equal(satisfies(version, `>=${bound}`), cmp >= 0)
    assert.equal(satisfies(version, `<${bound}`), cmp < 0)
    assert.equal(satisfies(version, `~${bound}`), cmp >= 0 && a === x && b === y)
    if (x > 0) assert.equal(satisfies(version, `^${bound}`), cmp >= 0 && a === x)
  }), params(500))
})
