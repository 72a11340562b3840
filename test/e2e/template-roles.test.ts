/**
 * Issue 24, item 4, end to end: deploys under the IAM template's own roles, every call authorized.
 *
 * As a user goes: in an app with every pragma (the packed plugin installed next to Architect 12),
 * `arc-gitlab-oidc setup` prints one `aws cloudformation deploy` per account; those commands run
 * against the stand-ins, each with that account's administrator key (test/support/iam-setup.ts),
 * and the stand-in CloudFormation creates the template's OIDC provider, boundaries and deploy
 * roles in the stand-in IAM. Then the real `arc` deploys production, staging and a review app
 * through the plugin's exchange: every call Architect makes is authorized against the role's
 * policies (test/support/aws/request-resources.ts), and every request CloudFormation makes for
 * the stack's resources with the role's permissions (test/support/aws/cfn-permissions.ts).
 * Negative: the same deploys with a grant taken out of the template, or a resource the template
 * does not allow added by a later plugin, fail with AccessDenied naming the action. Architect
 * 11: a dry run under the same roles, and its generated template (an EventBridge rule for
 * @scheduled) refused by CloudFormation as the production role.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { get, type Json, type JsonObject } from '../support/cfn-template.ts'
import { wildcardMatch } from '../support/aws/iam-policy.ts'
import type { AuthzRecord, Stack } from '../support/aws/state.ts'
import { ARCHITECT11_VERSION, EXAMPLE_APP, installApp, type App, type InstallAppOptions } from '../support/harness.ts'
import { changedTemplate, setupFromTemplate, withTemplateFile, type IamSetup } from '../support/iam-setup.ts'
import { runAwsCli } from '../support/aws-cli.ts'
import { signed } from '../support/aws-client.ts'
import { assertSignedBySession, lastSeq, sessionOf, startSuite, type Suite } from './e2e.ts'

/** The public URL the GitLab stand-in goes by (the template wants https, no port). */
const ISSUER = 'https://gitlab.example.test'
const handler = 'export const handler = async () => ({ statusCode: 200 })\n'
const exampleArc = readFileSync(join(EXAMPLE_APP, 'app.arc'), 'utf8')

/** example-app with every pragma Architect deploys: @http @ws @events @queues @tables @tables-streams @scheduled @static. */
const FULL: InstallAppOptions = {
  arc: exampleArc.replace('@aws\n', [
    '@ws', '', '@queues', 'work', '', '@tables', 'things', '  id *String', '  stream true', '', '@tables-streams', 'things', '',
    '@scheduled', 'nightly rate(1 day)', '', '@static', '', '@aws', '',
  ].join('\n')),
  files: Object.fromEntries([ 'ws/connect', 'ws/disconnect', 'ws/default', 'queues/work', 'tables-streams/things', 'scheduled/nightly' ]
    .map(dir => [ `src/${dir}/index.mjs`, handler ])),
}

let suite: Suite
let app: App
let iam: IamSetup
before(async () => {
  suite = await startSuite({ iam: 'none', publicIssuer: ISSUER })
  app = await installApp(FULL)
  iam = await setupFromTemplate(suite.s, { appDir: app.dir })
})
after(async () => {
  app?.remove()
  await suite?.close()
})

const templateFile = (): string => join(app.dir, 'node_modules', 'arc-plugin-gitlab-oidc', 'iam', 'gitlab-oidc.yaml')
const authzSince = (n: number): AuthzRecord[] => suite.s.aws.state.authz.slice(n)
const stackIn = (name: string, stage: 'production' | 'staging'): Stack | undefined => suite.s.aws.stack(name, suite.s.accounts[stage])
const branchJob = () => suite.s.job({ ref: 'feature/login', ref_protected: 'false', environment: 'staging' })

