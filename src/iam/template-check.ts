/**
 * The template check: before CloudFormation starts, the template Architect generated (and the
 * plugins before this one changed) against what the stage's deploy role and boundary allow
 * (iam/gitlab-oidc.allows.json), with the template parameters `setup` computes for this app
 * (app-parameters.ts). Local, no AWS call. Each resource the role cannot create, each layer or
 * bucket outside the allowed set, each generated name CloudFormation would shorten is a refusal;
 * a runtime permission the boundary will cap is a warning. deploy.start and `doctor` both run it.
 */
import type { Problem, Row } from '../shared/problem.ts'
import { readAllows, type Allows } from './allows.ts'
import { appFactsOf, appParameters, type Stage } from './app-parameters.ts'
import { isIamArn, looseArnParts, parseRoleArn } from './arns.ts'

export interface Finding {
  /** The template's logical ID. */
  resource: string
  what: string
  /** The exact fix, naming the template parameter (or setting) that makes it pass. */
  fix: string
}

export interface CheckInput {
  template: { Resources?: Record<string, unknown> | null, Transform?: unknown }
  stage: Stage
  stackName: string
  /** The app-settings parameters the IAM stack is assumed to have (appParameters()). */
  parameters: Record<string, string>
  allows: Allows
  /** The deploy role's account, when known: a managed policy of another account cannot be attached. */
  account?: string
}

export interface CheckResult { refusals: Finding[], warnings: Finding[] }

