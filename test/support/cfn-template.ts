/**
 * iam/gitlab-oidc.yaml (the package's IAM template) as CloudFormation would read it: YAML with CloudFormation's
 * short-form tags (parsed with the js-yaml that Architect's parser ships), and a small evaluator
 * for the intrinsic functions the template uses, so tests can look at the policies a given set of
 * parameters produces.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
export const root = fileURLToPath(new URL('../../', import.meta.url))
export const appDir = join(root, 'example-app')
export const templatePath = join(root, 'iam', 'gitlab-oidc.yaml')

/* ------------------------------------------------------------------------ */
/* YAML with CloudFormation's short-form tags                                */
/* ------------------------------------------------------------------------ */

// The YAML parser Architect's own parser ships (js-yaml 4).
interface YamlType { readonly tag: string }
interface YamlSchema { extend (types: YamlType[]): YamlSchema }
export interface JsYaml {
  Type: new (tag: string, options: { kind: 'scalar' | 'sequence' | 'mapping', construct: (data: unknown) => unknown }) => YamlType
  DEFAULT_SCHEMA: YamlSchema
  load (text: string, options?: { schema?: YamlSchema, filename?: string }): unknown
}
export const yaml = require('@architect/parser/src/compat/vendor/js-yaml.min.js') as JsYaml

const cfnTags: [string, 'scalar' | 'sequence' | 'mapping'][] = [
  [ 'Ref', 'scalar' ], [ 'Condition', 'scalar' ], [ 'Sub', 'scalar' ], [ 'Sub', 'sequence' ],
  [ 'GetAtt', 'scalar' ], [ 'GetAtt', 'sequence' ], [ 'If', 'sequence' ], [ 'Select', 'sequence' ],
  [ 'Split', 'sequence' ], [ 'Join', 'sequence' ], [ 'Equals', 'sequence' ], [ 'Not', 'sequence' ],
  [ 'And', 'sequence' ], [ 'Or', 'sequence' ], [ 'FindInMap', 'sequence' ], [ 'Base64', 'scalar' ], [ 'Contains', 'sequence' ],
]
const cfnSchema = yaml.DEFAULT_SCHEMA.extend(cfnTags.map(([ name, kind ]) => new yaml.Type(`!${name}`, {
  kind,
  construct: data => {
    if (name === 'Ref' || name === 'Condition') return { [name]: data }
    if (name === 'GetAtt' && typeof data === 'string') return { 'Fn::GetAtt': data.split('.') }
    return { [`Fn::${name}`]: data }
  },
})))

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

