/**
 * Issue 24, "boundaries carry every deny": whatever a deploy role of iam/gitlab-oidc.yaml is
 * explicitly denied, a role that deploy creates (which carries the stage's boundary and may be
 * given `Action * Resource *`) is denied too. Every Deny statement of the deploy roles is listed
 * below with the attacks it stops, so a new one cannot be added without saying how the
 * boundary stops it. Both ways: Architect's own use of the same permissions (the deploy role
 * deleting a review app's table, the app's functions using their tables and streams) stays allowed.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { authorize } from '../../support/aws/iam-authz.ts'
import type { Decision, PolicyDocument } from '../../support/aws/iam-policy.ts'
import { Stack } from '../../support/cfn-template.ts'

const ACCOUNT = '111111111111'
const OUTSIDER = '999999999999'
const REGION = 'us-west-2'
type StageName = 'Staging' | 'Production'
type Attempt = [action: string, resource: string, context?: Record<string, string>]

function policies (Stage: StageName, extra: Record<string, string> = {}): { deploy: PolicyDocument, boundary: PolicyDocument } {
  const stack = new Stack({ account: ACCOUNT, partition: 'aws', region: REGION, params: { AppName: 'oidc-example', AppStackPrefix: 'OidcExample', ProjectPath: 'my-group/oidc-example', GitLabProjectId: '4242', Stages: 'both', ...extra } })
  return {
    deploy: { Version: '2012-10-17', Statement: stack.permissions(`${Stage}DeployRole`) } as unknown as PolicyDocument,
    boundary: stack.policyDocument(`${Stage}Boundary`) as unknown as PolicyDocument,
  }
}

const admin: PolicyDocument = { Version: '2012-10-17', Statement: [ { Effect: 'Allow', Action: '*', Resource: '*' } ] }
const asDeployRole = (p: { deploy: PolicyDocument }, [ action, resource, context ]: Attempt): Decision =>
  authorize({ identity: [ p.deploy ] }, { action, resource, context: context ?? {} }).decision
/** Code running as a role the deploy created: any inline policy, the stage's boundary. */
const asCreatedRole = (p: { boundary: PolicyDocument }, [ action, resource, context ]: Attempt): Decision =>
  authorize({ identity: [ admin ], boundary: p.boundary }, { action, resource, context: context ?? {} }).decision

function names (Stage: StageName): Record<string, string> {
  const stack = `OidcExample${Stage}`
  const table = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${stack}-ThingsTable-A1`
  return {
    stack,
    table,
    stream: `${table}/stream/2026-01-01T00:00:00.000`,
    fn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${stack}-GetIndexHTTPLambda-A1`,
    topic: `arn:aws:sns:${REGION}:${ACCOUNT}:${stack}-DeployedEventTopic-A1`,
    queue: `arn:aws:sqs:${REGION}:${ACCOUNT}:${stack}-WorkQueue-A1`,
    object: `arn:aws:s3:::${stack.toLowerCase()}-staticbucket-a1b2c3d4e5f6/index.html`,
    role: `arn:aws:iam::${ACCOUNT}:role/${stack}-Role-A1`,
  }
}

