/**
 * What CloudFormation does with a template, in the stand-in: give each resource a physical id,
 * resolve the intrinsic functions, and act on each resource with the caller's permissions (the
 * requests of cfn-permissions.ts, first denied one fails the stack as CloudFormation reports it:
 * the resource CREATE_FAILED/UPDATE_FAILED with the handler's AccessDenied, the stack rolled back).
 * Two kinds of template: Architect's generated JSON (SAM functions and APIs expanded as the
 * transform does; S3 buckets and SSM parameters created for real, the rest as names), and an IAM
 * template with parameters such as the package's iam/gitlab-oidc.yaml (evaluated with
 * test/support/cfn-template.ts: parameters, conditions, rules; its OIDC provider, managed
 * policies and roles created in the caller's account of the IAM stand-in).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { Stack as TemplateStack, get, isObject, type Json, type JsonObject } from '../cfn-template.ts'
import { handlerRequests, type CfnResource, type Where } from './cfn-permissions.ts'
import { authorize, type AuthzRequest, type RolePolicies } from './iam-authz.ts'
import type { PolicyDocument } from './iam-policy.ts'
import { checkInlinePolicies, checkManagedPolicy, checkTrustPolicy, type PolicyText } from './iam-quotas.ts'
import { providerUrlOf } from './oidc.ts'
import { AwsError, denialReason } from './protocol.ts'
import { createBucket } from './s3.ts'
import { iamAccount, iamId, parametersOf, roleByArn, type AwsState, type IamAccount, type Stack, type StackResource } from './state.ts'

export interface Caller { arn: string, account: string, policies: RolePolicies }

const rand = (n: number): string => randomBytes(n).toString('hex').toUpperCase().slice(0, n)

/**
 * The longest name each service takes, for the names CloudFormation generates: Lambda function
 * names 64 characters (Lambda API reference, CreateFunction, FunctionName), IAM role names 64 (IAM
 * quotas), S3 bucket names 63 (S3 bucket naming rules).
 */
const NAME_MAX: Record<string, number> = { 'AWS::Lambda::Function': 64, 'AWS::Serverless::Function': 64, 'AWS::IAM::Role': 64, 'AWS::S3::Bucket': 63 }

/**
 * `<stack>-<logical>-<random>`, shortened as CloudFormation shortens a generated name past the
 * service's limit: the random suffix is kept, the stack and logical-ID parts are cut (AWS does not
 * document how; observed: `…-serverlessdeploymentbuck-1aljxweu3wjjd`, serverless/serverless#2791).
 * The stand-in cuts each part to half the room left (the other part's unused room added), so a
 * stack name longer than about 24 characters loses its end, and with it the `<stack>-` prefix the
 * deploy roles' patterns require: never kinder than AWS, whose exact cut is unknown.
 */
export function generatedName (stackName: string, logicalId: string, random: string, max: number): string {
  const full = `${stackName}-${logicalId}-${random}`
  if (full.length <= max) return full
  const room = max - random.length - 2
  const half = Math.floor(room / 2)
  const stackPart = Math.min(stackName.length, Math.max(half, room - logicalId.length))
  return `${stackName.slice(0, stackPart)}-${logicalId.slice(0, room - stackPart)}-${random}`
}

/** Physical ids the way CloudFormation names things: <stack>-<logical>-<random>. */
function physicalId (stackName: string, logicalId: string, type: string, region: string, accountId: string): string {
  const generic = `${stackName}-${logicalId}-${rand(12)}`
  switch (type) {
    case 'AWS::S3::Bucket': return generatedName(stackName, logicalId, rand(13), NAME_MAX[type]!).toLowerCase()
    case 'AWS::IAM::Role':
    case 'AWS::Lambda::Function':
    case 'AWS::Serverless::Function': return generatedName(stackName, logicalId, rand(12), NAME_MAX[type]!)
    case 'AWS::Serverless::HttpApi':
    case 'AWS::ApiGatewayV2::Api': return randomBytes(5).toString('hex').slice(0, 10)
    case 'AWS::SNS::Topic': return `arn:aws:sns:${region}:${accountId}:${generic}`
    case 'AWS::SQS::Queue': return `https://sqs.${region}.amazonaws.com/${accountId}/${generic}`
    default: return generic
  }
}

