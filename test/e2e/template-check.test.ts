/**
 * Issue 25, item 3, with the real `arc`: at deploy.start the plugin compares the template Architect
 * generated (with what plugins listed before it added) with what the stage's role of the IAM
 * template allows (iam/gitlab-oidc.allows.json and the parameters setup computes), and refuses
 * with one message naming each resource and the parameter that fixes it, before CloudFormation
 * starts: no change set, no stack, no upload. The roles are the template's, created by setup's
 * own commands (test/support/iam-setup.ts), so what passes the check deploys under them.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXAMPLE_APP, installApp, type App, type InstallAppOptions } from '../support/harness.ts'
import { setupFromTemplate } from '../support/iam-setup.ts'
import { awsCallsSince, lastSeq, startSuite, type Run, type Suite } from './e2e.ts'

const ISSUER = 'https://gitlab.example.test'
const exampleArc = readFileSync(join(EXAMPLE_APP, 'app.arc'), 'utf8')

/** A plugin listed before this one whose deploy.start adds resources (or a transform) to the template. */
function adding (name: string, change: string): InstallAppOptions {
  const plugin = [ 'export default { deploy: { start ({ cloudformation }) {', `  ${change}`, '  return cloudformation', '} } }', '' ].join('\n')
  return {
    arc: exampleArc.replace('@plugins\narc-plugin-gitlab-oidc\n', `@plugins\n${name}\narc-plugin-gitlab-oidc\n`),
    files: { [`src/plugins/${name}.mjs`]: plugin },
  }
}

let suite: Suite
let app: App
before(async () => {
  suite = await startSuite({ iam: 'none', publicIssuer: ISSUER })
  app = await installApp()
  await setupFromTemplate(suite.s, { appDir: app.dir })
})
after(async () => {
  app?.remove()
  await suite?.close()
})

/** CloudFormation never started: no change set, stack or template upload since `from`. */
function assertNothingStarted (from: number, r: Run): void {
  const started = awsCallsSince(suite.s, from).map(c => c.action).filter(a => /^(CreateChangeSet|ExecuteChangeSet|CreateStack|UpdateStack|PutObject)$/.test(a))
  assert.deepEqual(started, [], r.output)
}

async function refused (opts: InstallAppOptions, title: RegExp, ...facts: RegExp[]): Promise<void> {
  const from = lastSeq(suite.s)
  const r = await suite.arc([ 'deploy', '--production' ], { env: suite.s.job().env, app: opts })
  assert.notEqual(r.code, 0, r.output)
  assert.match(r.output, title)
  for (const fact of facts) assert.match(r.output, fact)
  assert.equal(r.output.match(/× GitLab OIDC:/g)?.length, 1, `one message: ${r.output}`)
  assert.match(r.output, /Architect was stopped before it deployed anything\./)
  assertNothingStarted(from, r)
}

