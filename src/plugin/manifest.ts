/**
 * Step 2a: the app manifest, read with Architect's own reader.
 *
 * Inventory is what is loading this plugin, so calling Inventory from here would wait on
 * itself forever. Its manifest reader is a plain synchronous function, though, and it knows
 * every format Architect accepts: app.arc, .arc, arc.json, arc.yaml/yml, package.json.
 */
import { createRequire } from 'node:module'
import { basename } from 'node:path'

const require = createRequire(import.meta.url)

type Reader = (p: { type: 'projectManifest', cwd: string, errors: string[] }) => { arc: ArcObject | null, filepath: string | false }

/** A parsed manifest: pragma name → items (strings, numbers, booleans, vectors [key, ...values], or maps). */
export type ArcItem = string | number | boolean | Array<string | number | boolean> | Record<string, unknown>
export type ArcObject = Record<string, ArcItem[] | undefined>

export interface Manifest {
  /** File name the settings came from, for messages (`app.arc`, `arc.json`...). */
  file: string
  arc: ArcObject
}

export class ManifestError extends Error {}

export function readManifest (cwd: string): Manifest | undefined {
  const read = require('@architect/inventory/src/read') as Reader
  const errors: string[] = []
  const { arc, filepath } = read({ type: 'projectManifest', cwd, errors })
  if (errors.length) throw new ManifestError(errors.join('; '))
  if (!filepath || !arc) return undefined
  return { file: basename(filepath), arc }
}

/** A pragma's entries, key → values as strings; values of any other type are listed in `invalid`. */
export class PragmaEntries extends Map<string, string[]> {
  /** Keys (or items) whose value is not a string, number or boolean, with what it is instead. */
  readonly invalid: Array<{ key: string, got: string }> = []
}

/** What a manifest value is, for a message: "an object", "a list", "null"... */
export function kindOf (value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'number') return 'a number out of range'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** A scalar as the string it stands for; anything else (objects, lists, null) is no value. */
function scalar (value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'boolean') return String(value)
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

/**
 * The entries of one pragma as key → values, whatever the manifest format:
 * `key value` lines (vectors), `key` alone (true), or `{ key: value }` maps (JSON/YAML).
 * A value that is not a string, number or boolean (an object where a string belongs, null) is
 * never turned into a string: it is listed in `invalid`, and the setting's reader says so.
 */
export function pragmaEntries (arc: ArcObject, pragma: string): PragmaEntries {
  const entries = new PragmaEntries()
  const set = (key: string, values: unknown[]) => {
    const strings = values.map(scalar)
    const at = strings.indexOf(undefined)
    if (at !== -1) entries.invalid.push({ key, got: kindOf(values[at]) })
    else entries.set(key, strings as string[])
  }
  const items: unknown = Object.hasOwn(arc, pragma) ? arc[pragma] : undefined
  if (items === undefined) return entries
  if (!Array.isArray(items)) {
    entries.invalid.push({ key: `@${pragma}`, got: kindOf(items) })
    return entries
  }
  for (const item of items as unknown[]) {
    if (Array.isArray(item)) {
      if (!item.length) continue
      const [key, ...values] = item as unknown[]
      const name = scalar(key)
      if (name === undefined) entries.invalid.push({ key: `@${pragma}`, got: `${kindOf(key)} where a setting name belongs` })
      else set(name, values)
    }
    else if (item !== null && typeof item === 'object') {
      for (const [key, value] of Object.entries(item)) set(key, Array.isArray(value) ? value : [value])
    }
    else {
      const name = scalar(item)
      if (name === undefined) entries.invalid.push({ key: `@${pragma}`, got: `${kindOf(item)} where a setting belongs` })
      else entries.set(name, ['true'])
    }
  }
  return entries
}
