/**
 * GitLab's `sub` claim and the ways a project may build it (pure functions, no I/O).
 *
 * A Maintainer can change which claims make up `sub` (the project API attribute
 * `ci_id_token_sub_claim_components`). Each component becomes `<claim>:<value>`, joined with `:`:
 *   project_path,ref_type,ref  project_path:acme/shop:ref_type:branch:ref:main   (the default)
 *   project_path,ref,ref_type  project_path:acme/shop:ref:main:ref_type:branch
 *   project_path,ref           project_path:acme/shop:ref:main
 *   project_path,ref_type      project_path:acme/shop:ref_type:branch
 * Those four are what every GitLab with the setting accepts. Newer GitLab (docs/compatibility.md
 * names the versions) also accepts `project_id` as the first component (a subject that survives a
 * rename or transfer, and the fix for "ID token issuance is disabled" on a reused path) and
 * `ref_protected`, `environment_protected`, `deployment_tier` after it.
 * On a self-managed GitLab AWS can only test `sub` and `aud`, so a trust policy must match the
 * project's format. Without `ref_type` a branch and a tag of the same name give the same `sub`;
 * without `ref` no single branch or tag can be named. `ref_protected` is pinned to `true` when the
 * role requires a protected ref; `environment_protected` and `deployment_tier` are matched with `*`.
 */
import { TrustPolicyError } from './errors.ts'
import { shellWord } from '../shared/shell-word.ts'

/** The four formats every GitLab with the setting accepts; the default first. */
export const SUB_CLAIM_COMPONENTS = [
  'project_path,ref_type,ref',
  'project_path,ref,ref_type',
  'project_path,ref',
  'project_path,ref_type',
] as const

/** What may start a subject, and what may follow (each at most once, in any order). */
export const SUBJECT_HEADS = [ 'project_path', 'project_id' ] as const
export const SUBJECT_PARTS = [ 'ref_type', 'ref', 'ref_protected', 'environment_protected', 'deployment_tier' ] as const

/** A validated, normalized ci_id_token_sub_claim_components value (comma-separated). */
export type SubClaimComponents = string
export const DEFAULT_SUB_CLAIM_COMPONENTS = SUB_CLAIM_COMPONENTS[0] as SubClaimComponents

/** A ref a role may be assumed from: a branch, a tag, or either (`ref`); `*` and `?` are wildcards. */
export interface RefSpec { kind: 'branch' | 'tag' | 'ref', name: string }

/** The values a subject is built from; absent ones are matched with `*`. */
export interface SubjectValues {
  project_path?: string
  project_id?: string
  ref_type?: string
  ref?: string
  ref_protected?: string
}

const OPTION: Record<RefSpec['kind'], string> = { branch: '--branch', tag: '--tag', ref: '--ref' }

/** Validate a `--sub-claim-components` value (spaces after commas are tolerated). */
export function parseSubClaimComponents (value: unknown): SubClaimComponents {
  const parts = typeof value === 'string' ? value.replace(/\s+/g, '').split(',') : []
  const [ head, ...rest ] = parts
  const ok = (SUBJECT_HEADS as readonly string[]).includes(head ?? '') &&
    rest.every(p => (SUBJECT_PARTS as readonly string[]).includes(p)) && new Set(rest).size === rest.length &&
    (rest.includes('ref') || rest.includes('ref_type'))
  if (!ok) {
    throw new TrustPolicyError('INVALID_SUB_CLAIM_COMPONENTS',
      `Invalid sub claim components ${JSON.stringify(value)}: GitLab accepts ${SUB_CLAIM_COMPONENTS.join(' | ')} (the project's ci_id_token_sub_claim_components, default ${DEFAULT_SUB_CLAIM_COMPONENTS}); ` +
      `newer GitLab also ${SUBJECT_HEADS.join(' or ')} first, then ref and/or ref_type and any of ${SUBJECT_PARTS.slice(2).join(', ')}`)
  }
  return parts.join(',') as SubClaimComponents
}

export const componentsOf = (format: string): string[] => format.split(',')

/** The `sub` GitLab builds in `format` from `values` (no escaping, no validation); absent values are `*`. */
export function subjectOf (format: string, values: SubjectValues): string {
  const all = values as Record<string, string | undefined>
  return componentsOf(format).map(c => `${c}:${all[c] ?? '*'}`).join(':')
}

/** The `sub` GitLab builds in `format` for a project path and ref; `*` for refType means either. */
export function subjectIn (format: string, project: string, refType: 'branch' | 'tag' | '*', ref: string, more: SubjectValues = {}): string {
  return subjectOf(format, { project_path: project, ref_type: refType, ref, ...more })
}

/** What a subject pins beyond the ref: the project ID (for a project_id subject) and a protected ref. */
export interface SubjectPins {
  projectId?: string
  requireProtectedRef?: boolean
}

