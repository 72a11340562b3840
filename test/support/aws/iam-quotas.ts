/**
 * IAM's policy size quotas, as IAM enforces them, for every stand-in that stores a policy (the
 * account model, the stand-in's roles, CloudFormation deploying IAM resources) and for the test
 * that checks the template's policies against them.
 *
 * Source: AWS, "IAM and AWS STS quotas" (IAM User Guide, reference_iam-quotas.html):
 * managed policy length 6,144 characters; role trust policy length 2,048 characters by default;
 * inline policies of a role, together, 10,240 characters; "IAM doesn't count white space when
 * calculating the size of a policy against these quotas". The error codes and messages are the
 * ones IAM answers (API reference: CreatePolicy, CreatePolicyVersion, PutRolePolicy, CreateRole,
 * UpdateAssumeRolePolicy: LimitExceeded (409), MalformedPolicyDocument (400)).
 */
import { AwsError } from './protocol.ts'

export const MANAGED_POLICY_MAX = 6144
export const ROLE_INLINE_POLICIES_MAX = 10240
export const TRUST_POLICY_MAX = 2048

/** A policy as IAM receives it: a JSON document (CloudFormation sends objects as JSON). */
export type PolicyText = string | object

/** The document's text; a string that is not JSON is refused as IAM refuses it. */
function text (doc: PolicyText): string {
  if (typeof doc !== 'string') return JSON.stringify(doc)
  try {
    JSON.parse(doc)
  }
  catch {
    throw new AwsError('MalformedPolicyDocument', 'This policy contains invalid Json', 400)
  }
  return doc
}

/** The size IAM counts: characters, white space left out. */
export const policySize = (doc: PolicyText): number => text(doc).replace(/\s/g, '').length

const limitExceeded = (message: string): AwsError => new AwsError('LimitExceeded', message, 409)

/** CreatePolicy, CreatePolicyVersion (a permissions boundary is a managed policy). */
export function checkManagedPolicy (doc: PolicyText): void {
  if (policySize(doc) > MANAGED_POLICY_MAX) throw limitExceeded(`Cannot exceed quota for PolicySize: ${MANAGED_POLICY_MAX}`)
}

/** CreateRole, UpdateAssumeRolePolicy. */
export function checkTrustPolicy (doc: PolicyText): void {
  if (policySize(doc) > TRUST_POLICY_MAX) throw limitExceeded(`Cannot exceed quota for ACLSizePerRole: ${TRUST_POLICY_MAX}`)
}

/** PutRolePolicy: the role's inline policies after the call, together. */
export function checkInlinePolicies (roleName: string, docs: PolicyText[]): void {
  const total = docs.reduce((sum, d) => sum + policySize(d), 0)
  if (total > ROLE_INLINE_POLICIES_MAX) throw limitExceeded(`Maximum policy size of ${ROLE_INLINE_POLICIES_MAX} bytes exceeded for role ${roleName}`)
}
