/**
 * What Architect's own packager (@architect/inventory + @architect/package, the code
 * `arc deploy` runs) generates for an app: the runtime roles of its functions with every inline
 * policy granted to them (the Role's Policies, AWS::IAM::Policy resources naming it), resolved
 * for a given stack the way CloudFormation would, and the concrete resources of that stack
 * (functions, log groups, tables and streams, topics, queues, static bucket, /<stack> parameters,
 * WebSocket connections), named the way CloudFormation names them.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PolicyDocument } from './aws/iam-policy.ts'
import { get, isObject, type Json, type JsonObject } from './cfn-template.ts'

const require = createRequire(import.meta.url)

/** An app using every pragma that makes Architect generate IAM: @http @ws @events @queues @tables @tables-streams @scheduled @static. */
export const FULL_APP = [
  '@app', 'oidc-example', '@http', 'get /', '@ws', '@events', 'deployed', '@queues', 'work',
  '@tables', 'things', '  id *String', '@tables-streams', 'things', '@scheduled', 'nightly rate(1 day)',
  '@static', '@aws', 'region us-west-2', 'runtime nodejs22.x', '',
].join('\n')

export interface PackagedApp {
  stackName: string
  sam: { Resources: Record<string, JsonObject> }
  /** runtime roles by logical ID: their name and every inline policy granted to them */
  roles: Record<string, { name: string, arn: string, trust: Json, policies: PolicyDocument[] }>
  /** ARNs of the stack's resources a function or scheduler touches at run time */
  resources: string[]
}

export interface PackageOptions { stage: 'staging' | 'production', stackName: string, account: string, region: string, rawArc?: string }

export async function packageApp (opts: PackageOptions): Promise<PackagedApp> {
  const inventory = require('@architect/inventory') as (p: object) => Promise<unknown>
  const pkg = require('@architect/package') as (inv: unknown) => { Resources: Record<string, JsonObject> }
  const cwd = mkdtempSync(join(tmpdir(), 'arc-pkg-'))
  try {
    const inv = await inventory({ rawArc: opts.rawArc ?? FULL_APP, deployStage: opts.stage, cwd })
    const sam = pkg(inv)
    const r = new Resolver(sam.Resources, opts)
    const roles: PackagedApp['roles'] = {}
    for (const [ id, res ] of Object.entries(sam.Resources)) {
      if (res.Type !== 'AWS::IAM::Role') continue
      const inline = (get(res, 'Properties', 'Policies') as Json[] | undefined ?? []).map(p => get(p, 'PolicyDocument') as Json)
      const attachedHere = Object.values(sam.Resources)
        .filter(p => p.Type === 'AWS::IAM::Policy' && JSON.stringify(get(p, 'Properties', 'Roles')) === JSON.stringify([ { Ref: id } ]))
        .map(p => get(p, 'Properties', 'PolicyDocument') as Json)
      const name = r.physicalId(id)
      roles[id] = { name, arn: r.getAtt(id, 'Arn'), trust: r.eval(get(res, 'Properties', 'AssumeRolePolicyDocument') ?? null), policies: [ ...inline, ...attachedHere ].map(d => r.eval(d) as unknown as PolicyDocument) }
    }
    return { stackName: opts.stackName, sam, roles, resources: r.runtimeResources() }
  }
  finally {
    rmSync(cwd, { recursive: true, force: true })
  }
}

/** CloudFormation's <stack>-<LogicalId>-<random> physical names, and the intrinsics Architect's policies use. */
class Resolver {
  readonly resources: Record<string, JsonObject>
  readonly o: PackageOptions
  constructor (resources: Record<string, JsonObject>, o: PackageOptions) {
    this.resources = resources
    this.o = o
  }

  type (id: string): string {
    const t = this.resources[id]?.Type
    assert.ok(typeof t === 'string', `no resource ${id}`)
    return t
  }

  physicalId (id: string): string {
    const type = this.type(id)
    if (type === 'AWS::S3::Bucket') return `${this.o.stackName}-${id}-1a2b3c4d5e6f`.toLowerCase()
    if (type === 'AWS::ApiGatewayV2::Api' || type === 'AWS::Serverless::HttpApi') return `${id.toLowerCase()}0api1`
    const suffix = type === 'AWS::SQS::Queue' && get(this.resources[id], 'Properties', 'FifoQueue') === true ? '.fifo' : ''
    return `${this.o.stackName}-${id}-A1B2C3D4E5F6${suffix}`
  }

  arn (service: string, resource: string): string {
    return `arn:aws:${service}:${this.o.region}:${this.o.account}:${resource}`
  }

