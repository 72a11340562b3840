/**
 * Issue 12, "the AWS account is the fence": the deploy roles of iam/gitlab-oidc.yaml evaluated
 * against each attack path the issue names, in every layout (one account per stage, and
 * Stages=both in one account), both ways: the attack is denied where IAM can close it, and
 * Architect's own use of the same actions (derived from what @architect/package really generates
 * for an app with @http @ws @events @queues @tables @tables-streams @scheduled @static) is still
 * allowed. What IAM cannot close inside one account is asserted as such (it stays allowed with
 * Stages=both), so the README's Security model cannot claim more than the policies do.
 */
import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { packageApp, FULL_APP, type PackagedApp } from '../../support/arc-runtime.ts'
import { authorize } from '../../support/aws/iam-authz.ts'
import type { Decision, PolicyDocument } from '../../support/aws/iam-policy.ts'
import { Stack, get, type JsonObject, type Statement } from '../../support/cfn-template.ts'

const region = 'us-west-2'
const ONE = '111111111111'
const STAGING_ACCOUNT = '222222222222'
const PRODUCTION_ACCOUNT = '333333333333'
const OUTSIDER = '999999999999'
type StageName = 'Staging' | 'Production'
type Context = Record<string, string>

interface Layout { name: string, accounts: Record<StageName, string>, Stages: Record<StageName, string> }
const layouts: Layout[] = [
  { name: 'one account per stage', accounts: { Staging: STAGING_ACCOUNT, Production: PRODUCTION_ACCOUNT }, Stages: { Staging: 'staging', Production: 'production' } },
  { name: 'Stages=both (one account)', accounts: { Staging: ONE, Production: ONE }, Stages: { Staging: 'both', Production: 'both' } },
]

function role (layout: Layout, stage: StageName, extra: Record<string, string> = {}): PolicyDocument {
  const stack = new Stack({
    account: layout.accounts[stage],
    partition: 'aws',
    region,
    params: { AppName: 'oidc-example', AppStackPrefix: 'OidcExample', ProjectPath: 'my-group/oidc-example', GitLabProjectId: '4242', Stages: layout.Stages[stage], ...extra },
  })
  return { Version: '2012-10-17', Statement: stack.permissions(`${stage}DeployRole`) } as unknown as PolicyDocument
}

const boundaryOf = (account: string, stage: StageName): string => `arn:aws:iam::${account}:policy/oidc-example-${stage.toLowerCase()}-boundary`

function decide (doc: PolicyDocument, action: string, resource: string, context: Context = {}): Decision {
  return authorize({ identity: [ doc ] }, { action, resource, context }).decision
}

const other = (s: StageName): StageName => s === 'Staging' ? 'Production' : 'Staging'
const stages: StageName[] = [ 'Staging', 'Production' ]

/* ------------------------------------------------------------------------ */
/* What Architect really generates, and what a deploy does with it           */
/* ------------------------------------------------------------------------ */

const apps: Record<string, PackagedApp> = {}
before(async () => {
  for (const [ key, stage, stackName, account, rawArc ] of [
    [ 'staging', 'staging', 'OidcExampleStaging', STAGING_ACCOUNT, FULL_APP ],
    [ 'review', 'staging', 'OidcExampleStagingMr7', STAGING_ACCOUNT, FULL_APP ],
    [ 'production', 'production', 'OidcExampleProduction', PRODUCTION_ACCOUNT, FULL_APP ],
    [ 'one-staging', 'staging', 'OidcExampleStaging', ONE, FULL_APP ],
    [ 'one-production', 'production', 'OidcExampleProduction', ONE, FULL_APP ],
    // Another app of the same account whose name starts with this one's and a stage name (issue 12, 3).
    [ 'tools-staging', 'staging', 'OidcExampleStagingToolsStaging', ONE, FULL_APP.replace('oidc-example', 'oidc-example-staging-tools') ],
    [ 'tools-production', 'production', 'OidcExampleStagingToolsProduction', ONE, FULL_APP.replace('oidc-example', 'oidc-example-staging-tools') ],
    [ 'named', 'staging', 'OidcExampleStagingDemo', ONE, FULL_APP ],
  ] as const) {
    apps[key] = await packageApp({ stage, stackName, account, region, rawArc })
  }
})

const accountOf = (arn: string): string => arn.split(':')[4] ?? ''

