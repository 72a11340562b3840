/**
 * The one error every input problem of the IAM helpers (ARNs, GitLab names, trust policies) is
 * reported with: `code` is stable, `message` is for humans.
 */
export type TrustPolicyErrorCode =
  | 'INVALID_PROJECT'
  | 'INVALID_REF'
  | 'INVALID_ACCOUNT'
  | 'MISSING_ACCOUNT'
  | 'INVALID_PARTITION'
  | 'INVALID_ROLE_ARN'
  | 'INVALID_ASSUMED_ROLE_ARN'
  | 'INVALID_POLICY_ARN'
  | 'INVALID_PROVIDER_ARN'
  | 'INVALID_ISSUER'
  | 'INVALID_AUDIENCE'
  | 'NO_REFS'
  | 'CONFLICTING_OPTIONS'
  | 'ENVIRONMENT_UNSUPPORTED'
  | 'INVALID_CLAIMS'
  | 'INVALID_SUB_CLAIM_COMPONENTS'
  | 'UNEXPRESSIBLE_REF'
  | 'INVALID_PROJECT_ID'
  | 'MISSING_PROJECT_ID'

/** Every input problem is reported with one of these; `code` is stable, `message` is for humans. */
export class TrustPolicyError extends Error {
  readonly code: TrustPolicyErrorCode
  constructor (code: TrustPolicyErrorCode, message: string) {
    super(message)
    this.name = 'TrustPolicyError'
    this.code = code
  }
}
