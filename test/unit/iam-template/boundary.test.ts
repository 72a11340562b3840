/**
 * The permissions boundaries of iam/gitlab-oidc.yaml against what Architect really
 * generates (@architect/package, the code `arc deploy` runs) for an app with @http @ws @events
 * @queues @tables @tables-streams @scheduled @static:
 * - every action Architect's inline policies grant its runtime roles, on the stack's own
 *   resources, is still allowed with the stage's boundary attached (so the app keeps working),
 *   for the main stacks and a review app's stack;
 * - with the boundary, those roles reach nothing of the other stage (without it, Architect's
 *   `logs:*:*:*` and SQS `*` statements would);
 * - no boundary statement can allow any IAM or STS action.
 */
import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { asList, wildcardMatch, type PolicyDocument, type Statement } from '../../support/aws/iam-policy.ts'
import { authorize, resourceMatches } from '../../support/aws/iam-authz.ts'
import { packageApp, type PackagedApp } from '../../support/arc-runtime.ts'
import { Stack } from '../../support/cfn-template.ts'

const account = '111111111111'
const region = 'us-west-2'
const stack = new Stack({ account, partition: 'aws', region, params: { AppName: 'oidc-example', AppStackPrefix: 'OidcExample', ProjectPath: 'my-group/oidc-example', GitLabProjectId: '4242', Stages: 'both' } })
const boundaries = {
  staging: stack.policyDocument('StagingBoundary') as unknown as PolicyDocument,
  production: stack.policyDocument('ProductionBoundary') as unknown as PolicyDocument,
}

// Representative actions for the service-wide wildcards Architect grants.
const EXPANSIONS: Record<string, string[]> = {
  'dynamodb:*': [ 'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem', 'TransactWriteItems', 'ConditionCheckItem', 'DescribeTable', 'DescribeStream', 'GetRecords', 'GetShardIterator' ].map(a => `dynamodb:${a}`),
}

function expand (action: string): string[] {
  if (!action.includes('*')) return [ action ]
  const list = EXPANSIONS[action]
  assert.ok(list, `Architect grants ${action}: add representative actions to EXPANSIONS`)
  return list
}

const service = (arn: string): string => arn.split(':')[2] ?? ''
/** The request context AWS sets: S3 requests carry the bucket owner (this account's buckets here). */
const contextOf = (resource: string): Record<string, string> => service(resource) === 's3' ? { 's3:ResourceAccount': account } : {}

/** (role, action, resource) for every Allow statement × action × matching resource of `resources`. */
function grants (app: PackagedApp, resources: string[]): { role: string, action: string, resource: string, policies: PolicyDocument[] }[] {
  const out: { role: string, action: string, resource: string, policies: PolicyDocument[] }[] = []
  for (const [ id, role ] of Object.entries(app.roles)) {
    for (const st of role.policies.flatMap(p => asList(p.Statement))) {
      if (st.Effect !== 'Allow') continue
      for (const action of asList(st.Action).flatMap(expand)) {
        const matching = resources.filter(r => service(r) === action.split(':')[0] && asList(st.Resource).some(p => resourceMatches(p, r)))
        for (const resource of matching) out.push({ role: id, action, resource, policies: role.policies })
      }
    }
  }
  return out
}

const apps: Record<string, PackagedApp> = {}
before(async () => {
  for (const [ key, stage, stackName ] of [
    [ 'staging', 'staging', 'OidcExampleStaging' ], [ 'review', 'staging', 'OidcExampleStagingMr7' ], [ 'production', 'production', 'OidcExampleProduction' ],
  ] as const) {
    apps[key] = await packageApp({ stage, stackName, account, region })
  }
})

