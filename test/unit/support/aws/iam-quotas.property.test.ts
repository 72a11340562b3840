// Properties of the stand-ins' IAM quota rules (test/support/aws/iam-quotas.ts), for any policy:
// white space anywhere between JSON tokens never changes the size IAM counts, and a document is
// refused exactly when that size passes the quota, always with IAM's LimitExceeded.
import { it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { MANAGED_POLICY_MAX, TRUST_POLICY_MAX, checkManagedPolicy, checkTrustPolicy, policySize } from '../../../support/aws/iam-quotas.ts'
import { AwsError } from '../../../support/aws/protocol.ts'
import { params } from '../../../support/property.ts'

const word = fc.stringMatching(/^[A-Za-z0-9:*/_.-]{1,40}$/)
// One resource of any length up to 8,000 characters, so that documents fall on both sides of every quota.
const longName = fc.nat({ max: 8000 }).map(n => `arn:aws:s3:::${'x'.repeat(n)}`)
const statement = fc.record({ Effect: fc.constantFrom('Allow', 'Deny'), Action: fc.array(word, { minLength: 1, maxLength: 20 }), Resource: fc.tuple(longName, fc.array(word, { maxLength: 20 })).map(([ l, w ]) => [ l, ...w ]) })
const policy = fc.record({ Version: fc.constant('2012-10-17'), Statement: fc.array(statement, { minLength: 1, maxLength: 3 }) })

it('white space between JSON tokens is never counted', () => {
  fc.assert(fc.property(policy, fc.constantFrom(0, 1, 2, 4, '\t'), (doc, indent) => {
    assert.equal(policySize(JSON.stringify(doc, null, indent)), policySize(doc))
  }), params(200))
})

it('refused exactly past the quota, with LimitExceeded (409)', () => {
  for (const [ check, max ] of [ [ checkManagedPolicy, MANAGED_POLICY_MAX ], [ checkTrustPolicy, TRUST_POLICY_MAX ] ] as const) {
    const seen = { under: 0, over: 0 }
    fc.assert(fc.property(policy, doc => {
      seen[policySize(doc) <= max ? 'under' : 'over']++
      let refused: unknown
      try {
        check(JSON.stringify(doc, null, 2))
      }
      catch (e) {
        refused = e
      }
      if (policySize(doc) <= max) assert.equal(refused, undefined)
      else assert.ok(refused instanceof AwsError && refused.code === 'LimitExceeded' && refused.status === 409, String(refused))
    }), params(300))
    assert.ok(seen.under > 0 && seen.over > 0, `both sides of ${max}: ${JSON.stringify(seen)}`)
  }
})
