/**
 * The zoo (issue 25, item 4): real public Architect manifests nobody on this project wrote, in
 * test/fixtures/zoo/<name>/app.arc as published (repository, commit and path in zoo.json), and
 * the edits a test applies to each, with their reasons (zoo.json `edits`, `drop`, `changes`).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { root } from './cfn-template.ts'

export const ZOO_DIR = join(root, 'test', 'fixtures', 'zoo')

export interface ZooApp {
  name: string
  repository: string
  commit: string
  path: string
  what: string
  /** Text replaced in the manifest, each with its reason. */
  edits: Array<{ from: string, to: string, why: string }>
  /** Pragmas dropped (plugins' own, with the plugins), explained in `changes`. */
  drop: string[]
  changes?: string[]
}

export const ZOO = JSON.parse(readFileSync(join(ZOO_DIR, 'zoo.json'), 'utf8')) as ZooApp[]

/** A pragma and its lines, out of .arc text. */
const dropPragma = (arc: string, pragma: string): string => arc.replace(new RegExp(`^@${pragma}\\n(?:(?!@).*\\n?)*`, 'm'), '')

/** The manifest as published, with zoo.json's changes applied. */
export function zooManifest (app: ZooApp): string {
  let arc = readFileSync(join(ZOO_DIR, app.name, app.path), 'utf8')
  if (!arc.endsWith('\n')) arc += '\n'
  for (const edit of app.edits) {
    if (!arc.includes(edit.from)) throw new Error(`${app.name}: the manifest has no ${JSON.stringify(edit.from)} to edit`)
    arc = arc.replace(edit.from, edit.to)
  }
  for (const pragma of app.drop) arc = dropPragma(arc, pragma)
  return arc
}

/** A handler for each function directory the app names (its own code is not part of the fixture). */
export function zooHandlers (srcDirs: string[]): Record<string, string> {
  return Object.fromEntries(srcDirs.map(dir => [ join(dir, 'index.mjs'), 'export const handler = async () => ({ statusCode: 200 })\n' ]))
}
