/**
 * The deploy roles of iam/gitlab-oidc.yaml, evaluated with the suite's IAM evaluator
 * (conditions and explicit denies included):
 * - they cover what Architect's own packager generates, per stage, and nothing of the other stage;
 * - the staging role may destroy review apps (arc destroy --name mr-<iid>), never a main stack.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { Stack, type Statement } from '../../support/cfn-template.ts'
import { packageApp } from '../../support/arc-runtime.ts'
import { authorize } from '../../support/aws/iam-authz.ts'
import type { PolicyDocument } from '../../support/aws/iam-policy.ts'

const app = { AppName: 'oidc-example', AppStackPrefix: 'OidcExample', Stages: 'both' }

/* ------------------------------------------------------------------------ */
/* Permissions: what Architect needs, per stage, and nothing of the other    */
/* ------------------------------------------------------------------------ */

type Context = Record<string, string>

// Evaluated as IAM would: Action/Resource wildcards, conditions (with the request's context
// keys), explicit denies.
// S3 requests carry the bucket owner (s3:ResourceAccount): this account's unless the test says otherwise.
function allows (statements: Statement[], action: string, resource: string, context: Context = {}): boolean {
  const doc = { Version: '2012-10-17', Statement: statements } as unknown as PolicyDocument
  const ctx = action.startsWith('s3:') && action !== 's3:CreateBucket' ? { 's3:ResourceAccount': account, ...context } : context
  return authorize({ identity: [ doc ] }, { action, resource, context: ctx }).decision === 'allow'
}

const account = '111111111111'
const region = 'us-west-2'