/**
 * The (action, resource, context) a deploy (CloudFormation with the deploy role's credentials)
 * uses for each resource of a packaged stack: create, update, delete, and the role's policies.
 */
function deployCalls (app: PackagedApp, boundary: string): [string, string, Context][] {
  const account = accountOf(app.resources[0] as string)
  const stack = app.stackName
  const calls: [string, string, Context][] = [
    [ 'cloudformation:UpdateStack', `arn:aws:cloudformation:${region}:${account}:stack/${stack}/0f0e0d0c`, {} ],
    [ 'cloudformation:CreateChangeSet', `arn:aws:cloudformation:${region}:${account}:stack/${stack}/0f0e0d0c`, {} ],
    [ 'scheduler:UpdateSchedule', `arn:aws:scheduler:${region}:${account}:schedule/default/${stack}-NightlyScheduleEvent-A1B2C3D4E5F6`, {} ],
  ]
  for (const r of app.resources) {
    const [ , , service, , , rest = '' ] = r.split(':')
    if (service === 'lambda') calls.push([ 'lambda:UpdateFunctionCode', r, {} ], [ 'lambda:UpdateFunctionConfiguration', r, {} ])
    else if (service === 'logs' && !rest.includes(':log-stream:')) calls.push([ 'logs:PutRetentionPolicy', r, {} ])
    else if (service === 'dynamodb' && !r.includes('/stream/') && !r.includes('/index/')) calls.push([ 'dynamodb:UpdateTable', r, {} ], [ 'dynamodb:CreateTable', r, {} ])
    else if (service === 'sns') calls.push([ 'sns:SetTopicAttributes', r, {} ])
    else if (service === 'sqs') calls.push([ 'sqs:SetQueueAttributes', r, {} ])
    else if (service === 's3') calls.push([ r.includes('/') ? 's3:PutObject' : 's3:PutBucketWebsite', r, { 's3:ResourceAccount': account } ])
    else if (service === 'ssm' && rest !== `parameter/${stack}`) calls.push([ 'ssm:PutParameter', r, {} ])
  }
  for (const r of Object.values(app.roles)) {
    calls.push([ 'iam:PutRolePolicy', r.arn, { 'iam:PermissionsBoundary': boundary } ])
    calls.push([ 'iam:UpdateAssumeRolePolicy', r.arn, { 'iam:PermissionsBoundary': boundary } ])
  }
  return calls
}

/** Architect's invoke permissions, SNS subscriptions and event source mappings, from its template and SAM's events. */
function wiring (app: PackagedApp): [string, string, Context][] {
  const account = accountOf(app.resources[0] as string)
  const fn = (id: string): string => {
    const arn = `arn:aws:lambda:${region}:${account}:function:${app.stackName}-${id}-A1B2C3D4E5F6`
    assert.ok(app.resources.includes(arn), `${arn} is a function of the stack`)
    return arn
  }
  const out: [string, string, Context][] = []
  for (const [ id, res ] of Object.entries(app.sam.Resources)) {
    if (res.Type === 'AWS::Lambda::Permission') {
      const target = (get(res, 'Properties', 'FunctionName') as JsonObject).Ref as string
      out.push([ 'lambda:AddPermission', fn(target), { 'lambda:Principal': get(res, 'Properties', 'Principal') as string } ])
    }
    if (res.Type === 'AWS::Lambda::EventSourceMapping') {
      const target = (get(res, 'Properties', 'FunctionName') as JsonObject)['Fn::GetAtt'] as string[]
      out.push([ 'lambda:CreateEventSourceMapping', '*', { 'lambda:FunctionArn': fn(target[0] as string) } ])
    }
    for (const event of Object.values((get(res, 'Properties', 'Events') ?? {}) as JsonObject)) {
      // What SAM's transform generates for each event type.
      const type = get(event, 'Type')
      if (type === 'HttpApi') out.push([ 'lambda:AddPermission', fn(id), { 'lambda:Principal': 'apigateway.amazonaws.com' } ])
      else if (type === 'SNS') {
        const topic = app.resources.find(r => r.includes(':sns:') && r.includes(`${app.stackName}-`)) as string
        out.push([ 'lambda:AddPermission', fn(id), { 'lambda:Principal': 'sns.amazonaws.com' } ])
        out.push([ 'sns:Subscribe', topic, { 'sns:Protocol': 'lambda', 'sns:Endpoint': fn(id) } ])
      }
      else if (type === 'SQS') out.push([ 'lambda:CreateEventSourceMapping', '*', { 'lambda:FunctionArn': fn(id) } ])
      else assert.fail(`SAM event type ${String(type)} of ${id}: add what SAM generates for it`)
    }
  }
  const kinds = new Set(out.map(([ action, , ctx ]) => `${action} ${ctx['lambda:Principal'] ?? ctx['sns:Protocol'] ?? ''}`.trim()))
  assert.deepEqual([ ...kinds ].sort(), [ 'lambda:AddPermission apigateway.amazonaws.com', 'lambda:AddPermission sns.amazonaws.com', 'lambda:CreateEventSourceMapping', 'sns:Subscribe lambda' ])
  return out
}