/** Re-run setup's command for a stage, with the template changed (or as printed, to restore it). */
async function redeployIam (stage: 'production' | 'staging', change?: (tpl: JsonObject) => void): Promise<void> {
  const run = iam.runs.find(r => r.stage === stage)!
  const words = change ? withTemplateFile(run.words, changedTemplate(templateFile(), change)) : run.words
  const result = await runAwsCli(words, { endpoint: suite.s.aws.endpoint, credentials: iam.admins[stage], region: 'us-west-2', cwd: app.dir })
  assert.equal(result.code, 0, result.stdout + result.stderr)
}

/** Take every action pattern that grants `action` out of the deploy roles' Allow statements (a statement left with none goes). */
function withoutGrant (action: string): (tpl: JsonObject) => void {
  const strip = (node: Json): Json => {
    if (Array.isArray(node)) {
      return node.map(strip).filter(n => !(n && typeof n === 'object' && !Array.isArray(n) && n.Effect === 'Allow' && Array.isArray(n.Action) && n.Action.length === 0))
    }
    if (!node || typeof node !== 'object') return node
    const out: JsonObject = {}
    for (const [ k, v ] of Object.entries(node)) out[k] = strip(v)
    if (out.Effect === 'Allow' && out.Action !== undefined) {
      out.Action = [ out.Action ].flat().filter(a => typeof a !== 'string' || !wildcardMatch(a, action, true))
    }
    return out
  }
  return tpl => {
    for (const res of Object.values(tpl.Resources as JsonObject)) {
      if (get(res, 'Type') === 'AWS::IAM::Role') (res as JsonObject).Properties = strip(get(res, 'Properties') ?? null)
    }
  }
}

test('setup\'s printed commands create the OIDC provider, boundary and deploy role in each account', () => {
  assert.equal(iam.runs.length, 2, iam.setupOutput)
  for (const { stage, result } of iam.runs) {
    assert.equal(result.code, 0, `${stage}: ${result.stdout}${result.stderr}`)
    assert.match(result.stdout, /Successfully created\/updated stack - oidc-example-gitlab-oidc/)
    const account = suite.s.aws.state.accounts.get(suite.s.accounts[stage])!
    assert.ok(account.providers.has('gitlab.example.test'), `${stage}: the OIDC provider`)
    const role = account.roles.get(suite.s.roles[stage])
    assert.ok(role?.policies && role.policies.inline.size > 0, `${stage}: the deploy role with its policies`)
    assert.ok(account.policies.has(suite.s.boundaries[stage]), `${stage}: the boundary`)
  }
  // What the AWS CLI's deploy sends: a change set, created, waited for, executed, waited for
  const admin = iam.admins.staging.accessKeyId
  const calls = suite.s.aws.calls.filter(c => c.accessKeyId === admin).map(c => c.action)
  assert.deepEqual(calls.slice(0, 5), [ 'DescribeStacks', 'CreateChangeSet', 'DescribeChangeSet', 'ExecuteChangeSet', 'DescribeStacks' ])
})

