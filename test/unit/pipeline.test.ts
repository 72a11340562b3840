/**
 * The example app's deployment pipeline: the CloudFormation template that creates
 * the GitLab OIDC provider and the deploy roles (example-app/iam/gitlab-oidc.yaml),
 * and the GitLab CI configuration (example-app/.gitlab-ci.yml).
 *
 * - The template's trust policies are evaluated (a small CloudFormation intrinsic
 *   evaluator below) and compared with what src/trust-policy.ts generates for the
 *   same inputs, so the template and `arc-gitlab-oidc trust-policy` cannot drift.
 * - Its permissions are checked against what Architect's own packager generates.
 * - .gitlab-ci.yml is validated against GitLab's CI JSON schema by gitlab-ci-local,
 *   which bundles that schema (no network), and its rules are evaluated by it.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { buildTrustPolicy, providerArn, validateProjectPath, type TrustPolicyOptions } from '../../src/trust-policy.ts'
import { DEFAULTS } from '../../src/settings.ts'
import { DEFAULT_TOKEN_VARIABLE } from '../../src/token.ts'

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('../../', import.meta.url))
const appDir = join(root, 'example-app')
const templatePath = join(appDir, 'iam', 'gitlab-oidc.yaml')
const ciPath = join(appDir, '.gitlab-ci.yml')

/* ------------------------------------------------------------------------ */
/* YAML with CloudFormation's short-form tags                                */
/* ------------------------------------------------------------------------ */

// The YAML parser Architect's own parser ships (js-yaml 4).
interface YamlType { readonly tag: string }
interface YamlSchema { extend (types: YamlType[]): YamlSchema }
interface JsYaml {
  Type: new (tag: string, options: { kind: 'scalar' | 'sequence' | 'mapping'; construct: (data: unknown) => unknown }) => YamlType
  DEFAULT_SCHEMA: YamlSchema
  load (text: string, options?: { schema?: YamlSchema; filename?: string }): unknown
}
const yaml = require('@architect/parser/src/compat/vendor/js-yaml.min.js') as JsYaml

const cfnTags: [string, 'scalar' | 'sequence' | 'mapping'][] = [
  [ 'Ref', 'scalar' ], [ 'Condition', 'scalar' ], [ 'Sub', 'scalar' ], [ 'Sub', 'sequence' ],
  [ 'GetAtt', 'scalar' ], [ 'GetAtt', 'sequence' ], [ 'If', 'sequence' ], [ 'Select', 'sequence' ],
  [ 'Split', 'sequence' ], [ 'Join', 'sequence' ], [ 'Equals', 'sequence' ], [ 'Not', 'sequence' ],
  [ 'And', 'sequence' ], [ 'Or', 'sequence' ], [ 'FindInMap', 'sequence' ], [ 'Base64', 'scalar' ],
]
const cfnSchema = yaml.DEFAULT_SCHEMA.extend(cfnTags.map(([ name, kind ]) => new yaml.Type(`!${name}`, {
  kind,
  construct: data => {
    if (name === 'Ref' || name === 'Condition') return { [name]: data }
    if (name === 'GetAtt' && typeof data === 'string') return { 'Fn::GetAtt': data.split('.') }
    return { [`Fn::${name}`]: data }
  },
})))

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