describe('Architect\'s own use of what the fence restricts is still allowed', () => {
  for (const layout of layouts) {
    const one = layout.accounts.Staging === layout.accounts.Production
    for (const stage of stages) {
      it(`${layout.name}: the ${stage.toLowerCase()} role deploys and wires its stacks (main${stage === 'Staging' ? ' and review app' : ''})`, () => {
        const keys = stage === 'Staging' ? (one ? [ 'one-staging' ] : [ 'staging', 'review' ]) : [ one ? 'one-production' : 'production' ]
        const doc = role(layout, stage)
        for (const key of keys) {
          const app = apps[key] as PackagedApp
          const calls = [ ...deployCalls(app, boundaryOf(layout.accounts[stage], stage)), ...wiring(app) ]
          assert.ok(calls.length > 40, `${calls.length} calls`)
          for (const [ action, resource, ctx ] of calls) assert.equal(decide(doc, action, resource, ctx), 'allow', `${app.stackName}: ${action} ${resource} ${JSON.stringify(ctx)}`)
        }
        const account = layout.accounts[stage]
        assert.equal(decide(doc, 'cloudfront:ListDistributions', '*'), 'allow', 'Architect lists distributions after every deploy')
        assert.equal(decide(doc, 's3:CreateBucket', 'arn:aws:s3:::oidc-example-cfn-deployments-1a2b3'), 'allow', 'the deployment bucket, created without an owner key')
        assert.equal(decide(doc, 's3:PutObject', 'arn:aws:s3:::oidc-example-cfn-deployments-1a2b3/x.zip', { 's3:ResourceAccount': account }), 'allow')
        assert.equal(decide(doc, 'lambda:CreateFunctionUrlConfig', `arn:aws:lambda:${region}:${account}:function:OidcExample${stage}-F-1`, { 'lambda:FunctionUrlAuthType': 'AWS_IAM' }), 'allow', 'an IAM-authenticated URL is not public')
        assert.equal(decide(doc, 'sns:Subscribe', `arn:aws:sns:${region}:${account}:OidcExample${stage}-T-1`, { 'sns:Protocol': 'sqs', 'sns:Endpoint': `arn:aws:sqs:${region}:${account}:OidcExample${stage}-Q-1` }), 'allow')
      })
    }
  }
})

/* ------------------------------------------------------------------------ */
/* 1. The deployment bucket                                                  */
/* ------------------------------------------------------------------------ */

