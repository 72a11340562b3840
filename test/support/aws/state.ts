// In-memory state of the AWS stand-in: IAM per account (OIDC providers, roles), developer
// keys, STS sessions, and the resources of the services Architect uses.
import { randomBytes } from 'node:crypto'
import type { PolicyDocument } from './iam-policy.ts'

export interface OidcProvider {
  arn: string
  /** Issuer without scheme, e.g. '127.0.0.1:4321' or 'gitlab.example.com/path'. */
  url: string
  clientIds: string[]
}

export interface Role {
  arn: string
  name: string
  roleId: string // AROA…
  trustPolicy: PolicyDocument
  maxSessionDuration: number
  /**
   * IAM action patterns the role may use on any resource: a role registered directly by a test
   * (addRole). A role created from a template (CloudFormation) has `policies` instead.
   */
  permissions: string[]
  /** The role's identity policies and boundary as IAM stores them (roles CloudFormation created). */
  policies?: RoleIamPolicies
}

/** A role's permission policies: inline documents, attached managed policies and boundary, by ARN. */
export interface RoleIamPolicies {
  inline: Map<string, PolicyDocument>
  attached: string[]
  boundary?: string
}

export interface DeveloperKey {
  accessKeyId: string
  secretAccessKey: string
  userName: string
  arn: string
  permissions: string[]
  /** The account the key's user belongs to (default the home account). */
  accountId: string
}

export interface Session {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  expiration: number // epoch ms
  roleArn: string
  roleName: string
  sessionName: string
  durationSeconds: number
  assumedRoleArn: string
  assumedRoleId: string
  subject: string
  audience: string
  provider: string
  issuedAt: number
}

export interface S3Object {
  body: Buffer
  etag: string // quoted md5
  contentType?: string
  cacheControl?: string
  contentEncoding?: string
  lastModified: number
  metadata: Record<string, string>
}

export interface Bucket {
  name: string
  region: string
  /** The account that created the bucket (s3:ResourceAccount). */
  owner?: string
  created: number
  objects: Map<string, S3Object>
}

export interface Parameter {
  Name: string
  Type: string
  Value: string
  Version: number
  LastModifiedDate: number // epoch ms
  DataType: string
}

export interface StackResource {
  LogicalResourceId: string
  PhysicalResourceId: string
  ResourceType: string
  ResourceStatus: string
  Timestamp: number
  /** Its resolved properties as last applied (JSON), to tell an update from no change. */
  properties?: string
  /** What CloudFormation created for it (SAM resources expanded), to authorize its update and deletion. */
  expanded?: Array<{ logicalId: string, type: string, physicalId: string, properties: Record<string, unknown> }>
}

export interface Stack {
  StackName: string
  StackId: string
  Description?: string
  CreationTime: number
  LastUpdatedTime?: number
  StackStatus: string
  StackStatusReason?: string
  Capabilities: string[]
  Tags: Array<{ Key: string, Value: string }>
  Outputs: Array<{ OutputKey: string, OutputValue: string, Description?: string }>
  Resources: StackResource[]
  templateBody: string
  /** DescribeStacks calls left before an *_IN_PROGRESS status completes. */
  pendingPolls: number
  region: string
  /** The account the stack lives in (stack names are unique per account and region). */
  accountId: string
  /** Parameter values the stack was created or updated with. */
  Parameters: Array<{ ParameterKey: string, ParameterValue: string }>
  /** What CloudFormation recorded while it worked (DescribeStackEvents), newest first. */
  events: StackEvent[]
  /** Change sets of the stack, by name. */
  changeSets: Map<string, ChangeSet>
}

export interface StackEvent {
  EventId: string
  LogicalResourceId: string
  PhysicalResourceId: string
  ResourceType: string
  ResourceStatus: string
  ResourceStatusReason?: string
  Timestamp: number
}

export interface ChangeSet {
  ChangeSetId: string
  ChangeSetName: string
  ChangeSetType: 'CREATE' | 'UPDATE'
  Status: 'CREATE_COMPLETE' | 'FAILED'
  StatusReason?: string
  ExecutionStatus: 'AVAILABLE' | 'UNAVAILABLE' | 'EXECUTE_COMPLETE'
  templateBody: string
  Parameters: Array<{ ParameterKey: string, ParameterValue: string }>
  Capabilities: string[]
  CreationTime: number
}