  ref (id: string): string {
    if (id === 'AWS::Region') return this.o.region
    if (id === 'AWS::AccountId') return this.o.account
    if (id === 'AWS::StackName') return this.o.stackName
    if (id === 'AWS::Partition') return 'aws'
    const type = this.type(id)
    if (type === 'AWS::SNS::Topic') return this.arn('sns', this.physicalId(id))
    if (type === 'AWS::SQS::Queue') return `https://sqs.${this.o.region}.amazonaws.com/${this.o.account}/${this.physicalId(id)}`
    return this.physicalId(id)
  }

  getAtt (id: string, attr: string): string {
    const type = this.type(id)
    const name = this.physicalId(id)
    if (type === 'AWS::IAM::Role' && attr === 'Arn') return `arn:aws:iam::${this.o.account}:role/${name}`
    if (type === 'AWS::Serverless::Function' && attr === 'Arn') return this.arn('lambda', `function:${name}`)
    if (type === 'AWS::DynamoDB::Table' && attr === 'Arn') return this.arn('dynamodb', `table/${name}`)
    if (type === 'AWS::DynamoDB::Table' && attr === 'StreamArn') return this.arn('dynamodb', `table/${name}/stream/2025-01-01T00:00:00.000`)
    if (type === 'AWS::SQS::Queue' && attr === 'Arn') return this.arn('sqs', name)
    throw new Error(`GetAtt ${id}.${attr} (${type}) is not modelled`)
  }

  sub (text: string, vars: Record<string, string>): string {
    return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
      if (name in vars) return vars[name] as string
      if (name.includes('.') && !name.startsWith('AWS::')) {
        const [ id, attr ] = name.split('.') as [string, string]
        return this.getAtt(id, attr)
      }
      return this.ref(name)
    })
  }

  eval (node: Json): Json {
    if (Array.isArray(node)) return node.map(n => this.eval(n))
    if (!isObject(node)) return node
    const keys = Object.keys(node)
    if (keys.length === 1 && keys[0] === 'Ref') return this.ref(node.Ref as string)
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const [ id, attr ] = node['Fn::GetAtt'] as [string, string]
      return this.getAtt(id, attr)
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub') {
      const arg = node['Fn::Sub'] as Json
      if (typeof arg === 'string') return this.sub(arg, {})
      const [ text, map ] = arg as [string, JsonObject]
      const vars: Record<string, string> = {}
      for (const [ k, v ] of Object.entries(map)) vars[k] = this.eval(v) as string
      return this.sub(text, vars)
    }
    if (keys.length === 1 && keys[0]?.startsWith('Fn::')) throw new Error(`${keys[0]} is not modelled`)
    const out: JsonObject = {}
    for (const [ k, v ] of Object.entries(node)) out[k] = this.eval(v)
    return out
  }

  /** The ARNs code of this stack works with at run time, one or more per resource. */
  runtimeResources (): string[] {
    const out: string[] = [ this.arn('ssm', `parameter/${this.o.stackName}`) ]
    for (const [ id, res ] of Object.entries(this.resources)) {
      switch (res.Type) {
        case 'AWS::Serverless::Function': {
          const fn = this.physicalId(id)
          out.push(this.getAtt(id, 'Arn'), this.arn('logs', `log-group:/aws/lambda/${fn}`), this.arn('logs', `log-group:/aws/lambda/${fn}:log-stream:2025/01/01/[$LATEST]0123abcd`))
          break
        }
        case 'AWS::DynamoDB::Table': out.push(this.getAtt(id, 'Arn'), this.getAtt(id, 'StreamArn'), `${this.getAtt(id, 'Arn')}/index/byName`); break
        case 'AWS::SNS::Topic': out.push(this.ref(id)); break
        case 'AWS::SQS::Queue': out.push(this.getAtt(id, 'Arn')); break
        case 'AWS::S3::Bucket': out.push(`arn:aws:s3:::${this.physicalId(id)}`, `arn:aws:s3:::${this.physicalId(id)}/index.html`); break
        case 'AWS::SSM::Parameter': out.push(this.arn('ssm', `parameter${this.eval(get(res, 'Properties', 'Name') ?? null) as string}`)); break
        case 'AWS::ApiGatewayV2::Stage': {
          const api = this.eval(get(res, 'Properties', 'ApiId') ?? null) as string
          out.push(this.arn('execute-api', `${api}/${get(res, 'Properties', 'StageName') as string}/POST/@connections/abcDEF123=`))
          break
        }
      }
    }
    return out
  }
}