describe('Architect 12, every pragma, under the template\'s roles', () => {
  before(() => { suite.node = 'node22' })
  const deploys: Array<[string, string[], 'production' | 'staging', string]> = [
    [ 'production', [ 'deploy', '--production' ], 'production', 'OidcExampleProduction' ],
    [ 'staging from a branch', [ 'deploy' ], 'staging', 'OidcExampleStaging' ],
    [ 'a review app', [ 'deploy', '--name', 'mr-7' ], 'staging', 'OidcExampleStagingMr7' ],
    [ 'production again (an update)', [ 'deploy', '--production' ], 'production', 'OidcExampleProduction' ],
  ]
  for (const [ name, args, stage, stackName ] of deploys) {
    test(`${name}: arc ${args.join(' ')}`, async () => {
      const job = stage === 'production' ? suite.s.job() : branchJob()
      const from = lastSeq(suite.s)
      const checked = suite.s.aws.state.authz.length
      const r = await suite.arc(args, { env: job.env, app: FULL })
      assert.equal(r.code, 0, r.output)
      assertSignedBySession(suite.s, from, suite.s.roles[stage], sessionOf(job.claims))
      assert.match(stackIn(stackName, stage)?.StackStatus ?? '', /^(CREATE|UPDATE)_COMPLETE$/)
      const decisions = authzSince(checked)
      assert.deepEqual(decisions.filter(d => d.decision !== 'allow'), [], 'every request allowed')
      assert.ok(decisions.every(d => d.principal.startsWith(`arn:aws:sts::${suite.s.accounts[stage]}:assumed-role/`)), 'all as the deploy role')
      if (!name.includes('update')) {
        // CloudFormation created each resource with the role's permissions
        const byCfn = new Set(decisions.filter(d => d.by === 'cloudformation').map(d => d.action))
        for (const action of [ 'cloudformation:CreateChangeSet', 's3:GetObject', 'iam:CreateRole', 'iam:PutRolePolicy', 'iam:PassRole', 'lambda:CreateFunction',
          'lambda:AddPermission', 'lambda:CreateEventSourceMapping', 'dynamodb:CreateTable', 'sns:CreateTopic', 'sns:Subscribe', 'sqs:CreateQueue',
          'scheduler:CreateSchedule', 's3:CreateBucket', 's3:PutBucketPolicy', 'apigateway:POST', 'ssm:PutParameter' ]) {
          assert.ok(byCfn.has(action), `CloudFormation authorized ${action} (${[ ...byCfn ].join(' ')})`)
        }
      }
    })
  }
})

describe('what the template does not grant fails as it would in AWS', () => {
  test('a call Architect makes itself: without ssm:GetParametersByPath, AccessDeniedException names it', async () => {
    await redeployIam('staging', withoutGrant('ssm:GetParametersByPath'))
    try {
      const r = await suite.arc([ 'deploy' ], { env: branchJob().env, app: FULL })
      assert.notEqual(r.code, 0, r.output)
      assert.match(r.output, /not authorized to perform: ssm:GetParametersByPath on resource: arn:aws:ssm:us-west-2:222222222222:parameter\/oidc-example because no identity-based policy allows/)
    }
    finally {
      await redeployIam('staging')
    }
  })

  test('a resource CloudFormation creates as the role: without sqs:*, the review app\'s queue fails and the stack rolls back', async () => {
    await redeployIam('staging', withoutGrant('sqs:CreateQueue'))
    try {
      const r = await suite.arc([ 'deploy', '--name', 'mr-8' ], { env: branchJob().env, app: FULL })
      assert.notEqual(r.code, 0, r.output)
      assert.match(r.output, /Bad deployment state found: ROLLBACK_COMPLETE/)
      const stack = stackIn('OidcExampleStagingMr8', 'staging')!
      assert.equal(stack.StackStatus, 'ROLLBACK_COMPLETE')
      const failed = stack.events.find(e => e.ResourceStatus === 'CREATE_FAILED')
      assert.equal(failed?.ResourceType, 'AWS::SQS::Queue')
      assert.match(failed?.ResourceStatusReason ?? '', /is not authorized to perform: sqs:CreateQueue on resource: arn:aws:sqs:us-west-2:222222222222:OidcExampleStagingMr8-WorkQueue-\w+ because no identity-based policy allows .*HandlerErrorCode: AccessDenied/)
    }
    finally {
      await redeployIam('staging')
    }
  })

  test('a later plugin adds an EventBridge rule: CloudFormation is denied events:PutRule, the update rolls back', async () => {
    const plugin = [
      'export default { deploy: { start ({ cloudformation }) {',
      '  cloudformation.Resources.NightlyRule = { Type: \'AWS::Events::Rule\', Properties: { ScheduleExpression: \'rate(1 day)\' } }',
      '  return cloudformation',
      '} } }', '',
    ].join('\n')
    const arc = FULL.arc!.replace('arc-plugin-gitlab-oidc\n', 'arc-plugin-gitlab-oidc\neventbridge-rule\n')
    const r = await suite.arc([ 'deploy', '--production' ], { env: suite.s.job().env, app: { ...FULL, arc, files: { ...FULL.files, 'src/plugins/eventbridge-rule.mjs': plugin } } })
    assert.notEqual(r.code, 0, r.output)
    assert.match(r.output, /Bad deployment state found: UPDATE_ROLLBACK_COMPLETE/)
    const stack = stackIn('OidcExampleProduction', 'production')!
    const failed = stack.events.find(e => e.ResourceStatus === 'UPDATE_FAILED')
    assert.equal(failed?.LogicalResourceId, 'NightlyRule')
    assert.match(failed?.ResourceStatusReason ?? '', /not authorized to perform: events:PutRule on resource: arn:aws:events:us-west-2:111111111111:rule\/OidcExampleProduction-NightlyRule-\w+/)
    assert.ok(stack.Resources.some(res => res.LogicalResourceId === 'WorkQueue') && !stack.Resources.some(res => res.LogicalResourceId === 'NightlyRule'), 'the stack kept what it had')
  })
})