/** SAM resource types as CloudFormation reports them after the transform. */
const DEPLOYED_TYPE: Record<string, string> = {
  'AWS::Serverless::Function': 'AWS::Lambda::Function',
  'AWS::Serverless::HttpApi': 'AWS::ApiGatewayV2::Api',
  'AWS::Serverless::Api': 'AWS::ApiGateway::RestApi',
}

function arnOf (type: string, physical: string, region: string, accountId: string): string {
  switch (type) {
    case 'AWS::Serverless::Function':
    case 'AWS::Lambda::Function': return `arn:aws:lambda:${region}:${accountId}:function:${physical}`
    case 'AWS::IAM::Role': return `arn:aws:iam::${accountId}:role/${physical}`
    case 'AWS::S3::Bucket': return `arn:aws:s3:::${physical}`
    case 'AWS::SNS::Topic': return physical
    case 'AWS::SQS::Queue': return `arn:aws:sqs:${region}:${accountId}:${physical.split('/').pop()}`
    case 'AWS::DynamoDB::Table': return `arn:aws:dynamodb:${region}:${accountId}:table/${physical}`
    default: return `arn:aws:cloudformation:${region}:${accountId}:resource/${physical}`
  }
}

type Template = JsonObject & {
  Resources?: Record<string, { Type: string, Properties?: Record<string, unknown>, Condition?: string }>
  Outputs?: Record<string, { Value: unknown, Description?: string }>
}

/** Resolve the intrinsic functions Architect's templates use (Ref, Fn::Sub, Fn::GetAtt, Fn::Join). */
function resolver (
  stack: { StackName: string, StackId: string, region: string }, accountId: string, template: Template, physical: Map<string, string>,
) {
  const pseudo: Record<string, string> = {
    'AWS::StackName': stack.StackName,
    'AWS::StackId': stack.StackId,
    'AWS::Region': stack.region,
    'AWS::AccountId': accountId,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::Partition': 'aws',
  }
  const getAtt = (logical: string, attr: string): string => {
    const type = template.Resources?.[logical]?.Type ?? ''
    const id = physical.get(logical) ?? logical
    if (attr === 'Arn') return arnOf(type, id, stack.region, accountId)
    if (attr === 'WebsiteURL') return `http://${id}.s3-website-${stack.region}.amazonaws.com`
    if (attr === 'DomainName') return `${id}.s3.amazonaws.com`
    if (attr === 'ApiEndpoint') return `https://${id}.execute-api.${stack.region}.amazonaws.com`
    return `${id}.${attr}`
  }
  const ref = (name: string): string => pseudo[name] ?? physical.get(name) ?? name
  const resolve = (v: unknown, vars: Record<string, string> = {}): unknown => {
    if (Array.isArray(v)) return v.map(i => resolve(i, vars))
    if (!v || typeof v !== 'object') return v
    const o = v as Record<string, unknown>
    if ('Ref' in o) return ref(String(o.Ref))
    if ('Fn::GetAtt' in o) {
      const a = o['Fn::GetAtt']
      const [ logical, attr ] = Array.isArray(a) ? a.map(String) : String(a).split('.')
      return getAtt(logical!, attr!)
    }
    if ('Fn::Join' in o) {
      const [ sep, list ] = o['Fn::Join'] as [string, unknown[]]
      return (resolve(list, vars) as unknown[]).join(sep)
    }
    if ('Fn::Sub' in o) {
      const spec = o['Fn::Sub']
      const [ str, extra ] = Array.isArray(spec) ? spec as [string, Record<string, unknown>] : [ String(spec), {} ]
      const local: Record<string, string> = { ...vars }
      for (const [ k, val ] of Object.entries(extra ?? {})) local[k] = String(resolve(val, vars))
      return str.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        if (name in local) return local[name]!
        if (name.includes('.') && !name.startsWith('AWS::')) {
          const [ l, attr ] = name.split('.')
          return getAtt(l!, attr!)
        }
        return ref(name)
      })
    }
    return Object.fromEntries(Object.entries(o).map(([ k, val ]) => [ k, resolve(val, vars) ]))
  }
  return resolve
}

/* ------------------------------------------------------------------------ */
/* SAM, expanded as the transform does for what Architect uses               */
/* ------------------------------------------------------------------------ */

