/**
 * Writes iam/gitlab-oidc.allows.json: what each stage's deploy role and permissions boundary of
 * iam/gitlab-oidc.yaml allow, for the deploy's template check (src/iam/template-check.ts), which
 * compares Architect's generated template with it before CloudFormation starts.
 *
 *   node scripts/allows.ts          write the file
 *   node scripts/allows.ts --check  exit 1 when the file is not what the template gives
 *
 * Generated from the template itself (evaluated as CloudFormation would, test/support/cfn-template.ts):
 * for each resource type, whether the stage's role allows the actions CloudFormation calls to
 * create it with the template's defaults (""), only with one parameter set ("Name=value"), or
 * not at all (absent); the boundary's actions (what functions may call at run time).
 * test/unit/iam-template/allows.test.ts fails when the template changed and the file was not
 * regenerated.
 */
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { RuleError, Stack, get, root, template, templatePath, type Statement } from '../test/support/cfn-template.ts'
import { actionAllowed, asList } from '../test/support/aws/iam-policy.ts'

export const ALLOWS_PATH = join(root, 'iam', 'gitlab-oidc.allows.json')

/**
 * The IAM actions CloudFormation calls with the caller's permissions to create each resource type
 * (each type's schema, handlers.create.permissions, narrowed as in test/support/aws/cfn-permissions.ts);
 * SAM types by what the transform makes of them as Architect uses them.
 */
const CREATE_ACTIONS: Record<string, string[]> = {
  'AWS::Serverless::Function': [ 'lambda:CreateFunction', 'iam:PassRole', 'lambda:TagResource' ],
  'AWS::Serverless::HttpApi': [ 'apigateway:POST' ],
  'AWS::Lambda::Function': [ 'lambda:CreateFunction', 'iam:PassRole' ],
  'AWS::Lambda::Permission': [ 'lambda:AddPermission' ],
  'AWS::Lambda::EventSourceMapping': [ 'lambda:CreateEventSourceMapping' ],
  'AWS::IAM::Role': [ 'iam:CreateRole', 'iam:PutRolePolicy' ],
  'AWS::IAM::Policy': [ 'iam:PutRolePolicy' ],
  'AWS::SSM::Parameter': [ 'ssm:PutParameter' ],
  'AWS::DynamoDB::Table': [ 'dynamodb:CreateTable' ],
  'AWS::SNS::Topic': [ 'sns:CreateTopic' ],
  'AWS::SNS::Subscription': [ 'sns:Subscribe' ],
  'AWS::SQS::Queue': [ 'sqs:CreateQueue' ],
  'AWS::SQS::QueuePolicy': [ 'sqs:SetQueueAttributes' ],
  'AWS::Scheduler::Schedule': [ 'scheduler:CreateSchedule' ],
  'AWS::S3::Bucket': [ 's3:CreateBucket', 's3:PutBucketWebsite', 's3:PutBucketOwnershipControls', 's3:PutBucketPublicAccessBlock', 's3:PutEncryptionConfiguration' ],
  'AWS::S3::BucketPolicy': [ 's3:PutBucketPolicy' ],
  'AWS::ApiGatewayV2::Api': [ 'apigateway:POST' ],
  'AWS::ApiGatewayV2::Stage': [ 'apigateway:POST' ],
  'AWS::ApiGatewayV2::Route': [ 'apigateway:POST' ],
  'AWS::ApiGatewayV2::Integration': [ 'apigateway:POST' ],
  'AWS::ApiGatewayV2::Deployment': [ 'apigateway:POST' ],
  'AWS::Logs::LogGroup': [ 'logs:CreateLogGroup' ],
  'AWS::CloudFront::Distribution': [ 'cloudfront:CreateDistribution', 'cloudfront:TagResource' ],
  'AWS::Events::Rule': [ 'events:PutRule', 'events:PutTargets' ],
}

/** Resource type namespaces of each service the DeployServices parameter offers. */
const SERVICE_NAMESPACES: Record<string, string> = {
  events: 'AWS::Events::', ses: 'AWS::SES::', 'cognito-idp': 'AWS::Cognito::', es: 'AWS::OpenSearchService::',
  aoss: 'AWS::OpenSearchServerless::', logs: 'AWS::Logs::', states: 'AWS::StepFunctions::', xray: 'AWS::XRay::',
}

