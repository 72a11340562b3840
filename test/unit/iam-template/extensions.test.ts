/**
 * Issue 25, item 2: extending the roles through parameters keeps the boundary invariant. Both
 * ways: what an app adds is allowed (an EventBridge rule, SES sending, in this account), the
 * attacks are not (IAM and STS through the extension, other accounts' resources).
 */
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { authorize, type AuthzRequest } from '../../support/aws/iam-authz.ts'
import type { PolicyDocument } from '../../support/aws/iam-policy.ts'
import { RuleError, Stack, get, template } from '../../support/cfn-template.ts'

const ACCOUNT = '111111111111'
const OTHER = '999999999999'
const app = { AppName: 'shop', AppStackPrefix: 'Shop', ProjectPath: 'acme/shop', GitLabProjectId: '4242', Stages: 'production' }
const extended = { ...app, DeployServices: 'events,ses', BoundaryActions: 'ses:SendEmail,iam:CreateRole,sts:AssumeRole,iam:*' }
const stack = (params: Record<string, string>) => new Stack({ account: ACCOUNT, partition: 'aws', params })
const doc = (Statement: unknown): PolicyDocument => ({ Version: '2012-10-17', Statement }) as unknown as PolicyDocument
const inAccount = (account: string) => ({ 'aws:ResourceAccount': account })

it('DeployServices offers no IAM, STS or wildcard: the template refuses them before creating anything', () => {
  const offered = get(template, 'Parameters', 'DeployServices', 'AllowedValues') as string[]
  for (const bad of [ 'iam', 'sts', '*', 'organizations', 'events,iam' ]) {
    assert.throws(() => stack({ ...app, DeployServices: bad }), (e: unknown) => !(e instanceof RuleError) && /not in AllowedValues/.test(String(e)), bad)
  }
  assert.ok(!offered.some(s => /^(iam|sts|organizations|account)$/.test(s)))
})

it('the deploy role: an extension\'s service in this account, not in another; never IAM beyond what the role had', () => {
  const role = { identity: [ doc(stack(extended).permissions('ProductionDeployRole')) ] }
  const allowed = (req: AuthzRequest) => authorize(role, req).decision
  const rule = `arn:aws:events:us-west-2:${ACCOUNT}:rule/ShopProduction-Nightly`
  assert.equal(allowed({ action: 'events:PutRule', resource: rule, context: inAccount(ACCOUNT) }), 'allow')
  assert.equal(allowed({ action: 'events:PutRule', resource: `arn:aws:events:us-west-2:${OTHER}:rule/x`, context: inAccount(OTHER) }), 'implicit-deny')
  // Without the parameter, the rule is not the role's.
  const plain = { identity: [ doc(stack(app).permissions('ProductionDeployRole')) ] }
  assert.equal(authorize(plain, { action: 'events:PutRule', resource: rule, context: inAccount(ACCOUNT) }).decision, 'implicit-deny')
  // The role still cannot create a role without the boundary, extension or not.
  assert.notEqual(allowed({ action: 'iam:CreateRole', resource: `arn:aws:iam::${ACCOUNT}:role/ShopProduction-x`, context: inAccount(ACCOUNT) }), 'allow')
})

it('a role the deploy creates, capped by the boundary: BoundaryActions in this account, never IAM or STS, whatever they list', () => {
  const boundary = doc(stack(extended).policyDocument('ProductionBoundary').Statement)
  const created = { identity: [ doc([ { Effect: 'Allow', Action: '*', Resource: '*' } ]) ], boundary }
  const decide = (req: AuthzRequest) => authorize(created, req)
  assert.equal(decide({ action: 'ses:SendEmail', resource: `arn:aws:ses:us-west-2:${ACCOUNT}:identity/example.com`, context: inAccount(ACCOUNT) }).decision, 'allow')
  assert.equal(decide({ action: 'ses:SendEmail', resource: `arn:aws:ses:us-west-2:${OTHER}:identity/example.com`, context: inAccount(OTHER) }).decision, 'implicit-deny')
  for (const [ action, resource ] of [ [ 'iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/x` ], [ 'sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/x` ], [ 'iam:PutRolePolicy', `arn:aws:iam::${ACCOUNT}:role/x` ] ]) {
    const d = decide({ action: action!, resource: resource!, context: inAccount(ACCOUNT) })
    assert.deepEqual(d, { decision: 'explicit-deny', deniedBy: 'boundary' }, action)
  }
  // Without BoundaryActions the boundary allows no SES at all.
  const plain = { ...created, boundary: doc(stack(app).policyDocument('ProductionBoundary').Statement) }
  assert.equal(authorize(plain, { action: 'ses:SendEmail', resource: `arn:aws:ses:us-west-2:${ACCOUNT}:identity/example.com`, context: inAccount(ACCOUNT) }).decision, 'implicit-deny')
})
