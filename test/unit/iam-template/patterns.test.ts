/**
 * Issue 24, narrowed patterns of iam/gitlab-oidc.yaml, both ways:
 * - static buckets: only Architect's `<app><stage>-staticbucket-<random>` (CloudFormation's
 *   lower-cased <stack>-<LogicalId>-<random> for the StaticBucket resource), not another bucket
 *   whose name starts with the app and stage (another app's deployment bucket, say);
 * - API Gateway tag writes (apigateway:POST and DELETE on /tags/<URL-encoded ARN>; API Gateway has
 *   no TagResource action in IAM): only on HTTP and WebSocket APIs (`/apis/...`), not REST APIs,
 *   domain names or VPC links;
 * - WebSocket management under the boundary: `@connections` of the stage's APIs only.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { authorize } from '../../support/aws/iam-authz.ts'
import type { Decision, PolicyDocument } from '../../support/aws/iam-policy.ts'
import { Stack } from '../../support/cfn-template.ts'

const ACCOUNT = '111111111111'
const REGION = 'us-west-2'
const stack = new Stack({ account: ACCOUNT, partition: 'aws', region: REGION, params: { AppName: 'oidc-example', AppStackPrefix: 'OidcExample', ProjectPath: 'my-group/oidc-example', GitLabProjectId: '4242', Stages: 'both' } })
const deploy = (Stage: string): PolicyDocument => ({ Version: '2012-10-17', Statement: stack.permissions(`${Stage}DeployRole`) }) as unknown as PolicyDocument
const boundary = (Stage: string): PolicyDocument => stack.policyDocument(`${Stage}Boundary`) as unknown as PolicyDocument
const admin: PolicyDocument = { Version: '2012-10-17', Statement: [ { Effect: 'Allow', Action: '*', Resource: '*' } ] }
const own = { 's3:ResourceAccount': ACCOUNT }

const byDeployRole = (Stage: string, action: string, resource: string, context: Record<string, string> = {}): Decision =>
  authorize({ identity: [ deploy(Stage) ] }, { action, resource, context }).decision
const byCreatedRole = (Stage: string, action: string, resource: string, context: Record<string, string> = {}): Decision =>
  authorize({ identity: [ admin ], boundary: boundary(Stage) }, { action, resource, context }).decision

describe('static buckets: Architect\'s <app><stage>-staticbucket-<random> only', () => {
  const cases = [
    { Stage: 'Staging', own: [ 'oidcexamplestaging-staticbucket-1a2b3c4d5e6f', 'oidcexamplestagingmr7-staticbucket-1a2b3c4d5e6f' ] },
    { Stage: 'Production', own: [ 'oidcexampleproduction-staticbucket-1a2b3c4d5e6f' ] },
  ]
  const others = (stage: string): string[] => [
    `oidcexample${stage}-cfn-deployments-1a2b3`, // the deployment bucket of an app called oidcexample<stage>
    `oidcexample${stage}-backups`, // an unrelated bucket
    `oidcexample${stage}-otherbucket-1a2b3c4d5e6f`, // another bucket of the same stack
  ]
  for (const { Stage, own: buckets } of cases) {
    const stage = Stage.toLowerCase()
    it(`${stage}: the deploy role and the boundary allow its own static buckets and their objects`, () => {
      for (const b of buckets) {
        for (const action of [ 's3:CreateBucket', 's3:PutBucketWebsite', 's3:PutBucketPolicy', 's3:DeleteBucket' ]) assert.equal(byDeployRole(Stage, action, `arn:aws:s3:::${b}`, own), 'allow', `${action} ${b}`)
        for (const action of [ 's3:PutObject', 's3:DeleteObject' ]) assert.equal(byDeployRole(Stage, action, `arn:aws:s3:::${b}/index.html`, own), 'allow', `${action} ${b}`)
        for (const action of [ 's3:GetObject', 's3:PutObject' ]) assert.equal(byCreatedRole(Stage, action, `arn:aws:s3:::${b}/index.html`, own), 'allow', `boundary ${action} ${b}`)
        assert.equal(byCreatedRole(Stage, 's3:ListBucket', `arn:aws:s3:::${b}`, own), 'allow')
      }
    })
    it(`${stage}: neither reaches another bucket whose name starts with the app and stage`, () => {
      for (const b of others(stage)) {
        for (const action of [ 's3:CreateBucket', 's3:PutBucketPolicy', 's3:DeleteBucket' ]) assert.notEqual(byDeployRole(Stage, action, `arn:aws:s3:::${b}`, own), 'allow', `${action} ${b}`)
        for (const action of [ 's3:GetObject', 's3:PutObject', 's3:DeleteObject' ]) {
          assert.notEqual(byDeployRole(Stage, action, `arn:aws:s3:::${b}/x`, own), 'allow', `${action} ${b}`)
          assert.notEqual(byCreatedRole(Stage, action, `arn:aws:s3:::${b}/x`, own), 'allow', `boundary ${action} ${b}`)
        }
      }
    })
  }
})

describe('static buckets whose generated name CloudFormation shortened: refused (closed), never another stage\'s', () => {
  // A 38-character app name: <name without dashes><stage>-staticbucket-<13 random> passes S3's 63
  // characters, so CloudFormation cuts the stack and logical-ID parts (serverless/serverless#2791
  // shows both cut, the random suffix kept; AWS documents no exact rule).
  const lower = `a${'b'.repeat(36)}c`
  const stack = new Stack({ account: ACCOUNT, partition: 'aws', region: REGION, params: { AppName: lower, AppStackPrefix: `A${'b'.repeat(36)}c`, ProjectPath: 'g/p', GitLabProjectId: '4242', Stages: 'both' } })
  for (const Stage of [ 'Staging', 'Production' ]) {
    it(`${Stage.toLowerCase()}: a cut name matches no pattern of either role or boundary`, () => {
      const full = `${lower}${Stage.toLowerCase()}-staticbucket-`
      assert.ok(full.length + 13 > 63, `${full.length + 13} characters`)
      for (const cut of [ `${lower}${Stage.toLowerCase()}`.slice(0, 24) + '-staticbucket-1a2b3c4d5e6f7', `${lower}${Stage.toLowerCase()}-staticbu-1a2b3c4d5e6f7` ]) {
        for (const S of [ 'Staging', 'Production' ]) {
          const role = { Version: '2012-10-17', Statement: stack.permissions(`${S}DeployRole`) } as unknown as PolicyDocument
          assert.notEqual(authorize({ identity: [ role ] }, { action: 's3:CreateBucket', resource: `arn:aws:s3:::${cut}`, context: own }).decision, 'allow', `${S} role: ${cut}`)
          const bounded = { identity: [ admin ], boundary: stack.policyDocument(`${S}Boundary`) as unknown as PolicyDocument }
          assert.notEqual(authorize(bounded, { action: 's3:PutObject', resource: `arn:aws:s3:::${cut}/index.html`, context: own }).decision, 'allow', `${S} boundary: ${cut}`)
        }
      }
    })
  }
})

describe('API Gateway tag writes: HTTP and WebSocket APIs only', () => {
  const tags = (arn: string): string => `arn:aws:apigateway:${REGION}::/tags/${encodeURIComponent(arn)}`
  for (const Stage of [ 'Staging', 'Production' ]) {
    it(`${Stage.toLowerCase()} role: tags an API and its stages; not a REST API, a domain name or a VPC link`, () => {
      for (const target of [ `arn:aws:apigateway:${REGION}::/apis/abc123`, `arn:aws:apigateway:${REGION}::/apis/abc123/stages/staging` ]) {
        for (const action of [ 'apigateway:POST', 'apigateway:DELETE', 'apigateway:GET' ]) {
          assert.equal(byDeployRole(Stage, action, tags(target)), 'allow', `${action} ${target}`)
        }
      }
      assert.equal(byDeployRole(Stage, 'apigateway:POST', `arn:aws:apigateway:${REGION}::/apis`), 'allow', 'tags given at creation')
      for (const target of [ `arn:aws:apigateway:${REGION}::/restapis/r1`, `arn:aws:apigateway:${REGION}::/domainnames/api.example.com`, `arn:aws:apigateway:${REGION}::/vpclinks/v1`, `arn:aws:apigateway:${REGION}::/usageplans/u1` ]) {
        for (const action of [ 'apigateway:POST', 'apigateway:PUT', 'apigateway:DELETE' ]) {
          assert.equal(byDeployRole(Stage, action, tags(target)), 'implicit-deny', `${action} ${target}`)
        }
      }
    })
  }
})

describe('WebSocket management under the boundary: @connections only', () => {
  for (const Stage of [ 'Staging', 'Production' ]) {
    const stage = Stage.toLowerCase()
    it(`${stage}: a function posts to and drops @connections of the ${stage} stage; nothing else of execute-api`, () => {
      for (const method of [ 'POST', 'GET', 'DELETE' ]) {
        assert.equal(byCreatedRole(Stage, 'execute-api:ManageConnections', `arn:aws:execute-api:${REGION}:${ACCOUNT}:ws0api1/${stage}/${method}/@connections/abcDEF123=`), 'allow', method)
      }
      for (const resource of [ `arn:aws:execute-api:${REGION}:${ACCOUNT}:rest1/${stage}/POST/admin`, `arn:aws:execute-api:${REGION}:${ACCOUNT}:http1/${stage}/GET/`, `arn:aws:execute-api:${REGION}:${ACCOUNT}:ws0api1/other/POST/@connections/x` ]) {
        for (const action of [ 'execute-api:Invoke', 'execute-api:ManageConnections' ]) assert.notEqual(byCreatedRole(Stage, action, resource), 'allow', `${action} ${resource}`)
      }
    })
  }
})
