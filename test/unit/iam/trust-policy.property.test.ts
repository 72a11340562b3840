/**
 * Property: whatever project path, branches, tags, audience, issuer and sub claim format it is
 * given, buildTrustPolicy either refuses with one clear TrustPolicyError, or returns a policy
 * that the suite's IAM evaluator (test/support/aws/iam-policy.ts) says admits exactly the tokens
 * intended: the project's named branches/tags (patterns matched as IAM wildcards), with the
 * audience asked for, and nothing else. Fixed seed, bounded runs.
 *
 * Fixed bugs kept as examples: an audience with `${...}` (read by IAM as a policy variable),
 * an issuer with `*` (a wildcard in the Federated principal).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'

import { SUB_CLAIM_COMPONENTS, type SubClaimComponents, subjectIn, subjectOf } from '../../../src/iam/sub-claims.ts'
import { TrustPolicyError } from '../../../src/iam/errors.ts'
import { buildTrustPolicy } from '../../../src/iam/trust-policy.ts'
import { normalizeIssuer } from '../../../src/iam/arns.ts'
import { validateRefName } from '../../../src/iam/gitlab-names.ts'
import { evaluateTrustPolicy, wildcardMatch, type PolicyDocument } from '../../support/aws/iam-policy.ts'
import { webIdentityKeys } from '../../support/aws/sts.ts'
import { params } from '../../support/property.ts'

const ACCOUNT = '111111111111'
const RUNS = { seed: 1414, numRuns: 400 }

const refChars = fc.constantFrom(...'abcXYZ019-_./$@{}'.split(''), 'é')
const validish = fc.array(refChars, { minLength: 1, maxLength: 10 }).map(a => a.join(''))
const refName = fc.oneof(validish, validish.map(s => `${s}*`), fc.constant('*'), validish.map(s => `${s}?`), fc.string({ maxLength: 8 }))
const segment = fc.array(fc.constantFrom(...'aZ09_.-'.split('')), { minLength: 1, maxLength: 6 }).map(a => a.join(''))
const project = fc.oneof({ arbitrary: fc.array(segment, { minLength: 2, maxLength: 3 }).map(s => s.join('/')), weight: 4 }, { arbitrary: fc.string({ maxLength: 12 }), weight: 1 })
const audience = fc.oneof(fc.string({ maxLength: 12 }), fc.constant('https://gitlab.com'), fc.constant('aud-${aws:username}'), fc.constant('${*}x'))
const hostChars = fc.array(fc.constantFrom(...'ab9.-*$%{'.split('')), { minLength: 1, maxLength: 8 }).map(a => a.join(''))
const issuer = fc.oneof(
  fc.constant(undefined),
  fc.constant(undefined),
  fc.constant('https://gitlab.example.com/gitlab'),
  hostChars.map(h => `https://${h}.example.com`),
  fc.tuple(hostChars, hostChars).map(([ h, p ]) => `https://git${h}.example.org/${p}`),
  fc.string({ maxLength: 16 }),
)
const names = fc.oneof(fc.constant([]), fc.constant([ '*' ]), fc.array(refName, { minLength: 1, maxLength: 2 }))
const format = fc.constantFrom(...SUB_CLAIM_COMPONENTS)
const input = fc.record({
  project, format, audience: fc.option(audience, { nil: undefined }), issuer,
  branches: names, tags: names, refs: names,
})

const isRef = (name: string): boolean => {
  if (name.includes('*') || name.includes('?')) return false
  try { validateRefName('branch', name); return true }
  catch { return false }
}

/** Concrete refs to try: each name with its wildcards filled in two ways, and a few others. */
function candidates (names: string[]): string[] {
  const out = [ 'main', 'v1.0.0', 'feature/x', 'release/1' ]
  for (const n of names) out.push(n.replace(/\*/g, ''), n.replace(/\*/g, 'zz/y').replace(/\?/g, 'q'), n.replace(/\?/g, '1'), `${n}x`)
  return [ ...new Set(out) ].filter(isRef)
}

