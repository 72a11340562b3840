/**
 * The AWS account is the fence between the stages (issue 12): with both deploy roles in one
 * account, IAM cannot keep a branch job (staging role) away from production (the shared
 * deployment bucket, API Gateway V2, CloudFront, every stage's `arc env` values). This finds that
 * layout from the two role ARNs the settings name, and says what it means (pure functions).
 */
import { parseRoleArn } from './arns.ts'

export interface SharedAccount {
  account: string
  production: string
  staging: string
}

/** Both roles' account, when both ARNs parse and name the same partition and account. */
export function sharedAccount (production: string, staging: string): SharedAccount | undefined {
  try {
    const p = parseRoleArn(production)
    const s = parseRoleArn(staging)
    if (p.partition !== s.partition || p.account !== s.account) return undefined
    return { account: p.account, production, staging }
  }
  catch {
    // A malformed ARN is reported by the settings; nothing to say here.
    return undefined
  }
}

/** A role setting as the plugin's settings hold it (value and where it came from). */
interface RoleSetting { value: string, source: { kind: string } }

/**
 * The shared account, when the settings know both stages' roles. One CI variable for both
 * (ARC_ROLE_ARN, usually scoped per GitLab environment) names only this job's role: not known.
 */
export function sharedAccountOf (
  roles: { production?: RoleSetting | undefined, staging?: RoleSetting | undefined },
): SharedAccount | undefined {
  const { production, staging } = roles
  if (!production || !staging) return undefined
  if (production === staging && production.source.kind === 'variable') return undefined
  return sharedAccount(production.value, staging.value)
}

/** The warning's one-line title and its lines (risk, then fix). */
export function sharedAccountWarning (shared: SharedAccount): { title: string, lines: string[] } {
  const same = shared.production === shared.staging
  return {
    title: same
      ? `The production and staging roles are the same role (${shared.production}): any branch that deploys staging can deploy production.`
      : `The production and staging roles are both in AWS account ${shared.account}: any branch that can deploy staging can take over production there.`,
    lines: [
      'In one account, IAM cannot fence the stages apart: the staging role writes the deployment bucket production deploys from,',
      'can change any HTTP/WebSocket API (API Gateway V2) and reads production\'s `arc env` values.',
      'Fix: one AWS account per stage. Deploy iam/gitlab-oidc.yaml with Stages=production in the production account and',
      'Stages=staging in another, and point production-role / staging-role at them (docs/aws-setup.md).',
    ],
  }
}
