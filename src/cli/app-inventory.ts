/**
 * The app as Architect sees it, for `setup` and `doctor`: Architect's Inventory (config.arc files
 * and plugins included) and, for a stage, the CloudFormation template Architect's own packager
 * generates from it (what deploy.start receives, before plugins change it). Read with the app's
 * installed Architect when there is one. The plugin loaded by Inventory here stays idle
 * (INSPECTING): reading the app never exchanges a token.
 */
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { INSPECTING } from '../plugin/detect.ts'

type Inventory = { inv: Record<string, unknown> & { _arc?: { deployStage?: string } } }

export interface AppRead { inv: Inventory['inv'], template?: { Resources?: Record<string, unknown> } }

/** Inventory (and the template for `stage`), or the reason it could not be read. */
export async function readApp (cwd: string, stage?: 'staging' | 'production'): Promise<AppRead | { error: string }> {
  const fromApp = createRequire(join(cwd, 'package.json'))
  const load = <T>(name: string): T => {
    try { return fromApp(name) as T }
    catch { return createRequire(import.meta.url)(name) as T }
  }
  const before = process.env[INSPECTING]
  process.env[INSPECTING] = '1'
  try {
    const inventory = await load<(p: { cwd: string }) => Promise<Inventory>>('@architect/inventory')({ cwd })
    if (!stage) return { inv: inventory.inv }
    inventory.inv._arc = { ...inventory.inv._arc, deployStage: stage }
    const pkg = load<(i: Inventory) => AppRead['template']>('@architect/package')
    return { inv: inventory.inv, template: pkg(inventory) }
  }
  catch (err) {
    return { error: err instanceof Error ? err.message.split('\n')[0]! : String(err) }
  }
  finally {
    if (before === undefined) delete process.env[INSPECTING]
    else process.env[INSPECTING] = before
  }
}