const s3Location = (uri: unknown): { S3Bucket?: string, S3Key?: string } => {
  if (typeof uri === 'string') {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)
    return m ? { S3Bucket: m[1]!, S3Key: m[2]! } : {}
  }
  return isObject(uri as Json) ? { S3Bucket: String((uri as JsonObject).Bucket ?? ''), S3Key: String((uri as JsonObject).Key ?? '') } : {}
}

/** A SAM function's events as the resources the transform generates (SAM specification, Events). */
function functionEvents (r: CfnResource, fnArn: string): CfnResource[] {
  const events = (r.properties.Events ?? {}) as Record<string, { Type: string, Properties?: Record<string, unknown> }>
  const out: CfnResource[] = []
  const permission = (name: string, principal: string): CfnResource =>
    ({ logicalId: `${r.logicalId}${name}Permission`, type: 'AWS::Lambda::Permission', physicalId: `${r.physicalId}-${name}`, properties: { FunctionName: r.physicalId, Principal: principal } })
  for (const [ name, ev ] of Object.entries(events)) {
    const p = ev.Properties ?? {}
    if (ev.Type === 'SNS') {
      out.push(permission(name, 'sns.amazonaws.com'), { logicalId: `${r.logicalId}${name}`, type: 'AWS::SNS::Subscription', physicalId: `${String(p.Topic)}:${randomUUID()}`, properties: { TopicArn: p.Topic, Protocol: 'lambda', Endpoint: fnArn } })
    }
    else if (ev.Type === 'SQS' || ev.Type === 'DynamoDB' || ev.Type === 'Kinesis') {
      out.push({ logicalId: `${r.logicalId}${name}`, type: 'AWS::Lambda::EventSourceMapping', physicalId: randomUUID(), properties: { FunctionName: r.physicalId, EventSourceArn: p.Queue ?? p.Stream } })
    }
    else if (ev.Type === 'HttpApi' || ev.Type === 'Api') out.push(permission(name, 'apigateway.amazonaws.com'))
    else if (ev.Type === 'Schedule' || ev.Type === 'CloudWatchEvent' || ev.Type === 'EventBridgeRule') {
      out.push({ logicalId: `${r.logicalId}${name}`, type: 'AWS::Events::Rule', physicalId: `${r.physicalId.slice(0, 40)}-${name}`.slice(0, 64), properties: {} }, permission(name, 'events.amazonaws.com'))
    }
    else throw new Error(`The CloudFormation stand-in does not expand SAM event type ${ev.Type} (${r.logicalId}.${name})`)
  }
  return out
}

/** The resources CloudFormation creates for one template resource (SAM ones expanded). */
function expand (r: CfnResource, w: Where): CfnResource[] {
  if (r.type === 'AWS::Serverless::Function') {
    const fnArn = arnOf(r.type, r.physicalId, w.region, w.account)
    const { Role, CodeUri, Tags } = r.properties
    const fn: CfnResource = {
      logicalId: r.logicalId, type: 'AWS::Lambda::Function', physicalId: r.physicalId,
      // SAM tags every function it creates with lambda:createdBy=SAM
      properties: { Role, Code: s3Location(CodeUri), Tags: { ...(Tags as object | undefined), 'lambda:createdBy': 'SAM' } },
    }
    return [ fn, ...functionEvents(r, fnArn) ]
  }
  if (r.type === 'AWS::Serverless::HttpApi') {
    return [ { ...r, type: 'AWS::ApiGatewayV2::Api' },
      { logicalId: `${r.logicalId}ApiGatewayDefaultStage`, type: 'AWS::ApiGatewayV2::Stage', physicalId: '$default', properties: { ApiId: r.physicalId, StageName: '$default' } } ]
  }
  return [ r ]
}

/* ------------------------------------------------------------------------ */
/* Acting with the caller's permissions                                      */
/* ------------------------------------------------------------------------ */

/** Why a resource failed: a request the caller may not make (`request`), or IAM's quota error. */
export interface Denial { resource: CfnResource, request?: AuthzRequest, reason: string }

/** Authorize a request CloudFormation makes with the caller's permissions, and log it. */
export function authorizeAsCaller (state: AwsState, caller: Caller, request: AuthzRequest): ReturnType<typeof authorize> {
  const result = authorize(caller.policies, request)
  state.authz.push({ by: 'cloudformation', principal: caller.arn, action: request.action, resource: request.resource, decision: result.decision })
  return result
}

