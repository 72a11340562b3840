// IAM policy pieces, following IAM's documented rules: role trust policy evaluation for
// sts:AssumeRoleWithWebIdentity (an explicit Deny wins, otherwise some Allow statement must match
// principal, action and every condition; absent keys fail positive operators and satisfy negated
// ones), and the condition operators (String*, Arn*, Bool, Null, ForAnyValue/ForAllValues,
// ...IfExists) that identity policies and boundaries use too (see iam-authz.ts). What it does
// not model (other operators, unknown qualifiers, global aws: keys the request does not supply)
// throws NotModelled instead of counting as "does not apply".

export type ConditionBlock = Record<string, Record<string, string | string[] | boolean>>

export interface Statement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Principal?: '*' | { Federated?: string | string[], AWS?: string | string[], Service?: string | string[] }
  Action?: string | string[]
  NotAction?: string | string[]
  Resource?: string | string[]
  NotResource?: string | string[]
  Condition?: ConditionBlock
}

export interface PolicyDocument {
  Version?: string
  Statement: Statement | Statement[]
}

export interface TrustContext {
  /** arn:aws:iam::<acct>:oidc-provider/<provider url> */
  federatedPrincipal: string
  action: string
  /** Condition keys available in the request context (names compared case-insensitively). */
  keys: Record<string, string | string[]>
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny'

export const asList = <T>(v: T | T[] | undefined): T[] => v === undefined ? [] : Array.isArray(v) ? v : [ v ]

/** IAM wildcard match: * any run of characters, ? exactly one. */
export function wildcardMatch (pattern: string, value: string, ignoreCase = false): boolean {
  const re = '^' + pattern.split('').map(c => c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')).join('') + '$'
  return new RegExp(re, ignoreCase ? 'is' : 's').test(value)
}

function principalMatches (st: Statement, ctx: TrustContext): boolean {
  if (st.Principal === '*') return true
  return asList(st.Principal?.Federated).some(p => p === ctx.federatedPrincipal)
}

function actionMatches (st: Statement, ctx: TrustContext): boolean {
  return asList(st.Action).some(a => wildcardMatch(a, ctx.action, true))
}

/**
 * A condition value as IAM reads it: `${*}`, `${?}` and `${$}` are a literal *, ? and $; any other
 * `${...}` is a policy variable, which this stand-in does not resolve (the value never matches).
 * With `like`, * and ? are wildcards.
 */
function policyValue (pattern: string, like: boolean, ignoreCase: boolean): RegExp | null {
  let out = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '$' && pattern[i + 1] === '{') {
      const end = pattern.indexOf('}', i + 2)
      const inner = end === -1 ? '' : pattern.slice(i + 2, end)
      if (inner !== '*' && inner !== '?' && inner !== '$') return null
      out += '\\' + inner
      i = end
    }
    else if (like && c === '*') out += '.*'
    else if (like && c === '?') out += '.'
    else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  return new RegExp(`^${out}$`, ignoreCase ? 'is' : 's')
}

type Matcher = (policyValue: string, value: string) => boolean
const matcher = (like: boolean, ignoreCase: boolean): Matcher => (p, v) => policyValue(p, like, ignoreCase)?.test(v) ?? false

/** arn:partition:service:region:account:resource, the resource part keeping its own colons. */
function arnParts (arn: string): string[] | null {
  const parts = arn.split(':')
  if (parts.length < 6 || parts[0] !== 'arn') return null
  return [ ...parts.slice(0, 5), parts.slice(5).join(':') ]
}

/**
 * ArnLike / ArnEquals (IAM treats them alike): case-sensitive, each of the six colon-delimited
 * components matched on its own, * and ? wildcards within a component. A value that is not an
 * ARN never matches.
 */
export function arnMatch (pattern: string, value: string): boolean {
  if (pattern === '*') return true
  const p = arnParts(pattern)
  const v = arnParts(value)
  if (!p || !v) return false
  return p.every((part, i) => policyValue(part, true, false)?.test(v[i] as string) ?? false)
}
const BASE_OPERATORS: Record<string, { match: Matcher, negated: boolean }> = {
  StringEquals: { match: matcher(false, false), negated: false },
  StringNotEquals: { match: matcher(false, false), negated: true },
  StringEqualsIgnoreCase: { match: matcher(false, true), negated: false },
  StringNotEqualsIgnoreCase: { match: matcher(false, true), negated: true },
  StringLike: { match: matcher(true, false), negated: false },
  StringNotLike: { match: matcher(true, false), negated: true },
  ArnEquals: { match: arnMatch, negated: false },
  ArnLike: { match: arnMatch, negated: false },
  ArnNotEquals: { match: arnMatch, negated: true },
  ArnNotLike: { match: arnMatch, negated: true },
  Bool: { match: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
}

function lookup (keys: Record<string, string | string[]>, name: string): string[] | undefined {
  const wanted = name.toLowerCase()
  for (const [ k, v ] of Object.entries(keys)) {
    if (k.toLowerCase() === wanted) return asList(v)
  }
  return undefined
}

/** An operator, global condition key or combination this evaluator does not model: a test must never pass by ignoring it. */
export class NotModelled extends Error {
  constructor (what: string) {
    super(`IAM evaluator: ${what} is not modelled (refusing rather than treating it as "does not apply")`)
    this.name = 'NotModelled'
  }
}

/**
 * Global condition keys (aws:...) are set by AWS from the request (aws:SourceIp, aws:PrincipalTag/...,
 * aws:ResourceAccount...). This evaluator knows none of them by itself: one is evaluated only when
 * the request context supplies it, otherwise it is refused.
 */
function checkGlobalKey (key: string, keys: Record<string, string | string[]>): void {
  if (key.toLowerCase().startsWith('aws:') && lookup(keys, key) === undefined) throw new NotModelled(`global condition key ${key} (absent from the request context)`)
}

/** Split 'ForAnyValue:StringLikeIfExists' into its parts, refusing what is not implemented. */
function parseOperator (operator: string): { op: string, setOp?: 'ForAnyValue' | 'ForAllValues', ifExists: boolean } {
  let op = operator
  let setOp: 'ForAnyValue' | 'ForAllValues' | undefined
  const prefix = /^(ForAnyValue|ForAllValues):/.exec(op)
  if (prefix) {
    setOp = prefix[1] as 'ForAnyValue' | 'ForAllValues'
    op = op.slice(prefix[0].length)
  }
  else if (op.includes(':')) throw new NotModelled(`condition operator ${operator}`)
  const ifExists = op.endsWith('IfExists')
  if (ifExists) op = op.slice(0, -'IfExists'.length)
  if (op === 'Null') {
    if (setOp || ifExists) throw new NotModelled(`condition operator ${operator}`)
  }
  else if (!BASE_OPERATORS[op]) throw new NotModelled(`condition operator ${operator}`)
  else if (setOp && (op === 'Bool' || ifExists)) throw new NotModelled(`condition operator ${operator}`)
  return { op, ...(setOp ? { setOp } : {}), ifExists }
}

/**
 * Evaluate one operator entry (e.g. 'ForAnyValue:StringLike' → { key: values }). Operators,
 * qualifiers and global keys this evaluator does not implement throw NotModelled.
 */
export function conditionMatches (
  operator: string, entries: Record<string, string | string[] | boolean>, keys: Record<string, string | string[]>,
): boolean {
  const { op, setOp, ifExists } = parseOperator(operator)
  return Object.entries(entries).every(([ key, raw ]) => {
    checkGlobalKey(key, keys)
    const values = lookup(keys, key)
    const policyValues = asList(raw).map(String)
    if (op === 'Null') {
      if (policyValues.length !== 1 || ![ 'true', 'false' ].includes(policyValues[0]!)) throw new NotModelled(`Null with ${JSON.stringify(raw)}`)
      const wantMissing = policyValues[0] === 'true'
      return wantMissing === (values === undefined || values.length === 0)
    }
    const base = BASE_OPERATORS[op]!
    const matchesAny = (v: string): boolean => policyValues.some(p => base.match(p, v))

    if (values === undefined || values.length === 0) {
      if (ifExists) return true
      if (setOp === 'ForAllValues') return true
      if (setOp === 'ForAnyValue') return false
      return base.negated
    }
    if (setOp === 'ForAllValues') return values.every(v => base.negated ? !matchesAny(v) : matchesAny(v))
    if (setOp === 'ForAnyValue') return values.some(v => base.negated ? !matchesAny(v) : matchesAny(v))
    // Single-valued operators on a (possibly multi-valued) key: positive if any value matches; negated if none does
    return base.negated ? !values.some(matchesAny) : values.some(matchesAny)
  })
}

function statementApplies (st: Statement, ctx: TrustContext): boolean {
  if (!principalMatches(st, ctx) || !actionMatches(st, ctx)) return false
  return Object.entries(st.Condition ?? {}).every(([ op, entries ]) => conditionMatches(op, entries, ctx.keys))
}

export function evaluateTrustPolicy (policy: PolicyDocument, ctx: TrustContext): Decision {
  const statements = asList(policy.Statement)
  if (statements.some(st => st.Effect === 'Deny' && statementApplies(st, ctx))) return 'explicit-deny'
  if (statements.some(st => st.Effect === 'Allow' && statementApplies(st, ctx))) return 'allow'
  return 'implicit-deny'
}

export interface GitLabTrustOptions {
  accountId: string
  /** Provider URL as in IAM: issuer without scheme, e.g. 'gitlab.com' or '127.0.0.1:4321'. */
  providerUrl: string
  /** Required audience(s) (StringEquals on <provider>:aud). */
  aud: string | string[]
  /** Allowed subject(s); wildcards allowed (StringLike on <provider>:sub). */
  sub: string | string[]
  /** Extra conditions merged in (operator → key → values). */
  extra?: ConditionBlock
}

/** The trust policy GitLab's AWS documentation recommends for a CI deploy role. */
export function gitlabTrustPolicy (opts: GitLabTrustOptions): PolicyDocument {
  const condition: ConditionBlock = {
    StringEquals: { [`${opts.providerUrl}:aud`]: opts.aud },
    StringLike: { [`${opts.providerUrl}:sub`]: opts.sub },
  }
  for (const [ op, entries ] of Object.entries(opts.extra ?? {})) condition[op] = { ...condition[op], ...entries }
  return {
    Version: '2012-10-17',
    Statement: [ {
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${opts.accountId}:oidc-provider/${opts.providerUrl}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: condition,
    } ],
  }
}

/** Does an IAM action (e.g. 'cloudformation:CreateStack') match any allowed pattern ('cloudformation:*', '*')? */
export function actionAllowed (patterns: string[], iamAction: string): boolean {
  return patterns.some(p => wildcardMatch(p, iamAction, true))
}
