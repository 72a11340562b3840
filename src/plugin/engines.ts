/**
 * Node first: the Node.js running `arc` against the installed Architect's `engines.node`. An older
 * Node lets the plugin exchange the token, then Architect crashes mid-deploy (Architect 12 on
 * Node 20: `TypeError: globSync is not a function`, with a stack trace); the preflight refuses
 * it before any AWS call instead.
 *
 * The installed Architect is the one the app resolves (node_modules from the app directory
 * upwards), else the one next to this plugin. Its range is read with a small reader of npm's
 * range syntax (comparators `>=`, `>`, `<=`, `<`, `=`, `^`, `~`, x-ranges, `||`); a range it
 * cannot read is not enforced (Architect itself decides then).
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fs } from '../shared/builtins.ts'

export interface ArchitectEngines { version: string, range: string }

/** `engines.node` of the Architect the app would run, or undefined when none is found or it has none. */
export function architectEngines (cwd: string): ArchitectEngines | undefined {
  for (const start of [cwd, dirname(fileURLToPath(import.meta.url))]) {
    for (let dir = start; ; dir = dirname(dir)) {
      const found = readEngines(join(dir, 'node_modules', '@architect', 'architect', 'package.json'))
      if (found) return found
      if (dirname(dir) === dir) break
    }
  }
  return undefined
}

function readEngines (file: string): ArchitectEngines | undefined {
  try {
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown, engines?: { node?: unknown } }
    const range = pkg.engines?.node
    return typeof range === 'string' ? { version: typeof pkg.version === 'string' ? pkg.version : '?', range } : undefined
  }
  catch { return undefined }
}

type Version = [number, number, number]

function parse (text: string): { v: Version, given: number } | undefined {
  const m = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[-+].*)?$/.exec(text)
  if (!m) return undefined
  const parts = [m[1], m[2], m[3]].map(p => p === undefined || /[xX*]/.test(p) ? undefined : Number(p))
  const given = parts.findIndex(p => p === undefined)
  return { v: parts.map(p => p ?? 0) as Version, given: given === -1 ? 3 : given }
}

const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]
const bump = (v: Version, at: number): Version => at === 0 ? [v[0] + 1, 0, 0] : at === 1 ? [v[0], v[1] + 1, 0] : [v[0], v[1], v[2] + 1]

/** One comparator as a test of a version; undefined when it cannot be read. */
function comparator (text: string): ((v: Version) => boolean) | undefined {
  const m = /^(>=|<=|>|<|=|\^|~)?\s*(.+)$/.exec(text)
  const p = m && parse(m[2]!)
  if (!m || !p) return undefined
  const { v, given } = p
  switch (m[1]) {
    case '>=': return x => compare(x, v) >= 0
    case '>': return given === 3 ? x => compare(x, v) > 0 : x => compare(x, bump(v, given - 1)) >= 0
    case '<=': return given === 3 ? x => compare(x, v) <= 0 : x => compare(x, bump(v, given - 1)) < 0
    case '<': return x => compare(x, v) < 0
    case '^': {
      const at = v[0] > 0 || given <= 1 ? 0 : v[1] > 0 || given <= 2 ? 1 : 2
      return x => compare(x, v) >= 0 && compare(x, bump(v, at)) < 0
    }
    case '~': return x => compare(x, v) >= 0 && compare(x, bump(v, given >= 2 ? 1 : 0)) < 0
    default: return given === 0 ? () => true : x => compare(x, v) >= 0 && compare(x, bump(v, given - 1)) < 0
  }
}

/** Whether `version` is in `range`; undefined when the range cannot be read. */
export function satisfies (version: string, range: string): boolean | undefined {
  const v = parse(version)?.v
  if (!v) return undefined
  let any = false
  for (const alternative of range.split('||')) {
    const tests = alternative.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean).map(comparator)
    if (tests.some(t => t === undefined)) return undefined
    if ((tests as Array<(v: Version) => boolean>).every(t => t(v))) any = true
  }
  return any
}

/** The lowest major version a range admits (the image to name): `>=22` → 22, `^20.19 || >=22.12` → 20. */
export function lowestMajor (range: string): number | undefined {
  for (let major = 0; major < 100; major++) {
    if (satisfies(`${major}.99.99`, range) || satisfies(`${major}.0.0`, range)) return major
  }
  return undefined
}