describe('1. the deployment bucket: only this account\'s, in every layout', () => {
  const bucket = 'arn:aws:s3:::oidc-example-cfn-deployments-1a2b3'
  const s3 = [ 's3:ListBucket', 's3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:DeleteBucket', 's3:GetBucketLocation' ]
  for (const layout of layouts) {
    for (const stage of stages) {
      it(`${layout.name}: the ${stage.toLowerCase()} role cannot use a bucket of that name in another account`, () => {
        const doc = role(layout, stage)
        for (const action of s3) {
          const resource = action.endsWith('Object') ? `${bucket}/template.json` : bucket
          assert.equal(decide(doc, action, resource, { 's3:ResourceAccount': OUTSIDER }), 'explicit-deny', `${action} in ${OUTSIDER}`)
        }
        // Nor the static bucket name of its own stage in another account.
        assert.equal(decide(doc, 's3:PutObject', `arn:aws:s3:::oidcexample${stage.toLowerCase()}-staticbucket-x/index.html`, { 's3:ResourceAccount': OUTSIDER }), 'explicit-deny')
      })
    }
  }

  it('one account per stage: the staging role cannot reach production\'s bucket nor its bucket parameter', () => {
    const doc = role(layouts[0] as Layout, 'Staging')
    assert.equal(decide(doc, 's3:PutObject', `${bucket}/template.json`, { 's3:ResourceAccount': PRODUCTION_ACCOUNT }), 'explicit-deny')
    assert.equal(decide(doc, 'ssm:PutParameter', `arn:aws:ssm:${region}:${PRODUCTION_ACCOUNT}:parameter/oidc-example/deploy/bucket`), 'implicit-deny')
    assert.equal(decide(doc, 'ssm:GetParametersByPath', `arn:aws:ssm:${region}:${PRODUCTION_ACCOUNT}:parameter/oidc-example`), 'implicit-deny', 'nor production\'s arc env values')
  })

  it('Stages=both: IAM cannot close it (both stages deploy from one bucket): the staging role writes it', () => {
    const doc = role(layouts[1] as Layout, 'Staging')
    assert.equal(decide(doc, 's3:PutObject', `${bucket}/production-template.json`, { 's3:ResourceAccount': ONE }), 'allow')
    assert.equal(decide(doc, 'ssm:PutParameter', `arn:aws:ssm:${region}:${ONE}:parameter/oidc-example/deploy/bucket`), 'allow')
    assert.equal(decide(doc, 'ssm:GetParametersByPath', `arn:aws:ssm:${region}:${ONE}:parameter/oidc-example`), 'allow', 'and reads production\'s arc env values')
  })
})

/* ------------------------------------------------------------------------ */
/* 2. API Gateway V2 and CloudFront                                          */
/* ------------------------------------------------------------------------ */

describe('2. CloudFront writes only behind AllowCloudFrontWrites; API Gateway V2 unfenced', () => {
  const writes = [ 'cloudfront:CreateDistribution', 'cloudfront:UpdateDistribution', 'cloudfront:DeleteDistribution', 'cloudfront:CreateInvalidation', 'cloudfront:GetDistributionConfig' ]
  for (const layout of layouts) {
    for (const stage of stages) {
      it(`${layout.name}, ${stage.toLowerCase()} role: no distribution writes by default; all of them with AllowCloudFrontWrites=true (@cdn)`, () => {
        const doc = role(layout, stage)
        const cdn = role(layout, stage, { AllowCloudFrontWrites: 'true' })
        const distribution = `arn:aws:cloudfront::${layout.accounts[stage]}:distribution/E1PRODUCTION`
        for (const action of writes) {
          assert.equal(decide(doc, action, distribution), 'implicit-deny', action)
          assert.equal(decide(cdn, action, distribution), 'allow', `${action} with @cdn`)
        }
        assert.equal(decide(cdn, 'cloudfront:ListDistributions', '*'), 'allow')
      })
    }
  }

  it('Stages=both: any API of the account stays writable (IAM cannot scope API Gateway V2 by name or tag)', () => {
    const doc = role(layouts[1] as Layout, 'Staging')
    for (const action of [ 'apigateway:PATCH', 'apigateway:DELETE' ]) assert.equal(decide(doc, action, `arn:aws:apigateway:${region}::/apis/prodapi1/routes/r1`), 'allow')
  })
})

/* ------------------------------------------------------------------------ */
/* 3. Names: the stage's own stacks only                                     */
/* ------------------------------------------------------------------------ */

