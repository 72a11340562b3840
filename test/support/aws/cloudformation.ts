// CloudFormation (AWS Query): stacks created from the template deploy uploaded to
// S3. CreateStack/UpdateStack read that template, "provision" its resources
// (S3 buckets and SSM parameters for real, the rest as names) and resolve the
// Outputs, so that Architect's post-deploy steps find what they look for.
import { randomBytes, randomUUID } from 'node:crypto'
import { AwsError, notImplemented, queryResult, t, x } from './protocol.ts'
import { createBucket } from './s3.ts'
import { isoSeconds, queryParams, type Service, type ServiceRequest } from './service.ts'
import type { AwsState, Stack, StackResource } from './state.ts'

const CFN_XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/'

const noStack = (name: string): AwsError => new AwsError('ValidationError', `Stack with id ${name} does not exist`, 400)

function findStack (state: AwsState, nameOrId: string): Stack | undefined {
  return state.stacks.get(nameOrId) ?? [ ...state.stacks.values() ].find(s => s.StackId === nameOrId)
}

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
function checkTemplateBody (body: string): void {
  if (Buffer.byteLength(body, 'utf8') <= TEMPLATE_BODY_MAX_BYTES) return
  throw new AwsError('ValidationError', `1 validation error detected: Value '${body}' at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to ${TEMPLATE_BODY_MAX_BYTES}`, 400)
}

/** Find the template a TemplateURL (https://<bucket>.s3.<region>.amazonaws.com/<key>, or path style) points at. */
export function loadTemplate (state: AwsState, p: URLSearchParams): string {
  const body = p.get('TemplateBody')
  if (body !== null) checkTemplateBody(body)
  if (body) return body
  const url = p.get('TemplateURL')
  if (!url) throw new AwsError('ValidationError', 'Either Template URL or Template Body must be specified.', 400)
  let bucket: string | undefined, key: string | undefined
  try {
    const u = new URL(url)
    const virtual = /^(.+)\.s3[.-]/.exec(u.hostname)
    const path = decodeURIComponent(u.pathname.slice(1))
    if (virtual) {
      bucket = virtual[1]; key = path
    }
    else {
      bucket = path.split('/')[0]; key = path.split('/').slice(1).join('/')
    }
  }
  catch {
    throw new AwsError('ValidationError', 'TemplateURL must be a supported URL.', 400)
  }
  const object = state.buckets.get(bucket ?? '')?.objects.get(key ?? '')
  if (!object) throw new AwsError('ValidationError', `S3 error: Access Denied\nFor more information check http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html`, 400)
  if (object.body.length > TEMPLATE_URL_MAX_BYTES) throw new AwsError('ValidationError', `Template may not exceed ${TEMPLATE_URL_MAX_BYTES} bytes in size.`, 400)
  return object.body.toString('utf8')
}

interface Template {
  Description?: string
  Resources?: Record<string, { Type: string, Properties?: Record<string, unknown> }>
  Outputs?: Record<string, { Value: unknown, Description?: string }>
}

const rand = (n: number): string => randomBytes(n).toString('hex').toUpperCase().slice(0, n)

