/**
 * GitLab's `sub` claim and the ways a project may build it (pure functions, no I/O).
 *
 * A Maintainer can change which claims make up `sub` (the project API attribute
 * `ci_id_token_sub_claim_components`). GitLab accepts exactly four values; each component becomes
 * `<claim>:<value>`, joined with `:`:
 *   project_path,ref_type,ref  project_path:acme/shop:ref_type:branch:ref:main   (the default)
 *   project_path,ref,ref_type  project_path:acme/shop:ref:main:ref_type:branch
 *   project_path,ref           project_path:acme/shop:ref:main
 *   project_path,ref_type      project_path:acme/shop:ref_type:branch
 * AWS can only test `sub` and `aud`, so a trust policy must match the project's format. Without
 * `ref_type` a branch and a tag of the same name give the same `sub`; without `ref` no single
 * branch or tag can be named.
 */
import { TrustPolicyError } from './errors.ts'
import { shellWord } from '../shared/shell-word.ts'

export const SUB_CLAIM_COMPONENTS = [
  'project_path,ref_type,ref',
  'project_path,ref,ref_type',
  'project_path,ref',
  'project_path,ref_type',
] as const

export type SubClaimComponents = typeof SUB_CLAIM_COMPONENTS[number]
export const DEFAULT_SUB_CLAIM_COMPONENTS: SubClaimComponents = SUB_CLAIM_COMPONENTS[0]

/** A ref a role may be assumed from: a branch, a tag, or either (`ref`); `*` and `?` are wildcards. */
export interface RefSpec { kind: 'branch' | 'tag' | 'ref', name: string }

const OPTION: Record<RefSpec['kind'], string> = { branch: '--branch', tag: '--tag', ref: '--ref' }

/** Validate a `--sub-claim-components` value (spaces after commas are tolerated). */
export function parseSubClaimComponents (value: unknown): SubClaimComponents {
  const normal = typeof value === 'string' ? value.replace(/\s+/g, '') : value
  const found = SUB_CLAIM_COMPONENTS.find(f => f === normal)
  if (!found) {
    throw new TrustPolicyError('INVALID_SUB_CLAIM_COMPONENTS',
      `Invalid sub claim components ${JSON.stringify(value)}: GitLab accepts exactly ${SUB_CLAIM_COMPONENTS.join(' | ')} (the project's ci_id_token_sub_claim_components, default ${DEFAULT_SUB_CLAIM_COMPONENTS})`)
  }
  return found
}

/** The `sub` GitLab builds in `format` (no escaping, no validation); `*` for refType means either. */
export function subjectIn (format: SubClaimComponents, project: string, refType: 'branch' | 'tag' | '*', ref: string): string {
  const values: Record<string, string> = { project_path: project, ref_type: refType, ref }
  return format.split(',').map(c => `${c}:${values[c] as string}`).join(':')
}

/**
 * The `sub` (possibly with IAM wildcards) that admits `spec` in `format`, or a refusal saying
 * why the format cannot express it and what to do instead.
 */
export function subjectForSpec (format: SubClaimComponents, project: string, spec: RefSpec): string {
  const hasType = format.includes('ref_type')
  const hasRef = format.split(',').includes('ref')
  const asked = `${OPTION[spec.kind]} ${shellWord(spec.name)}`
  if (!hasType && spec.kind !== 'ref') {
    throw new TrustPolicyError('UNEXPRESSIBLE_REF',
      `${asked} cannot be expressed when the project's sub claim components are ${format}: its sub (${subjectIn(format, project, spec.kind, spec.name)}) ` +
      `is the same for a branch and a tag of that name, so a ${spec.kind}-only role would also admit the other. ` +
      `Use --ref ${shellWord(spec.name)} (a branch or tag of that name: protect tags of that name in GitLab) or --any-ref, ` +
      'or set the project\'s ci_id_token_sub_claim_components to one that includes ref_type.')
  }
  if (!hasRef && spec.name !== '*') {
    throw new TrustPolicyError('UNEXPRESSIBLE_REF',
      `${asked} cannot be expressed when the project's sub claim components are ${format}: its sub (${subjectIn(format, project, spec.kind === 'ref' ? '*' : spec.kind, '')}) ` +
      'names no branch or tag, so a role cannot be limited to one. ' +
      `Use ${spec.kind === 'ref' ? '--any-ref' : `${OPTION[spec.kind]} '*'`} (every ${spec.kind === 'ref' ? 'branch and tag' : spec.kind} of the project), ` +
      'or set the project\'s ci_id_token_sub_claim_components to one that includes ref.')
  }
  return subjectIn(format, project, spec.kind === 'ref' ? '*' : spec.kind, spec.name)
}

export interface SubClaims { sub?: unknown, project_path?: unknown, ref_type?: unknown, ref?: unknown }

/** Which format built this token's `sub`, from its own claims; undefined when none of the four does. */
export function subClaimComponentsOf (claims: SubClaims): SubClaimComponents | undefined {
  const { sub, project_path: project, ref_type: refType, ref } = claims
  if (typeof sub !== 'string' || typeof project !== 'string' || typeof ref !== 'string') return undefined
  if (refType !== 'branch' && refType !== 'tag') return undefined
  return SUB_CLAIM_COMPONENTS.find(f => subjectIn(f, project, refType, ref) === sub)
}

/**
 * The `trust-policy` options naming this job's ref in `format`: --branch/--tag with its name,
 * --ref without ref_type, --branch '*'/--tag '*' without ref.
 */
export function refOptionsFor (format: SubClaimComponents, refType: string | undefined, ref: string | undefined): string {
  const kind = refType === 'tag' ? 'tag' : 'branch'
  const components = format.split(',')
  const quote = (s: string | undefined): string => s === undefined ? '<ref>' : shellWord(s)
  const refPart = !components.includes('ref_type') ? `--ref ${quote(ref)}`
    : !components.includes('ref') ? `--${kind} '*'`
    : `--${kind} ${quote(ref)}`
  return format === DEFAULT_SUB_CLAIM_COMPONENTS ? refPart : `${refPart} --sub-claim-components ${format}`
}