describe('3. names match only the stage\'s own stacks and what CloudFormation names after them', () => {
  for (const stage of stages) {
    it(`the ${stage.toLowerCase()} role touches nothing of another app named oidc-example-staging-tools, nor a named stack other than a review app`, () => {
      const doc = role(layouts[1] as Layout, stage)
      const boundary = boundaryOf(ONE, stage)
      let checked = 0
      for (const key of [ 'tools-staging', 'tools-production', ...(stage === 'Staging' ? [ 'named' ] : []) ]) {
        const app = apps[key] as PackagedApp
        for (const [ action, resource, ctx ] of [ ...deployCalls(app, boundary), ...wiring(app) ]) {
          assert.notEqual(decide(doc, action, resource, ctx), 'allow', `${app.stackName}: ${action} ${resource}`)
          checked++
        }
        for (const r of Object.values(app.roles)) assert.notEqual(decide(doc, 'iam:CreateRole', r.arn, { 'iam:PermissionsBoundary': boundary }), 'allow', r.arn)
        assert.notEqual(decide(doc, 'cloudformation:DeleteStack', `arn:aws:cloudformation:${region}:${ONE}:stack/${app.stackName}/1`), 'allow')
      }
      assert.ok(checked > 100, `${checked} calls`)
    })
  }

  for (const stage of stages) {
    it(`code running under the ${stage.toLowerCase()} boundary (even with Action * Resource *) reaches nothing of oidc-example-staging-tools`, () => {
      const stack = new Stack({ account: ONE, partition: 'aws', region, params: { AppName: 'oidc-example', AppStackPrefix: 'OidcExample', ProjectPath: 'my-group/oidc-example', GitLabProjectId: '4242', Stages: 'both' } })
      const boundary = stack.policyDocument(`${stage}Boundary`) as unknown as PolicyDocument
      const admin: PolicyDocument = { Statement: [ { Effect: 'Allow', Action: '*', Resource: '*' } ] }
      const actions: Record<string, string> = { lambda: 'lambda:InvokeFunction', logs: 'logs:PutLogEvents', dynamodb: 'dynamodb:Scan', sns: 'sns:Publish', sqs: 'sqs:SendMessage', s3: 's3:GetObject', ssm: 'ssm:GetParametersByPath', 'execute-api': 'execute-api:ManageConnections' }
      const own = apps[stage === 'Staging' ? 'one-staging' : 'one-production'] as PackagedApp
      const reachable = (r: string): boolean => {
        const action = actions[r.split(':')[2] as string] as string
        return authorize({ identity: [ admin ], boundary }, { action, resource: r, context: action.startsWith('s3:') ? { 's3:ResourceAccount': ONE } : {} }).decision === 'allow'
      }
      assert.ok(own.resources.filter(r => !r.includes(':execute-api:')).every(reachable), 'its own stack\'s resources are reachable')
      for (const key of [ 'tools-staging', 'tools-production' ]) {
        for (const r of (apps[key] as PackagedApp).resources) {
          // execute-api by stage name is what IAM cannot fence (README, Security model).
          if (r.includes(':execute-api:')) continue
          assert.ok(!reachable(r), `${stage} boundary reaches ${r}`)
        }
      }
    })
  }

  it('the old prefixes would have matched them (the check is not vacuous)', () => {
    const tools = apps['tools-staging'] as PackagedApp
    assert.ok(tools.resources.some(r => /OidcExampleStaging/.test(r)))
    assert.ok(tools.resources.every(r => !/OidcExampleStaging-|oidcexamplestaging-/.test(r)))
  })
})

/* ------------------------------------------------------------------------ */
/* 4. Access that outlives the job                                           */
/* ------------------------------------------------------------------------ */

