/**
 * Issue 24: every policy iam/gitlab-oidc.yaml creates fits IAM's quotas (test/support/aws/iam-quotas.ts,
 * the rules the stand-ins enforce), for every parameter combination (each Stages, each boolean
 * flag, each sub-claim format) with the longest names the parameters admit: the boundaries
 * (managed policies, 6,144), each deploy role's inline policies together (10,240) and its trust
 * policy (2,048). It prints the largest of each kind, and its margin.
 */
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { toLogicalID } from '../../../src/cli/setup-sources.ts'
import { MANAGED_POLICY_MAX, ROLE_INLINE_POLICIES_MAX, TRUST_POLICY_MAX, checkInlinePolicies, checkManagedPolicy, checkTrustPolicy, policySize } from '../../support/aws/iam-quotas.ts'
import { RuleError, Stack, get, template, type Json, type JsonObject } from '../../support/cfn-template.ts'

const allowed = (name: string): string[] => get(template, 'Parameters', name, 'AllowedValues') as string[]

// The longest values: AppName as its AllowedPattern admits (38 characters, with dashes Architect
// drops from the stack prefix and static bucket names); the others as long as GitLab projects,
// branches and instances are in practice (a path of 255 characters, a 100-character branch, URL and audience).
const appName = `a${'b-'.repeat(18)}c`
const long = {
  AppName: appName,
  AppStackPrefix: toLogicalID(appName),
  ProjectPath: `${'g'.repeat(100)}/${'s'.repeat(100)}/${'p'.repeat(53)}`,
  GitLabProjectId: '9'.repeat(20),
  DefaultBranch: `release/${'b'.repeat(92)}`,
  GitLabUrl: `https://${'h'.repeat(80)}.example.com`.slice(0, 100),
  Audience: 'a'.repeat(100),
}

// The app settings (docs/iam-template.md): none, or each as long as Architect and AWS let it be:
// two 63-character buckets, Lambda's five layers (ARNs of 140 characters), every service the
// template offers, and twenty runtime actions.
const bucket = (c: string) => `arn:aws:s3:::${c.repeat(63)}`
const appSettings: Array<Record<string, string>> = [ {}, {
  StaticBucketArns: [ 'b', 'c' ].flatMap(c => [ bucket(c), `${bucket(c)}/*` ]).join(','),
  DeployBucket: 'd'.repeat(63),
  LayerArns: [ 1, 2, 3, 4, 5 ].map(n => `arn:aws:lambda:us-gov-west-1:123456789012:layer:${'l'.repeat(75)}:${n}`).join(','),
  AwsPublishedLayers: 'true',
  DeployServices: allowed('DeployServices').filter(Boolean).join(','),
  BoundaryActions: Array.from({ length: 20 }, (_, i) => `ses:SendTemplatedEmailAction${i}`).join(','),
} ]

function* combinations (): Generator<Record<string, string>> {
  for (const settings of appSettings) yield* flagCombinations(settings)
}

function* flagCombinations (settings: Record<string, string>): Generator<Record<string, string>> {
  for (const Stages of allowed('Stages')) {
    for (const SubClaimComponents of allowed('SubClaimComponents')) {
      for (const CreateOidcProvider of allowed('CreateOidcProvider')) {
        for (const AllowCloudFrontWrites of allowed('AllowCloudFrontWrites')) {
          for (const AllowMainTableDeletion of allowed('AllowMainTableDeletion')) {
            // the longest self-managed issuer, and gitlab.com, whose roles also carry gitlab.com:project_id and ref_protected
            for (const GitLabUrl of [ long.GitLabUrl, 'https://gitlab.com' ]) {
              const flags = { CreateOidcProvider, AllowCloudFrontWrites, AllowMainTableDeletion }
              yield { ...long, ...settings, GitLabUrl, Stages, SubClaimComponents, ...flags }
            }
          }
        }
      }
    }
  }
}

interface Largest { size: number, what: string }
const kinds = { managed: MANAGED_POLICY_MAX, inline: ROLE_INLINE_POLICIES_MAX, trust: TRUST_POLICY_MAX }

it('every policy of every parameter combination fits IAM\'s quotas (the largest printed)', t => {
  const none = (): Largest => ({ size: 0, what: '' })
  const largest: Record<keyof typeof kinds, Largest> = { managed: none(), inline: none(), trust: none() }
  const note = (kind: keyof typeof kinds, size: number, what: string): void => {
    if (size > largest[kind].size) largest[kind] = { size, what }
  }
  let deployed = 0
  for (const params of combinations()) {
    let stack: Stack
    try {
      stack = new Stack({ account: '123456789012', partition: 'aws-us-gov', region: 'us-gov-west-1', params })
    }
    catch (e) {
      assert.ok(e instanceof RuleError, String(e)) // refused by the template's Rules: nothing is created
      continue
    }
    deployed++
    const label = `${params.GitLabUrl === 'https://gitlab.com' ? 'gitlab.com ' : ''}Stages=${params.Stages} sub=${params.SubClaimComponents} provider=${params.CreateOidcProvider} cdn=${params.AllowCloudFrontWrites} deleteTables=${params.AllowMainTableDeletion}`
    for (const [ id, res ] of Object.entries(template.Resources as JsonObject)) {
      if (!stack.resourceExists(id)) continue
      const type = get(res, 'Type')
      if (type === 'AWS::IAM::ManagedPolicy') {
        const doc = stack.policyDocument(id)
        checkManagedPolicy(doc)
        note('managed', policySize(doc), `${id} (${label})`)
      }
      if (type === 'AWS::IAM::Role') {
        const props = get(stack.resource(id), 'Properties')
        const trust = get(props, 'AssumeRolePolicyDocument') as Json
        const trustDoc = typeof trust === 'string' ? trust : trust as object
        checkTrustPolicy(trustDoc)
        note('trust', policySize(trustDoc), `${id} (${label})`)
        const inline = ((get(props, 'Policies') ?? []) as JsonObject[]).map(p => p.PolicyDocument as object)
        checkInlinePolicies(id, inline)
        note('inline', inline.reduce((sum, d) => sum + policySize(d), 0), `${id} (${label})`)
      }
    }
  }
  assert.ok(deployed >= 60, `${deployed} combinations deployed`)
  for (const [ kind, max ] of Object.entries(kinds) as [keyof typeof kinds, number][]) {
    const l = largest[kind]
    assert.ok(l.size > 0, `some ${kind} policy was measured`)
    t.diagnostic(`largest ${kind} policy: ${l.size} of ${max} characters (${max - l.size} to spare): ${l.what}`)
  }
})
