/**
 * The IAM requests one API call is authorized as: its action, the resource ARN AWS forms for that
 * action and the condition keys the service sets, following the Service Authorization Reference
 * ("Actions, resources, and condition keys for <service>": each action's resource types and their
 * ARN formats). A call on no resource type (cloudfront:ListDistributions, a DescribeStacks of every
 * stack) is authorized on `*`.
 */
import type { AuthzRequest } from './iam-authz.ts'
import { jsonBody, type Service, type ServiceRequest } from './service.ts'
import { findStack, type AwsState } from './state.ts'

export interface RequestSite {
  state: AwsState
  region: string
  /** The caller's account: the account of the resources it names. */
  account: string
  /** The call's summarized parameters (StackName, Bucket/Key, Name/Path...). */
  params: Record<string, string>
}

type Former = (iamAction: string, req: ServiceRequest, site: RequestSite) => AuthzRequest[]

// SSM: resource type parameter, arn:${Partition}:ssm:${Region}:${Account}:parameter/${ParameterNameWithoutLeadingSlash};
// GetParametersByPath is authorized on the path as a parameter ARN; GetParameters on each name.
const ssmRequests: Former = (action, req, { region, account, params }) => {
  const arn = (name: string): string => `arn:aws:ssm:${region}:${account}:parameter/${name.replace(/^\//, '')}`
  const body = jsonBody(req)
  const names = Array.isArray(body.Names) ? body.Names.map(String) : [ params.Name ?? params.Path ].filter((n): n is string => !!n)
  return names.length ? names.map(n => ({ action, resource: arn(n) })) : [ { action, resource: '*' } ]
}

// S3: bucket arn:${Partition}:s3:::${BucketName}, object arn:${Partition}:s3:::${BucketName}/${ObjectName};
// s3:ResourceAccount is the bucket owner's account (set for requests on an existing bucket).
const s3Requests: Former = (action, _req, { state, params }) => {
  if (!params.Bucket) return [ { action, resource: '*' } ]
  const owner = state.buckets.get(params.Bucket)?.owner
  const objectAction = /Object/.test(action) && params.Key !== undefined
  const resource = `arn:aws:s3:::${params.Bucket}${objectAction ? `/${params.Key}` : ''}`
  return [ { action, resource, ...(owner && action !== 's3:CreateBucket' ? { context: { 's3:ResourceAccount': owner } } : {}) } ]
}

// CloudFormation: stack arn:${Partition}:cloudformation:${Region}:${Account}:stack/${StackName}/${Id}
// (the Id a wildcard for a stack that does not exist yet); DescribeStacks of all stacks, ListStacks: `*`.
const cfnRequests: Former = (action, _req, { state, region, account, params }) => {
  const name = params.StackName
  if (!name) return [ { action, resource: '*' } ]
  const stack = findStack(state, account, name)
  return [ { action, resource: stack?.StackId ?? `arn:aws:cloudformation:${region}:${account}:stack/${name}/*` } ]
}

// CloudWatch Logs: log-group arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName};
// DescribeLogGroups is authorized on log-group:* (its prefix is not a resource).
const logsRequests: Former = (action, _req, { region, account, params }) => {
  const group = action === 'logs:DescribeLogGroups' ? '*' : params.logGroupName ?? '*'
  return [ { action, resource: `arn:aws:logs:${region}:${account}:log-group:${group}` } ]
}

const FORMERS: Record<string, Former> = { ssm: ssmRequests, s3: s3Requests, cloudformation: cfnRequests, logs: logsRequests }

/** The requests a call is authorized as (one per resource it names); `*` where the action has no resource type. */
export function requestsFor (svc: Service, iamAction: string, req: ServiceRequest, site: RequestSite): AuthzRequest[] {
  const former = FORMERS[svc.name]
  return former ? former(iamAction, req, site) : [ { action: iamAction, resource: '*' } ]
}
