/**
 * iam/gitlab-oidc.allows.json, shipped next to the IAM template and generated from it
 * (scripts/allows.ts): what each stage's deploy role may create and what its permissions
 * boundary lets functions call. Read once, on the deploy's template check only.
 */
import { fileURLToPath } from 'node:url'
import { fs } from '../shared/builtins.ts'

export const ALLOWS_FILE = fileURLToPath(new URL('../../iam/gitlab-oidc.allows.json', import.meta.url))

export interface StageAllows {
  /** Resource type → "" (always), "Name=value" (only with that template parameter); absent: never. */
  creates: Record<string, string>
  /** Action patterns the stage's permissions boundary allows. */
  runtime: string[]
}

export interface Allows {
  template: { file: string, sha256: string }
  stages: Record<'staging' | 'production', StageAllows>
  /** Service (a DeployServices value) → the resource type namespace it opens ("AWS::Events::"). */
  serviceNamespaces: Record<string, string>
  /** The accounts whose layers AwsPublishedLayers=true allows. */
  awsLayerAccounts: string[]
}

let cached: Allows | undefined
export function readAllows (file: string = ALLOWS_FILE): Allows {
  if (file !== ALLOWS_FILE) return JSON.parse(fs.readFileSync(file, 'utf8')) as Allows
  cached ??= JSON.parse(fs.readFileSync(file, 'utf8')) as Allows
  return cached
}
