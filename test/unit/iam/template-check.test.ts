/**
 * src/iam/template-check.ts: what the deploy refuses before CloudFormation starts (issue 25,
 * item 3), each with the resource and the parameter that fixes it; and what passes.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readAllows } from '../../../src/iam/allows.ts'
import { appFactsOf, appParameters } from '../../../src/iam/app-parameters.ts'
import { checkTemplate, templateProblem, type CheckInput } from '../../../src/iam/template-check.ts'

const fn = (props: Record<string, unknown> = {}) => ({ Type: 'AWS::Serverless::Function', Properties: { Handler: 'index.handler', ...props } })
const input = (resources: Record<string, unknown>, parameters: Record<string, string> = {}, stage: 'staging' | 'production' = 'staging'): CheckInput => ({
  template: { Resources: { Role: { Type: 'AWS::IAM::Role', Properties: {} }, GetIndexHTTPLambda: fn(), ...resources } },
  stage, stackName: stage === 'staging' ? 'ShopStaging' : 'ShopProduction', parameters, allows: readAllows(), account: '111111111111',
})

describe('the template check', () => {
  it('passes what Architect generates for a plain app, with no parameter', () => {
    const result = checkTemplate(input({ HTTP: { Type: 'AWS::Serverless::HttpApi', Properties: {} }, DataTable: { Type: 'AWS::DynamoDB::Table', Properties: {} } }))
    assert.deepEqual(result, { refusals: [], warnings: [] })
  })

  it('a resource type the role cannot create: refused, naming the parameter; passes with it', () => {
    const rule = { NightlyRule: { Type: 'AWS::Events::Rule', Properties: {} } }
    const result = checkTemplate(input(rule))
    assert.equal(result.refusals.length, 1)
    assert.equal(result.refusals[0]!.resource, 'NightlyRule')
    assert.match(result.refusals[0]!.fix, /iam-parameters DeployServices=events/)
    assert.deepEqual(checkTemplate(input(rule, { DeployServices: 'events' })).refusals, [])
    const other = checkTemplate(input({ Pool: { Type: 'AWS::Cognito::UserPool', Properties: {} } }))
    assert.match(other.refusals[0]!.fix, /DeployServices=cognito-idp/)
    const none = checkTemplate(input({ Vpc: { Type: 'AWS::EC2::VPC', Properties: {} } }))
    assert.match(none.refusals[0]!.fix, /No template parameter allows it/)
  })

  it('a transform other than SAM\'s (a plugin adds AWS::LanguageExtensions): refused', () => {
    const i = input({})
    i.template.Transform = [ 'AWS::Serverless-2016-10-31', 'AWS::LanguageExtensions' ]
    const result = checkTemplate(i)
    assert.deepEqual(result.refusals.map(r => r.resource), [ 'Transform' ])
    assert.match(result.refusals[0]!.what, /^AWS::LanguageExtensions: the staging role may use only the AWS::Serverless-2016-10-31 transform/)
    i.template.Transform = 'AWS::Serverless-2016-10-31'
    assert.deepEqual(checkTemplate(i).refusals, [])
  })

  it('CloudFront only with AllowCloudFrontWrites=true, which setup sets for @cdn', () => {
    const cdn = { Cdn: { Type: 'AWS::CloudFront::Distribution', Properties: {} } }
    assert.match(checkTemplate(input(cdn)).refusals[0]!.fix, /AllowCloudFrontWrites=true/)
    const params = appParameters(appFactsOf({ cdn: true }), 'staging')
    assert.deepEqual(checkTemplate(input(cdn, params)).refusals, [])
  })

  it('a layer outside LayerArns: refused; @aws layers puts it in; AWS-published layers with the switch', () => {
    const own = 'arn:aws:lambda:us-west-2:111111111111:layer:pdf:3'
    const aws = 'arn:aws:lambda:us-west-2:580247275435:layer:LambdaInsightsExtension:38'
    const layered = { GetIndexHTTPLambda: fn({ Layers: [ own, aws ] }) }
    const refused = checkTemplate(input(layered)).refusals
    assert.deepEqual(refused.map(r => r.resource), [ 'GetIndexHTTPLambda', 'GetIndexHTTPLambda' ])
    assert.match(refused[0]!.fix, /@aws layers arn:aws:lambda:us-west-2:111111111111:layer:pdf:3/)
    assert.match(refused[1]!.fix, /AwsPublishedLayers=true/)
    const params = appParameters(appFactsOf({ aws: { layers: [ own ] } }), 'staging', [ 'AwsPublishedLayers=true' ])
    assert.deepEqual(checkTemplate(input(layered, params)).refusals, [])
    assert.deepEqual(checkTemplate(input(layered, { LayerArns: 'arn:aws:lambda:*:111111111111:layer:pdf:*,arn:aws:lambda:*:580247275435:layer:*' })).refusals, [])
  })

  it('a bucket with a name of its own: refused (the role creates only the names CloudFormation generates)', () => {
    const result = checkTemplate(input({ Uploads: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'shop-uploads' } } }))
    assert.match(result.refusals[0]!.what, /bucket shop-uploads/)
  })

  it('a generated name CloudFormation would shorten: refused with the reason and the length that fits', () => {
    const long = 'GetApiV1OrganizationsOrgidMembersHTTPLambda'
    // <stack>-<logical ID>-<up to 13 characters> (AWS CloudFormation's Name type)
    const length = 'ShopStaging'.length + 1 + long.length + 1 + 13
    const result = checkTemplate(input({ [long]: fn() }))
    assert.equal(result.refusals.length, 1)
    assert.match(result.refusals[0]!.what, new RegExp(`${length} characters: over 64, it shortens the name, which then may not start with ShopStaging-`))
    assert.match(result.refusals[0]!.fix, new RegExp(`the stack name ShopStaging may have at most ${64 - 15 - long.length} characters`))
    assert.match(checkTemplate(input({ [`${long}${long}`]: fn() })).refusals[0]!.fix, /leaves no room for a stack name/)
    // A SAM function with Policies gets a role named <function>Role: that name counts too.
    const roleName = 'GetApiV1OrganizationsOrgsHTTPLambda' // fits; with Role appended it does not
    assert.ok('ShopStaging'.length + roleName.length + 15 <= 64 && 'ShopStaging'.length + roleName.length + 4 + 15 > 64)
    assert.equal(checkTemplate(input({ [roleName]: fn() })).refusals.length, 0)
    assert.equal(checkTemplate(input({ [roleName]: fn({ Policies: [ 'AmazonSESFullAccess' ] }) })).refusals.length, 1)
  })

  it('policies the boundary caps: a warning with the BoundaryActions that lift the cap; another account\'s managed policy: refused', () => {
    const inline = { Statement: [ { Effect: 'Allow', Action: [ 'ses:SendEmail', 'dynamodb:GetItem' ], Resource: '*' } ] }
    const result = checkTemplate(input({ GetIndexHTTPLambda: fn({ Policies: [ 'AmazonSESFullAccess', inline ] }) }))
    assert.deepEqual(result.refusals, [])
    assert.equal(result.warnings.length, 2)
    assert.match(result.warnings[1]!.what, /denies ses:SendEmail at run time/)
    assert.match(result.warnings[1]!.fix, /BoundaryActions=ses:SendEmail/)
    assert.equal(checkTemplate(input({ GetIndexHTTPLambda: fn({ Policies: [ inline ] }) }, { BoundaryActions: 'ses:SendEmail' })).warnings.length, 0)
    const foreign = checkTemplate(input({ GetIndexHTTPLambda: fn({ Policies: [ 'arn:aws:iam::222222222222:policy/shared' ] }) }))
    assert.match(foreign.refusals[0]!.what, /is in account 222222222222/)
  })

  it('one message for all refusals, each resource a fact', () => {
    const i = input({ NightlyRule: { Type: 'AWS::Events::Rule', Properties: {} }, Uploads: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'x' } } })
    const problem = templateProblem(checkTemplate(i), i)!
    assert.match(problem.title, /^2 resources of ShopStaging cannot be deployed under the staging role/)
    assert.deepEqual(problem.facts!.map(f => f[0]), [ 'NightlyRule', 'Uploads' ])
    assert.equal(templateProblem(checkTemplate(input({})), i), undefined)
  })
})