export interface AuthzRecord {
  /** 'api': the caller's own call; 'cloudformation': a request CloudFormation made with the caller's permissions. */
  by: 'api' | 'cloudformation'
  principal: string
  action: string
  resource: string
  decision: 'allow' | 'explicit-deny' | 'implicit-deny'
}

/** One AWS account's IAM, as STS sees it: its own OIDC providers and roles. */
export interface IamAccount {
  id: string
  providers: Map<string, OidcProvider> // by url
  roles: Map<string, Role> // by ARN
  /** Customer managed policies (permissions boundaries...), by ARN. */
  policies: Map<string, PolicyDocument>
}

export interface AwsState {
  /** The home account: developer keys' users and the resources' ARNs. */
  accountId: string
  /** IAM of every account the stand-in serves (the home account first), by account ID. */
  accounts: Map<string, IamAccount>
  developerKeys: Map<string, DeveloperKey>
  sessions: Map<string, Session> // by access key id
  buckets: Map<string, Bucket>
  /** SSM parameters of each account (Parameter Store is per account and region), by account ID, then name. */
  parameters: Map<string, Map<string, Parameter>>
  /** By `<account>/<name>` (stackKey): each account has its own stack names. */
  stacks: Map<string, Stack>
  /** Every authorization the stand-in decided, in order: a call's own, or CloudFormation's acting for its caller. */
  authz: AuthzRecord[]
  settings: {
    /** DescribeStacks calls answered *_IN_PROGRESS before a stack completes (Architect polls once a second). */
    stackPendingPolls: number
  }
}

export function createState (accountId: string): AwsState {
  return {
    accountId,
    accounts: new Map([ [ accountId, { id: accountId, providers: new Map(), roles: new Map(), policies: new Map() } ] ]),
    developerKeys: new Map(),
    sessions: new Map(),
    buckets: new Map(),
    parameters: new Map(),
    stacks: new Map(),
    authz: [],
    settings: { stackPendingPolls: 0 },
  }
}

const ACCOUNT_ID_RE = /^\d{12}$/

/** The IAM of an account, added to the stand-in on first use (a 12-digit ID only). */
export function iamAccount (state: AwsState, id: string): IamAccount {
  if (!ACCOUNT_ID_RE.test(id)) throw new RangeError(`not an AWS account ID: ${id}`)
  let account = state.accounts.get(id)
  if (!account) {
    account = { id, providers: new Map(), roles: new Map(), policies: new Map() }
    state.accounts.set(id, account)
  }
  return account
}

/** An account's SSM parameters (created on first use). */
export function parametersOf (state: AwsState, accountId: string): Map<string, Parameter> {
  let map = state.parameters.get(accountId)
  if (!map) state.parameters.set(accountId, map = new Map())
  return map
}

/** The key of a stack in AwsState.stacks. */
export const stackKey = (accountId: string, name: string): string => `${accountId}/${name}`

/** A stack of an account by name or stack ID. */
export function findStack (state: AwsState, accountId: string, nameOrId: string): Stack | undefined {
  return state.stacks.get(stackKey(accountId, nameOrId)) ?? [ ...state.stacks.values() ].find(s => s.StackId === nameOrId)
}

/** The account ID an IAM or STS ARN names (its fifth field). */
export const accountOfArn = (arn: string): string => arn.split(':')[4] ?? ''

/** A role of any account the stand-in serves, by ARN. */
export const roleByArn = (state: AwsState, arn: string): Role | undefined => state.accounts.get(accountOfArn(arn))?.roles.get(arn)

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
/** Random upper-case base32 id, the alphabet IAM uses for key and role ids. */
export function iamId (prefix: string, length = 16): string {
  const bytes = randomBytes(length)
  let out = prefix
  for (const b of bytes) out += BASE32[b % 32]
  return out
}

export const newSecret = (): string => randomBytes(30).toString('base64')
export const newSessionToken = (): string => 'IQoJb3JpZ2luX2VjE' + randomBytes(420).toString('base64')
