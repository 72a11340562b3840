/**
 * example-app/iam/gitlab-oidc.yaml, evaluated for several deployments:
 * - its trust policies equal what src/trust-policy.ts generates for the same inputs, so the
 *   template and `arc-gitlab-oidc trust-policy` cannot drift;
 * - its permissions cover what Architect's own packager generates, per stage.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { buildTrustPolicy, providerArn, validateProjectPath, type TrustPolicyOptions } from '../../src/iam/trust-policy.ts'
import { DEFAULTS } from '../../src/plugin/settings.ts'
import { Stack, appDir, get, template, type Deployment, type Json, type JsonObject, type Statement } from '../support/cfn-template.ts'

const require = createRequire(import.meta.url)

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

  it('are the same for both stages but for the stage name and the staging role\'s review apps', () => {
    let swap = (s: Statement[]): string => JSON.stringify(s).replace(/Production/g, 'Staging').replace(/production/g, 'staging')
    let review = policies.Staging.filter(s => s.Sid?.startsWith('ReviewApp'))
    assert.deepEqual(review.map(s => s.Sid), [ 'ReviewAppStacksDelete', 'ReviewAppDestroyDeployBucket' ])
    assert.equal(swap(policies.Production), swap(policies.Staging.filter(s => !review.includes(s))))
  })
})