/** The first request the caller may not make, worded as a resource handler reports it. */
function firstDenied (state: AwsState, caller: Caller, r: CfnResource, requests: AuthzRequest[]): Denial | undefined {
  for (const request of requests) {
    const result = authorizeAsCaller(state, caller, request)
    if (result.decision === 'allow') continue
    const service = request.action.split(':')[0]!
    const reason = `Resource handler returned message: "User: ${caller.arn} is not authorized to perform: ${request.action} on resource: ${request.resource} ` +
      `${denialReason(result, request.action)} (Service: ${service}, Status Code: 403, Request ID: ${randomUUID()})" (HandlerErrorCode: AccessDenied)`
    return { resource: r, request, reason }
  }
  return undefined
}

/** Where the stack acts; a role's boundary is the one the template gives it (roles the template creates), else IAM's. */
function whereOf (state: AwsState, stack: Stack, pending: CfnResource[] = []): Where {
  const templateBoundary = new Map(pending.filter(r => r.type === 'AWS::IAM::Role').map(r => [ r.physicalId, r.properties.PermissionsBoundary as string | undefined ]))
  return {
    partition: 'aws', region: stack.region, account: stack.accountId,
    boundaryOf: name => templateBoundary.has(name) ? templateBoundary.get(name) : roleByArn(state, `arn:aws:iam::${stack.accountId}:role/${name}`)?.policies?.boundary,
  }
}

interface InlinePolicy { PolicyName: string, PolicyDocument: PolicyDocument }

/**
 * IAM's size quotas on what a stack creates (iam-quotas.ts): a managed policy, a role's trust
 * policy, a role's inline policies together (its own `Policies` and every AWS::IAM::Policy naming
 * it). IAM answers the resource handler LimitExceeded; CloudFormation fails the resource with it
 * (HandlerErrorCode ServiceLimitExceeded: CloudFormation CLI, "Handler error codes") and rolls back.
 */
function quotaFailure (resources: CfnResource[]): Denial | undefined {
  const inline = new Map<string, PolicyText[]>()
  for (const r of resources) {
    if (r.type === 'AWS::IAM::Role') inline.set(r.physicalId, ((r.properties.Policies ?? []) as InlinePolicy[]).map(x => x.PolicyDocument))
  }
  for (const r of resources.filter(x => x.type === 'AWS::IAM::Policy')) {
    for (const name of (r.properties.Roles ?? []) as string[]) inline.get(name)?.push(r.properties.PolicyDocument as PolicyText)
  }
  for (const r of resources) {
    try {
      if (r.type === 'AWS::IAM::ManagedPolicy') checkManagedPolicy(r.properties.PolicyDocument as PolicyText)
      if (r.type === 'AWS::IAM::Role') {
        checkTrustPolicy(r.properties.AssumeRolePolicyDocument as PolicyText)
        checkInlinePolicies(r.physicalId, inline.get(r.physicalId) ?? [])
      }
    }
    catch (err) {
      if (!(err instanceof AwsError)) throw err
      const reason = `Resource handler returned message: "${err.message} (Service: Iam, Status Code: ${err.status}, Request ID: ${randomUUID()})" (HandlerErrorCode: ServiceLimitExceeded)`
      return { resource: r, reason }
    }
  }
  return undefined
}

/** The roles an Architect stack creates, put into the IAM stand-in (trust, inline policies, boundary) so what they may do can be asked. */
function applyRoles (state: AwsState, stack: Stack, current: CfnResource[], before: StackResource[]): void {
  const account = iamAccount(state, stack.accountId)
  for (const old of before) if (old.ResourceType === 'AWS::IAM::Role') account.roles.delete(`arn:aws:iam::${account.id}:role/${old.PhysicalResourceId}`)
  for (const r of current.filter(c => c.type === 'AWS::IAM::Role')) {
    const arn = `arn:aws:iam::${account.id}:role/${r.physicalId}`
    const p = r.properties
    account.roles.set(arn, {
      arn, name: r.physicalId, roleId: iamId('AROA', 17), trustPolicy: p.AssumeRolePolicyDocument as PolicyDocument, maxSessionDuration: 3600, permissions: [],
      policies: {
        inline: new Map(((p.Policies ?? []) as InlinePolicy[]).map(x => [ x.PolicyName, x.PolicyDocument ])),
        attached: (p.ManagedPolicyArns ?? []) as string[],
        ...(p.PermissionsBoundary ? { boundary: String(p.PermissionsBoundary) } : {}),
      },
    })
  }
  for (const r of current.filter(c => c.type === 'AWS::IAM::Policy')) {
    for (const name of (r.properties.Roles ?? []) as string[]) {
      account.roles.get(`arn:aws:iam::${account.id}:role/${name}`)?.policies?.inline.set(String(r.properties.PolicyName), r.properties.PolicyDocument as PolicyDocument)
    }
  }
}

