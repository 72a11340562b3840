// An AWS stand-in on 127.0.0.1 for everything `arc` and the plugin talk to, at one
// endpoint (AWS_ENDPOINT_URL). Requests are routed by the service in the SigV4
// credential scope; unsigned AssumeRoleWithWebIdentity form POSTs go to STS.
// Every non-STS request must carry a valid SigV4 signature made with either a
// registered developer key or credentials STS issued (with their session token).
// IAM is modelled per account: each account has its own OIDC providers and roles, and STS
// issues credentials for a role of any of them (the assumed-role ARN in the role's account).
// The services' resources (buckets, parameters, stacks) are one pool, whatever the caller's account.
// The parts: aws/router.ts (the HTTP front), aws/auth.ts (signatures, permissions),
// aws/sts-front.ts (STS faults), aws/calls.ts (the call log), one module per service.
import type { PolicyDocument } from './aws/iam-policy.ts'
import { checkTrustPolicy } from './aws/iam-quotas.ts'
import { providerUrlOf } from './aws/oidc.ts'
import type { CallRecord } from './aws/calls.ts'
import { createHandler } from './aws/router.ts'
import { createState, iamAccount, iamId, newSecret, type DeveloperKey, type AwsState, type Session, type Stack } from './aws/state.ts'
import type { StsFault } from './aws/sts.ts'
import { StsFront } from './aws/sts-front.ts'
import { listenLoopback, type Loopback } from './loopback.ts'

export type { CallRecord } from './aws/calls.ts'
export type { StsFault } from './aws/sts.ts'
export type { PolicyDocument } from './aws/iam-policy.ts'
export { gitlabTrustPolicy } from './aws/iam-policy.ts'
export { signRequest } from './aws/sigv4.ts'

export interface Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export interface StartAwsOptions {
  port?: number
  /** The home account: developer keys, and where addOidcProvider/addRole put what names no account (default 111111111111). */
  accountId?: string
  /** Region used where a request does not say (default us-west-2). */
  region?: string
  /** DescribeStacks polls a new/updated stack stays *_IN_PROGRESS (default 0: completes at once). */
  stackPendingPolls?: number
  /** Called with a one-line summary of every request. */
  log?: (line: string) => void
}

export interface DeveloperKeyOptions {
  accessKeyId?: string
  secretAccessKey?: string
  userName?: string
  permissions?: string[]
  /** The account of the key's user (default the home account). */
  accountId?: string
}

export interface AwsStandIn {
  /** http://127.0.0.1:<port>: use as AWS_ENDPOINT_URL. */
  endpoint: string
  /** The home account. */
  accountId: string
  state: AwsState
  /** Register an IAM OIDC identity provider (issuer URL, audiences) in an account (default the home account). Returns its ARN. */
  addOidcProvider (opts: { url: string, clientIds: string[], accountId?: string }): string
  /** Register a role with a trust policy in an account (default the home account). Returns its ARN. */
  addRole (opts: {
    name: string
    trustPolicy: PolicyDocument | string
    maxSessionDuration?: number
    permissions?: string[]
    accountId?: string
  }): string
  /** Register long-term "developer" keys (AKIA…, no session token). */
  addDeveloperKey (opts?: DeveloperKeyOptions): Credentials
  /** Faults for the next STS requests, one per request, in order. */
  injectStsFaults (...faults: StsFault[]): void
  /** A fault applied to every STS request until cleared with null (after queued ones run out). */
  setStsFault (fault: StsFault | null): void
  /** Make issued STS credentials expire now (all of them without an argument). */
  expireCredentials (accessKeyId?: string): void
  calls: CallRecord[]
  stsCalls (): CallRecord[]
  awsCalls (): CallRecord[]
  /** `service:Action` of every non-STS call, in order. */
  callNames (): string[]
  clearCalls (): void
  /** Calls the stand-in does not implement (answered 400 NotImplementedByStandIn): should be none. */
  unimplementedCalls (): CallRecord[]
  /** Names of the stacks that exist now (in any account). */
  readonly stacks: string[]
  /** The stack of that name (in the given account, else the first account that has one). */
  stack (name: string, accountId?: string): Stack | undefined
  /** Sessions STS issued, in order. */
  readonly sessions: Session[]
  /** URLs the STS verifier fetched from issuers (discovery, JWKS). */
  readonly issuerFetches: string[]
  /** Forget cached issuer keys. */
  clearKeyCache (): void
  /** Where STS fetches a public issuer's discovery document and keys from (its loopback URL). */
  locateIssuer (issuer: string, loopbackUrl: string): void
  close (): Promise<void>
}

