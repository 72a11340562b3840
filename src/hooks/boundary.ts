/**
 * Permissions boundaries on the roles Architect generates (pure functions over the template).
 *
 * A deploy role that may create IAM roles can make itself admin through them, unless every role
 * it creates must carry a boundary policy it cannot change. Architect has no boundary option,
 * but deploy.start sees the CloudFormation template before it is deployed: every
 * `AWS::IAM::Role`, and every SAM resource that lets SAM create its own role, gets one.
 */

export interface Template {
  Resources?: Record<string, { Type?: string, Properties?: Record<string, unknown> } | null>
  [key: string]: unknown
}

/**
 * SAM resource types that create a role of their own, and the `Role` values for which they do:
 * a Function when `Role` is absent or null, a StateMachine also when it is "" (SAM's transform
 * tests `Role` for truthiness there). A `Role` that is an intrinsic (Ref, Fn::GetAtt...) or an
 * ARN names an existing role: SAM creates none.
 */
const SAM_ROLE_CREATORS: Record<string, (role: unknown) => boolean> = {
  'AWS::Serverless::Function': role => role === undefined || role === null,
  'AWS::Serverless::StateMachine': role => role === undefined || role === null || role === '',
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

/** Whether deploying this resource creates an IAM role (the template's own, or SAM's). */
export function createsRole (resource: unknown): boolean {
  if (!isRecord(resource) || typeof resource.Type !== 'string') return false
  if (resource.Type === 'AWS::IAM::Role') return true
  const creates = Object.hasOwn(SAM_ROLE_CREATORS, resource.Type) ? SAM_ROLE_CREATORS[resource.Type] : undefined
  const properties = isRecord(resource.Properties) ? resource.Properties : {}
  return creates !== undefined && creates(Object.hasOwn(properties, 'Role') ? properties.Role : undefined)
}

export interface BoundaryTarget {
  /** Logical ID of the resource. */
  id: string
  type: string
  /** What it names as its boundary now (undefined: none). */
  current: unknown
}

/** The resources whose roles a boundary applies to: IAM roles, and SAM functions/state machines that make their own. */
export function roleResources (template: Template): BoundaryTarget[] {
  const resources: unknown = template.Resources
  if (!isRecord(resources)) return []
  return Object.entries(resources)
    .filter(([, r]) => createsRole(r))
    .map(([id, r]) => {
      const resource = r as { Type: string, Properties?: unknown }
      const properties = isRecord(resource.Properties) ? resource.Properties : {}
      return { id, type: resource.Type, current: Object.hasOwn(properties, 'PermissionsBoundary') ? properties.PermissionsBoundary ?? undefined : undefined }
    })
}

export class BoundaryConflict extends Error {
  readonly conflicts: BoundaryTarget[]
  constructor (conflicts: BoundaryTarget[]) {
    super(`${conflicts.length} role(s) already name another permissions boundary`)
    this.conflicts = conflicts
  }
}

/**
 * A copy of the template with `PermissionsBoundary` = `arn` on every role resource.
 * A role that already names a *different* boundary is refused (BoundaryConflict): silently
 * replacing it could widen it, keeping it would escape ours.
 */
export function applyBoundary (template: Template, arn: string): { template: Template, roles: string[] } {
  const targets = roleResources(template)
  const conflicts = targets.filter(t => t.current !== undefined && t.current !== arn)
  if (conflicts.length) throw new BoundaryConflict(conflicts)
  const copy = structuredClone(template)
  for (const t of targets) {
    const resource = copy.Resources![t.id]!
    resource.Properties = { ...(isRecord(resource.Properties) ? resource.Properties : {}), PermissionsBoundary: arn }
  }
  return { template: copy, roles: targets.map(t => t.id) }
}

/** Role resources that do not carry `arn` as their boundary (added after ours, or changed). */
export function unbounded (template: Template, arn: string): BoundaryTarget[] {
  return roleResources(template).filter(t => t.current !== arn)
}

/** A plugin's deploy.start hook, as Inventory lists them: the function, tagged with the plugin's name. */
export type HookFunction = ((...args: never[]) => unknown) & { _plugin?: string }

/**
 * The plugins whose deploy.start runs after `self` (Inventory runs them in `@plugins` order, and
 * each one's returned template is the next one's input): they can add roles after ours.
 */
export function pluginsAfter (hooks: readonly HookFunction[] | undefined, self: unknown): string[] {
  if (!hooks) return []
  const at = hooks.findIndex(fn => fn === self)
  if (at === -1) return []
  return hooks.slice(at + 1).map(fn => fn._plugin ?? '(unnamed plugin)')
}