// What an Architect deploy of stage `Stage` (stack <prefix><Stage>) does with each
// resource type it packages, as (action, resource) pairs. Names follow
// CloudFormation's <stack>-<LogicalId>-<random> scheme.
function needsFor (stage: 'Staging' | 'Production'): Record<string, [string, string, Context?][]> {
  const stack = `OidcExample${stage}`
  const boundary = { 'iam:PermissionsBoundary': `arn:aws:iam::${account}:policy/oidc-example-${stage.toLowerCase()}-boundary` }
  const lower = stack.toLowerCase()
  const fn = `arn:aws:lambda:${region}:${account}:function:${stack}-GetIndexHTTPLambda-AbC123`
  return {
    'AWS::IAM::Role': [
      [ 'iam:CreateRole', `arn:aws:iam::${account}:role/${stack}-Role-AbC123`, boundary ],
      [ 'iam:PutRolePermissionsBoundary', `arn:aws:iam::${account}:role/${stack}-Role-AbC123`, boundary ],
      [ 'iam:PutRolePolicy', `arn:aws:iam::${account}:role/${stack}-Role-AbC123`, boundary ],
      [ 'iam:PassRole', `arn:aws:iam::${account}:role/${stack}-Role-AbC123`, { 'iam:PassedToService': 'lambda.amazonaws.com' } ],
      [ 'iam:PassRole', `arn:aws:iam::${account}:role/${stack}-SchedulerRole-AbC123`, { 'iam:PassedToService': 'scheduler.amazonaws.com' } ],
    ],
    'AWS::IAM::Policy': [ [ 'iam:PutRolePolicy', `arn:aws:iam::${account}:role/${stack}-SchedulerRole-AbC123`, boundary ] ],
    'AWS::SSM::Parameter': [ [ 'ssm:PutParameter', `arn:aws:ssm:${region}:${account}:parameter/${stack}/events/deployed` ] ],
    'AWS::Serverless::Function': [
      [ 'lambda:CreateFunction', fn ], [ 'lambda:UpdateFunctionCode', fn ], [ 'lambda:TagResource', fn ],
      [ 'cloudformation:CreateChangeSet', `arn:aws:cloudformation:${region}:aws:transform/Serverless-2016-10-31` ],
    ],
    'AWS::Serverless::HttpApi': [ [ 'apigateway:POST', `arn:aws:apigateway:${region}::/apis` ] ],
    // SAM's HttpApi and SNS events, Architect's @ws permissions.
    'AWS::Lambda::Permission': [ [ 'lambda:AddPermission', fn, { 'lambda:Principal': 'apigateway.amazonaws.com' } ], [ 'lambda:AddPermission', fn, { 'lambda:Principal': 'sns.amazonaws.com' } ] ],
    'AWS::Lambda::EventSourceMapping': [ [ 'lambda:CreateEventSourceMapping', '*', { 'lambda:FunctionArn': fn } ] ],
    'AWS::DynamoDB::Table': [ [ 'dynamodb:CreateTable', `arn:aws:dynamodb:${region}:${account}:table/${stack}-ThingsTable-AbC123` ] ],
    'AWS::SNS::Topic': [
      [ 'sns:CreateTopic', `arn:aws:sns:${region}:${account}:${stack}-DeployedEventTopic-AbC123` ],
      [ 'sns:Subscribe', `arn:aws:sns:${region}:${account}:${stack}-DeployedEventTopic-AbC123`, { 'sns:Protocol': 'lambda', 'sns:Endpoint': fn } ],
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
  const stack = new Stack({ account, partition: 'aws', region, params: { ...app, ProjectPath: 'my-group/oidc-example', GitLabProjectId: '4242' } })
  const policies = {
    Staging: stack.permissions('StagingDeployRole'),
    Production: stack.permissions('ProductionDeployRole'),
  }

  it('cover every resource type Architect packages (checked with @architect/package)', async () => {
    const { sam } = await packageApp({ stage: 'staging', stackName: 'OidcExampleStaging', account, region })
    const types = new Set(Object.values(sam.Resources).map(r => r.Type as string))
    assert.ok(types.size > 10, [ ...types ].join(' '))
    const needs = needsFor('Staging')
    for (const type of types) assert.ok(type in needs, `Architect packages ${type}: add it to needsFor() and to the template if needed`)
  })

  for (const stage of [ 'Staging', 'Production' ] as const) {
    const other: 'Staging' | 'Production' = stage === 'Staging' ? 'Production' : 'Staging'
    it(`let the ${stage.toLowerCase()} role do what a ${stage.toLowerCase()} deploy needs, and not touch ${other.toLowerCase()} resources`, () => {
      for (const [ type, pairs ] of Object.entries(needsFor(stage))) {
        for (const [ action, resource, context ] of pairs) {
          assert.ok(allows(policies[stage], action, resource, context), `${stage} role: ${type} needs ${action} on ${resource}`)
        }
      }
      for (const [ type, pairs ] of Object.entries(needsFor(other))) {
        for (const [ action, resource, context ] of pairs) {
          const names = `${resource} ${JSON.stringify(context ?? {})}`
          if (!names.includes(other) && !names.includes(other.toLowerCase())) continue // shared by both stages
          assert.ok(!allows(policies[stage], action, resource, context), `${stage} role must not ${action} on ${resource} (${type})`)
        }
      }
    })
  }

  it('do not let a deploy role change itself, the other role, or the app\'s environment variables', () => {
    for (const statements of Object.values(policies)) {
      for (const role of [ 'oidc-example-staging-deploy', 'oidc-example-production-deploy' ]) {
        for (const action of [ 'iam:PutRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:PassRole' ]) {
          assert.ok(!allows(statements, action, `arn:aws:iam::${account}:role/${role}`), `${action} ${role}`)
        }
      }
      assert.ok(!allows(statements, 'ssm:PutParameter', `arn:aws:ssm:${region}:${account}:parameter/oidc-example/production/SECRET`))
      assert.ok(!allows(statements, 'iam:CreateRole', `arn:aws:iam::${account}:role/Admin`))
    }
  })

  it('are the same for both stages but for the stage name and the staging role\'s review apps', () => {
    const swap = (s: Statement[]): string => JSON.stringify(s).replace(/Production/g, 'Staging').replace(/production/g, 'staging')
    const review = policies.Staging.filter(s => s.Sid?.startsWith('ReviewApp'))
    assert.deepEqual(review.map(s => s.Sid), [ 'ReviewAppStacksDelete', 'ReviewAppDestroyDeployBucket' ])
    // Review apps' names (<prefix>StagingMr<iid>) are the staging role's only other difference.
    const withoutReviewNames = (s: Statement[]): Statement[] => JSON.parse(JSON.stringify(s), (_, v: unknown) => Array.isArray(v) ? v.filter(x => typeof x !== 'string' || !/StagingMr|stagingmr/.test(x)) : v) as Statement[]
    assert.equal(swap(policies.Production), swap(withoutReviewNames(policies.Staging.filter(s => !review.includes(s)))))
    assert.ok(JSON.stringify(policies.Staging).includes('OidcExampleStagingMr*-*'))
    assert.ok(!JSON.stringify(policies.Production).includes('Mr*'))
  })
})

/* ------------------------------------------------------------------------ */
/* Review apps: arc deploy --name mr-<iid>, arc destroy --name mr-<iid>     */
/* ------------------------------------------------------------------------ */

describe('review apps (issue 8)', () => {
  const stack = new Stack({ account, partition: 'aws', region, params: { ...app, ProjectPath: 'my-group/oidc-example', GitLabProjectId: '4242' } })
  const policies = { Staging: stack.permissions('StagingDeployRole'), Production: stack.permissions('ProductionDeployRole') }
  const cfn = (name: string): string => `arn:aws:cloudformation:${region}:${account}:stack/${name}/0f0e0d0c-1111-2222-3333-444455556666`
  const review = 'OidcExampleStagingMr7'
  const deployBucket = 'oidc-example-cfn-deployments-1a2b3'
  const staticBucket = `${review.toLowerCase()}-staticbucket-1a2b3c4d5e6f`
  const boundary = { 'iam:PermissionsBoundary': `arn:aws:iam::${account}:policy/oidc-example-staging-boundary` }
  const fn = `arn:aws:lambda:${region}:${account}:function:${review}-GetIndexHTTPLambda-AbC123`

  // What `arc destroy --app oidc-example --name mr-7 --force --now` calls (@architect/destroy:
  // index.js, _delete-bucket.js, _ssm.js, _delete-logs.js), then what CloudFormation's DeleteStack
  // does with the caller's credentials for the resources Architect creates.
  const destroyCalls: [string, string, Context?][] = [
    [ 'cloudformation:DescribeStacks', cfn(review) ],
    [ 'cloudformation:DescribeStackResources', cfn(review) ],
    [ 's3:ListBucket', `arn:aws:s3:::${staticBucket}` ], // HeadBucket, ListObjectsV2
    [ 's3:DeleteObject', `arn:aws:s3:::${staticBucket}/index.html` ], // DeleteObjects
    [ 's3:DeleteBucket', `arn:aws:s3:::${staticBucket}` ],
    [ 'ssm:GetParameter', `arn:aws:ssm:${region}:${account}:parameter/oidc-example/deploy/bucket` ],
    [ 's3:ListBucket', `arn:aws:s3:::${deployBucket}` ],
    [ 's3:DeleteObject', `arn:aws:s3:::${deployBucket}/0a1b2c3d-template.json` ],
    [ 's3:DeleteBucket', `arn:aws:s3:::${deployBucket}` ],
    [ 'logs:DescribeLogGroups', `arn:aws:logs:${region}:${account}:log-group:*` ],
    [ 'logs:DeleteLogGroup', `arn:aws:logs:${region}:${account}:log-group:/aws/lambda/${review}-GetIndexHTTPLambda-AbC123` ],
    [ 'cloudformation:DeleteStack', cfn(review) ],
    // CloudFormation deleting the stack's resources
    [ 'lambda:DeleteFunction', fn ],
    [ 'lambda:RemovePermission', fn ],
    [ 'lambda:DeleteEventSourceMapping', `arn:aws:lambda:${region}:${account}:event-source-mapping:0a1b2c3d`, { 'lambda:FunctionArn': fn } ],
    [ 'iam:DeleteRolePolicy', `arn:aws:iam::${account}:role/${review}-Role-AbC123`, boundary ],
    [ 'iam:DeleteRole', `arn:aws:iam::${account}:role/${review}-Role-AbC123` ],
    [ 'dynamodb:DeleteTable', `arn:aws:dynamodb:${region}:${account}:table/${review}-ThingsTable-AbC123` ],
    [ 'sns:DeleteTopic', `arn:aws:sns:${region}:${account}:${review}-DeployedEventTopic-AbC123` ],
    [ 'sqs:DeleteQueue', `arn:aws:sqs:${region}:${account}:${review}-WorkQueue-AbC123.fifo` ],
    [ 'scheduler:DeleteSchedule', `arn:aws:scheduler:${region}:${account}:schedule/default/${review}-NightlyScheduleEvent-AbC123` ],
    [ 'ssm:DeleteParameter', `arn:aws:ssm:${region}:${account}:parameter/${review}/tables/things` ],
    [ 's3:DeleteBucketPolicy', `arn:aws:s3:::${staticBucket}` ],
    [ 'apigateway:DELETE', `arn:aws:apigateway:${region}::/apis/abc123` ],
  ]

  it('the staging role can do everything arc destroy --name mr-<iid> needs', () => {
    for (const [ action, resource, context ] of destroyCalls) {
      assert.ok(allows(policies.Staging, action, resource, context), `${action} on ${resource}`)
    }
  })

  it('the staging role cannot delete the main staging stack (explicit deny), the production stack, or another named stack', () => {
    const decide = (name: string): string => authorize({ identity: [ { Statement: policies.Staging } as unknown as PolicyDocument ] }, { action: 'cloudformation:DeleteStack', resource: cfn(name) }).decision
    assert.equal(decide('OidcExampleStaging'), 'explicit-deny')
    assert.equal(decide('OidcExampleProduction'), 'explicit-deny')
    assert.equal(decide('OidcExampleStagingDemo'), 'implicit-deny', 'only Mr<iid> stacks are review apps')
    assert.equal(decide('OtherAppStagingMr7'), 'implicit-deny')
    assert.equal(decide('OidcExampleStagingMr12'), 'allow')
  })

  it('the production role deletes nothing of staging, not even its own stack', () => {
    for (const [ action, resource, context ] of destroyCalls) {
      if (!/Staging|staging|deployments/.test(resource) || !/Delete|DELETE|Remove/.test(action)) continue
      // Every deploy prunes old artifacts of the shared deployment bucket (@architect/deploy 02-clean-up-artifacts).
      if (action === 's3:DeleteObject' && resource.startsWith(`arn:aws:s3:::${deployBucket}/`)) continue
      assert.ok(!allows(policies.Production, action, resource, context), `production role: ${action} on ${resource}`)
    }
    for (const name of [ 'OidcExampleStaging', 'OidcExampleStagingMr7', 'OidcExampleProduction', 'OidcExampleProductionMr7' ]) {
      assert.ok(!allows(policies.Production, 'cloudformation:DeleteStack', cfn(name)), name)
    }
  })
})