/** Start the AWS stand-in on 127.0.0.1 (random port unless given). */
export async function startAws (options: StartAwsOptions = {}): Promise<AwsStandIn> {
  const accountId = options.accountId ?? '111111111111'
  const state = createState(accountId)
  state.settings.stackPendingPolls = options.stackPendingPolls ?? 0
  const closing = new AbortController()
  const sts = new StsFront(state, closing.signal)
  const calls: CallRecord[] = []
  let seq = 0
  const handle = createHandler({ state, sts, calls, nextSeq: () => ++seq, defaultRegion: options.region ?? 'us-west-2', log: options.log })
  const loopback = await listenLoopback((req, res) => {
    handle(req, res).catch(err => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(String(err))
      }
    })
  }, options.port)
  return standIn(state, sts, calls, loopback, closing)
}

/** What tests do with a running stand-in: register IAM resources, inject faults, read the call log. */
function standIn (state: AwsState, sts: StsFront, calls: CallRecord[], loopback: Loopback, closing: AbortController): AwsStandIn {
  const accountId = state.accountId
  return {
    endpoint: loopback.url,
    accountId,
    state,
    addOidcProvider ({ url, clientIds, accountId: id = accountId }) {
      const providerUrl = providerUrlOf(url)
      const arn = `arn:aws:iam::${id}:oidc-provider/${providerUrl}`
      iamAccount(state, id).providers.set(providerUrl, { arn, url: providerUrl, clientIds: [ ...clientIds ] })
      return arn
    },
    addRole ({ name, trustPolicy, maxSessionDuration = 3600, permissions = [ '*' ], accountId: id = accountId }) {
      if (maxSessionDuration < 3600 || maxSessionDuration > 43200) throw new RangeError('MaxSessionDuration must be 3600..43200')
      const arn = `arn:aws:iam::${id}:role/${name}`
      checkTrustPolicy(trustPolicy) // as IAM's CreateRole would
      const policy = typeof trustPolicy === 'string' ? JSON.parse(trustPolicy) as PolicyDocument : trustPolicy
      iamAccount(state, id).roles.set(arn, { arn, name: name.split('/').pop()!, roleId: iamId('AROA', 17), trustPolicy: policy, maxSessionDuration, permissions })
      return arn
    },
    addDeveloperKey (opts = {}) {
      const key: DeveloperKey = {
        accessKeyId: opts.accessKeyId ?? iamId('AKIA'),
        secretAccessKey: opts.secretAccessKey ?? newSecret(),
        userName: opts.userName ?? 'developer',
        arn: `arn:aws:iam::${opts.accountId ?? accountId}:user/${opts.userName ?? 'developer'}`,
        permissions: opts.permissions ?? [ '*' ],
        accountId: opts.accountId ?? accountId,
      }
      state.developerKeys.set(key.accessKeyId, key)
      return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }
    },
    injectStsFaults (...faults) { sts.inject(...faults) },
    setStsFault (fault) { sts.set(fault) },
    expireCredentials (accessKeyId) {
      for (const s of state.sessions.values()) {
        if (!accessKeyId || s.accessKeyId === accessKeyId) s.expiration = Date.now() - 1000
      }
    },
    calls,
    stsCalls: () => calls.filter(c => c.service === 'sts'),
    awsCalls: () => calls.filter(c => c.service !== 'sts'),
    callNames: () => calls.filter(c => c.service !== 'sts').map(c => `${c.service}:${c.action}`),
    clearCalls () { calls.length = 0 },
    unimplementedCalls: () => calls.filter(c => c.errorCode === 'NotImplementedByStandIn' || c.errorCode === 'StandInInternalError'),
    get stacks () { return [ ...new Set([ ...state.stacks.values() ].map(st => st.StackName)) ] },
    stack: (name, id) => [ ...state.stacks.values() ].find(st => st.StackName === name && (!id || st.accountId === id)),
    get sessions () { return [ ...state.sessions.values() ] },
    get issuerFetches () { return sts.sts.verifier.fetches },
    clearKeyCache () { sts.sts.verifier.clearCache() },
    locateIssuer (issuer, loopbackUrl) { sts.sts.verifier.hosts.set(issuer.replace(/\/+$/, ''), loopbackUrl) },
    async close () {
      closing.abort()
      await loopback.close()
    },
  }
}

/** Environment for a process that should talk to the stand-in with the given credentials. */
export function awsEnv (aws: Pick<AwsStandIn, 'endpoint'>, creds?: Credentials): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: aws.endpoint,
    ...(creds ? { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey } : {}),
    ...(creds?.sessionToken ? { AWS_SESSION_TOKEN: creds.sessionToken } : {}),
  }
}