describe('refused before CloudFormation starts, one message naming the resource and the fix', () => {
  test('what plugins add: an EventBridge rule (DeployServices=events), an SES receipt rule set (ses), an OpenSearch Serverless collection (aoss)', async () => {
    await refused(adding('more-services', [
      'Object.assign(cloudformation.Resources, {',
      '    NightlyRule: { Type: \'AWS::Events::Rule\', Properties: { ScheduleExpression: \'rate(1 day)\' } },',
      '    InboundRules: { Type: \'AWS::SES::ReceiptRuleSet\', Properties: {} },',
      '    SearchCollection: { Type: \'AWS::OpenSearchServerless::Collection\', Properties: { Name: \'search\' } },',
      '  })',
    ].join('\n')),
    /3 resources of OidcExampleProduction cannot be deployed under the production role of the IAM template/,
    /NightlyRule \.+ AWS::Events::Rule: the production role creates it only with DeployServices=events/,
    /InboundRules \.+ AWS::SES::ReceiptRuleSet/, /SearchCollection \.+ AWS::OpenSearchServerless::Collection/,
    /@gitlab-oidc iam-parameters DeployServices=events`/, /DeployServices=ses`/, /DeployServices=aoss`/)
  })

  test('another transform (AWS::LanguageExtensions)', async () => {
    await refused(adding('language-extensions', 'cloudformation.Transform = [ cloudformation.Transform, \'AWS::LanguageExtensions\' ].flat()'),
      /A resource of OidcExampleProduction cannot be deployed/, /Transform \.+ AWS::LanguageExtensions: the production role may use only the AWS::Serverless-2016-10-31 transform/)
  })

  test('a layer the manifest does not name (a plugin adds AWS\'s Lambda Insights): AwsPublishedLayers=true', async () => {
    const layer = 'arn:aws:lambda:us-west-2:580247275435:layer:LambdaInsightsExtension:38'
    await refused(adding('insights', `for (const r of Object.values(cloudformation.Resources)) if (r.Type === 'AWS::Serverless::Function') r.Properties.Layers = [ '${layer}' ]`),
      /cannot be deployed under the production role/, new RegExp(`layer ${layer} is not among the layers the production role may use \\(LayerArns\\)`),
      /@gitlab-oidc iam-parameters AwsPublishedLayers=true`/)
  })

  test('@aws policies of another account: refused (IAM attaches only the account\'s own or AWS\'s)', async () => {
    await refused({ arc: exampleArc.replace('@aws\n', '@aws\npolicies arn:aws:iam::333333333333:policy/shared\n') },
      /cannot be deployed under the production role/, /managed policy arn:aws:iam::333333333333:policy\/shared is in account 333333333333/)
  })

  test('a long @app name: CloudFormation would shorten the generated names, so the stage prefix may go', async () => {
    const arc = exampleArc.replace('get /\n', 'get /api/v1/organizations/:orgid/members/:memberid\n')
    await refused({ arc, files: { 'src/http/get-api-v1-organizations-000orgid-members-000memberid/index.mjs': 'export const handler = async () => ({ statusCode: 200 })\n' } },
      /cannot be deployed under the production role/, /it shortens the name, which then may not start with OidcExampleProduction- as the production role requires/,
      /A shorter route or name for GetApiV1OrganizationsOrgidMembersMemberidHTTPLambda/)
  })
})

describe('what the check lets through deploys under the same roles', () => {
  test('@aws policies the boundary caps: a warning naming BoundaryActions, not a refusal (a dry run goes on to write its template)', async () => {
    const r = await suite.arc([ 'deploy', '--production', '--dry-run' ], { env: suite.s.job().env, app: { arc: exampleArc.replace('@aws\n', '@aws\npolicies AmazonSESFullAccess\n') } })
    assert.equal(r.code, 0, r.output)
    assert.match(r.output, /The production permissions boundary will cap what the functions may do:/)
    assert.match(r.output, /policy AmazonSESFullAccess: the production permissions boundary caps it .*BoundaryActions=/s)
    assert.doesNotMatch(r.output, /cannot be deployed under the production role/)
    assert.ok(existsSync(join(r.appDir, 'sam.json')), 'the dry run wrote the template')
  })

  test('the rule with iam-parameters DeployServices=events passes the check: CloudFormation, under a stack without it, then refuses events:PutRule', async () => {
    const opts = adding('eventbridge-rule', 'cloudformation.Resources.NightlyRule = { Type: \'AWS::Events::Rule\', Properties: { ScheduleExpression: \'rate(1 day)\' } }')
    opts.arc = opts.arc!.replace('@gitlab-oidc\n', '@gitlab-oidc\niam-parameters DeployServices=events\n')
    const r = await suite.arc([ 'deploy', '--production' ], { env: suite.s.job().env, app: opts })
    assert.notEqual(r.code, 0, r.output)
    assert.doesNotMatch(r.output, /cannot be deployed under the production role/)
    assert.match(r.output, /ROLLBACK_COMPLETE/)
  })
})
