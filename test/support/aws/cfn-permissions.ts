/**
 * What CloudFormation does, with the caller's permissions, to create, update or delete each
 * resource type an Architect stack holds: the IAM requests (action, resource ARN as AWS forms it
 * for that action, condition keys) its resource handler makes.
 *
 * CloudFormation acts with the credentials of whoever called CreateStack/UpdateStack unless a
 * service role is given (Architect gives none): "CloudFormation uses your credentials to make
 * calls on your behalf" (AWS CloudFormation User Guide, "Control CloudFormation access with IAM",
 * and "CloudFormation service role"). The action lists follow the resource types' schemas, whose
 * `handlers.create.permissions` / `handlers.update.permissions` / `handlers.delete.permissions`
 * list what each handler calls (AWS CloudFormation Template Reference, each type's page, and the
 * schemas from `aws cloudformation describe-type --type RESOURCE --type-name <type>`), narrowed to
 * the calls the properties Architect sets make (a tag call only with tags, PassRole for the role a
 * property names). Resource ARNs and condition keys follow the Service Authorization Reference
 * (Actions, resources, and condition keys for each service).
 *
 * SAM resources are first expanded the way the AWS::Serverless-2016-10-31 transform does for the
 * properties Architect uses (SAM's specification: a function's SNS event becomes an
 * AWS::SNS::Subscription and an AWS::Lambda::Permission, an SQS event an
 * AWS::Lambda::EventSourceMapping, an HttpApi event an AWS::Lambda::Permission; an HttpApi an
 * AWS::ApiGatewayV2::Api and its $default AWS::ApiGatewayV2::Stage).
 */
import type { AuthzRequest } from './iam-authz.ts'

/** One resource as CloudFormation handles it, its properties resolved. */
export interface CfnResource {
  logicalId: string
  type: string
  physicalId: string
  properties: Record<string, unknown>
}

export interface Where {
  partition: string
  region: string
  account: string
  /** Boundary ARN of a role the account has, by role name (IAM sets iam:PermissionsBoundary from it). */
  boundaryOf: (roleName: string) => string | undefined
}

type Phase = 'create' | 'update' | 'delete'
type Requests = (r: CfnResource, w: Where) => AuthzRequest[]

const str = (v: unknown): string => typeof v === 'string' ? v : ''
const lastOf = (arnOrName: string, sep = ':'): string => arnOrName.split(sep).pop() ?? arnOrName
const req = (action: string, resource: string, context?: AuthzRequest['context']): AuthzRequest =>
  context ? { action, resource, context } : { action, resource }

const roleArn = (w: Where, name: string): string => `arn:${w.partition}:iam::${w.account}:role/${name}`
const functionArn = (w: Where, nameOrArn: string): string =>
  nameOrArn.startsWith('arn:') ? nameOrArn : `arn:${w.partition}:lambda:${w.region}:${w.account}:function:${nameOrArn}`
const boundaryKey = (w: Where, role: string, given?: string): Record<string, string> => {
  const boundary = given ?? w.boundaryOf(role)
  return boundary ? { 'iam:PermissionsBoundary': boundary } : {}
}
const passRole = (role: unknown, service: string): AuthzRequest =>
  req('iam:PassRole', str(role), { 'iam:PassedToService': service })
const hasTags = (r: CfnResource): boolean => Array.isArray(r.properties.Tags) ? r.properties.Tags.length > 0 : !!r.properties.Tags
const apis = (w: Where, path: string): string => `arn:${w.partition}:apigateway:${w.region}::/apis${path}`
const bucketArn = (w: Where, name: string): string => `arn:${w.partition}:s3:::${name}`

