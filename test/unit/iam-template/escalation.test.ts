/**
 * Issue 7's attack, played step by step against both deploy roles of
 * iam/gitlab-oidc.yaml in a model of the account (test/support/aws/iam-account.ts):
 * a branch job holding a deploy role's session tries to become account admin by creating a role
 * for its stage, giving it `Action * Resource *` (or AdministratorAccess), passing it to a new
 * Lambda function and invoking it. Every step is denied unless the stage's boundary is attached;
 * with it, the chain "succeeds" and leads to a role that can do nothing in IAM or STS and nothing
 * outside its stage. The boundary cannot be removed, replaced or rewritten, the deploy roles
 * cannot be changed, and Architect's own roles can still be created.
 */
import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Account, ADMINISTRATOR_ACCESS, type Call } from '../../support/aws/iam-account.ts'
import { isAllowed, type RolePolicies } from '../../support/aws/iam-authz.ts'
import type { PolicyDocument } from '../../support/aws/iam-policy.ts'
import { packageApp, type PackagedApp } from '../../support/arc-runtime.ts'
import { Stack } from '../../support/cfn-template.ts'

const ACCOUNT = '111111111111'
const REGION = 'us-west-2'
const lambdaTrust: PolicyDocument = { Version: '2012-10-17', Statement: [ { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' } ] }
const stages = [ { stage: 'staging', Stage: 'Staging', other: 'Production' }, { stage: 'production', Stage: 'Production', other: 'Staging' } ] as const

/** A fresh account with this template deployed (Stages=both): deploy roles and boundaries. */
function world (): { account: Account, stack: Stack, deployRole: (Stage: string) => RolePolicies, boundary: (Stage: string) => string } {
  const stack = new Stack({ account: ACCOUNT, partition: 'aws', region: REGION, params: { AppName: 'oidc-example', AppStackPrefix: 'OidcExample', ProjectPath: 'my-group/oidc-example', GitLabProjectId: '4242', Stages: 'both' } })
  const account = new Account(ACCOUNT, 'aws', REGION)
  for (const Stage of [ 'Staging', 'Production' ]) {
    account.policies.set(stack.ref(`${Stage}Boundary`), stack.policyDocument(`${Stage}Boundary`) as unknown as PolicyDocument)
    account.addRole(`oidc-example-${Stage.toLowerCase()}-deploy`, [ { Version: '2012-10-17', Statement: stack.permissions(`${Stage}DeployRole`) } as unknown as PolicyDocument ])
  }
  return {
    account,
    stack,
    deployRole: Stage => account.policiesOf(`oidc-example-${Stage.toLowerCase()}-deploy`),
    boundary: Stage => stack.ref(`${Stage}Boundary`),
  }
}

/** What code running as a role must never be able to do, whatever its inline policies say. */
type Attempt = { action: string, resource: string, context?: Record<string, string> }

function forbidden (account: Account, Stage: string, other: string): Attempt[] {
  const role = (n: string): string => account.roleArn(n)
  return [
    { action: 'iam:CreateRole', resource: role(`OidcExample${Stage}-Evil2`) },
    { action: 'iam:CreateRole', resource: role('Admin') },
    { action: 'iam:PutRolePolicy', resource: role('oidc-example-production-deploy') },
    { action: 'iam:AttachRolePolicy', resource: role(`OidcExample${Stage}-Evil`), context: { 'iam:PolicyARN': account.awsManagedPolicyArn('AdministratorAccess') } },
    { action: 'iam:UpdateAssumeRolePolicy', resource: role('oidc-example-production-deploy') },
    { action: 'iam:DeleteRolePermissionsBoundary', resource: role(`OidcExample${Stage}-Evil`) },
    { action: 'iam:CreatePolicyVersion', resource: `arn:aws:iam::${ACCOUNT}:policy/oidc-example-${Stage.toLowerCase()}-boundary` },
    { action: 'iam:PassRole', resource: role(`OidcExample${Stage}-Evil`), context: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
    { action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCOUNT}:user/backdoor` },
    { action: 'iam:CreateAccessKey', resource: `arn:aws:iam::${ACCOUNT}:user/admin` },
    { action: 'sts:AssumeRole', resource: role('oidc-example-production-deploy') },
    { action: 'sts:AssumeRole', resource: role('OrganizationAccountAccessRole') },
    { action: 'sts:GetFederationToken', resource: `arn:aws:sts::${ACCOUNT}:federated-user/x` },
    { action: 'ssm:GetParametersByPath', resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/oidc-example` },
    { action: 'ssm:GetParameter', resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/oidc-example/production/SECRET` },
    { action: 'dynamodb:Scan', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/OidcExample${other}-ThingsTable-X` },
    { action: 'lambda:UpdateFunctionCode', resource: account.functionArn(`OidcExample${other}-GetIndexHTTPLambda-X`) },
    { action: 's3:PutObject', resource: 'arn:aws:s3:::oidc-example-cfn-deployments-1a2b3/template.json' },
    { action: 'cloudformation:DeleteStack', resource: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/OidcExample${Stage}/x` },
    { action: 'ec2:RunInstances', resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*` },
    { action: 'organizations:LeaveOrganization', resource: '*' },
  ]
}

const actionStar: PolicyDocument = { Version: '2012-10-17', Statement: [ { Effect: 'Allow', Action: '*', Resource: '*' } ] }

for (const { stage, Stage, other } of stages) {
  describe(`${stage} deploy role: issue 7's escalation`, () => {
    const evil = `OidcExample${Stage}-Evil`

    it('is denied at every step on a role without the boundary', () => {
      const { account, deployRole, boundary } = world()
      const me = deployRole(Stage)
      const denied = (call: Call): void => assert.notEqual(account.call(me, call).decision, 'allow', JSON.stringify(call))
      denied({ api: 'CreateRole', role: evil, trust: lambdaTrust })
      denied({ api: 'CreateRole', role: evil, trust: lambdaTrust, boundary: account.awsManagedPolicyArn('AdministratorAccess') })
      denied({ api: 'CreateRole', role: evil, trust: lambdaTrust, boundary: boundary(other) })
      // A role of the stage that has no boundary (e.g. made before it existed): no step works on it.
      account.addRole(`OidcExample${Stage}-OldRole-X`, [])
      const old = `OidcExample${Stage}-OldRole-X`
      denied({ api: 'PutRolePolicy', role: old, policyName: 'pwn', document: actionStar })
      denied({ api: 'AttachRolePolicy', role: old, policyArn: account.awsManagedPolicyArn('AdministratorAccess') })
      denied({ api: 'PutRolePermissionsBoundary', role: old, boundary: account.awsManagedPolicyArn('AdministratorAccess') })
      denied({ api: 'PutRolePermissionsBoundary', role: old, boundary: boundary(other) })
      assert.deepEqual(account.policiesOf(old).identity, [], 'the old role got no policy')
    })

    it('with the boundary, the whole chain runs and ends in a role with no IAM, no STS and nothing of the other stage', () => {
      const { account, deployRole, boundary } = world()
      const me = deployRole(Stage)
      const steps: Call[] = [
        { api: 'CreateRole', role: evil, trust: lambdaTrust, boundary: boundary(Stage) },
        { api: 'PutRolePolicy', role: evil, policyName: 'pwn', document: actionStar },
        { api: 'AttachRolePolicy', role: evil, policyArn: account.awsManagedPolicyArn('AdministratorAccess') },
        { api: 'CreateFunction', functionName: `OidcExample${Stage}-Evil`, role: evil },
        { api: 'InvokeFunction', functionName: `OidcExample${Stage}-Evil` },
      ]
      for (const call of steps) assert.equal(account.call(me, call).decision, 'allow', call.api)
      const code = account.policiesOfFunction(`OidcExample${Stage}-Evil`)
      assert.deepEqual(code.identity, [ actionStar, ADMINISTRATOR_ACCESS ], 'the role did get Action * and AdministratorAccess')
      for (const req of forbidden(account, Stage, other)) {
        assert.ok(!isAllowed(code, req), `code running as ${evil} must not ${req.action} ${req.resource}`)
      }
      // Within its stage it works (the boundary is not deny-all).
      assert.ok(isAllowed(code, { action: 'dynamodb:PutItem', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/OidcExample${Stage}-ThingsTable-X` }))
    })

    it('cannot remove, replace or rewrite the boundary', () => {
      const { account, deployRole, boundary } = world()
      const me = deployRole(Stage)
      assert.equal(account.call(me, { api: 'CreateRole', role: evil, trust: lambdaTrust, boundary: boundary(Stage) }).decision, 'allow')
      assert.equal(account.call(me, { api: 'DeleteRolePermissionsBoundary', role: evil }).decision, 'explicit-deny')
      assert.notEqual(account.call(me, { api: 'PutRolePermissionsBoundary', role: evil, boundary: account.awsManagedPolicyArn('AdministratorAccess') }).decision, 'allow')
      assert.notEqual(account.call(me, { api: 'PutRolePermissionsBoundary', role: evil, boundary: boundary(other) }).decision, 'allow')
      for (const target of [ boundary(Stage), boundary(other) ]) {
        assert.equal(account.call(me, { api: 'CreatePolicyVersion', policyArn: target, document: actionStar }).decision, 'explicit-deny', `CreatePolicyVersion ${target}`)
        for (const api of [ 'SetDefaultPolicyVersion', 'DeletePolicyVersion', 'DeletePolicy' ] as const) {
          assert.equal(account.call(me, { api, policyArn: target }).decision, 'explicit-deny', `${api} ${target}`)
        }
      }
      assert.equal(account.roles.get(evil)?.boundary, boundary(Stage))
    })

    it('cannot change either deploy role (explicit deny), nor assume another role', () => {
      const { account, deployRole, boundary } = world()
      const me = deployRole(Stage)
      for (const target of [ 'oidc-example-staging-deploy', 'oidc-example-production-deploy' ]) {
        for (const call of [
          { api: 'UpdateAssumeRolePolicy', role: target, trust: lambdaTrust },
          { api: 'PutRolePolicy', role: target, policyName: 'more', document: actionStar },
          { api: 'AttachRolePolicy', role: target, policyArn: account.awsManagedPolicyArn('AdministratorAccess') },
          { api: 'PutRolePermissionsBoundary', role: target, boundary: boundary(Stage) },
          { api: 'DeleteRole', role: target },
        ] as Call[]) {
          assert.equal(account.call(me, call).decision, 'explicit-deny', `${call.api} ${target}`)
        }
        assert.equal(isAllowed(me, { action: 'iam:PassRole', resource: account.roleArn(target), context: { 'iam:PassedToService': 'lambda.amazonaws.com' } }), false)
        assert.equal(isAllowed(me, { action: 'sts:AssumeRole', resource: account.roleArn(target) }), false)
      }
    })

    it('passes only its stage\'s roles, only to Lambda and EventBridge Scheduler', () => {
      const { account, deployRole, boundary } = world()
      const me = deployRole(Stage)
      const pass = (role: string, service: string): boolean => isAllowed(me, { action: 'iam:PassRole', resource: account.roleArn(role), context: { 'iam:PassedToService': service } })
      assert.ok(pass(`OidcExample${Stage}-Role-X`, 'lambda.amazonaws.com'))
      assert.ok(pass(`OidcExample${Stage}-SchedulerRole-X`, 'scheduler.amazonaws.com'))
      for (const service of [ 'ec2.amazonaws.com', 'cloudformation.amazonaws.com', 'codebuild.amazonaws.com', 'ecs-tasks.amazonaws.com' ]) assert.ok(!pass(`OidcExample${Stage}-Role-X`, service), service)
      assert.ok(!pass(`OidcExample${other}-Role-X`, 'lambda.amazonaws.com'))
      assert.ok(!pass('Admin', 'lambda.amazonaws.com'))
      // Pointing one of its functions at a role of the other stage, or any other role, fails on PassRole.
      account.addRole(`OidcExample${other}-Role-X`, [ actionStar ], boundary(other))
      account.addRole('Admin', [ actionStar ])
      assert.equal(account.call(me, { api: 'CreateRole', role: evil, trust: lambdaTrust, boundary: boundary(Stage) }).decision, 'allow')
      assert.equal(account.call(me, { api: 'CreateFunction', functionName: `OidcExample${Stage}-F-X`, role: evil }).decision, 'allow')
      for (const role of [ `OidcExample${other}-Role-X`, 'Admin' ]) {
        const r = account.call(me, { api: 'UpdateFunctionConfiguration', functionName: `OidcExample${Stage}-F-X`, role })
        assert.notEqual(r.decision, 'allow', role)
        assert.equal(r.request.action, 'iam:PassRole')
      }
      assert.equal(account.functions.get(`OidcExample${Stage}-F-X`)?.role, evil)
    })

    it('cannot create or change roles of the other stage, with either boundary', () => {
      const { account, deployRole, boundary } = world()
      const me = deployRole(Stage)
      for (const b of [ boundary(Stage), boundary(other) ]) {
        assert.notEqual(account.call(me, { api: 'CreateRole', role: `OidcExample${other}-Role-X`, trust: lambdaTrust, boundary: b }).decision, 'allow')
      }
    })
  })
}

describe('Architect\'s own roles can still be created, with the boundary', () => {
  const apps: Record<string, PackagedApp> = {}
  before(async () => {
    for (const { stage, Stage } of stages) apps[stage] = await packageApp({ stage, stackName: `OidcExample${Stage}`, account: ACCOUNT, region: REGION })
  })

  for (const { stage, Stage } of stages) {
    it(`${stage}: CreateRole, PutRolePolicy and PassRole of every generated role, and only with the boundary`, () => {
      const { account, deployRole, boundary } = world()
      const me = deployRole(Stage)
      const app = apps[stage] as PackagedApp
      for (const role of Object.values(app.roles)) {
        const trust = role.trust as unknown as PolicyDocument
        assert.notEqual(account.call(me, { api: 'CreateRole', role: role.name, trust }).decision, 'allow', `${role.name} without the boundary`)
        assert.equal(account.call(me, { api: 'CreateRole', role: role.name, trust, boundary: boundary(Stage) }).decision, 'allow', role.name)
        role.policies.forEach((document, i) => {
          assert.equal(account.call(me, { api: 'PutRolePolicy', role: role.name, policyName: `p${i}`, document }).decision, 'allow', `${role.name} policy ${i}`)
        })
        const service = JSON.stringify(trust).includes('scheduler.amazonaws.com') ? 'scheduler.amazonaws.com' : 'lambda.amazonaws.com'
        assert.ok(isAllowed(me, { action: 'iam:PassRole', resource: role.arn, context: { 'iam:PassedToService': service } }), `PassRole ${role.name} to ${service}`)
        assert.equal(account.call(me, { api: 'DeleteRolePolicy', role: role.name, policyName: 'p0' }).decision, 'allow', 'CloudFormation can update and delete it too')
        assert.equal(account.call(me, { api: 'DeleteRole', role: role.name }).decision, 'allow')
      }
    })
  }
})