const APP = { AppName: 'oidc-example', AppStackPrefix: 'OidcExample', ProjectPath: 'acme/oidc-example', GitLabProjectId: '4242', Stages: 'both' }
const STAGES = { staging: 'Staging', production: 'Production' } as const

const allows = (statements: Statement[], action: string): boolean => {
  const matches = (st: Statement) => actionAllowed(asList(st.Action as string | string[] | undefined), action)
  // A Deny on every resource without a condition takes the action away whatever else allows it.
  if (statements.some(st => st.Effect === 'Deny' && matches(st) && st.Resource === '*' && !st.Condition)) return false
  return statements.some(st => st.Effect === 'Allow' && matches(st))
}
const roleStatements = (params: Record<string, string>, Stage: string): Statement[] =>
  new Stack({ account: '123456789012', partition: 'aws', params: { ...APP, ...params } }).permissions(`${Stage}DeployRole`)

/** The switches whose values may open a resource type: each parameter with AllowedValues but Stages. */
function switches (): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const [ name, decl ] of Object.entries(template.Parameters as Record<string, unknown>)) {
    const values = get(decl as never, 'AllowedValues')
    if (name === 'Stages' || !Array.isArray(values)) continue
    for (const v of values) if (typeof v === 'string' && v && v !== get(decl as never, 'Default')) out.push([ name, v ])
  }
  return out
}

export interface Allows {
  template: { file: string, sha256: string }
  stages: Record<keyof typeof STAGES, {
    /** Resource type → "" (always), "Name=value" (with that parameter), absent: never. */
    creates: Record<string, string>
    /** Action patterns the permissions boundary allows the functions' roles. */
    runtime: string[]
  }>
  /** A resource type of these namespaces is created with DeployServices=<service>. */
  serviceNamespaces: Record<string, string>
  /** The accounts whose layers AwsPublishedLayers=true allows. */
  awsLayerAccounts: string[]
}

export function allowsFromTemplate (): Allows {
  const text = readFileSync(templatePath)
  const stages = {} as Allows['stages']
  for (const [ stage, Stage ] of Object.entries(STAGES) as Array<[keyof typeof STAGES, string]>) {
    const creates: Record<string, string> = {}
    const base = roleStatements({}, Stage)
    const opened = switches().flatMap(([ n, v ]) => {
      try { return [ { pair: `${n}=${v}`, statements: roleStatements({ [n]: v }, Stage) } ] }
      catch (err) { if (err instanceof RuleError) return [] ; throw err }
    })
    for (const [ type, actions ] of Object.entries(CREATE_ACTIONS)) {
      if (actions.every(a => allows(base, a))) creates[type] = ''
      else {
        const by = opened.find(o => actions.every(a => allows(o.statements, a)))
        if (by) creates[type] = by.pair
      }
    }
    const boundary = new Stack({ account: '123456789012', partition: 'aws', params: APP }).policyDocument(`${Stage}Boundary`).Statement
    const runtime = boundary.filter(st => st.Effect === 'Allow').flatMap(st => asList(st.Action as string | string[]))
    stages[stage] = { creates, runtime: [ ...new Set(runtime) ] }
  }
  const layers = new Stack({ account: '123456789012', partition: 'aws', params: { ...APP, AwsPublishedLayers: 'true' } })
    .policyDocument('SharedDeployPolicy').Statement.find(st => st.Sid === 'AwsLayers')
  return {
    template: { file: 'iam/gitlab-oidc.yaml', sha256: createHash('sha256').update(text).digest('hex') },
    stages,
    serviceNamespaces: SERVICE_NAMESPACES,
    awsLayerAccounts: asList(layers?.Resource as string | string[]).map(arn => arn.split(':')[4] ?? '').filter(Boolean),
  }
}

export const allowsText = (): string => `${JSON.stringify(allowsFromTemplate(), null, 2)}\n`

if (import.meta.main) {
  const text = allowsText()
  if (process.argv.includes('--check')) {
    const current = readFileSync(ALLOWS_PATH, 'utf8')
    if (current !== text) {
      console.error(`${ALLOWS_PATH} is not what the template gives: run node scripts/allows.ts`)
      process.exit(1)
    }
  }
  else {
    writeFileSync(ALLOWS_PATH, text)
    console.log(`wrote ${ALLOWS_PATH}`)
  }
}
