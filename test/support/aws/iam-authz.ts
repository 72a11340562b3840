/**
 * Authorization of a request made by an IAM role within its own account, as IAM's documented
 * policy evaluation logic has it for identity-based policies and a permissions boundary (no
 * SCPs, resource-based or session policies are modelled):
 * - an explicit Deny in any identity policy or in the boundary wins;
 * - otherwise some identity policy statement must Allow the request;
 * - and, when the role has a boundary, some boundary statement must Allow it too
 *   (effective permissions = identity ∩ boundary).
 * A statement applies when its Action (or NotAction), its Resource (or NotResource) and every
 * condition match the request.
 */
import { arnMatch, asList, conditionMatches, wildcardMatch, type Decision, type PolicyDocument, type Statement } from './iam-policy.ts'

export interface AuthzRequest {
  /** e.g. 'iam:CreateRole' (compared case-insensitively, as IAM does) */
  action: string
  /** the resource ARN, or '*' for actions without a resource type */
  resource: string
  /** condition keys of the request context, e.g. { 'iam:PermissionsBoundary': arn } */
  context?: Record<string, string | string[]>
}

export interface RolePolicies {
  /** inline and attached managed policies */
  identity: PolicyDocument[]
  /** the permissions boundary's document, when the role has one */
  boundary?: PolicyDocument
}

/** Resource element matching: ARNs component by component; a bare '*' matches anything. */
export function resourceMatches (pattern: string, resource: string): boolean {
  if (pattern === '*') return true
  if (resource === '*') return false
  if (pattern.startsWith('arn:')) return arnMatch(pattern, resource)
  return wildcardMatch(pattern, resource)
}

function checkShape (st: Statement): void {
  if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw new Error(`statement ${st.Sid ?? '?'}: Effect ${String(st.Effect)}`)
  if (st.Principal !== undefined) throw new Error(`statement ${st.Sid ?? '?'}: an identity policy has no Principal`)
  if ((st.Action === undefined) === (st.NotAction === undefined)) throw new Error(`statement ${st.Sid ?? '?'}: exactly one of Action, NotAction`)
  if ((st.Resource === undefined) === (st.NotResource === undefined)) throw new Error(`statement ${st.Sid ?? '?'}: exactly one of Resource, NotResource`)
}

export function statementApplies (st: Statement, req: AuthzRequest): boolean {
  checkShape(st)
  const action = (patterns: string[]): boolean => patterns.some(p => wildcardMatch(p, req.action, true))
  const actionOk = st.Action !== undefined ? action(asList(st.Action)) : !action(asList(st.NotAction))
  if (!actionOk) return false
  const resource = (patterns: string[]): boolean => patterns.some(p => resourceMatches(p, req.resource))
  const resourceOk = st.Resource !== undefined ? resource(asList(st.Resource)) : !resource(asList(st.NotResource))
  if (!resourceOk) return false
  return Object.entries(st.Condition ?? {}).every(([ op, entries ]) => conditionMatches(op, entries, req.context ?? {}))
}

/** One set of policies of the same kind: explicit deny, allow, or implicit deny. */
export function evaluatePolicies (docs: PolicyDocument[], req: AuthzRequest): Decision {
  const statements = docs.flatMap(d => asList(d.Statement))
  if (statements.some(st => st.Effect === 'Deny' && statementApplies(st, req))) return 'explicit-deny'
  if (statements.some(st => st.Effect === 'Allow' && statementApplies(st, req))) return 'allow'
  return 'implicit-deny'
}

export interface AuthzResult {
  decision: Decision
  /** which policy set decided a denial */
  deniedBy?: 'identity' | 'boundary'
}

export function authorize (role: RolePolicies, req: AuthzRequest): AuthzResult {
  const identity = evaluatePolicies(role.identity, req)
  const boundary = role.boundary ? evaluatePolicies([ role.boundary ], req) : 'allow'
  if (identity === 'explicit-deny') return { decision: 'explicit-deny', deniedBy: 'identity' }
  if (boundary === 'explicit-deny') return { decision: 'explicit-deny', deniedBy: 'boundary' }
  if (identity !== 'allow') return { decision: 'implicit-deny', deniedBy: 'identity' }
  if (boundary !== 'allow') return { decision: 'implicit-deny', deniedBy: 'boundary' }
  return { decision: 'allow' }
}

export const isAllowed = (role: RolePolicies, req: AuthzRequest): boolean => authorize(role, req).decision === 'allow'