describe('4. access that outlives the job is denied, in every layout', () => {
  for (const layout of layouts) {
    for (const stage of stages) {
      const account = layout.accounts[stage]
      const fn = `arn:aws:lambda:${region}:${account}:function:OidcExample${stage}-GetIndexHTTPLambda-A1`
      const topic = `arn:aws:sns:${region}:${account}:OidcExample${stage}-DeployedEventTopic-A1`
      const queue = `arn:aws:sqs:${region}:${account}:OidcExample${stage}-WorkQueue-A1.fifo`
      const table = `arn:aws:dynamodb:${region}:${account}:table/OidcExample${stage}-ThingsTable-A1`
      const stageRole = `arn:aws:iam::${account}:role/OidcExample${stage}-Role-A1`

      it(`${layout.name}, ${stage.toLowerCase()} role: public function URLs, invoke permissions for others`, () => {
        const doc = role(layout, stage)
        for (const action of [ 'lambda:CreateFunctionUrlConfig', 'lambda:UpdateFunctionUrlConfig' ]) {
          assert.equal(decide(doc, action, fn, { 'lambda:FunctionUrlAuthType': 'NONE' }), 'explicit-deny', action)
        }
        for (const principal of [ '*', OUTSIDER, `arn:aws:iam::${OUTSIDER}:root`, 'events.amazonaws.com', 's3.amazonaws.com' ]) {
          assert.equal(decide(doc, 'lambda:AddPermission', fn, { 'lambda:Principal': principal }), 'explicit-deny', principal)
        }
        for (const principal of [ 'apigateway.amazonaws.com', 'sns.amazonaws.com' ]) {
          assert.equal(decide(doc, 'lambda:AddPermission', fn, { 'lambda:Principal': principal }), 'allow', principal)
        }
      })

      it(`${layout.name}, ${stage.toLowerCase()} role: resource policies on tables, queues and topics; outside subscriptions`, () => {
        const doc = role(layout, stage)
        assert.equal(decide(doc, 'dynamodb:PutResourcePolicy', table), 'explicit-deny')
        assert.equal(decide(doc, 'sqs:AddPermission', queue), 'explicit-deny')
        assert.equal(decide(doc, 'sns:AddPermission', topic), 'explicit-deny')
        for (const [ protocol, endpoint ] of [ [ 'https', 'https://attacker.example/hook' ], [ 'email', 'a@attacker.example' ], [ 'sms', '+15555550100' ], [ 'firehose', `arn:aws:firehose:${region}:${account}:deliverystream/x` ], [ 'lambda', `arn:aws:lambda:${region}:${OUTSIDER}:function:x` ], [ 'sqs', `arn:aws:sqs:${region}:${OUTSIDER}:x` ] ]) {
          assert.equal(decide(doc, 'sns:Subscribe', topic, { 'sns:Protocol': protocol as string, 'sns:Endpoint': endpoint as string }), 'explicit-deny', `${protocol} ${endpoint}`)
        }
        assert.equal(decide(doc, 'sns:Subscribe', topic, { 'sns:Protocol': 'lambda', 'sns:Endpoint': fn }), 'allow')
      })

      it(`${layout.name}, ${stage.toLowerCase()} role: trust policy and settings of a role only while it carries the stage's boundary`, () => {
        const doc = role(layout, stage)
        for (const action of [ 'iam:UpdateAssumeRolePolicy', 'iam:UpdateRole', 'iam:UpdateRoleDescription' ]) {
          assert.equal(decide(doc, action, stageRole), 'implicit-deny', `${action} on a role without a boundary`)
          assert.equal(decide(doc, action, stageRole, { 'iam:PermissionsBoundary': boundaryOf(account, other(stage)) }), 'implicit-deny', `${action} with the other stage's boundary`)
          assert.equal(decide(doc, action, stageRole, { 'iam:PermissionsBoundary': boundaryOf(account, stage) }), 'allow', `${action} with the stage's boundary`)
        }
      })
    }
  }
})

/* ------------------------------------------------------------------------ */
/* 5. Data: the main stages' tables                                          */
/* ------------------------------------------------------------------------ */

describe('5. no deploy role deletes a main stage\'s tables unless AllowMainTableDeletion=true', () => {
  for (const layout of layouts) {
    for (const stage of stages) {
      it(`${layout.name}, ${stage.toLowerCase()} role`, () => {
        const account = layout.accounts[stage]
        const main = `arn:aws:dynamodb:${region}:${account}:table/OidcExample${stage}-ThingsTable-A1`
        const doc = role(layout, stage)
        assert.equal(decide(doc, 'dynamodb:DeleteTable', main), 'explicit-deny')
        assert.equal(decide(doc, 'dynamodb:UpdateTable', main), 'allow', 'updating it stays possible')
        assert.equal(decide(doc, 'dynamodb:CreateTable', main), 'allow')
        assert.equal(decide(role(layout, stage, { AllowMainTableDeletion: 'true' }), 'dynamodb:DeleteTable', main), 'allow', 'a project may allow it')
        if (stage === 'Staging') {
          const review = `arn:aws:dynamodb:${region}:${account}:table/OidcExampleStagingMr7-ThingsTable-A1`
          assert.equal(decide(doc, 'dynamodb:DeleteTable', review), 'allow', 'a review app\'s tables go with its stack')
        }
        const otherMain = `arn:aws:dynamodb:${region}:${account}:table/OidcExample${other(stage)}-ThingsTable-A1`
        assert.notEqual(decide(role(layout, stage, { AllowMainTableDeletion: 'true' }), 'dynamodb:DeleteTable', otherMain), 'allow')
      })
    }
  }
})

describe('the fence statements', () => {
  it('use only condition keys AWS sets for their actions (and the evaluator models)', () => {
    const doc = role(layouts[1] as Layout, 'Staging')
    const keys = new Set((doc.Statement as Statement[]).flatMap(s => Object.values(s.Condition ?? {}).flatMap(e => Object.keys(e))))
    assert.deepEqual([ ...keys ].sort(), [ 'iam:PassedToService', 'iam:PermissionsBoundary', 'lambda:FunctionArn', 'lambda:FunctionUrlAuthType', 'lambda:Principal', 's3:ResourceAccount', 'sns:Endpoint', 'sns:Protocol' ])
  })
})