describe('buildTrustPolicy (property)', () => {
  it('refuses with one TrustPolicyError, or admits exactly the intended tokens', () => {
    const built = new Set<string>()
    fc.assert(fc.property(input, i => {
      let policy
      try {
        policy = buildTrustPolicy({
          project: i.project, branches: i.branches, tags: i.tags, refs: i.refs, account: ACCOUNT, subClaimComponents: i.format,
          ...(i.audience !== undefined ? { audience: i.audience } : {}), ...(i.issuer !== undefined ? { issuer: i.issuer } : {}),
        })
      }
      catch (err) {
        assert.ok(err instanceof TrustPolicyError, `not a TrustPolicyError: ${String(err)}`)
        assert.ok(err.message.length > 20 && !err.message.includes('\n'), 'one clear line')
        if ((i.issuer ?? '').includes('*') && err.code !== 'INVALID_ISSUER') {
          // a refusal for another input first is fine; the issuer alone must still be refused
          assert.throws(() => normalizeIssuer(i.issuer), { code: 'INVALID_ISSUER' })
        }
        return
      }
      built.add(i.format)
      const { url, host } = normalizeIssuer(i.issuer)
      assert.doesNotMatch(host, /[*?${}%]/, 'no wildcard or variable in the Federated principal')
      const aud = i.audience ?? url
      const ctx = (sub: string, a = aud, project = i.project) => ({
        federatedPrincipal: `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`,
        action: 'sts:AssumeRoleWithWebIdentity',
        keys: { [`${host}:aud`]: a, [`${host}:sub`]: sub.replace(i.project, project) },
      })
      const fmt = i.format as SubClaimComponents
      for (const refType of [ 'branch', 'tag' ] as const) {
        for (const ref of candidates([ ...i.branches, ...i.tags, ...i.refs ])) {
          const patterns = [ ...(refType === 'branch' ? i.branches : i.tags), ...i.refs ]
          const intended = patterns.some(p => wildcardMatch(p, ref))
          const sub = subjectIn(fmt, i.project, refType, ref)
          const decision = evaluateTrustPolicy(policy as unknown as PolicyDocument, ctx(sub))
          assert.equal(decision === 'allow', intended, `${refType} ${ref} (${sub})`)
          assert.equal(evaluateTrustPolicy(policy as unknown as PolicyDocument, ctx(sub, `${aud}x`)), 'implicit-deny', 'another audience')
          assert.equal(evaluateTrustPolicy(policy as unknown as PolicyDocument, ctx(sub, aud, `${i.project}x`)), 'implicit-deny', 'another project')
        }
      }
    }), RUNS)
    assert.deepEqual([ ...built ].sort(), [ ...SUB_CLAIM_COMPONENTS ].sort(), 'some policies were built in every format')
  })

  it('fixed: an audience with ${...} is a literal, not an IAM policy variable', () => {
    const policy = buildTrustPolicy({ project: 'a/b', branches: [ 'main' ], account: ACCOUNT, audience: 'x-${aws:username}' })
    const cond = policy.Statement[0]!.Condition.StringEquals
    assert.equal(cond['gitlab.com:aud'], 'x-${$}{aws:username}')
    const ctx = (aud: string) => ({ federatedPrincipal: `arn:aws:iam::${ACCOUNT}:oidc-provider/gitlab.com`, action: 'sts:AssumeRoleWithWebIdentity', keys: { 'gitlab.com:aud': aud, 'gitlab.com:sub': 'project_path:a/b:ref_type:branch:ref:main' } })
    assert.equal(evaluateTrustPolicy(policy as unknown as PolicyDocument, ctx('x-${aws:username}')), 'allow')
  })

  it('fixed: an issuer IAM would misread in the Federated principal is refused with the rule', () => {
    for (const bad of [ 'https://*.gitlab.com', 'https://gitlab.com/*', 'https://gitlab.com/${x}', 'https://gitlab.com/a%20b' ]) {
      assert.throws(() => buildTrustPolicy({ project: 'a/b', branches: [ 'main' ], account: ACCOUNT, issuer: bad }),
        (err: unknown) => err instanceof TrustPolicyError && err.code === 'INVALID_ISSUER' && /Federated principal/.test(err.message), bad)
    }
  })
})

