/**
 * Step 5: hand the credentials to Architect (and to every child process) through process.env.
 * Nothing is written to disk.
 */
import type { IssuedCredentials } from './exchange.ts'
import { bothTimes, done, warning } from '../report/format.ts'
import type { Row } from '../shared/problem.ts'

export const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CREDENTIAL_EXPIRATION'] as const
/**
 * With AWS_PROFILE set, the AWS SDK for JavaScript v3 skips environment credentials, so a
 * profile left in the job would quietly win over the role in child processes: unset it.
 */
export const SHADOWING_VARIABLES = ['AWS_PROFILE', 'AWS_DEFAULT_PROFILE'] as const

export interface Handover {
  /** Variables that held other credentials before and were replaced. */
  replaced: string[]
  /** Variables removed because they would take precedence over the new credentials. */
  removed: string[]
}

/** Credentials already in the job's environment (CI variables with keys, or a profile). */
export function hasOtherCredentials (env: NodeJS.ProcessEnv): boolean {
  return Boolean((env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) || env.AWS_PROFILE)
}

export function applyCredentials (env: NodeJS.ProcessEnv, creds: IssuedCredentials): Handover {
  const values: Record<(typeof CREDENTIAL_VARIABLES)[number], string> = {
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_SESSION_TOKEN: creds.sessionToken,
    AWS_CREDENTIAL_EXPIRATION: creds.expiration.toISOString(),
  }
  const replaced = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'].filter(name => env[name])
  const removed = SHADOWING_VARIABLES.filter(name => env[name] !== undefined)
  for (const name of removed) delete env[name]
  for (const name of CREDENTIAL_VARIABLES) env[name] = values[name]
  return { replaced, removed }
}

/** Credentials into process.env, and the report of who this job now is. */
export function handOver (
  env: NodeJS.ProcessEnv, creds: IssuedCredentials, sessionName: string, io: { out: (text: string) => void, err: (text: string) => void },
): void {
  const handover = applyCredentials(env, creds)
  const facts: Row[] = [
    ['session', sessionName],
    ['expires', bothTimes(creds.expiration)],
  ]
  if (creds.attempts > 1) facts.push(['attempts', `${creds.attempts} (earlier ones failed transiently)`])
  io.out(done(`Assumed ${creds.assumedRoleArn}`, facts))
  if (handover.replaced.length || handover.removed.length) {
    io.err(warning('The role\'s credentials replaced AWS credentials already set in this job', [
      ...(handover.replaced.length ? [`replaced: ${handover.replaced.join(', ')}`] : []),
      ...(handover.removed.length ? [`unset (it would take precedence in AWS SDKs): ${handover.removed.join(', ')}`] : []),
    ]))
  }
}
