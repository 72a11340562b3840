// CloudFormation (AWS Query): stacks of each account, created from a template body or from the
// template deploy uploaded to S3, directly (CreateStack/UpdateStack, as Architect does) or through
// a change set (CreateChangeSet/DescribeChangeSet/ExecuteChangeSet, as `aws cloudformation deploy`
// does). Applying a template (cfn-provision.ts) acts with the caller's permissions, so a stack
// fails and rolls back when the caller may not create one of its resources.
import { randomUUID } from 'node:crypto'
import { get, parseTemplate, type JsonObject } from '../cfn-template.ts'
import { authorizeAsCaller, provision, evaluateIamTemplate, isParameterizedIamTemplate, type Caller } from './cfn-provision.ts'
import { AwsError, accessDenied, denialReason, notImplemented, queryResult, t, x } from './protocol.ts'
import { isoSeconds, queryParams, type Service, type ServiceRequest } from './service.ts'
import { findStack as findAccountStack, parametersOf, stackKey, type ChangeSet, type Stack } from './state.ts'

const CFN_XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/'

const noStack = (name: string): AwsError => new AwsError('ValidationError', `Stack with id ${name} does not exist`, 400)

const accountOf = (req: ServiceRequest): string => req.caller?.account ?? req.state.accountId
const findStack = (req: ServiceRequest, nameOrId: string): Stack | undefined => findAccountStack(req.state, accountOf(req), nameOrId)

/** Members of an AWS Query list parameter: Name.member.1, Name.member.2 … */
function members (p: URLSearchParams, name: string): string[] {
  const out: string[] = []
  for (let i = 1; p.has(`${name}.member.${i}`); i++) out.push(p.get(`${name}.member.${i}`)!)
  return out
}

function tags (p: URLSearchParams): Array<{ Key: string, Value: string }> {
  const out: Array<{ Key: string, Value: string }> = []
  for (let i = 1; p.has(`Tags.member.${i}.Key`); i++) out.push({ Key: p.get(`Tags.member.${i}.Key`)!, Value: p.get(`Tags.member.${i}.Value`) ?? '' })
  return out
}

/**
 * CloudFormation's template size quotas (AWS, "CloudFormation quotas", cloudformation-limits.html):
 * a template in the request (TemplateBody) at most 51,200 bytes, a template in an S3 object
 * (TemplateURL) at most 1 MB (taken here as 1,000,000 bytes: never kinder than AWS).
 */
export const TEMPLATE_BODY_MAX_BYTES = 51200
export const TEMPLATE_URL_MAX_BYTES = 1_000_000

/** TemplateBody over the quota: refused by the API's input validation, in its words (the value is the template). */
export function checkTemplateBody (body: string): void {
  if (Buffer.byteLength(body, 'utf8') <= TEMPLATE_BODY_MAX_BYTES) return
  throw new AwsError('ValidationError', `1 validation error detected: Value '${body}' at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to ${TEMPLATE_BODY_MAX_BYTES}`, 400)
}

/** The bucket and key a TemplateURL (https://<bucket>.s3.<region>.amazonaws.com/<key>, or path style) names. */
function templateLocation (url: string): { bucket: string, key: string } {
  try {
    const u = new URL(url)
    const virtual = /^(.+)\.s3[.-]/.exec(u.hostname)
    const path = decodeURIComponent(u.pathname.slice(1))
    if (virtual) return { bucket: virtual[1]!, key: path }
    return { bucket: path.split('/')[0] ?? '', key: path.split('/').slice(1).join('/') }
  }
  catch {
    throw new AwsError('ValidationError', 'TemplateURL must be a supported URL.', 400)
  }
}

/**
 * The template's text. CloudFormation reads a TemplateURL with the caller's permissions
 * (s3:GetObject on the object: "the user must have permission to read the template", AWS
 * CloudFormation User Guide, "Control access with IAM").
 */
function loadTemplate (req: ServiceRequest, p: URLSearchParams): string {
  const body = p.get('TemplateBody')
  if (body !== null) checkTemplateBody(body)
  if (body) return body
  const url = p.get('TemplateURL')
  if (!url) throw new AwsError('ValidationError', 'Either Template URL or Template Body must be specified.', 400)
  const { bucket, key } = templateLocation(url)
  const denied = new AwsError('ValidationError', 'S3 error: Access Denied\nFor more information check http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html', 400)
  const found = req.state.buckets.get(bucket)
  if (req.caller) {
    const request = { action: 's3:GetObject', resource: `arn:aws:s3:::${bucket}/${key}`, ...(found?.owner ? { context: { 's3:ResourceAccount': found.owner } } : {}) }
    if (authorizeAsCaller(req.state, callerOf(req), request).decision !== 'allow') throw denied
  }
  const object = found?.objects.get(key)
  if (!object) throw denied
  if (object.body.length > TEMPLATE_URL_MAX_BYTES) throw new AwsError('ValidationError', `Template may not exceed ${TEMPLATE_URL_MAX_BYTES} bytes in size.`, 400)
  return object.body.toString('utf8')
}