/*
 * Issue 24: the pins. For any format GitLab builds (the four, each with project_id first and the
 * newer components after), project ID, issuer (gitlab.com or self-managed) and ref, the policy
 * admits the project's own job, and refuses another project ID wherever AWS can see the ID
 * (gitlab.com's key, or a project_id subject) and an unprotected ref for a protected-ref role
 * wherever AWS can see protection (gitlab.com's key, or a ref_protected component); tokens
 * carrying the keys STS supplies for their issuer (test/support/aws/sts.ts).
 */
describe('buildTrustPolicy pins (property)', () => {
  const tails = fc.subarray([ 'ref_protected', 'environment_protected', 'deployment_tier' ]).chain(extra =>
    fc.constantFrom(...SUB_CLAIM_COMPONENTS.map(f => f.slice('project_path,'.length))).chain(base =>
      fc.shuffledSubarray(extra, { minLength: extra.length, maxLength: extra.length }).map(order => [ base, ...order ].join(','))))
  const pinned = fc.record({
    format: fc.tuple(fc.constantFrom('project_path', 'project_id'), tails).map(([ head, tail ]) => `${head},${tail}`),
    projectId: fc.integer({ min: 1, max: 2 ** 31 }).map(String),
    issuer: fc.constantFrom('https://gitlab.com', 'https://git.example.com'),
    ref: fc.constantFrom('main', 'release/1', 'v1.0.0'),
    refType: fc.constantFrom('branch', 'tag'),
    protect: fc.boolean(),
    tier: fc.constantFrom('production', 'staging', ''),
  })
  it('admits the project\'s own protected job; refuses another project ID and an unprotected ref wherever AWS can see them', () => {
    fc.assert(fc.property(pinned, p => {
      const components = p.format.split(',')
      const opts = { project: 'acme/shop', projectId: p.projectId, issuer: p.issuer, account: ACCOUNT, subClaimComponents: p.format, requireProtectedRef: p.protect }
      const spec = !components.includes('ref_type') ? { refs: [ p.ref ] } : !components.includes('ref') ? { [p.refType === 'tag' ? 'tags' : 'branches']: [ '*' ] } : { [p.refType === 'tag' ? 'tags' : 'branches']: [ p.ref ] }
      const policy = buildTrustPolicy({ ...opts, ...spec })
      const host = normalizeIssuer(p.issuer).host
      const admits = (over: Record<string, string>): boolean => {
        const claims: Record<string, string> = { project_path: 'acme/shop', project_id: p.projectId, ref: p.ref, ref_type: p.refType, ref_protected: 'true', environment_protected: 'true', deployment_tier: p.tier, ...over }
        const sub = subjectOf(p.format, claims)
        return evaluateTrustPolicy(policy as unknown as PolicyDocument, {
          federatedPrincipal: `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`,
          action: 'sts:AssumeRoleWithWebIdentity',
          keys: webIdentityKeys(host, claims, sub, p.issuer),
        }) === 'allow'
      }
      assert.ok(admits({}), 'the project\'s own job')
      const idSeen = host === 'gitlab.com' || components[0] === 'project_id'
      assert.equal(admits({ project_id: `${p.projectId}0` }), !idSeen, 'another project ID')
      const protectionSeen = p.protect && (host === 'gitlab.com' || components.includes('ref_protected'))
      assert.equal(admits({ ref_protected: 'false' }), !protectionSeen, 'an unprotected ref')
      assert.ok(!admits({ project_path: 'acme/other', project_id: `${p.projectId}1` }), 'another project, path and ID')
    }), params(200))
  })
})
