/**
 * What a caller of the AWS stand-in may do, as IAM policies: a role CloudFormation created from a
 * template has its inline policies, attached managed policies and permissions boundary; a role or
 * developer key a test registered with action patterns (`permissions`) has one policy allowing
 * those actions on every resource.
 */
import type { RolePolicies } from './iam-authz.ts'
import type { PolicyDocument } from './iam-policy.ts'
import { accountOfArn, roleByArn, type AwsState, type IamAccount, type Role } from './state.ts'

/** One identity policy: these action patterns on any resource. */
export const patternsPolicy = (patterns: string[]): RolePolicies =>
  ({ identity: [ { Version: '2012-10-17', Statement: [ { Effect: 'Allow', Action: patterns, Resource: '*' } ] } ] })

function managed (account: IamAccount, arn: string): PolicyDocument {
  const doc = account.policies.get(arn)
  if (!doc) throw new Error(`IAM stand-in: role policy ${arn} does not exist in account ${account.id}`)
  return doc
}

/** A role's effective policies: identity policies and boundary. */
export function policiesOfRole (state: AwsState, role: Role): RolePolicies {
  if (!role.policies) return patternsPolicy(role.permissions)
  const account = state.accounts.get(accountOfArn(role.arn))!
  const { inline, attached, boundary } = role.policies
  return {
    identity: [ ...inline.values(), ...attached.map(arn => managed(account, arn)) ],
    ...(boundary ? { boundary: managed(account, boundary) } : {}),
  }
}

export type Caller = { kind: 'developer', permissions: string[], accountId: string, arn: string } | { kind: 'session', roleArn: string, arn: string }

/** The policies a caller's request is authorized against (a session: its role's, read at each call). */
export function callerPolicies (state: AwsState, caller: Caller): RolePolicies {
  if (caller.kind === 'developer') return patternsPolicy(caller.permissions)
  const role = roleByArn(state, caller.roleArn)
  return role ? policiesOfRole(state, role) : { identity: [] }
}