// AWS::IAM::Role: CreateRole (with the PermissionsBoundary property, the iam:PermissionsBoundary
// key), PutRolePolicy per inline policy, AttachRolePolicy per managed policy; GetRole to read back.
const role: Record<Phase, Requests> = {
  create: (r, w) => {
    const arn = roleArn(w, r.physicalId)
    const key = boundaryKey(w, r.physicalId, str(r.properties.PermissionsBoundary) || undefined)
    return [
      req('iam:CreateRole', arn, key),
      ...((r.properties.Policies ?? []) as unknown[]).map(() => req('iam:PutRolePolicy', arn, key)),
      ...((r.properties.ManagedPolicyArns ?? []) as string[]).map(p => req('iam:AttachRolePolicy', arn, { ...key, 'iam:PolicyARN': p })),
      req('iam:GetRole', arn),
    ]
  },
  update: (r, w) => {
    const arn = roleArn(w, r.physicalId)
    const key = boundaryKey(w, r.physicalId)
    return [ req('iam:GetRole', arn), ...((r.properties.Policies ?? []) as unknown[]).map(() => req('iam:PutRolePolicy', arn, key)) ]
  },
  delete: (r, w) => {
    const arn = roleArn(w, r.physicalId)
    const key = boundaryKey(w, r.physicalId)
    return [ ...((r.properties.Policies ?? []) as unknown[]).map(() => req('iam:DeleteRolePolicy', arn, key)), req('iam:DeleteRole', arn, key) ]
  },
}

// AWS::IAM::Policy (an inline policy put on each of its Roles).
const inlinePolicy = (action: string): Requests => (r, w) =>
  ((r.properties.Roles ?? []) as string[]).map(name => req(action, roleArn(w, name), boundaryKey(w, name)))

// AWS::Lambda::Function: CreateFunction, PassRole of its execution role to Lambda, the code
// object read from S3 with the caller's permissions, tags (SAM tags every function), GetFunction.
const lambdaFunction: Record<Phase, Requests> = {
  create: (r, w) => {
    const fn = functionArn(w, r.physicalId)
    const code = r.properties.Code as { S3Bucket?: string, S3Key?: string } | undefined
    return [
      req('lambda:CreateFunction', fn),
      passRole(r.properties.Role, 'lambda.amazonaws.com'),
      ...code?.S3Bucket ? [ req('s3:GetObject', `${bucketArn(w, code.S3Bucket)}/${code.S3Key ?? ''}`) ] : [],
      ...hasTags(r) ? [ req('lambda:TagResource', fn) ] : [],
      req('lambda:GetFunction', fn),
    ]
  },
  update: (r, w) => {
    const fn = functionArn(w, r.physicalId)
    const code = r.properties.Code as { S3Bucket?: string, S3Key?: string } | undefined
    return [
      req('lambda:UpdateFunctionConfiguration', fn), passRole(r.properties.Role, 'lambda.amazonaws.com'),
      req('lambda:UpdateFunctionCode', fn),
      ...code?.S3Bucket ? [ req('s3:GetObject', `${bucketArn(w, code.S3Bucket)}/${code.S3Key ?? ''}`) ] : [],
      req('lambda:GetFunction', fn),
    ]
  },
  delete: (r, w) => [ req('lambda:DeleteFunction', functionArn(w, r.physicalId)) ],
}

// AWS::Lambda::Permission: AddPermission on the function, with lambda:Principal.
const lambdaPermission = (action: string): Requests => (r, w) => [
  req(action, functionArn(w, str(r.properties.FunctionName)), { 'lambda:Principal': str(r.properties.Principal) }),
]

// AWS::Lambda::EventSourceMapping: resource '*' with lambda:FunctionArn (Service Authorization Reference).
const mapping = (action: string): Requests => (r, w) => [
  req(action, '*', { 'lambda:FunctionArn': functionArn(w, str(r.properties.FunctionName)) }),
]