describe(`Architect ${ARCHITECT11_VERSION} under the template's roles`, () => {
  test('a dry run of every pragma: the plugin refuses its @scheduled EventBridge rule first; with iam-parameters DeployServices=events it passes, and CloudFormation, under a stack without it, refuses events:PutRule', async () => {
    const first = await suite.arc([ 'deploy', '--production', '--dry-run' ], { env: suite.s.job().env, app: { ...FULL, architect: ARCHITECT11_VERSION } })
    assert.notEqual(first.code, 0, first.output)
    assert.match(first.output, /AWS::Events::Rule: the production role creates it only with DeployServices=events/)
    assert.match(first.output, /@gitlab-oidc iam-parameters DeployServices=events`/)
    const job = suite.s.job()
    const from = lastSeq(suite.s)
    const arc = FULL.arc!.replace('@gitlab-oidc\n', '@gitlab-oidc\niam-parameters DeployServices=events\n')
    const r = await suite.arc([ 'deploy', '--production', '--dry-run' ], { env: job.env, app: { ...FULL, arc, architect: ARCHITECT11_VERSION } })
    assert.equal(r.code, 0, r.output)
    assertSignedBySession(suite.s, from, suite.s.roles.production, sessionOf(job.claims))
    // Architect 11's own template, as its full deploy would hand it to CloudFormation, with the issued session
    const template = readFileSync(join(r.appDir, 'sam.json'), 'utf8')
    const rules = Object.values(JSON.parse(template).Resources as Record<string, { Type: string }>).filter(res => res.Type === 'AWS::Events::Rule')
    assert.ok(rules.length > 0, 'Architect 11 schedules with an EventBridge rule')
    const session = suite.s.aws.sessions.at(-1)!
    const body = new URLSearchParams({ Action: 'UpdateStack', Version: '2010-05-15', StackName: 'OidcExampleProduction', TemplateBody: template,
      'Capabilities.member.1': 'CAPABILITY_IAM', 'Capabilities.member.2': 'CAPABILITY_AUTO_EXPAND' }).toString()
    const answer = await signed(suite.s.aws, session, { service: 'cloudformation', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    assert.equal(answer.status, 200, answer.body)
    const stack = stackIn('OidcExampleProduction', 'production')!
    assert.equal(stack.StackStatus, 'UPDATE_ROLLBACK_COMPLETE')
    const failed = stack.events.find(e => e.ResourceStatus === 'UPDATE_FAILED')
    assert.match(failed?.ResourceStatusReason ?? '', /not authorized to perform: events:PutRule/)
  })
})

test('calls the authorizer checked, per service (printed for the record)', () => {
  const counts: Record<string, number> = {}
  for (const d of suite.s.aws.state.authz) {
    const key = `${d.by} ${d.action.split(':')[0]}`
    counts[key] = (counts[key] ?? 0) + 1
  }
  console.log(JSON.stringify(counts, null, 1))
  assert.ok(Object.keys(counts).length >= 10, 'requests of many services were authorized')
})