type Res = { Type?: unknown, Properties?: Record<string, unknown> }
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const list = (v: string | undefined): string[] => v ? v.split(',').filter(Boolean) : []
const glob = (pattern: string, value: string): boolean =>
  new RegExp(`^${pattern.split('*').map(p => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(value)
const SETUP = 'in the manifest, then re-run `arc-gitlab-oidc setup` and deploy the IAM stack it prints'
const pair = (p: string) => `\`@gitlab-oidc iam-parameters ${p}\``

/**
 * Names CloudFormation generates (<stack>-<logical ID>-<12 or 13 characters>) are shortened above
 * these lengths (AWS CloudFormation User Guide, "Name type"; Lambda and IAM name quotas; S3 bucket
 * naming rules); a shortened name may lose the `<stack>-` the deploy role's patterns require.
 */
const NAME_LIMITS: Record<string, number> = {
  'AWS::Serverless::Function': 64, 'AWS::Lambda::Function': 64, 'AWS::IAM::Role': 64, 'AWS::S3::Bucket': 63,
}
const NAME_PROPERTY: Record<string, string> = {
  'AWS::Serverless::Function': 'FunctionName', 'AWS::Lambda::Function': 'FunctionName', 'AWS::IAM::Role': 'RoleName', 'AWS::S3::Bucket': 'BucketName',
}
const SUFFIX = 14

function typeFinding (id: string, type: string, input: CheckInput): Finding | undefined {
  const needs = input.allows.stages[input.stage].creates[type]
  if (needs === '') return undefined
  if (needs !== undefined) {
    const [ name = '', value = '' ] = needs.split('=')
    if (list(input.parameters[name]).includes(value) || input.parameters[name] === value) return undefined
    return { resource: id, what: `${type}: the ${input.stage} role creates it only with ${needs}`, fix: `${pair(needs)} ${SETUP}` }
  }
  const service = Object.entries(input.allows.serviceNamespaces).find(([ , ns ]) => type.startsWith(ns))?.[0]
  if (service && list(input.parameters.DeployServices).includes(service)) return undefined
  return {
    resource: id,
    what: `${type}: the ${input.stage} role cannot create it`,
    fix: service
      ? `${pair(`DeployServices=${[ ...list(input.parameters.DeployServices), service ].join(',')}`)} ${SETUP}`
      : 'No template parameter allows it: remove it, or give the deploy roles a policy of your own for it (docs/iam-template.md, "Extending the roles")',
  }
}

function nameFinding (id: string, r: Res, input: CheckInput): Finding | undefined {
  const type = String(r.Type)
  const limit = NAME_LIMITS[type]
  if (!limit || r.Properties?.[NAME_PROPERTY[type]!] !== undefined) return undefined
  // SAM names the role it makes for a function with Policies <function>Role.
  const ids = type === 'AWS::Serverless::Function' && r.Properties?.Policies !== undefined && r.Properties?.Role === undefined ? [ id, `${id}Role` ] : [ id ]
  const longest = ids.reduce((a, b) => b.length > a.length ? b : a)
  const length = input.stackName.length + 1 + longest.length + SUFFIX
  if (length <= limit) return undefined
  const room = limit - SUFFIX - 1 - longest.length
  return {
    resource: id,
    what: `CloudFormation names ${longest} ${input.stackName}-${longest}-<13 characters>, ${length} characters: over ${limit}, it shortens the name, which then may not start with ${input.stackName}- as the ${input.stage} role requires`,
    fix: room > 0
      ? `A shorter @app name (with this logical ID the stack name ${input.stackName} may have at most ${room} characters), or a shorter route or name for ${id}`
      : `A shorter route or name for ${id} (its logical ID leaves no room for a stack name)`,
  }
}

function layerFindings (id: string, r: Res, input: CheckInput): Finding[] {
  const layers = Array.isArray(r.Properties?.Layers) ? r.Properties.Layers.filter((l): l is string => typeof l === 'string') : []
  const allowed = list(input.parameters.LayerArns)
  const awsLayers = input.parameters.AwsPublishedLayers === 'true'
  return layers.filter(layer => !allowed.some(p => glob(p, layer)) && !(awsLayers && input.allows.awsLayerAccounts.includes(looseArnParts(layer).account ?? '')))
    .map(layer => ({
      resource: id,
      what: `layer ${layer} is not among the layers the ${input.stage} role may use (LayerArns)`,
      fix: input.allows.awsLayerAccounts.includes(looseArnParts(layer).account ?? '')
        ? `${pair('AwsPublishedLayers=true')} ${SETUP}`
        : `\`@aws layers ${layer}\` (or ${pair(`LayerArns=${[ ...allowed, layer ].join(',')}`)}) ${SETUP}`,
    }))
}

function bucketFinding (id: string, r: Res, input: CheckInput): Finding | undefined {
  const name = r.Properties?.BucketName
  if (r.Type !== 'AWS::S3::Bucket' || name === undefined) return undefined
  return {
    resource: id,
    what: `bucket ${typeof name === 'string' ? name : JSON.stringify(name)}: the ${input.stage} role creates buckets only with the names CloudFormation generates for the stack (<stack>-staticbucket-...)`,
    fix: 'Remove BucketName, or create the bucket once outside the stack and give it with `@static ' + input.stage + ' <bucket>` ' + SETUP,
  }
}

/** SAM Policies the boundary will cap at run time (warnings), or that cannot be attached (refusals). */
function policyFindings (id: string, r: Res, input: CheckInput, out: CheckResult): void {
  const policies = Array.isArray(r.Properties?.Policies) ? r.Properties.Policies : typeof r.Properties?.Policies === 'string' ? [ r.Properties.Policies ] : []
  const runtime = [ ...input.allows.stages[input.stage].runtime, ...list(input.parameters.BoundaryActions) ]
  for (const p of policies) {
    if (typeof p === 'string') {
      const account = looseArnParts(p).account
      if (p.startsWith('arn:') && account && account !== 'aws' && input.account && account !== input.account) {
        out.refusals.push({ resource: id, what: `managed policy ${p} is in account ${account}: IAM attaches only policies of the role's own account (${input.account}) or AWS's`, fix: `Create the policy in account ${input.account} and name that one in @aws policies or config.arc` })
      }
      else out.warnings.push({ resource: id, what: `policy ${p}: the ${input.stage} permissions boundary caps it to what the boundary allows`, fix: `List the actions your functions call with ${pair('BoundaryActions=<service:Action,...>')} ${SETUP}` })
      continue
    }
    const statements = isObject(p) && Array.isArray(p.Statement) ? p.Statement : isObject(p) && isObject(p.Statement) ? [ p.Statement ] : []
    const actions = statements.filter(isObject).filter(s => s.Effect === 'Allow')
      .flatMap(s => Array.isArray(s.Action) ? s.Action : [ s.Action ]).filter((a): a is string => typeof a === 'string')
    const capped = [ ...new Set(actions.filter(a => !runtime.some(pattern => glob(pattern.toLowerCase(), a.toLowerCase())))) ]
    if (capped.length) {
      out.warnings.push({ resource: id, what: `the ${input.stage} permissions boundary denies ${capped.join(', ')} at run time`, fix: `${pair(`BoundaryActions=${[ ...list(input.parameters.BoundaryActions), ...capped ].join(',')}`)} ${SETUP}` })
    }
  }
}

/** The deploy roles may use AWS's SAM transform only (cloudformation:CreateChangeSet on its ARN). */
const SAM_TRANSFORM = 'AWS::Serverless-2016-10-31'

export function checkTemplate (input: CheckInput): CheckResult {
  const out: CheckResult = { refusals: [], warnings: [] }
  const transforms = [ input.template.Transform ?? [] ].flat().map(t => isObject(t) ? String(t.Name) : String(t))
  for (const t of transforms.filter(t => t !== SAM_TRANSFORM)) {
    out.refusals.push({ resource: 'Transform', what: `${t}: the ${input.stage} role may use only the ${SAM_TRANSFORM} transform`, fix: 'No template parameter allows it: remove the transform, or give the deploy roles cloudformation:CreateChangeSet on it with a policy of your own (docs/iam-template.md, "Extending the roles")' })
  }
  const resources = isObject(input.template.Resources) ? input.template.Resources : {}
  for (const [ id, value ] of Object.entries(resources)) {
    if (!isObject(value)) continue
    const r = value as Res
    const type = String(r.Type)
    const found = [ typeFinding(id, type, input), nameFinding(id, r, input), bucketFinding(id, r, input), ...layerFindings(id, r, input) ]
    out.refusals.push(...found.filter(f => f !== undefined))
    policyFindings(id, r, input, out)
  }
  return out
}

/**
 * The check's input when the role is the IAM template's (`<app>-<stage>-deploy`); other roles are
 * not the template's, so what it allows says nothing about them: undefined. The deploy (deploy.start)
 * and `doctor` both build it here.
 */
export interface RoleCheck {
  role: string | undefined
  stage: Stage
  /** Inventory's `inv`, which the template was generated from. */
  inv: unknown
  template: CheckInput['template'] | undefined
  stackName: string
  iamParameters?: readonly string[] | undefined
}

export function roleCheckInput (p: RoleCheck): CheckInput | undefined {
  const app = isObject(p.inv) ? p.inv.app : undefined
  if (!p.role || !p.template || typeof app !== 'string' || !isIamArn(p.role, 'role')) return undefined
  const { name, account } = parseRoleArn(p.role)
  if (name !== `${app}-${p.stage}-deploy`) return undefined
  return {
    template: p.template, stage: p.stage, stackName: p.stackName, account, allows: readAllows(),
    parameters: appParameters(appFactsOf(p.inv), p.stage, p.iamParameters),
  }
}

/** The one message for the refusals (undefined when there are none). */
export function templateProblem (result: CheckResult, input: Pick<CheckInput, 'stage' | 'stackName'>): Problem | undefined {
  if (!result.refusals.length) return undefined
  const n = new Set(result.refusals.map(f => f.resource)).size
  return {
    title: `${n === 1 ? 'A resource' : `${n} resources`} of ${input.stackName} cannot be deployed under the ${input.stage} role of the IAM template (CloudFormation would stop and roll back)`,
    facts: result.refusals.map(f => [ f.resource, f.what ] as Row),
    fix: [ ...new Set(result.refusals.map(f => f.fix)) ],
  }
}

/** The warnings as the lines of one warning block. */
export function templateWarnings (result: CheckResult): string[] {
  return result.warnings.map(w => `${w.resource}: ${w.what}. ${w.fix}.`)
}