function parse (body: string): JsonObject {
  try {
    return parseTemplate(body)
  }
  catch {
    throw new AwsError('ValidationError', 'Template format error: YAML not well-formed.', 400)
  }
}

/**
 * Capabilities a template needs (CreateStack API reference, Capabilities): IAM resources need
 * CAPABILITY_IAM, named ones (RoleName, ManagedPolicyName...) CAPABILITY_NAMED_IAM; a macro such
 * as AWS::Serverless needs CAPABILITY_AUTO_EXPAND. Using a transform also needs
 * cloudformation:CreateChangeSet on the transform (User Guide, "Template macros" / "Control access").
 */
function checkTemplate (req: ServiceRequest, tpl: JsonObject, capabilities: string[]): void {
  const resources = Object.values((tpl.Resources ?? {}) as Record<string, { Type?: string, Properties?: Record<string, unknown> }>)
  const iam = resources.filter(r => String(r.Type).startsWith('AWS::IAM::'))
  const named = iam.some(r => [ 'RoleName', 'ManagedPolicyName', 'UserName', 'GroupName' ].some(k => r.Properties?.[k] !== undefined))
  if (named && !capabilities.includes('CAPABILITY_NAMED_IAM')) throw new AwsError('InsufficientCapabilitiesException', 'Requires capabilities : [CAPABILITY_NAMED_IAM]', 400)
  if (iam.length && !capabilities.some(c => c === 'CAPABILITY_IAM' || c === 'CAPABILITY_NAMED_IAM')) {
    throw new AwsError('InsufficientCapabilitiesException', 'Requires capabilities : [CAPABILITY_IAM]', 400)
  }
  const transform = typeof tpl.Transform === 'string' ? tpl.Transform : undefined
  if (transform?.startsWith('AWS::Serverless')) {
    if (!capabilities.includes('CAPABILITY_AUTO_EXPAND')) throw new AwsError('InsufficientCapabilitiesException', 'Requires capabilities : [CAPABILITY_AUTO_EXPAND]', 400)
    const resource = `arn:aws:cloudformation:${req.region}:aws:transform/${transform.replace(/^AWS::/, '')}`
    const caller = req.caller
    if (caller) {
      const result = authorizeAsCaller(req.state, callerOf(req), { action: 'cloudformation:CreateChangeSet', resource })
      if (result.decision !== 'allow') throw accessDenied('query', caller.arn, 'cloudformation:CreateChangeSet', resource, denialReason(result, 'cloudformation:CreateChangeSet'))
    }
  }
}

function stackXml (s: Stack): string {
  return x('member',
    t('StackName', s.StackName),
    t('StackId', s.StackId),
    t('Description', s.Description),
    x('Parameters', ...s.Parameters.map(p => x('member', t('ParameterKey', p.ParameterKey), t('ParameterValue', p.ParameterValue)))),
    t('CreationTime', isoSeconds(s.CreationTime)),
    t('LastUpdatedTime', s.LastUpdatedTime ? isoSeconds(s.LastUpdatedTime) : undefined),
    t('StackStatus', s.StackStatus),
    t('StackStatusReason', s.StackStatusReason),
    t('DisableRollback', false),
    x('Capabilities', ...s.Capabilities.map(c => t('member', c))),
    x('Outputs', ...s.Outputs.map(o => x('member', t('OutputKey', o.OutputKey), t('OutputValue', o.OutputValue), t('Description', o.Description)))),
    x('Tags', ...s.Tags.map(tag => x('member', t('Key', tag.Key), t('Value', tag.Value)))),
    x('DriftInformation', t('StackDriftStatus', 'NOT_CHECKED')))
}

/** Move a stack's *_IN_PROGRESS status along by one DescribeStacks poll. */
function advance (s: Stack): void {
  if (!s.StackStatus.endsWith('_IN_PROGRESS') || s.StackStatus === 'REVIEW_IN_PROGRESS') return
  if (s.pendingPolls > 0) {
    s.pendingPolls--
    return
  }
  s.StackStatus = s.StackStatus.replace('_IN_PROGRESS', '_COMPLETE')
}

