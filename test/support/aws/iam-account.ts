/**
 * A small model of one AWS account's IAM roles, managed policies and Lambda functions, for
 * playing an attack step by step: each call is authorized the way IAM would (the caller's
 * identity policies and boundary, with the condition keys IAM sets for that API: the role's
 * current boundary for PutRolePolicy and friends, the requested one for CreateRole and
 * PutRolePermissionsBoundary, iam:PolicyARN for AttachRolePolicy, iam:PassedToService for
 * PassRole) and, when allowed, changes the account. Afterwards `policiesOf(role)` gives what
 * a role (or code running as it) can really do. A call IAM would refuse for its size (iam-quotas.ts)
 * throws IAM's error and changes nothing.
 */
import { authorize, type AuthzRequest, type AuthzResult, type RolePolicies } from './iam-authz.ts'
import { asList, type Decision, type PolicyDocument } from './iam-policy.ts'
import { checkInlinePolicies, checkManagedPolicy, checkTrustPolicy } from './iam-quotas.ts'

export interface Role {
  name: string
  trust: PolicyDocument
  inline: Map<string, PolicyDocument>
  attached: Set<string>
  boundary?: string
}

export type Call =
  | { api: 'CreateRole', role: string, trust: PolicyDocument, boundary?: string }
  | { api: 'PutRolePolicy', role: string, policyName: string, document: PolicyDocument }
  | { api: 'DeleteRolePolicy', role: string, policyName: string }
  | { api: 'AttachRolePolicy' | 'DetachRolePolicy', role: string, policyArn: string }
  | { api: 'PutRolePermissionsBoundary', role: string, boundary: string }
  | { api: 'DeleteRolePermissionsBoundary' | 'DeleteRole', role: string }
  | { api: 'UpdateAssumeRolePolicy', role: string, trust: PolicyDocument }
  | { api: 'CreatePolicyVersion', policyArn: string, document: PolicyDocument }
  | { api: 'SetDefaultPolicyVersion' | 'DeletePolicy' | 'DeletePolicyVersion', policyArn: string }
  /** role: the role's name */
  | { api: 'CreateFunction' | 'UpdateFunctionConfiguration', functionName: string, role: string }
  | { api: 'InvokeFunction', functionName: string }

export interface CallResult extends AuthzResult {
  /** the request that decided (the first one denied, else the last one) */
  request: AuthzRequest
}

const LAMBDA_APIS = new Set<Call['api']>([ 'CreateFunction', 'UpdateFunctionConfiguration', 'InvokeFunction' ])

export const ADMINISTRATOR_ACCESS: PolicyDocument = { Version: '2012-10-17', Statement: [ { Effect: 'Allow', Action: '*', Resource: '*' } ] }

export class Account {
  readonly roles = new Map<string, Role>()
  readonly policies = new Map<string, PolicyDocument>()
  /** function name → its role's name */
  readonly functions = new Map<string, { role: string }>()
  readonly id: string
  readonly partition: string
  readonly region: string

  constructor (id: string, partition = 'aws', region = 'us-west-2') {
    this.id = id
    this.partition = partition
    this.region = region
    this.policies.set(this.awsManagedPolicyArn('AdministratorAccess'), ADMINISTRATOR_ACCESS)
  }

  roleArn (name: string): string { return `arn:${this.partition}:iam::${this.id}:role/${name}` }
  functionArn (name: string): string { return `arn:${this.partition}:lambda:${this.region}:${this.id}:function:${name}` }
  awsManagedPolicyArn (name: string): string { return `arn:${this.partition}:iam::aws:policy/${name}` }

  addRole (name: string, inline: PolicyDocument[], boundary?: string): Role {
    const role: Role = { name, trust: { Statement: [] }, inline: new Map(inline.map((d, i) => [ `policy${i}`, d ])), attached: new Set(), ...(boundary ? { boundary } : {}) }
    this.roles.set(name, role)
    return role
  }

  /** What a role, or code running as it, may do: its identity policies and its boundary. */
  policiesOf (roleName: string): RolePolicies {
    const role = this.roles.get(roleName)
    if (!role) throw new Error(`no role ${roleName}`)
    const attached = [ ...role.attached ].map(arn => this.policy(arn))
    return { identity: [ ...role.inline.values(), ...attached ], ...(role.boundary ? { boundary: this.policy(role.boundary) } : {}) }
  }

  policiesOfFunction (functionName: string): RolePolicies {
    const fn = this.functions.get(functionName)
    if (!fn) throw new Error(`no function ${functionName}`)
    return this.policiesOf(fn.role)
  }

  private policy (arn: string): PolicyDocument {
    const doc = this.policies.get(arn)
    if (!doc) throw new Error(`no managed policy ${arn}`)
    return doc
  }

  private existingRole (name: string): Role {
    const role = this.roles.get(name)
    if (!role) throw new Error(`no role ${name}`)
    return role
  }

  private boundaryKey (boundary: string | undefined): Record<string, string> {
    return boundary ? { 'iam:PermissionsBoundary': boundary } : {}
  }