const tableArn = (w: Where, r: CfnResource): string => `arn:${w.partition}:dynamodb:${w.region}:${w.account}:table/${r.physicalId}`
const topicArn = (w: Where, r: CfnResource): string => r.physicalId.startsWith('arn:') ? r.physicalId : `arn:${w.partition}:sns:${w.region}:${w.account}:${r.physicalId}`
const queueArn = (w: Where, r: CfnResource): string => `arn:${w.partition}:sqs:${w.region}:${w.account}:${lastOf(r.physicalId, '/')}`
const parameterArn = (w: Where, r: CfnResource): string => `arn:${w.partition}:ssm:${w.region}:${w.account}:parameter${r.physicalId.startsWith('/') ? '' : '/'}${r.physicalId}`
const scheduleArn = (w: Where, r: CfnResource): string => `arn:${w.partition}:scheduler:${w.region}:${w.account}:schedule/${str(r.properties.GroupName) || 'default'}/${r.physicalId}`
const ruleArn = (w: Where, r: CfnResource): string => `arn:${w.partition}:events:${w.region}:${w.account}:rule/${r.physicalId}`
const logGroupArn = (w: Where, r: CfnResource): string => `arn:${w.partition}:logs:${w.region}:${w.account}:log-group:${r.physicalId}`

const on = (arn: (w: Where, r: CfnResource) => string, ...actions: string[]): Requests => (r, w) => actions.map(a => req(a, arn(w, r)))
const withTags = (arn: (w: Where, r: CfnResource) => string, tag: string, ...actions: string[]): Requests => (r, w) =>
  [ ...actions, ...hasTags(r) ? [ tag ] : [] ].map(a => req(a, arn(w, r)))

// AWS::SNS::Subscription: Subscribe on the topic, with sns:Protocol and sns:Endpoint.
const subscribe: Requests = (r, w) => [ req('sns:Subscribe', str(r.properties.TopicArn) || topicArn(w, r), {
  'sns:Protocol': str(r.properties.Protocol), 'sns:Endpoint': str(r.properties.Endpoint),
}) ]

// AWS::S3::Bucket: CreateBucket, then one call per configuration property Architect sets.
const BUCKET_CONFIG: Record<string, string> = {
  WebsiteConfiguration: 's3:PutBucketWebsite',
  OwnershipControls: 's3:PutBucketOwnershipControls',
  PublicAccessBlockConfiguration: 's3:PutBucketPublicAccessBlock',
  Tags: 's3:PutBucketTagging',
  CorsConfiguration: 's3:PutBucketCORS',
  // Not under s3:PutBucket*: the Service Authorization Reference names them PutEncryptionConfiguration
  // (PutBucketEncryption) and PutLifecycleConfiguration (PutBucketLifecycleConfiguration).
  BucketEncryption: 's3:PutEncryptionConfiguration',
  LifecycleConfiguration: 's3:PutLifecycleConfiguration',
}
const bucket: Record<Phase, Requests> = {
  create: (r, w) => [ req('s3:CreateBucket', bucketArn(w, r.physicalId)),
    ...Object.entries(BUCKET_CONFIG).filter(([ p ]) => r.properties[p] !== undefined).map(([ , a ]) => req(a, bucketArn(w, r.physicalId), { 's3:ResourceAccount': w.account })) ],
  update: (r, w) => Object.entries(BUCKET_CONFIG).filter(([ p ]) => r.properties[p] !== undefined).map(([ , a ]) => req(a, bucketArn(w, r.physicalId), { 's3:ResourceAccount': w.account })),
  delete: (r, w) => [ req('s3:DeleteBucket', bucketArn(w, r.physicalId), { 's3:ResourceAccount': w.account }) ],
}
const bucketPolicy = (...actions: string[]): Requests => (r, w) =>
  actions.map(a => req(a, bucketArn(w, str(r.properties.Bucket)), { 's3:ResourceAccount': w.account }))