const STACK_NAME_RE = /^[A-Za-z][A-Za-z0-9-]{0,127}$/
function checkStackName (name: string): void {
  if (!STACK_NAME_RE.test(name)) {
    throw new AwsError('ValidationError', `1 validation error detected: Value '${name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`, 400)
  }
}

function newStack (req: ServiceRequest, name: string, status: string, p: URLSearchParams): Stack {
  const account = accountOf(req)
  return {
    StackName: name,
    StackId: `arn:aws:cloudformation:${req.region}:${account}:stack/${name}/${randomUUID()}`,
    CreationTime: Date.now(), StackStatus: status, Capabilities: [], Tags: tags(p), Outputs: [], Resources: [],
    templateBody: '', pendingPolls: 0, region: req.region, accountId: account, Parameters: [], events: [], changeSets: new Map(),
  }
}

/** Parameters.member.N.{ParameterKey,ParameterValue,UsePreviousValue}, previous values filled in from the stack. */
function parameters (p: URLSearchParams, stack: Stack | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 1; p.has(`Parameters.member.${i}.ParameterKey`); i++) {
    const key = p.get(`Parameters.member.${i}.ParameterKey`)!
    if (p.get(`Parameters.member.${i}.UsePreviousValue`) === 'true') {
      const previous = stack?.Parameters.find(x => x.ParameterKey === key)
      if (!previous) throw new AwsError('ValidationError', `Invalid input for parameter key ${key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template`, 400)
      out[key] = previous.ParameterValue
    }
    else out[key] = p.get(`Parameters.member.${i}.ParameterValue`) ?? ''
  }
  return out
}

const parameterList = (params: Record<string, string>): Stack['Parameters'] =>
  Object.entries(params).map(([ ParameterKey, ParameterValue ]) => ({ ParameterKey, ParameterValue }))

/** Every parameter the template declares, with the value given or its Default (what DescribeStacks lists, and UsePreviousValue reuses). */
function withDefaults (tpl: JsonObject, params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [ key, decl ] of Object.entries((tpl.Parameters ?? {}) as JsonObject)) {
    const def = get(decl, 'Default')
    if (key in params) out[key] = params[key]!
    else if (def !== undefined && def !== null) out[key] = String(def)
  }
  return out
}

const callerOf = (req: ServiceRequest): Caller => req.caller
  ? { arn: req.caller.arn, account: req.caller.account, policies: req.caller.policies }
  : { arn: 'anonymous', account: req.state.accountId, policies: { identity: [] } }

/** Run a template on a stack (create or update), record the outcome. */
function apply (req: ServiceRequest, stack: Stack, body: string, tpl: JsonObject, params: Record<string, string>, update: boolean): void {
  stack.StackStatus = update ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS'
  if (update) stack.LastUpdatedTime = Date.now()
  delete stack.StackStatusReason
  req.state.stacks.set(stackKey(stack.accountId, stack.StackName), stack)
  const denial = provision(req.state, stack, tpl, body, params, callerOf(req))
  if (denial) return
  stack.Parameters = parameterList(withDefaults(tpl, params))
  stack.pendingPolls = req.state.settings.stackPendingPolls
}

function createOrUpdate (req: ServiceRequest, p: URLSearchParams, update: boolean): string {
  const name = p.get('StackName') ?? ''
  checkStackName(name)
  const body = loadTemplate(req, p)
  const tpl = parse(body)
  const capabilities = members(p, 'Capabilities')
  checkTemplate(req, tpl, capabilities)
  let stack = findStack(req, name)
  const params = parameters(p, stack)
  if (isParameterizedIamTemplate(tpl)) evaluateIamTemplate(tpl, { StackName: name, region: req.region, accountId: accountOf(req) }, params)
  if (update) {
    if (!stack) throw noStack(name)
    if (stack.StackStatus.endsWith('_IN_PROGRESS')) {
      throw new AwsError('ValidationError', `Stack:${stack.StackId} is in ${stack.StackStatus} state and can not be updated.`, 400)
    }
    if (stack.templateBody === body && JSON.stringify(stack.Parameters) === JSON.stringify(parameterList(withDefaults(tpl, params)))) {
      throw new AwsError('ValidationError', 'No updates are to be performed.', 400)
    }
  }
  else if (stack) throw new AwsError('AlreadyExistsException', `Stack [${name}] already exists`, 400)
  stack ??= newStack(req, name, 'CREATE_IN_PROGRESS', p)
  stack.Capabilities = capabilities
  if (tags(p).length) stack.Tags = tags(p)
  apply(req, stack, body, tpl, params, update)
  return stack.StackId
}