export function isObject (v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function get (v: Json | undefined, ...path: (string | number)[]): Json | undefined {
  let cur: Json | undefined = v
  for (const key of path) {
    if (Array.isArray(cur) && typeof key === 'number') cur = cur[key]
    else if (isObject(cur) && typeof key === 'string') cur = cur[key]
    else return undefined
  }
  return cur
}

/** A CloudFormation template's text (YAML with short-form tags, or JSON) as an object. */
export function parseTemplate (text: string, filename?: string): JsonObject {
  const parsed = yaml.load(text, { schema: cfnSchema, ...(filename ? { filename } : {}) })
  if (!isObject(parsed)) throw new Error('Template format error: not a JSON or YAML mapping')
  return parsed
}

export const template = parseTemplate(readFileSync(templatePath, 'utf8'), templatePath)

/* ------------------------------------------------------------------------ */
/* A small evaluator for the intrinsic functions the template uses           */
/* ------------------------------------------------------------------------ */

/** Ref AWS::NoValue: removed from the list or object that holds it, as CloudFormation does. */
const NO_VALUE = '\u0000AWS::NoValue'

export interface Deployment {
  params: Record<string, string>
  account: string
  partition: string
  region?: string
  /** The stack's name (AWS::StackName; default gitlab-oidc). */
  stackName?: string
}

/** The stack CloudFormation would refuse: a Rules assertion failed. */
export class RuleError extends Error {
  readonly descriptions: string[]
  constructor (descriptions: string[]) {
    super(`Template rules refuse these parameters: ${descriptions.join(' | ')}`)
    this.descriptions = descriptions
  }
}

export class Stack {
  readonly values: Record<string, string>
  readonly conditions: Record<string, boolean> = {}
  /** CommaDelimitedList parameters: Ref gives their values as a list. */
  readonly lists = new Set<string>()
  readonly d: Deployment
  /** The template evaluated (default: the package's IAM template). */
  readonly tpl: JsonObject
  constructor (d: Deployment, tpl: JsonObject = template) {
    this.d = d
    this.tpl = tpl
    const declared = (this.tpl.Parameters ?? {}) as JsonObject
    this.values = {}
    for (const [ name, decl ] of Object.entries(declared)) {
      const given = d.params[name]
      const def = get(decl, 'Default')
      const value = given ?? (typeof def === 'string' ? def : undefined)
      assert.ok(value !== undefined, `parameter ${name} has no default and was not given`)
      const pattern = get(decl, 'AllowedPattern')
      if (typeof pattern === 'string') assert.match(value, new RegExp(pattern), `${name}=${value} violates its AllowedPattern`)
      const allowed = get(decl, 'AllowedValues')
      // A CommaDelimitedList's AllowedValues apply to each of its values.
      const list = get(decl, 'Type') === 'CommaDelimitedList'
      for (const each of list ? value.split(',') : [ value ]) {
        if (Array.isArray(allowed)) assert.ok(allowed.includes(each), `${name}=${value} not in AllowedValues`)
      }
      this.values[name] = value
      if (list) this.lists.add(name)
    }
    for (const name of Object.keys(d.params)) assert.ok(name in declared, `unknown parameter ${name}`)
    Object.assign(this.values, {
      'AWS::AccountId': d.account,
      'AWS::Partition': d.partition,
      'AWS::Region': d.region ?? 'us-west-2',
      'AWS::StackName': d.stackName ?? 'gitlab-oidc',
    })
    for (const [ name, expr ] of Object.entries((this.tpl.Conditions ?? {}) as JsonObject)) {
      this.conditions[name] = this.eval(expr) as unknown as boolean
    }
    // CloudFormation refuses the stack when a rule's assertion fails (before creating anything).
    const failed = this.failedRules()
    if (failed.length) throw new RuleError(failed)
  }

  /** AssertDescription of every Rules assertion that fails for these parameters. */
  failedRules (): string[] {
    const failed: string[] = []
    for (const rule of Object.values((this.tpl.Rules ?? {}) as JsonObject)) {
      const cond = get(rule, 'RuleCondition')
      if (cond !== undefined && this.eval(cond) !== true) continue
      for (const a of (get(rule, 'Assertions') ?? []) as JsonObject[]) {
        if (this.eval(a.Assert ?? null) !== true) failed.push(String(a.AssertDescription))
      }
    }
    return failed
  }

  resourceExists (logicalId: string): boolean {
    const cond = get(this.tpl, 'Resources', logicalId, 'Condition')
    return typeof cond !== 'string' || this.conditions[cond] === true
  }

  // What Ref returns for a resource.
  ref (logicalId: string): string {
    assert.ok(this.resourceExists(logicalId), `Ref to ${logicalId}, which this deployment does not create`)
    const type = get(this.tpl, 'Resources', logicalId, 'Type')
    if (type === 'AWS::IAM::OIDCProvider') {
      // Ref of an OIDC provider is its ARN: the provider URL without its scheme.
      const url = this.eval(get(this.tpl, 'Resources', logicalId, 'Properties', 'Url') ?? null) as string
      return `arn:${this.d.partition}:iam::${this.d.account}:oidc-provider/${url.replace(/^https:\/\//, '')}`
    }
    if (type === 'AWS::IAM::Role') return this.eval(get(this.tpl, 'Resources', logicalId, 'Properties', 'RoleName') ?? null) as string
    if (type === 'AWS::IAM::ManagedPolicy') return this.managedPolicyArn(logicalId)
    throw new Error(`Ref to ${String(type)} is not modelled`)
  }

  // Ref of a managed policy is its ARN: arn:<partition>:iam::<account>:policy<Path><ManagedPolicyName>.
  managedPolicyArn (logicalId: string): string {
    const props = get(this.tpl, 'Resources', logicalId, 'Properties')
    // Without ManagedPolicyName CloudFormation generates <stack>-<logical ID>-<random> (the Name type).
    const given = get(props, 'ManagedPolicyName')
    const generated = `${this.values['AWS::StackName']}-${logicalId}-${createHash('sha256').update(logicalId).digest('hex').slice(0, 12).toUpperCase()}`
    const name = given === undefined ? generated : this.eval(given)
    const path = this.eval(get(props, 'Path') ?? '/')
    assert.ok(typeof name === 'string' && typeof path === 'string', `${logicalId}: ManagedPolicyName and Path`)
    assert.match(path, /^\/(.+\/)?$/, `${logicalId}: Path starts and ends with /`)
    return `arn:${this.d.partition}:iam::${this.d.account}:policy${path}${name}`
  }

  getAtt (logicalId: string, attr: string): string {
    const type = get(this.tpl, 'Resources', logicalId, 'Type')
    if (type === 'AWS::IAM::Role' && attr === 'Arn') return `arn:${this.d.partition}:iam::${this.d.account}:role/${this.ref(logicalId)}`
    if (type === 'AWS::IAM::ManagedPolicy' && attr === 'PolicyArn') return this.ref(logicalId)
    throw new Error(`GetAtt ${logicalId}.${attr} is not modelled`)
  }

  sub (text: string, vars: Record<string, string>): string {
    return text.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`
      if (name in vars) return vars[name] as string
      if (name in this.values) return this.values[name] as string
      if (name.includes('.')) {
        const [ id, attr ] = name.split('.') as [string, string]
        return this.getAtt(id, attr)
      }
      if (get(this.tpl, 'Resources', name) !== undefined) return this.ref(name)
      throw new Error(`Fn::Sub: unknown variable \${${name}}`)
    })
  }

  eval (node: Json): Json {
    if (Array.isArray(node)) return node.map(n => this.eval(n)).filter(n => n !== NO_VALUE)
    if (!isObject(node)) return node
    const keys = Object.keys(node)
    const key = keys[0]
    if (keys.length === 1 && key !== undefined && (key === 'Ref' || key === 'Condition' || key.startsWith('Fn::'))) {
      const arg = node[key] as Json
      switch (key) {
        case 'Ref': {
          const name = arg as string
          if (name === 'AWS::NoValue') return NO_VALUE
          if (this.lists.has(name)) return (this.values[name] as string).split(',')
          if (name in this.values) return this.values[name] as string
          return this.ref(name)
        }
        case 'Condition': return this.conditions[arg as string] ?? assert.fail(`unknown condition ${String(arg)}`)
        case 'Fn::Sub': {
          if (typeof arg === 'string') return this.sub(arg, {})
          const [ text, varMap ] = arg as [string, JsonObject]
          // "For the String parameter, you can't use any functions" (Template Reference, Fn::Sub)
          assert.equal(typeof text, 'string', 'Fn::Sub: the template must be a literal string')
          const vars: Record<string, string> = {}
          for (const [ k, v ] of Object.entries(varMap)) vars[k] = this.eval(v) as string
          return this.sub(text, vars)
        }
        case 'Fn::If': {
          const [ cond, yes, no ] = arg as [string, Json, Json]
          assert.ok(cond in this.conditions, `unknown condition ${cond}`)
          return this.conditions[cond] ? this.eval(yes) : this.eval(no)
        }
        case 'Fn::Select': {
          const [ index, list ] = arg as [Json, Json]
          const items = this.eval(list) as Json[]
          const item = items[Number(this.eval(index))]
          assert.ok(item !== undefined, 'Fn::Select index out of range')
          return item
        }
        case 'Fn::Split': {
          const [ sep, text ] = arg as [string, Json]
          return (this.eval(text) as string).split(sep)
        }
        case 'Fn::Join': {
          const [ sep, list ] = arg as [string, Json]
          // "For the Fn::Join delimiter, you can't use any functions" (Template Reference, Fn::Join)
          assert.equal(typeof sep, 'string', 'Fn::Join: the delimiter must be a literal string')
          return (this.eval(list) as string[]).join(sep)
        }
        case 'Fn::Equals': {
          const [ a, b ] = arg as [Json, Json]
          return this.eval(a) === this.eval(b)
        }
        // Rules only (AWS CloudFormation User Guide, "Rules functions": Fn::Contains [list, string])
        case 'Fn::Contains': {
          const [ list, value ] = arg as [Json, Json]
          return (this.eval(list) as Json[]).includes(this.eval(value))
        }
        case 'Fn::Not': return !(this.eval((arg as Json[])[0] ?? null) as boolean)
        case 'Fn::And': return (arg as Json[]).every(a => this.eval(a) === true)
        case 'Fn::Or': return (arg as Json[]).some(a => this.eval(a) === true)
        case 'Fn::GetAtt': {
          const [ id, attr ] = arg as [string, string]
          return this.getAtt(id, attr)
        }
        default: throw new Error(`${key} is not modelled`)
      }
    }
    const out: JsonObject = {}
    for (const [ k, v ] of Object.entries(node)) {
      const value = this.eval(v)
      if (value !== NO_VALUE) out[k] = value
    }
    return out
  }

  resource (logicalId: string): JsonObject {
    const res = get(this.tpl, 'Resources', logicalId)
    assert.ok(isObject(res), `no resource ${logicalId}`)
    return this.eval(res) as JsonObject
  }

  // A trust policy written as a JSON string inside Fn::Sub (for its dynamic keys).
  trustPolicy (roleId: string): Json {
    const doc = get(this.resource(roleId), 'Properties', 'AssumeRolePolicyDocument')
    return typeof doc === 'string' ? JSON.parse(doc) as Json : doc ?? null
  }

  // A managed policy's document (e.g. a permissions boundary).
  policyDocument (logicalId: string): { Version?: string, Statement: Statement[] } {
    const doc = get(this.resource(logicalId), 'Properties', 'PolicyDocument')
    assert.ok(isObject(doc) && Array.isArray(doc.Statement), `${logicalId} has a PolicyDocument with a Statement list`)
    return doc as unknown as { Version?: string, Statement: Statement[] }
  }

  // The outputs this deployment has (Outputs may carry a Condition), evaluated.
  outputs (): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [ name, decl ] of Object.entries((this.tpl.Outputs ?? {}) as JsonObject)) {
      const cond = get(decl, 'Condition')
      if (typeof cond === 'string' && this.conditions[cond] !== true) continue
      out[name] = this.eval(get(decl, 'Value') ?? null) as string
    }
    return out
  }

  /** A role's statements: its inline policies', then those of the template's managed policies it attaches. */
  permissions (roleId: string): Statement[] {
    const role = this.resource(roleId)
    const policies = get(role, 'Properties', 'Policies')
    assert.ok(Array.isArray(policies))
    const attached = (get(role, 'Properties', 'ManagedPolicyArns') ?? []) as string[]
    const own = Object.keys((this.tpl.Resources ?? {}) as JsonObject).filter(id =>
      get(this.tpl, 'Resources', id, 'Type') === 'AWS::IAM::ManagedPolicy' && this.resourceExists(id) && attached.includes(this.ref(id)))
    return [ ...policies.flatMap(p => get(p, 'PolicyDocument', 'Statement') as unknown as Statement[]), ...own.flatMap(id => this.policyDocument(id).Statement) ]
  }
}

export interface Statement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Action: string | string[]
  Resource: string | string[]
  Condition?: Record<string, Record<string, string | string[]>>
}
