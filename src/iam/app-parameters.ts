/**
 * The IAM template's app-settings parameters for one app and stage, from what Architect's
 * Inventory read: `@static <stage> <bucket>`, `@aws bucket`, `@aws layers` and each function's
 * config.arc layers, `@cdn`, and the `iam-parameters` setting (Name=value pairs for the rest).
 * `setup` prints them; the deploy's template check (template-check.ts) assumes the IAM stack was
 * deployed with them. One function, so the two never disagree.
 */

export type Stage = 'staging' | 'production'

/** What of Architect's Inventory (`inventory.inv`) the parameters come from. */
export interface AppFacts {
  staticBuckets: Partial<Record<Stage, string>>
  deployBucket?: string
  /** @aws layers and every function's own (config.arc), in order, once each. */
  layers: string[]
  cdn: boolean
  /** Per function (its name), the policies @aws or config.arc give it (SAM's Policies). */
  policies: Array<{ fn: string, policies: unknown[] }>
}

type Loose = Record<string, unknown>
const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v)
const strings = (v: unknown): string[] => Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []

/** The facts from Inventory's `inv` (an object of Architect's own shape; anything missing is absent). */
export function appFactsOf (inv: unknown): AppFacts {
  const i = isObject(inv) ? inv : {}
  const aws = isObject(i.aws) ? i.aws : {}
  const stat = isObject(i.static) ? i.static : {}
  const lambdas = isObject(i.lambdasBySrcDir) ? Object.values(i.lambdasBySrcDir).flatMap(l => Array.isArray(l) ? l : [l]) : []
  const configs = lambdas.filter(isObject).map(l => ({ fn: String(l.name ?? l.src ?? '?'), config: isObject(l.config) ? l.config : {} }))
  const staticBuckets: AppFacts['staticBuckets'] = {}
  for (const stage of [ 'staging', 'production' ] as const) {
    if (typeof stat[stage] === 'string' && stat[stage]) staticBuckets[stage] = stat[stage]
  }
  return {
    staticBuckets,
    ...(typeof aws.bucket === 'string' && aws.bucket ? { deployBucket: aws.bucket } : {}),
    layers: [ ...new Set([ ...strings(aws.layers), ...configs.flatMap(c => strings(c.config.layers)) ]) ],
    cdn: Boolean(i.cdn),
    policies: configs.filter(c => Array.isArray(c.config.policies) && c.config.policies.length)
      .map(c => ({ fn: c.fn, policies: (c.config.policies as unknown[]).filter(p => p !== 'architect-default-policies') }))
      .filter(c => c.policies.length),
  }
}

/**
 * The app-settings parameters (name → value) for a stage: computed ones first, then the
 * `iam-parameters` pairs, which win. Parameters left at the template's default are absent.
 */
export function appParameters (facts: AppFacts, stage: Stage, pairs: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {}
  const bucket = facts.staticBuckets[stage]
  // Any partition: bucket names are global to one, and the template adds the account condition.
  if (bucket) out.StaticBucketArns = `arn:*:s3:::${bucket},arn:*:s3:::${bucket}/*`
  if (facts.deployBucket) out.DeployBucket = facts.deployBucket
  if (facts.layers.length) out.LayerArns = facts.layers.join(',')
  if (facts.cdn) out.AllowCloudFrontWrites = 'true'
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at > 0) out[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return out
}