function isObject (v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function get (v: Json | undefined, ...path: (string | number)[]): Json | undefined {
  let cur: Json | undefined = v
  for (let key of path) {
    if (Array.isArray(cur) && typeof key === 'number') cur = cur[key]
    else if (isObject(cur) && typeof key === 'string') cur = cur[key]
    else return undefined
  }
  return cur
}

const template = yaml.load(readFileSync(templatePath, 'utf8'), { schema: cfnSchema, filename: templatePath }) as JsonObject

/* ------------------------------------------------------------------------ */
/* A small evaluator for the intrinsic functions the template uses           */
/* ------------------------------------------------------------------------ */

interface Deployment {
  params: Record<string, string>
  account: string
  partition: string
  region?: string
}

class Stack {
  readonly values: Record<string, string>
  readonly conditions: Record<string, boolean> = {}
  readonly d: Deployment
  constructor (d: Deployment) {
    this.d = d
    let declared = (template.Parameters ?? {}) as JsonObject
    this.values = {}
    for (let [ name, decl ] of Object.entries(declared)) {
      let given = d.params[name]
      let def = get(decl, 'Default')
      let value = given ?? (typeof def === 'string' ? def : undefined)
      assert.ok(value !== undefined, `parameter ${name} has no default and was not given`)
      let pattern = get(decl, 'AllowedPattern')
      if (typeof pattern === 'string') assert.match(value, new RegExp(pattern), `${name}=${value} violates its AllowedPattern`)
      let allowed = get(decl, 'AllowedValues')
      if (Array.isArray(allowed)) assert.ok(allowed.includes(value), `${name}=${value} not in AllowedValues`)
      this.values[name] = value
    }
    for (let name of Object.keys(d.params)) assert.ok(name in declared, `unknown parameter ${name}`)
    Object.assign(this.values, {
      'AWS::AccountId': d.account,
      'AWS::Partition': d.partition,
      'AWS::Region': d.region ?? 'us-west-2',
      'AWS::StackName': 'gitlab-oidc',
    })
    for (let [ name, expr ] of Object.entries((template.Conditions ?? {}) as JsonObject)) {
      this.conditions[name] = this.eval(expr) as unknown as boolean
    }
  }

  resourceExists (logicalId: string): boolean {
    let cond = get(template, 'Resources', logicalId, 'Condition')
    return typeof cond !== 'string' || this.conditions[cond] === true
  }

  // What Ref returns for a resource.
  ref (logicalId: string): string {
    assert.ok(this.resourceExists(logicalId), `Ref to ${logicalId}, which this deployment does not create`)
    let type = get(template, 'Resources', logicalId, 'Type')
    if (type === 'AWS::IAM::OIDCProvider') {
      // Ref of an OIDC provider is its ARN: the provider URL without its scheme.
      let url = this.eval(get(template, 'Resources', logicalId, 'Properties', 'Url') ?? null) as string
      return `arn:${this.d.partition}:iam::${this.d.account}:oidc-provider/${url.replace(/^https:\/\//, '')}`
    }
    if (type === 'AWS::IAM::Role') return this.eval(get(template, 'Resources', logicalId, 'Properties', 'RoleName') ?? null) as string
    throw new Error(`Ref to ${String(type)} is not modelled`)
  }

  getAtt (logicalId: string, attr: string): string {
    let type = get(template, 'Resources', logicalId, 'Type')
    if (type === 'AWS::IAM::Role' && attr === 'Arn') return `arn:${this.d.partition}:iam::${this.d.account}:role/${this.ref(logicalId)}`
    throw new Error(`GetAtt ${logicalId}.${attr} is not modelled`)
  }

  sub (text: string, vars: Record<string, string>): string {
    return text.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`
      if (name in vars) return vars[name] as string
      if (name in this.values) return this.values[name] as string
      if (name.includes('.')) {
        let [ id, attr ] = name.split('.') as [string, string]
        return this.getAtt(id, attr)
      }
      if (get(template, 'Resources', name) !== undefined) return this.ref(name)
      throw new Error(`Fn::Sub: unknown variable \${${name}}`)
    })
  }

  eval (node: Json): Json {
    if (Array.isArray(node)) return node.map(n => this.eval(n))
    if (!isObject(node)) return node
    let keys = Object.keys(node)
    let key = keys[0]
    if (keys.length === 1 && key !== undefined && (key === 'Ref' || key === 'Condition' || key.startsWith('Fn::'))) {
      let arg = node[key] as Json
      switch (key) {
        case 'Ref': {
          let name = arg as string
          if (name in this.values) return this.values[name] as string
          return this.ref(name)
        }
        case 'Condition': return this.conditions[arg as string] ?? assert.fail(`unknown condition ${String(arg)}`)
        case 'Fn::Sub': {
          if (typeof arg === 'string') return this.sub(arg, {})
          let [ text, varMap ] = arg as [string, JsonObject]
          let vars: Record<string, string> = {}
          for (let [ k, v ] of Object.entries(varMap)) vars[k] = this.eval(v) as string
          return this.sub(text, vars)
        }
        case 'Fn::If': {
          let [ cond, yes, no ] = arg as [string, Json, Json]
          assert.ok(cond in this.conditions, `unknown condition ${cond}`)
          return this.conditions[cond] ? this.eval(yes) : this.eval(no)
        }
        case 'Fn::Select': {
          let [ index, list ] = arg as [Json, Json]
          let items = this.eval(list) as Json[]
          let item = items[Number(this.eval(index))]
          assert.ok(item !== undefined, 'Fn::Select index out of range')
          return item
        }
        case 'Fn::Split': {
          let [ sep, text ] = arg as [string, Json]
          return (this.eval(text) as string).split(sep)
        }
        case 'Fn::Join': {
          let [ sep, list ] = arg as [string, Json]
          return (this.eval(list) as string[]).join(sep)
        }
        case 'Fn::Equals': {
          let [ a, b ] = arg as [Json, Json]
          return this.eval(a) === this.eval(b)
        }
        case 'Fn::Not': return !(this.eval((arg as Json[])[0] ?? null) as boolean)
        case 'Fn::And': return (arg as Json[]).every(a => this.eval(a) === true)
        case 'Fn::Or': return (arg as Json[]).some(a => this.eval(a) === true)
        case 'Fn::GetAtt': {
          let [ id, attr ] = arg as [string, string]
          return this.getAtt(id, attr)
        }
        default: throw new Error(`${key} is not modelled`)
      }
    }
    let out: JsonObject = {}
    for (let [ k, v ] of Object.entries(node)) out[k] = this.eval(v)
    return out
  }

  resource (logicalId: string): JsonObject {
    let res = get(template, 'Resources', logicalId)
    assert.ok(isObject(res), `no resource ${logicalId}`)
    return this.eval(res) as JsonObject
  }

  // A trust policy written as a JSON string inside Fn::Sub (for its dynamic keys).
  trustPolicy (roleId: string): Json {
    let doc = get(this.resource(roleId), 'Properties', 'AssumeRolePolicyDocument')
    return typeof doc === 'string' ? JSON.parse(doc) as Json : doc ?? null
  }

  permissions (roleId: string): Statement[] {
    let policies = get(this.resource(roleId), 'Properties', 'Policies')
    assert.ok(Array.isArray(policies))
    return policies.flatMap(p => get(p, 'PolicyDocument', 'Statement') as unknown as Statement[])
  }
}

interface Statement {
  Sid?: string
  Effect: string
  Action: string | string[]
  Resource: string | string[]
  Condition?: JsonObject
}

/* ------------------------------------------------------------------------ */
/* Deployments to test                                                       */
/* ------------------------------------------------------------------------ */

const app = { AppName: 'oidc-example', AppStackPrefix: 'OidcExample' }

const deployments: { name: string; d: Deployment }[] = [
  {
    name: 'gitlab.com, defaults, new provider',
    d: { account: '111111111111', partition: 'aws', params: { ...app, ProjectPath: 'my-group/oidc-example' } },
  },
  {
    name: 'self-managed GitLab under a path, custom audience, existing provider, aws-cn',
    d: {
      account: '210987654321',
      partition: 'aws-cn',
      params: {
        ...app,
        GitLabUrl: 'https://git.example.org/gitlab',
        Audience: 'arc-deploy',
        ProjectPath: 'platform/web/shop',
        DefaultBranch: 'release/prod',
        CreateOidcProvider: 'false',
      },
    },
  },
  {
    name: 'self-managed GitLab, new provider with a custom audience',
    d: {
      account: '123456789012',
      partition: 'aws-us-gov',
      params: { ...app, GitLabUrl: 'https://gitlab.example.com', Audience: 'sts.amazonaws.com', ProjectPath: 'a/b', DefaultBranch: 'trunk' },
    },
  },
]

function optionsFor (stack: Stack): Omit<TrustPolicyOptions, 'branches'> {
  let v = stack.values
  return {
    project: v.ProjectPath as string,
    issuer: v.GitLabUrl as string,
    ...(v.Audience ? { audience: v.Audience } : {}),
    account: stack.d.account,
    partition: stack.d.partition,
  }
}

describe('example-app/iam/gitlab-oidc.yaml', () => {
  it('declares the parameters and outputs the setup notes describe', () => {
    let params = Object.keys((template.Parameters ?? {}) as JsonObject)
    for (let p of [ 'GitLabUrl', 'Audience', 'ProjectPath', 'DefaultBranch', 'AppName', 'CreateOidcProvider' ]) {
      assert.ok(params.includes(p), `parameter ${p}`)
    }
    assert.equal(get(template, 'Parameters', 'GitLabUrl', 'Default'), 'https://gitlab.com')
    assert.deepEqual(get(template, 'Outputs', 'StagingRoleArn', 'Value'), { 'Fn::GetAtt': [ 'StagingDeployRole', 'Arn' ] })
    assert.deepEqual(get(template, 'Outputs', 'ProductionRoleArn', 'Value'), { 'Fn::GetAtt': [ 'ProductionDeployRole', 'Arn' ] })
  })

  for (let { name, d } of deployments) {
    it(`trust policies equal trust-policy.ts output (${name})`, () => {
      let stack = new Stack(d)
      let opts = optionsFor(stack)
      assert.deepEqual(stack.trustPolicy('ProductionDeployRole'), buildTrustPolicy({ ...opts, branches: [ stack.values.DefaultBranch as string ] }))
      assert.deepEqual(stack.trustPolicy('StagingDeployRole'), buildTrustPolicy({ ...opts, branches: [ '*' ] }))

      let createsProvider = stack.values.CreateOidcProvider === 'true'
      assert.equal(stack.resourceExists('GitLabOidcProvider'), createsProvider)
      let expectedProvider = providerArn({ account: d.account, partition: d.partition, issuer: opts.issuer })
      assert.equal(stack.eval(get(template, 'Outputs', 'OidcProviderArn', 'Value') ?? null), expectedProvider)
      if (createsProvider) {
        let provider = stack.resource('GitLabOidcProvider')
        assert.equal(get(provider, 'Properties', 'Url'), opts.issuer)
        assert.deepEqual(get(provider, 'Properties', 'ClientIdList'), [ opts.audience ?? opts.issuer ], 'the audience is registered')
        assert.equal((get(provider, 'Properties', 'ThumbprintList') as Json[]).length, 1, 'CloudFormation still requires a thumbprint')
      }
    })
  }

  it('names the roles app.arc uses, with MaxSessionDuration above the plugin\'s default duration', () => {
    let arc = require('@architect/parser')(readFileSync(join(appDir, 'app.arc'), 'utf8')) as { app: string[]; 'gitlab-oidc': [string, string][] }
    let { toLogicalID } = require('@architect/utils') as { toLogicalID: (s: string) => string }
    let appName = arc.app[0] as string
    assert.equal(app.AppName, appName)
    assert.equal(app.AppStackPrefix, toLogicalID(appName), 'AppStackPrefix is Architect\'s stack name prefix')
    let roles = Object.fromEntries(arc['gitlab-oidc'])
    let stack = new Stack({ account: '111111111111', partition: 'aws', params: { ...app, ProjectPath: 'my-group/oidc-example' } })
    assert.equal(stack.eval(get(template, 'Outputs', 'StagingRoleArn', 'Value') ?? null), roles['staging-role'])
    assert.equal(stack.eval(get(template, 'Outputs', 'ProductionRoleArn', 'Value') ?? null), roles['production-role'])
    for (let role of [ 'StagingDeployRole', 'ProductionDeployRole' ]) {
      let max = get(stack.resource(role), 'Properties', 'MaxSessionDuration')
      assert.equal(typeof max, 'number')
      assert.ok((max as number) >= DEFAULTS.duration && (max as number) <= 43200, `${role} MaxSessionDuration ${String(max)}`)
    }
  })

  it('ProjectPath AllowedPattern agrees with validateProjectPath', () => {
    let pattern = new RegExp(get(template, 'Parameters', 'ProjectPath', 'AllowedPattern') as string)
    let samples = [ 'a/b', 'Acme_Corp/sub.group/my-shop_2', 'shop', '/a/b', 'a/b/', 'a//b', 'https://gitlab.com/a/b', '-a/b', 'a/*' ]
    for (let s of samples) {
      let ok = true
      try { validateProjectPath(s) }
      catch { ok = false }
      assert.equal(pattern.test(s), ok, s)
    }
  })
})

/* ------------------------------------------------------------------------ */
/* Permissions: what Architect needs, per stage, and nothing of the other    */
/* ------------------------------------------------------------------------ */

function wildcard (pattern: string, value: string): boolean {
  let re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${re}$`).test(value)
}

function list (v: string | string[]): string[] {
  return Array.isArray(v) ? v : [ v ]
}

// Action/resource matching; a statement's Condition is taken as satisfied
// (the only conditions in the template narrow PassRole and event source mappings).
function allows (statements: Statement[], action: string, resource: string): boolean {
  return statements.some(s => s.Effect === 'Allow' &&
    list(s.Action).some(a => wildcard(a.toLowerCase(), action.toLowerCase())) &&
    list(s.Resource).some(r => wildcard(r, resource)))
}

const account = '111111111111'
const region = 'us-west-2'

// What an Architect deploy of stage `Stage` (stack <prefix><Stage>) does with each
// resource type it packages, as (action, resource) pairs. Names follow
// CloudFormation's <stack>-<LogicalId>-<random> scheme.
function needsFor (stage: 'Staging' | 'Production'): Record<string, [string, string][]> {
  let stack = `OidcExample${stage}`
  let lower = stack.toLowerCase()
  let fn = `arn:aws:lambda:${region}:${account}:function:${stack}-GetIndexHTTPLambda-AbC123`
  return {
    'AWS::IAM::Role': [
      [ 'iam:CreateRole', `arn:aws:iam::${account}:role/${stack}-Role-AbC123` ],
      [ 'iam:PutRolePolicy', `arn:aws:iam::${account}:role/${stack}-Role-AbC123` ],
      [ 'iam:PassRole', `arn:aws:iam::${account}:role/${stack}-Role-AbC123` ],
    ],
    'AWS::IAM::Policy': [ [ 'iam:PutRolePolicy', `arn:aws:iam::${account}:role/${stack}-SchedulerRole-AbC123` ] ],
    'AWS::SSM::Parameter': [ [ 'ssm:PutParameter', `arn:aws:ssm:${region}:${account}:parameter/${stack}/events/deployed` ] ],
    'AWS::Serverless::Function': [
      [ 'lambda:CreateFunction', fn ], [ 'lambda:UpdateFunctionCode', fn ], [ 'lambda:TagResource', fn ],
      [ 'cloudformation:CreateChangeSet', `arn:aws:cloudformation:${region}:aws:transform/Serverless-2016-10-31` ],
    ],
    'AWS::Serverless::HttpApi': [ [ 'apigateway:POST', `arn:aws:apigateway:${region}::/apis` ] ],
    'AWS::Lambda::Permission': [ [ 'lambda:AddPermission', fn ] ],
    'AWS::Lambda::EventSourceMapping': [ [ 'lambda:CreateEventSourceMapping', '*' ] ],
    'AWS::DynamoDB::Table': [ [ 'dynamodb:CreateTable', `arn:aws:dynamodb:${region}:${account}:table/${stack}-ThingsTable-AbC123` ] ],
    'AWS::SNS::Topic': [
      [ 'sns:CreateTopic', `arn:aws:sns:${region}:${account}:${stack}-DeployedEventTopic-AbC123` ],
      [ 'sns:Subscribe', `arn:aws:sns:${region}:${account}:${stack}-DeployedEventTopic-AbC123` ],
    ],
    'AWS::SQS::Queue': [ [ 'sqs:CreateQueue', `arn:aws:sqs:${region}:${account}:${stack}-WorkQueue-AbC123` ] ],
    'AWS::Scheduler::Schedule': [ [ 'scheduler:CreateSchedule', `arn:aws:scheduler:${region}:${account}:schedule/default/${stack}-NightlyScheduleEvent-AbC123` ] ],
    'AWS::S3::Bucket': [
      [ 's3:CreateBucket', `arn:aws:s3:::${lower}-staticbucket-abc123` ],
      [ 's3:PutBucketWebsite', `arn:aws:s3:::${lower}-staticbucket-abc123` ],
      [ 's3:PutObject', `arn:aws:s3:::${lower}-staticbucket-abc123/index.html` ],
    ],
    'AWS::S3::BucketPolicy': [ [ 's3:PutBucketPolicy', `arn:aws:s3:::${lower}-staticbucket-abc123` ] ],
    'AWS::ApiGatewayV2::Api': [ [ 'apigateway:POST', `arn:aws:apigateway:${region}::/apis` ] ],
    'AWS::ApiGatewayV2::Deployment': [ [ 'apigateway:POST', `arn:aws:apigateway:${region}::/apis/abc/deployments` ] ],
    'AWS::ApiGatewayV2::Stage': [ [ 'apigateway:PATCH', `arn:aws:apigateway:${region}::/apis/abc/stages/$default` ] ],
    'AWS::ApiGatewayV2::Route': [ [ 'apigateway:POST', `arn:aws:apigateway:${region}::/apis/abc/routes` ] ],
    'AWS::ApiGatewayV2::Integration': [ [ 'apigateway:POST', `arn:aws:apigateway:${region}::/apis/abc/integrations` ] ],
    // Not a resource type: the calls Architect itself makes around the stack.
    'architect:deploy': [
      [ 'cloudformation:CreateStack', `arn:aws:cloudformation:${region}:${account}:stack/${stack}/0f0e0d0c` ],
      [ 'cloudformation:UpdateStack', `arn:aws:cloudformation:${region}:${account}:stack/${stack}/0f0e0d0c` ],
      [ 'cloudformation:DescribeStacks', `arn:aws:cloudformation:${region}:${account}:stack/${stack}/*` ],
      [ 'cloudformation:DescribeStackResources', `arn:aws:cloudformation:${region}:${account}:stack/${stack}/0f0e0d0c` ],
      [ 'ssm:GetParametersByPath', `arn:aws:ssm:${region}:${account}:parameter/oidc-example` ],
      [ 'ssm:PutParameter', `arn:aws:ssm:${region}:${account}:parameter/oidc-example/deploy/bucket` ],
      [ 's3:CreateBucket', 'arn:aws:s3:::oidc-example-cfn-deployments-1a2b3' ],
      [ 's3:ListBucket', 'arn:aws:s3:::oidc-example-cfn-deployments-1a2b3' ],
      [ 's3:PutObject', 'arn:aws:s3:::oidc-example-cfn-deployments-1a2b3/sam.json' ],
      [ 's3:GetObject', 'arn:aws:s3:::oidc-example-cfn-deployments-1a2b3/sam.json' ],
      [ 's3:DeleteObject', 'arn:aws:s3:::oidc-example-cfn-deployments-1a2b3/old.zip' ],
      [ 'cloudfront:ListDistributions', '*' ],
      [ 'logs:DescribeLogStreams', `arn:aws:logs:${region}:${account}:log-group:/aws/lambda/${stack}-GetIndexHTTPLambda-AbC123` ],
      [ 'lambda:UpdateFunctionCode', fn ],
    ],
  }
}

describe('deploy role permissions', () => {
  let stack = new Stack({ account, partition: 'aws', region, params: { ...app, ProjectPath: 'my-group/oidc-example' } })
  let policies = {
    Staging: stack.permissions('StagingDeployRole'),
    Production: stack.permissions('ProductionDeployRole'),
  }

  it('cover every resource type Architect packages (checked with @architect/package)', async () => {
    let inventory = require('@architect/inventory') as (p: object) => Promise<unknown>
    let pkg = require('@architect/package') as (inv: unknown) => { Resources: Record<string, { Type: string }> }
    let rawArc = [
      '@app', 'oidc-example', '@http', 'get /', '@ws', '@events', 'deployed', '@queues', 'work',
      '@tables', 'things', '  id *String', '@tables-streams', 'things', '@scheduled', 'nightly rate(1 day)',
      '@static', '@aws', 'region us-west-2', 'runtime nodejs22.x', '',
    ].join('\n')
    let cwd = mkdtempSync(join(tmpdir(), 'arc-pkg-'))
    try {
      let inv = await inventory({ rawArc, deployStage: 'staging', cwd })
      let types = new Set(Object.values(pkg(inv).Resources).map(r => r.Type))
      let needs = needsFor('Staging')
      for (let type of types) assert.ok(type in needs, `Architect packages ${type}: add it to needsFor() and to the template if needed`)
    }
    finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  })

  for (let stage of [ 'Staging', 'Production' ] as const) {
    let other: 'Staging' | 'Production' = stage === 'Staging' ? 'Production' : 'Staging'
    it(`let the ${stage.toLowerCase()} role do what a ${stage.toLowerCase()} deploy needs, and not touch ${other.toLowerCase()} resources`, () => {
      for (let [ type, pairs ] of Object.entries(needsFor(stage))) {
        for (let [ action, resource ] of pairs) {
          assert.ok(allows(policies[stage], action, resource), `${stage} role: ${type} needs ${action} on ${resource}`)
        }
      }
      for (let [ type, pairs ] of Object.entries(needsFor(other))) {
        for (let [ action, resource ] of pairs) {
          if (!resource.includes(other) && !resource.includes(other.toLowerCase())) continue // shared by both stages
          assert.ok(!allows(policies[stage], action, resource), `${stage} role must not ${action} on ${resource} (${type})`)
        }
      }
    })
  }

  it('do not let a deploy role change itself, the other role, or the app\'s environment variables', () => {
    for (let statements of Object.values(policies)) {
      for (let role of [ 'oidc-example-staging-deploy', 'oidc-example-production-deploy' ]) {
        for (let action of [ 'iam:PutRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:PassRole' ]) {
          assert.ok(!allows(statements, action, `arn:aws:iam::${account}:role/${role}`), `${action} ${role}`)
        }
      }
      assert.ok(!allows(statements, 'ssm:PutParameter', `arn:aws:ssm:${region}:${account}:parameter/oidc-example/production/SECRET`))
      assert.ok(!allows(statements, 'iam:CreateRole', `arn:aws:iam::${account}:role/Admin`))
    }
  })

  it('are the same for both stages but for the stage name', () => {
    let swap = (s: Statement[]): string => JSON.stringify(s).replace(/Production/g, 'Staging').replace(/production/g, 'staging')
    assert.equal(swap(policies.Production), swap(policies.Staging))
  })
})

/* ------------------------------------------------------------------------ */
/* .gitlab-ci.yml                                                            */
/* ------------------------------------------------------------------------ */

const ci = yaml.load(readFileSync(ciPath, 'utf8'), { filename: ciPath }) as JsonObject

// Resolve a job's `extends` (one level of hidden templates, which is all the file uses).
function job (name: string): JsonObject {
  let j = ci[name]
  assert.ok(isObject(j), `job ${name}`)
  let base = typeof j.extends === 'string' ? ci[j.extends] : undefined
  return { ...(isObject(base) ? base : {}), ...j }
}

function scriptLines (j: JsonObject): string[] {
  return [ 'before_script', 'script', 'after_script' ].flatMap(k => {
    let v = j[k] ?? (k === 'before_script' ? get(ci, 'default', 'before_script') : undefined)
    return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [ v ] : []
  })
}

describe('example-app/.gitlab-ci.yml', () => {
  it('installs, tests and deploys on node:22 with node_modules cached by package-lock.json', () => {
    assert.deepEqual(ci.stages, [ 'install', 'test', 'deploy' ])
    assert.equal(get(ci, 'default', 'image'), 'node:22')
    assert.deepEqual(get(ci, 'default', 'cache', 'key', 'files'), [ 'package-lock.json' ])
    assert.deepEqual(get(ci, 'default', 'cache', 'paths'), [ 'node_modules/' ])
    assert.equal(get(ci, 'install', 'cache', 'policy'), 'pull-push')
    assert.deepEqual(job('test').script, [ 'npm test' ])
  })

  it('deploys staging from other branches and production from the default branch, with an ID token and no AWS keys', () => {
    let staging = job('deploy-staging')
    let production = job('deploy-production')
    assert.deepEqual(staging.script, [ 'npx arc deploy' ])
    assert.deepEqual(production.script, [ 'npx arc deploy --production' ])
    assert.deepEqual(staging.rules, [ { if: '$CI_COMMIT_BRANCH && $CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH' } ])
    assert.deepEqual(production.rules, [ { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' } ])
    let defaultAudience = get(template, 'Parameters', 'GitLabUrl', 'Default')
    for (let [ j, env ] of [ [ staging, 'staging' ], [ production, 'production' ] ] as const) {
      assert.equal(j.stage, 'deploy')
      assert.equal(get(j, 'environment', 'name'), env)
      assert.equal(j.resource_group, env)
      assert.deepEqual(Object.keys(j.id_tokens as JsonObject), [ DEFAULT_TOKEN_VARIABLE ], 'the token variable the plugin reads by default')
      assert.equal(get(j, 'id_tokens', DEFAULT_TOKEN_VARIABLE, 'aud'), defaultAudience, 'aud = the trust policies\' default audience')
      for (let line of scriptLines(j)) {
        assert.doesNotMatch(line, /\baws\s|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|assume-role/i, line)
      }
    }
    // Architect ignores a bare `production` argument (it would deploy staging).
    assert.doesNotMatch(JSON.stringify(staging.script), /production/)
  })

  describe('validated by gitlab-ci-local against GitLab\'s CI schema', () => {
    let bin: string | undefined
    try {
      bin = join(dirname(require.resolve('gitlab-ci-local/package.json')), 'dist', 'index.js')
    }
    catch {
      bin = undefined
    }

    // Runs gitlab-ci-local on a copy in a scratch directory (it writes .gitlab-ci-local/ there).
    function glcl (yamlText: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
      assert.ok(bin, 'gitlab-ci-local is not installed: it is a devDependency of this package (npm install)')
      let dir = mkdtempSync(join(tmpdir(), 'gitlab-ci-local-'))
      try {
        mkdirSync(join(dir, 'home'))
        writeFileSync(join(dir, '.gitlab-ci.yml'), yamlText)
        let r = spawnSync(process.execPath, [
          bin, '--home', join(dir, 'home'), '--json-schema-validation',
          '--ignore-predefined-vars', 'CI_COMMIT_BRANCH,CI_DEFAULT_BRANCH', ...args,
        ], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: join(dir, 'home'), NO_COLOR: '1' }, timeout: 60_000 })
        return { status: r.status, stdout: r.stdout, stderr: r.stderr }
      }
      finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }

    function activeJobs (branch: string): Record<string, string> {
      let r = glcl(readFileSync(ciPath, 'utf8'), [
        '--list-json', '--variable', `CI_COMMIT_BRANCH=${branch}`, '--variable', 'CI_DEFAULT_BRANCH=main',
      ])
      assert.equal(r.status, 0, r.stderr)
      let jobs = JSON.parse(r.stdout) as { name: string; when: string }[]
      return Object.fromEntries(jobs.map(j => [ j.name, j.when ]))
    }

    it('accepts the example and runs production only on the default branch', () => {
      assert.deepEqual(activeJobs('main'), {
        install: 'on_success', test: 'on_success', 'deploy-staging': 'never', 'deploy-production': 'on_success',
      })
      assert.deepEqual(activeJobs('feature/login'), {
        install: 'on_success', test: 'on_success', 'deploy-staging': 'on_success', 'deploy-production': 'never',
      })
    })

    it('rejects a broken copy', () => {
      let good = readFileSync(ciPath, 'utf8')
      let broken = [
        good.replace(/\baud: https:\/\/gitlab\.com/, 'audience: https://gitlab.com'),
        good.replace('resource_group: production', 'resource_group: [production]'),
      ]
      for (let text of broken) {
        assert.notEqual(text, good)
        let r = glcl(text, [ '--list' ])
        assert.notEqual(r.status, 0, 'a schema violation must fail')
        assert.match(r.stdout + r.stderr, /Invalid .gitlab-ci.yml configuration/)
      }
    })
  })
})