/** Physical ids the way CloudFormation names things: <stack>-<logical>-<random>. */
function physicalId (stackName: string, logicalId: string, type: string, region: string, accountId: string): string {
  const generic = `${stackName}-${logicalId}-${rand(12)}`
  switch (type) {
    case 'AWS::S3::Bucket': return `${stackName}-${logicalId}-${rand(12)}`.toLowerCase().slice(0, 63)
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
    default: return `arn:aws:cloudformation:${region}:${accountId}:resource/${physical}`
  }
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

/** Apply a template to a stack: resources (reusing physical ids of unchanged logical ids), buckets, parameters, outputs. */
function provision (state: AwsState, stack: Stack, templateBody: string): void {
  let template: Template
  try {
    template = JSON.parse(templateBody)
  }
  catch {
    throw new AwsError('ValidationError', 'Template format error: JSON not well-formed.', 400)
  }
  const now = Date.now()
  const previous = new Map(stack.Resources.map(r => [ r.LogicalResourceId, r.PhysicalResourceId ]))
  const physical = new Map<string, string>()
  for (const [ logical, res ] of Object.entries(template.Resources ?? {})) {
    physical.set(logical, previous.get(logical) ?? physicalId(stack.StackName, logical, res.Type, stack.region, state.accountId))
  }
  const resolve = resolver(stack, state.accountId, template, physical)
  const resources: StackResource[] = []
  for (const [ logical, res ] of Object.entries(template.Resources ?? {})) {
    const id = physical.get(logical)!
    if (res.Type === 'AWS::S3::Bucket') createBucket(state.buckets, id, stack.region)
    if (res.Type === 'AWS::SSM::Parameter') {
      const props = resolve(res.Properties ?? {}) as Record<string, unknown>
      const name = String(props.Name ?? id)
      physical.set(logical, name)
      const old = state.parameters.get(name)
      state.parameters.set(name, { Name: name, Type: String(props.Type ?? 'String'), Value: String(props.Value ?? ''), Version: (old?.Version ?? 0) + 1, LastModifiedDate: now, DataType: 'text' })
    }
    resources.push({
      LogicalResourceId: logical,
      PhysicalResourceId: physical.get(logical)!,
      ResourceType: DEPLOYED_TYPE[res.Type] ?? res.Type,
      ResourceStatus: stack.StackStatus.startsWith('UPDATE') ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE',
      Timestamp: now,
    })
  }
  // Resources dropped from the template are deleted (parameters and empty buckets for real)
  for (const old of stack.Resources) {
    if (physical.has(old.LogicalResourceId)) continue
    if (old.ResourceType === 'AWS::SSM::Parameter') state.parameters.delete(old.PhysicalResourceId)
    if (old.ResourceType === 'AWS::S3::Bucket' && !state.buckets.get(old.PhysicalResourceId)?.objects.size) state.buckets.delete(old.PhysicalResourceId)
  }
  stack.Resources = resources
  stack.Description = template.Description
  stack.templateBody = templateBody
  stack.Outputs = Object.entries(template.Outputs ?? {}).map(([ OutputKey, o ]) => ({
    OutputKey,
    OutputValue: String(resolve(o.Value)),
    ...(o.Description ? { Description: o.Description } : {}),
  }))
}

function stackXml (s: Stack): string {
  return x('member',
    t('StackName', s.StackName),
    t('StackId', s.StackId),
    t('Description', s.Description),
    t('CreationTime', isoSeconds(s.CreationTime)),
    t('LastUpdatedTime', s.LastUpdatedTime ? isoSeconds(s.LastUpdatedTime) : undefined),
    t('StackStatus', s.StackStatus),
    t('DisableRollback', false),
    x('Capabilities', ...s.Capabilities.map(c => t('member', c))),
    x('Outputs', ...s.Outputs.map(o => x('member', t('OutputKey', o.OutputKey), t('OutputValue', o.OutputValue), t('Description', o.Description)))),
    x('Tags', ...s.Tags.map(tag => x('member', t('Key', tag.Key), t('Value', tag.Value)))),
    x('DriftInformation', t('StackDriftStatus', 'NOT_CHECKED')))
}

/** Move a stack's *_IN_PROGRESS status along by one DescribeStacks poll. */
function advance (s: Stack): void {
  if (!s.StackStatus.endsWith('_IN_PROGRESS')) return
  if (s.pendingPolls > 0) {
    s.pendingPolls--
    return
  }
  s.StackStatus = s.StackStatus.replace('_IN_PROGRESS', '_COMPLETE')
}

function createOrUpdate (req: ServiceRequest, p: URLSearchParams, update: boolean): string {
  const { state } = req
  const name = p.get('StackName') ?? ''
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(name)) {
    throw new AwsError('ValidationError', `1 validation error detected: Value '${name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`, 400)
  }
  const templateBody = loadTemplate(state, p)
  const capabilities = members(p, 'Capabilities')
  if (/"AWS::IAM::/.test(templateBody) && !capabilities.some(c => c === 'CAPABILITY_IAM' || c === 'CAPABILITY_NAMED_IAM')) {
    throw new AwsError('InsufficientCapabilitiesException', 'Requires capabilities : [CAPABILITY_IAM]', 400)
  }
  if (/"Transform"\s*:\s*"AWS::Serverless/.test(templateBody) && !capabilities.includes('CAPABILITY_AUTO_EXPAND')) {
    throw new AwsError('InsufficientCapabilitiesException', 'Requires capabilities : [CAPABILITY_AUTO_EXPAND]', 400)
  }
  const now = Date.now()
  let stack = findStack(state, name)
  if (update) {
    if (!stack) throw noStack(name)
    if (stack.StackStatus.endsWith('_IN_PROGRESS')) {
      throw new AwsError('ValidationError', `Stack:${stack.StackId} is in ${stack.StackStatus} state and can not be updated.`, 400)
    }
    if (stack.templateBody === templateBody) throw new AwsError('ValidationError', 'No updates are to be performed.', 400)
    stack.StackStatus = 'UPDATE_IN_PROGRESS'
    stack.LastUpdatedTime = now
  }
  else {
    if (stack) throw new AwsError('AlreadyExistsException', `Stack [${name}] already exists`, 400)
    stack = {
      StackName: name,
      StackId: `arn:aws:cloudformation:${req.region}:${state.accountId}:stack/${name}/${randomUUID()}`,
      CreationTime: now,
      StackStatus: 'CREATE_IN_PROGRESS',
      Capabilities: capabilities,
      Tags: tags(p),
      Outputs: [],
      Resources: [],
      templateBody: '',
      pendingPolls: 0,
      region: req.region,
    }
  }
  stack.Capabilities = capabilities
  if (tags(p).length) stack.Tags = tags(p)
  provision(state, stack, templateBody)
  stack.pendingPolls = state.settings.stackPendingPolls
  state.stacks.set(name, stack)
  return stack.StackId
}