/** CreateChangeSet: the change set is computed at once (CREATE_COMPLETE, or FAILED when nothing changes). */
function createChangeSet (req: ServiceRequest, p: URLSearchParams): { Id: string, StackId: string } {
  const name = p.get('StackName') ?? ''
  checkStackName(name)
  const type = (p.get('ChangeSetType') ?? 'UPDATE') as ChangeSet['ChangeSetType']
  const body = loadTemplate(req, p)
  const tpl = parse(body)
  const capabilities = members(p, 'Capabilities')
  checkTemplate(req, tpl, capabilities)
  let stack = findStack(req, name)
  if (type === 'UPDATE' && (!stack || stack.StackStatus === 'REVIEW_IN_PROGRESS')) throw noStack(name)
  if (type === 'CREATE' && stack && stack.StackStatus !== 'REVIEW_IN_PROGRESS') throw new AwsError('ValidationError', `Stack [${name}] already exists and cannot be created again with the changeSet [${p.get('ChangeSetName')}].`, 400)
  const params = parameters(p, stack)
  if (isParameterizedIamTemplate(tpl)) evaluateIamTemplate(tpl, { StackName: name, region: req.region, accountId: accountOf(req) }, params)
  if (!stack) {
    // CloudFormation creates the stack in REVIEW_IN_PROGRESS for a CREATE change set
    stack = newStack(req, name, 'REVIEW_IN_PROGRESS', p)
    req.state.stacks.set(stackKey(stack.accountId, name), stack)
  }
  const changeSetName = p.get('ChangeSetName') ?? ''
  const unchanged = type === 'UPDATE' && stack.templateBody === body &&
    Object.entries(params).every(([ k, v ]) => stack.Parameters.find(x => x.ParameterKey === k)?.ParameterValue === v)
  const cs: ChangeSet = {
    ChangeSetId: `arn:aws:cloudformation:${req.region}:${stack.accountId}:changeSet/${changeSetName}/${randomUUID()}`,
    ChangeSetName: changeSetName, ChangeSetType: type, CreationTime: Date.now(), templateBody: body, Capabilities: capabilities,
    Parameters: Object.entries(params).map(([ ParameterKey, ParameterValue ]) => ({ ParameterKey, ParameterValue })),
    ...unchanged
      ? { Status: 'FAILED', StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set.", ExecutionStatus: 'UNAVAILABLE' }
      : { Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' },
  }
  stack.changeSets.set(changeSetName, cs)
  return { Id: cs.ChangeSetId, StackId: stack.StackId }
}

function findChangeSet (req: ServiceRequest, p: URLSearchParams): { stack: Stack, cs: ChangeSet } {
  const id = p.get('ChangeSetName') ?? ''
  const stacks = p.get('StackName') ? [ findStack(req, p.get('StackName')!) ] : [ ...req.state.stacks.values() ]
  for (const stack of stacks) {
    const cs = stack && ([ ...stack.changeSets.values() ].find(c => c.ChangeSetId === id || c.ChangeSetName === id))
    if (stack && cs) return { stack, cs }
  }
  throw new AwsError('ChangeSetNotFound', `ChangeSet [${id}] does not exist`, 404)
}

function executeChangeSet (req: ServiceRequest, p: URLSearchParams): void {
  const { stack, cs } = findChangeSet(req, p)
  if (cs.ExecutionStatus !== 'AVAILABLE') {
    throw new AwsError('InvalidChangeSetStatus', `ChangeSet [${cs.ChangeSetId}] cannot be executed in its current status of [${cs.Status}]`, 400)
  }
  cs.ExecutionStatus = 'EXECUTE_COMPLETE'
  stack.Capabilities = cs.Capabilities
  const params = Object.fromEntries(cs.Parameters.map(x => [ x.ParameterKey, x.ParameterValue ]))
  apply(req, stack, cs.templateBody, parse(cs.templateBody), params, cs.ChangeSetType === 'UPDATE')
  // A change set once executed is gone, with every other change set of the stack
  stack.changeSets.clear()
}

function changeSetXml (stack: Stack, cs: ChangeSet): string {
  return t('ChangeSetName', cs.ChangeSetName) + t('ChangeSetId', cs.ChangeSetId) + t('StackId', stack.StackId) + t('StackName', stack.StackName) +
    t('CreationTime', isoSeconds(cs.CreationTime)) + t('ExecutionStatus', cs.ExecutionStatus) + t('Status', cs.Status) + t('StatusReason', cs.StatusReason) +
    x('Parameters', ...cs.Parameters.map(q => x('member', t('ParameterKey', q.ParameterKey), t('ParameterValue', q.ParameterValue)))) +
    x('Capabilities', ...cs.Capabilities.map(c => t('member', c))) + x('Changes')
}

function eventsXml (stack: Stack): string {
  return x('StackEvents', ...stack.events.map(e => x('member',
    t('StackId', stack.StackId), t('EventId', e.EventId), t('StackName', stack.StackName), t('LogicalResourceId', e.LogicalResourceId),
    t('PhysicalResourceId', e.PhysicalResourceId), t('ResourceType', e.ResourceType), t('Timestamp', isoSeconds(e.Timestamp)),
    t('ResourceStatus', e.ResourceStatus), t('ResourceStatusReason', e.ResourceStatusReason))))
}

function deleteStack (req: ServiceRequest, p: URLSearchParams): void {
  const { state } = req
  const stack = findStack(req, p.get('StackName') ?? '')
  if (!stack) return
  for (const r of stack.Resources) {
    if (r.ResourceType === 'AWS::SSM::Parameter') parametersOf(state, stack.accountId).delete(r.PhysicalResourceId)
    if (r.ResourceType === 'AWS::S3::Bucket') state.buckets.delete(r.PhysicalResourceId)
  }
  state.stacks.delete(stackKey(stack.accountId, stack.StackName))
}

function resourcesOf (req: ServiceRequest, p: URLSearchParams): Stack {
  const name = p.get('StackName') ?? ''
  const stack = findStack(req, name)
  if (!stack) throw noStack(name)
  return stack
}

export const cloudformation: Service = {
  name: 'cloudformation',
  protocol: 'query',
  xmlns: CFN_XMLNS,
  action: req => queryParams(req).get('Action') ?? 'Unknown',
  summarize (req) {
    const p = queryParams(req)
    const out: Record<string, string> = {}
    for (const k of [ 'StackName', 'LogicalResourceId', 'TemplateURL', 'ChangeSetName', 'ChangeSetType' ]) if (p.has(k)) out[k] = p.get(k)!
    return out
  },
  handle (req, action) {
    const p = queryParams(req)
    const ok = (result: string) => queryResult(action, CFN_XMLNS, result, req.requestId)
    switch (action) {
      case 'DescribeStacks': {
        const name = p.get('StackName')
        const stacks = name ? [ findStack(req, name) ] : [ ...req.state.stacks.values() ].filter(s => s.accountId === accountOf(req))
        if (name && !stacks[0]) throw noStack(name)
        for (const s of stacks) advance(s!)
        return ok(x('Stacks', ...stacks.map(s => stackXml(s!))))
      }
      case 'DescribeStackResources': {
        const stack = resourcesOf(req, p)
        const logical = p.get('LogicalResourceId')
        const physical = p.get('PhysicalResourceId')
        const list = stack.Resources
          .filter(r => (!logical || r.LogicalResourceId === logical) && (!physical || r.PhysicalResourceId === physical))
        return ok(x('StackResources', ...list.map(r => x('member',
          t('StackName', stack.StackName), t('StackId', stack.StackId),
          t('LogicalResourceId', r.LogicalResourceId), t('PhysicalResourceId', r.PhysicalResourceId),
          t('ResourceType', r.ResourceType), t('Timestamp', isoSeconds(r.Timestamp)), t('ResourceStatus', r.ResourceStatus)))))
      }
      case 'ListStackResources': {
        const stack = resourcesOf(req, p)
        return ok(x('StackResourceSummaries', ...stack.Resources.map(r => x('member',
          t('LogicalResourceId', r.LogicalResourceId), t('PhysicalResourceId', r.PhysicalResourceId),
          t('ResourceType', r.ResourceType), t('LastUpdatedTimestamp', isoSeconds(r.Timestamp)), t('ResourceStatus', r.ResourceStatus),
          x('DriftInformation', t('StackResourceDriftStatus', 'NOT_CHECKED'))))))
      }
      case 'DescribeStackEvents': return ok(eventsXml(resourcesOf(req, p)))
      case 'CreateStack': return ok(t('StackId', createOrUpdate(req, p, false)))
      case 'UpdateStack': return ok(t('StackId', createOrUpdate(req, p, true)))
      case 'CreateChangeSet': {
        const { Id, StackId } = createChangeSet(req, p)
        return ok(t('Id', Id) + t('StackId', StackId))
      }
      case 'DescribeChangeSet': {
        const { stack, cs } = findChangeSet(req, p)
        return ok(changeSetXml(stack, cs))
      }
      case 'ExecuteChangeSet': executeChangeSet(req, p); return ok('')
      case 'DeleteStack': deleteStack(req, p); return ok('')
      default:
        throw notImplemented('cloudformation', action)
    }
  },
}