  /** The requests IAM authorizes for a call, in order. */
  requests (call: Call): AuthzRequest[] {
    const action = (api: Call['api']): string => `${LAMBDA_APIS.has(api) ? 'lambda' : 'iam'}:${api}`
    switch (call.api) {
      case 'CreateRole': return [
        { action: 'iam:CreateRole', resource: this.roleArn(call.role), context: this.boundaryKey(call.boundary) },
        ...call.boundary ? [ { action: 'iam:PutRolePermissionsBoundary', resource: this.roleArn(call.role), context: this.boundaryKey(call.boundary) } ] : [],
      ]
      case 'PutRolePermissionsBoundary': return [ { action: action(call.api), resource: this.roleArn(call.role), context: this.boundaryKey(call.boundary) } ]
      case 'AttachRolePolicy': case 'DetachRolePolicy': return [ {
        action: action(call.api),
        resource: this.roleArn(call.role),
        context: { ...this.boundaryKey(this.roles.get(call.role)?.boundary), 'iam:PolicyARN': call.policyArn },
      } ]
      case 'PutRolePolicy': case 'DeleteRolePolicy': case 'DeleteRolePermissionsBoundary': case 'DeleteRole': case 'UpdateAssumeRolePolicy':
        return [ {
          action: action(call.api),
          resource: this.roleArn(call.role),
          context: this.boundaryKey(this.roles.get(call.role)?.boundary),
        } ]
      case 'CreatePolicyVersion': case 'SetDefaultPolicyVersion': case 'DeletePolicy': case 'DeletePolicyVersion':
        return [ { action: action(call.api), resource: call.policyArn } ]
      case 'CreateFunction': case 'UpdateFunctionConfiguration': return [
        { action: action(call.api), resource: this.functionArn(call.functionName) },
        { action: 'iam:PassRole', resource: this.roleArn(call.role), context: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      ]
      case 'InvokeFunction': return [ { action: action(call.api), resource: this.functionArn(call.functionName) } ]
    }
  }

  /** Authorize a call made by `caller`; when every request is allowed, apply it to the account (or throw IAM's quota error). */
  call (caller: RolePolicies, call: Call): CallResult {
    let last: CallResult | undefined
    for (const request of this.requests(call)) {
      last = { ...authorize(caller, request), request }
      if (last.decision !== 'allow') return last
    }
    this.apply(call)
    return last as CallResult
  }

  /** What IAM refuses whoever asks: documents over their quota (iam-quotas.ts). */
  private checkQuotas (call: Call): void {
    switch (call.api) {
      case 'CreateRole': case 'UpdateAssumeRolePolicy': checkTrustPolicy(call.trust); break
      case 'CreatePolicyVersion': checkManagedPolicy(call.document); break
      case 'PutRolePolicy': {
        const inline = this.roles.get(call.role)?.inline ?? new Map<string, PolicyDocument>()
        const others = [ ...inline ].filter(([ name ]) => name !== call.policyName).map(([ , d ]) => d)
        checkInlinePolicies(call.role, [ ...others, call.document ])
        break
      }
      default: break
    }
  }

  private apply (call: Call): void {
    this.checkQuotas(call)
    switch (call.api) {
      case 'CreateRole': this.roles.set(call.role, { name: call.role, trust: call.trust, inline: new Map(), attached: new Set(), ...(call.boundary ? { boundary: call.boundary } : {}) }); break
      case 'PutRolePolicy': this.existingRole(call.role).inline.set(call.policyName, call.document); break
      case 'DeleteRolePolicy': this.existingRole(call.role).inline.delete(call.policyName); break
      case 'AttachRolePolicy': this.policy(call.policyArn); this.existingRole(call.role).attached.add(call.policyArn); break
      case 'DetachRolePolicy': this.existingRole(call.role).attached.delete(call.policyArn); break
      case 'PutRolePermissionsBoundary': this.policy(call.boundary); this.existingRole(call.role).boundary = call.boundary; break
      case 'DeleteRolePermissionsBoundary': delete this.existingRole(call.role).boundary; break
      case 'DeleteRole': this.roles.delete(call.role); break
      case 'UpdateAssumeRolePolicy': this.existingRole(call.role).trust = call.trust; break
      case 'CreatePolicyVersion': this.policy(call.policyArn); this.policies.set(call.policyArn, call.document); break
      case 'DeletePolicy': this.policies.delete(call.policyArn); break
      case 'SetDefaultPolicyVersion': case 'DeletePolicyVersion': case 'InvokeFunction': break
      case 'CreateFunction': case 'UpdateFunctionConfiguration': {
        const role = this.existingRole(call.role)
        const trustsLambda = asList(role.trust.Statement).some(st => st.Effect === 'Allow' && typeof st.Principal === 'object' && asList(st.Principal.Service).includes('lambda.amazonaws.com'))
        if (!trustsLambda) throw new Error(`Lambda cannot assume ${role.name}`)
        this.functions.set(call.functionName, { role: role.name })
        break
      }
    }
  }
}

export type { Decision }