export const cloudformation: Service = {
  name: 'cloudformation',
  protocol: 'query',
  xmlns: CFN_XMLNS,
  action: req => queryParams(req).get('Action') ?? 'Unknown',
  summarize (req) {
    const p = queryParams(req)
    const out: Record<string, string> = {}
    for (const k of [ 'StackName', 'LogicalResourceId', 'TemplateURL' ]) if (p.has(k)) out[k] = p.get(k)!
    return out
  },
  handle (req, action) {
    const p = queryParams(req)
    const { state } = req
    const ok = (result: string) => queryResult(action, CFN_XMLNS, result, req.requestId)
    switch (action) {
      case 'DescribeStacks': {
        const name = p.get('StackName')
        const stacks = name ? [ findStack(state, name) ] : [ ...state.stacks.values() ]
        if (name && !stacks[0]) throw noStack(name)
        for (const s of stacks) advance(s!)
        return ok(x('Stacks', ...stacks.map(s => stackXml(s!))))
      }
      case 'DescribeStackResources': {
        const name = p.get('StackName') ?? ''
        const stack = findStack(state, name)
        if (!stack) throw noStack(name)
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
        const name = p.get('StackName') ?? ''
        const stack = findStack(state, name)
        if (!stack) throw noStack(name)
        return ok(x('StackResourceSummaries', ...stack.Resources.map(r => x('member',
          t('LogicalResourceId', r.LogicalResourceId), t('PhysicalResourceId', r.PhysicalResourceId),
          t('ResourceType', r.ResourceType), t('LastUpdatedTimestamp', isoSeconds(r.Timestamp)), t('ResourceStatus', r.ResourceStatus),
          x('DriftInformation', t('StackResourceDriftStatus', 'NOT_CHECKED'))))))
      }
      case 'CreateStack':
        return ok(t('StackId', createOrUpdate(req, p, false)))
      case 'UpdateStack':
        return ok(t('StackId', createOrUpdate(req, p, true)))
      case 'DeleteStack': {
        const stack = findStack(state, p.get('StackName') ?? '')
        if (stack) {
          for (const r of stack.Resources) {
            if (r.ResourceType === 'AWS::SSM::Parameter') state.parameters.delete(r.PhysicalResourceId)
            if (r.ResourceType === 'AWS::S3::Bucket') state.buckets.delete(r.PhysicalResourceId)
          }
          state.stacks.delete(stack.StackName)
        }
        return ok('')
      }
      default:
        throw notImplemented('cloudformation', action)
    }
  },
}