describe('stage boundaries vs Architect\'s generated runtime roles', () => {
  for (const [ key, stage ] of [ [ 'staging', 'staging' ], [ 'review', 'staging' ], [ 'production', 'production' ] ] as const) {
    it(`allow every action Architect grants on the stack's own resources (${key} stack, ${stage} boundary)`, () => {
      const app = apps[key] as PackagedApp
      assert.ok(Object.keys(app.roles).length >= 2, 'Architect generated its function role and the scheduler role')
      // Every Allow statement × action must find at least one resource of the stack, or the check would be vacuous.
      for (const [ id, role ] of Object.entries(app.roles)) {
        for (const st of role.policies.flatMap(p => asList(p.Statement)).filter(s => s.Effect === 'Allow')) {
          for (const action of asList(st.Action).flatMap(expand)) {
            assert.ok(grants({ ...app, roles: { [id]: { ...role, policies: [ { Statement: [ st ] } ] } } }, app.resources).some(g => g.action === action), `${id}: ${action} on ${JSON.stringify(st.Resource)} matches a resource of ${app.stackName}`)
          }
        }
      }
      const checked = grants(app, app.resources)
      assert.ok(checked.length > 50, `${checked.length} grants checked`)
      for (const g of checked) {
        const request = { action: g.action, resource: g.resource, context: contextOf(g.resource) }
        const r = authorize({ identity: g.policies, boundary: boundaries[stage] }, request)
        assert.equal(r.decision, 'allow', `${app.stackName} ${g.role}: ${g.action} on ${g.resource} is ${r.decision} (${r.deniedBy ?? ''})`)
      }
    })
  }

  for (const [ key, stage, otherKeys ] of [ [ 'staging', 'staging', [ 'production' ] ], [ 'review', 'staging', [ 'production' ] ], [ 'production', 'production', [ 'staging', 'review' ] ] ] as const) {
    it(`keep the ${key} stack's roles off the other stage's resources`, () => {
      const app = apps[key] as PackagedApp
      const others = otherKeys.flatMap(k => (apps[k] as PackagedApp).resources)
      const cross = grants(app, others)
      const withoutBoundary = cross.filter(g => authorize({ identity: g.policies }, { action: g.action, resource: g.resource, context: contextOf(g.resource) }).decision === 'allow')
      assert.ok(withoutBoundary.length > 0, 'Architect\'s own policies alone reach the other stage (logs *, SQS *): the boundary is what fences them')
      for (const g of cross) {
        const request = { action: g.action, resource: g.resource, context: contextOf(g.resource) }
        const r = authorize({ identity: g.policies, boundary: boundaries[stage] }, request)
        assert.notEqual(r.decision, 'allow', `${app.stackName} ${g.role}: ${g.action} on ${g.resource}`)
      }
    })
  }
})

describe('the boundary policies', () => {
  for (const [ stage, doc ] of Object.entries(boundaries)) {
    it(`${stage}: no Allow statement can match an IAM or STS action, and both are explicitly denied`, () => {
      const statements = asList(doc.Statement) as Statement[]
      for (const st of statements.filter(s => s.Effect === 'Allow')) {
        assert.equal(st.NotAction, undefined, `${st.Sid}: no NotAction in an Allow`)
        for (const a of asList(st.Action)) {
          const svc = a.includes(':') ? a.slice(0, a.indexOf(':')) : a
          for (const forbidden of [ 'iam', 'sts' ]) assert.ok(!wildcardMatch(svc, forbidden, true), `${st.Sid}: ${a} could match ${forbidden}:*`)
        }
        assert.ok(asList(st.Resource).every(r => r !== '*'), `${st.Sid}: scoped to the stage's resources`)
      }
      const admin = { Statement: [ { Effect: 'Allow' as const, Action: '*', Resource: '*' } ] }
      for (const action of [ 'iam:CreateRole', 'iam:PassRole', 'iam:PutRolePolicy', 'iam:CreateAccessKey', 'sts:AssumeRole', 'sts:GetFederationToken' ]) {
        assert.equal(authorize({ identity: [ admin ], boundary: doc }, { action, resource: `arn:aws:iam::${account}:role/OidcExample${stage === 'staging' ? 'Staging' : 'Production'}-Role-X` }).decision, 'explicit-deny', action)
      }
    })
  }

  it('let runtime roles use only this account\'s buckets of the stage\'s names', () => {
    const admin = { Statement: [ { Effect: 'Allow' as const, Action: '*', Resource: '*' } ] }
    for (const [ stage, doc ] of Object.entries(boundaries)) {
      const object = `arn:aws:s3:::oidcexample${stage}-staticbucket-x/index.html`
      assert.equal(authorize({ identity: [ admin ], boundary: doc }, { action: 's3:PutObject', resource: object, context: { 's3:ResourceAccount': account } }).decision, 'allow')
      assert.notEqual(authorize({ identity: [ admin ], boundary: doc }, { action: 's3:PutObject', resource: object, context: { 's3:ResourceAccount': '999999999999' } }).decision, 'allow', 'a bucket of that name in another account')
    }
  })

  it('do not let runtime roles read the app\'s arc env values (/<AppName>), only their stack\'s /<stack> parameters', () => {
    const admin = { Statement: [ { Effect: 'Allow' as const, Action: '*', Resource: '*' } ] }
    for (const doc of Object.values(boundaries)) {
      for (const name of [ 'oidc-example', 'oidc-example/production/SECRET', 'oidc-example/staging/SECRET' ]) {
        for (const action of [ 'ssm:GetParametersByPath', 'ssm:GetParameter' ]) {
          assert.notEqual(authorize({ identity: [ admin ], boundary: doc }, { action, resource: `arn:aws:ssm:${region}:${account}:parameter/${name}` }).decision, 'allow', `${action} /${name}`)
        }
      }
    }
  })
})