function headValues (format: string, project: string, pins: SubjectPins): SubjectValues {
  const byId = componentsOf(format)[0] === 'project_id'
  if (byId && pins.projectId === undefined) {
    throw new TrustPolicyError('MISSING_PROJECT_ID',
      `The project's sub claim components are ${format}: its sub starts with project_id, so the policy needs the project ID (--project-id <id>; the project's overview page shows it)`)
  }
  return byId ? { project_id: pins.projectId } : { project_path: project }
}

/**
 * The `sub` (possibly with IAM wildcards) that admits `spec` in `format`, or a refusal saying
 * why the format cannot express it and what to do instead.
 */
export function subjectForSpec (format: SubClaimComponents, project: string, spec: RefSpec, pins: SubjectPins = {}): string {
  const parts = componentsOf(format)
  const hasType = parts.includes('ref_type')
  const hasRef = parts.includes('ref')
  const asked = `${OPTION[spec.kind]} ${shellWord(spec.name)}`
  const shown = (refType: 'branch' | 'tag' | '*', ref: string): string => subjectIn(format, project, refType, ref)
  if (!hasType && spec.kind !== 'ref') {
    throw new TrustPolicyError('UNEXPRESSIBLE_REF',
      `${asked} cannot be expressed when the project's sub claim components are ${format}: its sub (${shown(spec.kind, spec.name)}) ` +
      `is the same for a branch and a tag of that name, so a ${spec.kind}-only role would also admit the other. ` +
      `Use --ref ${shellWord(spec.name)} (a branch or tag of that name: protect tags of that name in GitLab) or --any-ref, ` +
      'or set the project\'s ci_id_token_sub_claim_components to one that includes ref_type.')
  }
  if (!hasRef && spec.name !== '*') {
    throw new TrustPolicyError('UNEXPRESSIBLE_REF',
      `${asked} cannot be expressed when the project's sub claim components are ${format}: its sub (${shown(spec.kind === 'ref' ? '*' : spec.kind, '')}) ` +
      'names no branch or tag, so a role cannot be limited to one. ' +
      `Use ${spec.kind === 'ref' ? '--any-ref' : `${OPTION[spec.kind]} '*'`} (every ${spec.kind === 'ref' ? 'branch and tag' : spec.kind} of the project), ` +
      'or set the project\'s ci_id_token_sub_claim_components to one that includes ref.')
  }
  return subjectOf(format, {
    ...headValues(format, project, pins),
    ref_type: spec.kind === 'ref' ? '*' : spec.kind,
    ref: spec.name,
    ...(pins.requireProtectedRef ? { ref_protected: 'true' } : {}),
  })
}

/** The pattern admitting every ref of the project: `<head>:*`, or every component when a protected ref is pinned. */
export function anyRefSubject (format: SubClaimComponents, project: string, pins: SubjectPins = {}): string {
  const head = headValues(format, project, pins)
  const parts = componentsOf(format)
  if (pins.requireProtectedRef && parts.includes('ref_protected')) return subjectOf(format, { ...head, ref_protected: 'true' })
  // project paths and IDs cannot contain ':': `<head>:<value>:*` is this project's refs only
  return parts.length === 1 ? subjectOf(format, head) : `${subjectOf(parts[0]!, head)}:*`
}

export interface SubClaims { sub?: unknown, [claim: string]: unknown }

/**
 * Which format built this token's `sub`, from the sub itself (`<claim>:<value>` pairs: no value
 * GitLab puts there contains ':') checked against the token's own claims; undefined when it is not
 * one GitLab builds.
 */
export function subClaimComponentsOf (claims: SubClaims): SubClaimComponents | undefined {
  if (typeof claims.sub !== 'string') return undefined
  const words = claims.sub.split(':')
  if (words.length % 2 !== 0) return undefined
  const names = words.filter((_, i) => i % 2 === 0)
  let format: SubClaimComponents
  try { format = parseSubClaimComponents(names.join(',')) }
  catch { return undefined }
  const all = claims as Record<string, unknown>
  const consistent = names.every((name, i) => all[name] === undefined || String(all[name]) === words[2 * i + 1])
  if (!consistent || (names.includes('ref_type') && ![ 'branch', 'tag' ].includes(words[2 * names.indexOf('ref_type') + 1] ?? ''))) return undefined
  return format
}

/**
 * The `trust-policy` options naming this job's ref in `format`: --branch/--tag with its name,
 * --ref without ref_type, --branch '*'/--tag '*' without ref.
 */
export function refOptionsFor (format: SubClaimComponents, refType: string | undefined, ref: string | undefined): string {
  const kind = refType === 'tag' ? 'tag' : 'branch'
  const components = componentsOf(format)
  const quote = (s: string | undefined): string => s === undefined ? '<ref>' : shellWord(s)
  const refPart = !components.includes('ref_type') ? `--ref ${quote(ref)}`
    : !components.includes('ref') ? `--${kind} '*'`
    : `--${kind} ${quote(ref)}`
  return format === DEFAULT_SUB_CLAIM_COMPONENTS ? refPart : `${refPart} --sub-claim-components ${format}`
}