function event (stack: Stack, logical: string, physical: string, type: string, status: string, reason?: string): void {
  stack.events.unshift({
    EventId: randomUUID(), LogicalResourceId: logical, PhysicalResourceId: physical, ResourceType: type,
    ResourceStatus: status, ...(reason ? { ResourceStatusReason: reason } : {}), Timestamp: Date.now(),
  })
}

/** Record a failed create/update: the resource failed with the handler's message, the stack rolled back. */
function failStack (stack: Stack, denial: Denial, update: boolean): void {
  const r = denial.resource
  event(stack, r.logicalId, r.physicalId, r.type, update ? 'UPDATE_FAILED' : 'CREATE_FAILED', denial.reason)
  const rollback = update ? 'UPDATE_ROLLBACK_COMPLETE' : 'ROLLBACK_COMPLETE'
  const why = `The following resource(s) failed to ${update ? 'update' : 'create'}: [${r.logicalId}]. ${update ? '' : 'Rollback requested by user.'}`.trim()
  event(stack, stack.StackName, stack.StackId, 'AWS::CloudFormation::Stack', update ? 'UPDATE_ROLLBACK_IN_PROGRESS' : 'ROLLBACK_IN_PROGRESS', why)
  event(stack, stack.StackName, stack.StackId, 'AWS::CloudFormation::Stack', rollback)
  stack.StackStatus = rollback
  stack.StackStatusReason = why
}

/** Authorize every resource's requests, in template order (creates and updates, then deletes). */
function authorizeResources (
  state: AwsState, stack: Stack, caller: Caller, current: CfnResource[], previous: Map<string, string>,
): Denial | undefined {
  const w = whereOf(state, stack, current)
  const now = new Set(current.map(r => r.logicalId))
  for (const r of current) {
    const before = previous.get(r.logicalId)
    if (before !== undefined && before === JSON.stringify(r.properties)) continue
    const denial = firstDenied(state, caller, r, handlerRequests(r, before === undefined ? 'create' : 'update', w))
    if (denial) return denial
  }
  for (const old of stack.Resources) {
    if (now.has(old.LogicalResourceId) || !old.expanded) continue
    for (const r of old.expanded) {
      const denial = firstDenied(state, caller, r, handlerRequests(r, 'delete', w))
      if (denial) return denial
    }
  }
  return undefined
}

/* ------------------------------------------------------------------------ */
/* The two kinds of template                                                 */
/* ------------------------------------------------------------------------ */

/** An IAM template with parameters (the package's): evaluated by test/support/cfn-template.ts. */
export const isParameterizedIamTemplate = (tpl: JsonObject): boolean => isObject(tpl.Parameters ?? null) &&
  Object.values((tpl.Resources ?? {}) as JsonObject).some(r => String(get(r, 'Type')).startsWith('AWS::IAM::'))

/** The evaluated template, or CloudFormation's ValidationError for parameters or rules it refuses. */
export function evaluateIamTemplate (tpl: JsonObject, stack: Pick<Stack, 'StackName' | 'region' | 'accountId'>, params: Record<string, string>): TemplateStack {
  try {
    return new TemplateStack({ params, account: stack.accountId, partition: 'aws', region: stack.region, stackName: stack.StackName }, tpl)
  }
  catch (err) {
    throw new AwsError('ValidationError', (err as Error).message, 400)
  }
}

function outputsOf (entries: Array<[string, string, string | undefined]>): Stack['Outputs'] {
  return entries.map(([ OutputKey, OutputValue, Description ]) => ({ OutputKey, OutputValue, ...(Description ? { Description } : {}) }))
}