/** Each Deny statement of the deploy roles, and requests it denies them. */
function attacks (Stage: StageName): Record<string, Attempt[]> {
  const n = names(Stage)
  return {
    NeverAnotherAccountsBucket: [ [ 's3:PutObject', n.object as string, { 's3:ResourceAccount': OUTSIDER } ] ],
    NeverPublicFunctionUrls: [ [ 'lambda:CreateFunctionUrlConfig', n.fn as string, { 'lambda:FunctionUrlAuthType': 'NONE' } ] ],
    NeverInvokePermissionForOthers: [ [ 'lambda:AddPermission', n.fn as string, { 'lambda:Principal': '*' } ] ],
    NeverSubscribeOutsideEndpoints: [ [ 'sns:Subscribe', n.topic as string, { 'sns:Protocol': 'https', 'sns:Endpoint': 'https://attacker.example/' } ] ],
    NeverSubscribeAnotherAccount: [ [ 'sns:Subscribe', n.topic as string, { 'sns:Protocol': 'lambda', 'sns:Endpoint': `arn:aws:lambda:${REGION}:${OUTSIDER}:function:x` } ] ],
    NeverDeleteAMainStagesTables: [ [ 'dynamodb:DeleteTable', n.table as string ] ],
    Never: [
      [ 'dynamodb:PutResourcePolicy', n.table as string ], [ 'dynamodb:PutResourcePolicy', n.stream as string ],
      [ 'sqs:AddPermission', n.queue as string ], [ 'sns:AddPermission', n.topic as string ],
      [ 'iam:DeleteRolePermissionsBoundary', n.role as string ],
      [ 'iam:CreatePolicyVersion', `arn:aws:iam::${ACCOUNT}:policy/oidc-example-${Stage.toLowerCase()}-boundary` ],
      [ 'sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole` ],
    ],
    NeverTouchTheDeployRoles: [ [ 'iam:PutRolePolicy', `arn:aws:iam::${ACCOUNT}:role/oidc-example-${Stage.toLowerCase()}-deploy` ] ],
    NeverDeleteAMainStack: [ [ 'cloudformation:DeleteStack', `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${n.stack as string}/1` ] ],
  }
}

for (const Stage of [ 'Staging', 'Production' ] as const) {
  describe(`${Stage.toLowerCase()}: a role created by a deploy is denied what the deploy role is denied`, () => {
    const p = policies(Stage)

    it('every Deny statement of the deploy role has its attacks listed here', () => {
      const sids = (p.deploy.Statement as { Sid?: string, Effect: string }[]).filter(s => s.Effect === 'Deny').map(s => s.Sid)
      assert.deepEqual(sids.sort(), Object.keys(attacks(Stage)).sort())
    })

    for (const [ sid, list ] of Object.entries(attacks(Stage))) {
      it(`${sid}: denied to the deploy role by that statement, and to a created role by the boundary`, () => {
        for (const attempt of list) {
          assert.equal(asDeployRole(p, attempt), 'explicit-deny', `deploy role: ${attempt.join(' ')}`)
          assert.notEqual(asCreatedRole(p, attempt), 'allow', `created role: ${attempt.join(' ')}`)
        }
      })
    }

    it('resource policies on the stage\'s tables and streams: explicitly denied by the boundary too', () => {
      const n = names(Stage)
      for (const resource of [ n.table as string, n.stream as string ]) {
        assert.equal(asCreatedRole(p, [ 'dynamodb:PutResourcePolicy', resource ]), 'explicit-deny', resource)
      }
    })

    it('Architect\'s own use stays allowed: its functions use their tables and streams; tables leave with AllowMainTableDeletion=true', () => {
      const n = names(Stage)
      for (const action of [ 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateTable', 'dynamodb:DescribeStream', 'dynamodb:GetRecords' ]) {
        const resource = action.includes('Stream') || action.includes('Records') ? n.stream as string : n.table as string
        assert.equal(asCreatedRole(p, [ action, resource ]), 'allow', `${action} ${resource}`)
      }
      const allowing = policies(Stage, { AllowMainTableDeletion: 'true' })
      assert.equal(asDeployRole(allowing, [ 'dynamodb:DeleteTable', n.table as string ]), 'allow')
      assert.equal(asCreatedRole(allowing, [ 'dynamodb:DeleteTable', n.table as string ]), 'allow', 'the boundary follows the parameter')
      assert.equal(asCreatedRole(allowing, [ 'dynamodb:PutResourcePolicy', n.table as string ]), 'explicit-deny', 'that parameter opens deletion only')
    })

    if (Stage === 'Staging') {
      it('a review app\'s tables go with its stack, for the deploy role and under the boundary', () => {
        const review = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/OidcExampleStagingMr7-ThingsTable-A1`
        assert.equal(asDeployRole(p, [ 'dynamodb:DeleteTable', review ]), 'allow')
        assert.equal(asCreatedRole(p, [ 'dynamodb:DeleteTable', review ]), 'allow')
      })
    }
  })
}
