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

type Reader = (p: { type: 'projectManifest'; cwd: string; errors: string[] }) => { arc: ArcObject | null; filepath: string | false }

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

/**
 * The entries of one pragma as key → values, whatever the manifest format:
 * `key value` lines (vectors), `key` alone (true), or `{ key: value }` maps (JSON/YAML).
 */
export function pragmaEntries (arc: ArcObject, pragma: string): Map<string, string[]> {
  const entries = new Map<string, string[]>()
  const set = (key: string, values: unknown[]) => entries.set(key, values.map(v => String(v)))
  for (const item of arc[pragma] ?? []) {
    if (Array.isArray(item)) {
      const [key, ...values] = item
      if (key !== undefined) set(String(key), values)
    }
    else if (item !== null && typeof item === 'object') {
      for (const [key, value] of Object.entries(item)) set(key, Array.isArray(value) ? value : [value])
    }
    else set(String(item), ['true'])
  }
  return entries
}