/** Put an IAM template's provider, policies and roles into the account (replacing what the stack had). */
function applyIam (account: IamAccount, ev: TemplateStack, ids: string[], stack: Stack): StackResource[] {
  for (const old of stack.Resources) {
    if (old.ResourceType === 'AWS::IAM::Role') account.roles.delete(`arn:aws:iam::${account.id}:role/${old.PhysicalResourceId}`)
    if (old.ResourceType === 'AWS::IAM::ManagedPolicy') account.policies.delete(old.PhysicalResourceId)
    if (old.ResourceType === 'AWS::IAM::OIDCProvider') account.providers.delete(old.PhysicalResourceId.split(':oidc-provider/')[1] ?? '')
  }
  const out: StackResource[] = []
  for (const id of ids) {
    const res = ev.resource(id)
    const type = String(res.Type)
    const p = (res.Properties ?? {}) as JsonObject
    let physical: string
    if (type === 'AWS::IAM::OIDCProvider') {
      physical = ev.ref(id)
      const url = providerUrlOf(String(p.Url))
      account.providers.set(url, { arn: physical, url, clientIds: (p.ClientIdList ?? []) as string[] })
    }
    else if (type === 'AWS::IAM::ManagedPolicy') {
      physical = ev.ref(id)
      account.policies.set(physical, p.PolicyDocument as unknown as PolicyDocument)
    }
    else if (type === 'AWS::IAM::Role') {
      physical = String(p.RoleName)
      const trust = typeof p.AssumeRolePolicyDocument === 'string' ? JSON.parse(p.AssumeRolePolicyDocument) : p.AssumeRolePolicyDocument
      const arn = `arn:aws:iam::${account.id}:role/${physical}`
      account.roles.set(arn, {
        arn, name: physical, roleId: iamId('AROA', 17), trustPolicy: trust, maxSessionDuration: Number(p.MaxSessionDuration ?? 3600), permissions: [],
        policies: {
          inline: new Map(((p.Policies ?? []) as unknown as InlinePolicy[]).map(pol => [ pol.PolicyName, pol.PolicyDocument ])),
          attached: (p.ManagedPolicyArns ?? []) as string[],
          ...(p.PermissionsBoundary ? { boundary: String(p.PermissionsBoundary) } : {}),
        },
      })
    }
    else throw new AwsError('ValidationError', `Template format error: the stand-in does not create ${type} in an IAM template`, 400)
    out.push({ LogicalResourceId: id, PhysicalResourceId: physical, ResourceType: type, ResourceStatus: 'CREATE_COMPLETE', Timestamp: Date.now(), properties: JSON.stringify(p) })
  }
  return out
}

function provisionIamTemplate (
  state: AwsState, stack: Stack, tpl: JsonObject, params: Record<string, string>, caller: Caller,
): Denial | undefined {
  const ev = evaluateIamTemplate(tpl, stack, params)
  const ids = Object.keys((tpl.Resources ?? {}) as JsonObject).filter(id => ev.resourceExists(id))
  const w = whereOf(state, stack)
  const previous = new Map(stack.Resources.map(r => [ r.LogicalResourceId, r.properties ?? '' ]))
  const resources: CfnResource[] = ids.map(id => {
    const res = ev.resource(id)
    const properties = (res.Properties ?? {}) as Record<string, unknown>
    const type = String(res.Type)
    return { logicalId: id, type, physicalId: type === 'AWS::IAM::Role' ? String(properties.RoleName) : ev.ref(id), properties }
  })
  for (const r of resources) {
    if (previous.get(r.logicalId) === JSON.stringify(r.properties)) continue
    const denial = firstDenied(state, caller, r, handlerRequests(r, previous.has(r.logicalId) ? 'update' : 'create', w))
    if (denial) return denial
  }
  const overQuota = quotaFailure(resources)
  if (overQuota) return overQuota
  stack.Resources = applyIam(iamAccount(state, stack.accountId), ev, ids, stack)
  stack.Outputs = outputsOf(Object.entries(ev.outputs()).map(([ k, v ]) => [ k, v, undefined ]))
  return undefined
}