// AWS::Scheduler::Schedule: CreateSchedule, and PassRole of the target's role to EventBridge Scheduler.
const schedule = (action: string): Requests => (r, w) => [
  req(action, scheduleArn(w, r)), passRole((r.properties.Target as { RoleArn?: string } | undefined)?.RoleArn, 'scheduler.amazonaws.com'),
]

// API Gateway V2: actions are HTTP verbs on the API Gateway resource path
// (Service Authorization Reference, Amazon API Gateway Management V2).
const apiId = (r: CfnResource): string => str(r.properties.ApiId)
const v2 = (verb: string, path: (r: CfnResource) => string): Requests => (r, w) => [ req(`apigateway:${verb}`, apis(w, path(r))) ]

/** Per resource type and phase, the requests CloudFormation makes with the caller's permissions. */
export const CFN_HANDLER_REQUESTS: Record<string, Record<Phase, Requests>> = {
  'AWS::IAM::Role': role,
  // The IAM template's own resources (created with an administrator's credentials).
  'AWS::IAM::OIDCProvider': {
    create: r => [ req('iam:CreateOpenIDConnectProvider', r.physicalId), req('iam:GetOpenIDConnectProvider', r.physicalId) ],
    update: r => [ req('iam:UpdateOpenIDConnectProviderThumbprint', r.physicalId), req('iam:GetOpenIDConnectProvider', r.physicalId) ],
    delete: r => [ req('iam:DeleteOpenIDConnectProvider', r.physicalId) ],
  },
  'AWS::IAM::ManagedPolicy': {
    create: r => [ req('iam:CreatePolicy', r.physicalId), req('iam:GetPolicy', r.physicalId) ],
    update: r => [ req('iam:CreatePolicyVersion', r.physicalId), req('iam:ListPolicyVersions', r.physicalId), req('iam:DeletePolicyVersion', r.physicalId) ],
    delete: r => [ req('iam:DeletePolicy', r.physicalId) ],
  },
  'AWS::IAM::Policy': { create: inlinePolicy('iam:PutRolePolicy'), update: inlinePolicy('iam:PutRolePolicy'), delete: inlinePolicy('iam:DeleteRolePolicy') },
  'AWS::SSM::Parameter': {
    create: withTags(parameterArn, 'ssm:AddTagsToResource', 'ssm:PutParameter', 'ssm:GetParameters'),
    update: on(parameterArn, 'ssm:PutParameter', 'ssm:GetParameters'),
    delete: on(parameterArn, 'ssm:DeleteParameter'),
  },
  'AWS::Lambda::Function': lambdaFunction,
  'AWS::Lambda::Permission': { create: lambdaPermission('lambda:AddPermission'), update: lambdaPermission('lambda:AddPermission'), delete: lambdaPermission('lambda:RemovePermission') },
  'AWS::Lambda::EventSourceMapping': {
    create: mapping('lambda:CreateEventSourceMapping'), update: mapping('lambda:UpdateEventSourceMapping'), delete: mapping('lambda:DeleteEventSourceMapping'),
  },
  'AWS::DynamoDB::Table': {
    create: withTags(tableArn, 'dynamodb:TagResource', 'dynamodb:CreateTable', 'dynamodb:DescribeTable'),
    update: on(tableArn, 'dynamodb:UpdateTable', 'dynamodb:DescribeTable'),
    delete: on(tableArn, 'dynamodb:DeleteTable'),
  },
  'AWS::SNS::Topic': {
    create: withTags(topicArn, 'sns:TagResource', 'sns:CreateTopic', 'sns:GetTopicAttributes'),
    update: on(topicArn, 'sns:GetTopicAttributes'),
    delete: on(topicArn, 'sns:DeleteTopic'),
  },
  'AWS::SNS::Subscription': { create: subscribe, update: subscribe, delete: (r, w) => [ req('sns:Unsubscribe', str(r.properties.TopicArn) || topicArn(w, r)) ] },
  'AWS::SQS::Queue': {
    create: withTags(queueArn, 'sqs:TagQueue', 'sqs:CreateQueue', 'sqs:GetQueueAttributes'),
    update: on(queueArn, 'sqs:SetQueueAttributes', 'sqs:GetQueueAttributes'),
    delete: on(queueArn, 'sqs:DeleteQueue'),
  },
  'AWS::Scheduler::Schedule': { create: schedule('scheduler:CreateSchedule'), update: schedule('scheduler:UpdateSchedule'), delete: on(scheduleArn, 'scheduler:DeleteSchedule') },
  // Architect 11's @scheduled: an EventBridge rule with its function as target.
  'AWS::Events::Rule': {
    create: on(ruleArn, 'events:PutRule', 'events:DescribeRule', 'events:PutTargets'),
    update: on(ruleArn, 'events:PutRule', 'events:DescribeRule', 'events:PutTargets'),
    delete: on(ruleArn, 'events:RemoveTargets', 'events:DeleteRule'),
  },
  'AWS::S3::Bucket': bucket,
  'AWS::S3::BucketPolicy': {
    create: bucketPolicy('s3:PutBucketPolicy', 's3:GetBucketPolicy'), update: bucketPolicy('s3:PutBucketPolicy', 's3:GetBucketPolicy'), delete: bucketPolicy('s3:DeleteBucketPolicy'),
  },
  'AWS::ApiGatewayV2::Api': {
    create: (r, w) => [ req('apigateway:POST', apis(w, '')), req('apigateway:GET', apis(w, `/${r.physicalId}`)), ...hasTags(r) ? [ req('apigateway:TagResource', apis(w, `/${r.physicalId}`)) ] : [] ],
    update: (r, w) => [ req('apigateway:PUT', apis(w, `/${r.physicalId}`)), req('apigateway:GET', apis(w, `/${r.physicalId}`)) ],
    delete: (r, w) => [ req('apigateway:DELETE', apis(w, `/${r.physicalId}`)) ],
  },
  'AWS::ApiGatewayV2::Stage': {
    create: v2('POST', r => `/${apiId(r)}/stages`), update: v2('PATCH', r => `/${apiId(r)}/stages/${str(r.properties.StageName)}`), delete: v2('DELETE', r => `/${apiId(r)}/stages/${str(r.properties.StageName)}`),
  },
  'AWS::ApiGatewayV2::Route': {
    create: v2('POST', r => `/${apiId(r)}/routes`), update: v2('PATCH', r => `/${apiId(r)}/routes/*`), delete: v2('DELETE', r => `/${apiId(r)}/routes/*`),
  },
  'AWS::ApiGatewayV2::Integration': {
    create: v2('POST', r => `/${apiId(r)}/integrations`), update: v2('PATCH', r => `/${apiId(r)}/integrations/*`), delete: v2('DELETE', r => `/${apiId(r)}/integrations/*`),
  },
  'AWS::ApiGatewayV2::Deployment': {
    create: v2('POST', r => `/${apiId(r)}/deployments`), update: v2('PATCH', r => `/${apiId(r)}/deployments/*`), delete: v2('DELETE', r => `/${apiId(r)}/deployments/*`),
  },
  'AWS::Logs::LogGroup': {
    create: on(logGroupArn, 'logs:CreateLogGroup', 'logs:DescribeLogGroups'), update: on(logGroupArn, 'logs:PutRetentionPolicy'), delete: on(logGroupArn, 'logs:DeleteLogGroup'),
  },
}

/** The requests CloudFormation makes for one resource; a type not listed here is refused, never waved through. */
export function handlerRequests (r: CfnResource, phase: Phase, w: Where): AuthzRequest[] {
  const handlers = CFN_HANDLER_REQUESTS[r.type]
  if (!handlers) throw new Error(`The CloudFormation stand-in does not know what ${r.type} (${r.logicalId}) needs: add it to CFN_HANDLER_REQUESTS`)
  return handlers[phase](r, w)
}