function provisionArchitect (state: AwsState, stack: Stack, template: Template, caller: Caller): Denial | undefined {
  const now = Date.now()
  const previousIds = new Map(stack.Resources.map(r => [ r.LogicalResourceId, r.PhysicalResourceId ]))
  const physical = new Map<string, string>()
  for (const [ logical, res ] of Object.entries(template.Resources ?? {})) {
    physical.set(logical, previousIds.get(logical) ?? physicalId(stack.StackName, logical, res.Type, stack.region, stack.accountId))
  }
  const resolve = resolver(stack, stack.accountId, template as never, physical)
  const w = whereOf(state, stack)
  const resolved = Object.entries(template.Resources ?? {}).map(([ logical, res ]) => {
    const props = resolve(res.Properties ?? {}) as Record<string, unknown>
    if (res.Type === 'AWS::SSM::Parameter') physical.set(logical, String(props.Name ?? physical.get(logical)))
    const own: CfnResource = { logicalId: logical, type: res.Type, physicalId: physical.get(logical)!, properties: props }
    return { logical, type: res.Type, props, expanded: expand(own, w) }
  })
  const before = stack.Resources.flatMap(r => r.expanded ?? [])
  const previousProps = new Map(before.map(e => [ e.logicalId, JSON.stringify(e.properties) ] as const))
  const expanded = resolved.flatMap(r => r.expanded)
  const denial = authorizeResources(state, stack, caller, expanded, previousProps) ?? quotaFailure(expanded)
  if (denial) return denial
  applyRoles(state, stack, resolved.flatMap(r => r.expanded), stack.Resources)
  const resources: StackResource[] = []
  for (const { logical, type, props, expanded } of resolved) {
    const id = physical.get(logical)!
    if (type === 'AWS::S3::Bucket') createBucket(state.buckets, id, stack.region, stack.accountId)
    if (type === 'AWS::SSM::Parameter') {
      const old = parametersOf(state, stack.accountId).get(id)
      parametersOf(state, stack.accountId).set(id, { Name: id, Type: String(props.Type ?? 'String'), Value: String(props.Value ?? ''), Version: (old?.Version ?? 0) + 1, LastModifiedDate: now, DataType: 'text' })
    }
    resources.push({
      LogicalResourceId: logical, PhysicalResourceId: id, ResourceType: DEPLOYED_TYPE[type] ?? type,
      ResourceStatus: stack.StackStatus.startsWith('UPDATE') ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE', Timestamp: now, expanded,
    })
  }
  // Resources dropped from the template are deleted (parameters and empty buckets for real)
  for (const old of stack.Resources) {
    if (physical.has(old.LogicalResourceId)) continue
    if (old.ResourceType === 'AWS::SSM::Parameter') parametersOf(state, stack.accountId).delete(old.PhysicalResourceId)
    if (old.ResourceType === 'AWS::S3::Bucket' && !state.buckets.get(old.PhysicalResourceId)?.objects.size) state.buckets.delete(old.PhysicalResourceId)
  }
  stack.Resources = resources
  stack.Description = template.Description as string | undefined
  stack.Outputs = Object.entries(template.Outputs ?? {}).map(([ OutputKey, o ]) => ({
    OutputKey, OutputValue: String(resolve(o.Value)), ...(o.Description ? { Description: o.Description } : {}),
  }))
  return undefined
}

/**
 * Apply a template to a stack as the caller. On success the stack holds the new resources and
 * outputs (its status left *_IN_PROGRESS for DescribeStacks to complete); when a request is
 * denied nothing changes but the stack's status and events (rolled back), and the denial is returned.
 */
export function provision (
  state: AwsState, stack: Stack, tpl: JsonObject, templateBody: string, params: Record<string, string>, caller: Caller,
): Denial | undefined {
  const update = stack.StackStatus.startsWith('UPDATE')
  const denial = isParameterizedIamTemplate(tpl)
    ? provisionIamTemplate(state, stack, tpl, params, caller)
    : provisionArchitect(state, stack, tpl as Template, caller)
  if (denial) {
    failStack(stack, denial, update)
    if (!update) stack.Resources = []
    return denial
  }
  stack.templateBody = templateBody
  for (const r of stack.Resources) event(stack, r.LogicalResourceId, r.PhysicalResourceId, r.ResourceType, update ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE')
  return undefined
}
