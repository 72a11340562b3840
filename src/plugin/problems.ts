/**
 * The refusals of the load-time flow that are about missing or malformed setup (settings, role,
 * token), each with its one message and the exact fix.
 */
import type { Problem, Row } from '../report/format.ts'
import { ManifestError } from './manifest.ts'
import { PRAGMA, SettingsError, describeSource, type Settings } from './settings.ts'
import { DEFAULT_TOKEN_VARIABLE } from '../shared/token-variable.ts'
import { DEFAULT_ISSUER } from '../iam/arns.ts'
import type { Origin } from '../shared/origin.ts'

/**
 * Settings that cannot be used; the title names where they are (CI variables or the manifest).
 * Outside GitLab the variables are the process environment's, and the fix says so.
 */
export function settingsProblem (err: SettingsError | ManifestError, origin: Origin): Problem {
  if (err instanceof ManifestError) {
    return { title: `Cannot read the app manifest: ${err.message}`, fix: ['Fix the manifest so that `arc` can read it.'] }
  }
  const many = err.problems.length > 1
  const variable = origin === 'gitlab' ? 'CI variable' : 'environment variable'
  const title = {
    variables: `Invalid ${variable}${many ? 's' : ''}`,
    manifest: `Invalid @${PRAGMA} setting${many ? 's' : ''}`,
    both: `Invalid ${variable}s and @${PRAGMA} settings`,
  }[err.where]
  const where = origin === 'gitlab'
    ? { variables: 'Settings → CI/CD → Variables (or the job\'s variables: in .gitlab-ci.yml)', both: 'CI variables: Settings → CI/CD → Variables; or the app manifest' }
    : { variables: 'the environment `arc` runs in', both: 'the environment `arc` runs in, or the app manifest' }
  const fix = {
    variables: `Correct the values above in ${where.variables}.`,
    manifest: `Correct the values above in @${PRAGMA} of the app manifest.`,
    both: `Correct the values above (${where.both}).`,
  }[err.where]
  return { title, facts: err.problems.map((p, i) => [`problem ${i + 1}`, p] as Row), fix: [fix] }
}

export function noRole (settings: Settings, hasToken: boolean): Problem {
  const stage = settings.stage
  const other = stage === 'production' ? 'staging' : 'production'
  const otherRole = settings.roles[other]
  return {
    title: hasToken
      ? `This job has an ID token but no IAM role to assume for ${stage}, and no other AWS credentials`
      : `No IAM role to assume for ${stage}, no ID token, and no other AWS credentials in this job`,
    facts: [
      ['manifest', settings.manifestFile ?? '(none found)'],
      ...(otherRole ? [[`${other} role`, `${otherRole.value} (from ${describeSource(otherRole.source)})`] as Row] : []),
    ],
    fix: [
      `Name the role for ${stage} in the app manifest:`,
      `  @${PRAGMA}`,
      `  ${stage}-role arn:aws:iam::<account>:role/<name>`,
      'or set the CI variable ARC_ROLE_ARN (Settings → CI/CD → Variables).',
      'Note: a *protected* CI variable is only given to jobs on protected branches and tags; on other refs the job sees nothing.',
      ...(hasToken ? [] : ['And declare the ID token under id_tokens: in .gitlab-ci.yml (see the README).']),
    ],
  }
}

/**
 * The `id_tokens:` block a GitLab job needs, for the variable the settings name (or the default)
 * and the job's own instance as audience: the load-time message and doctor show the same one.
 */
export function idTokensBlock (settings: Settings, env: NodeJS.ProcessEnv): string[] {
  return [
    '  id_tokens:',
    `    ${settings.tokenVariable?.value ?? DEFAULT_TOKEN_VARIABLE}:`,
    `      aud: ${env.CI_SERVER_URL || DEFAULT_ISSUER}`,
  ]
}

export function noToken (settings: Settings, env: NodeJS.ProcessEnv, roleArn: string): Problem {
  const variable = settings.tokenVariable?.value ?? DEFAULT_TOKEN_VARIABLE
  return {
    title: settings.tokenVariable
      ? `No ID token in ${variable} (named by ${describeSource(settings.tokenVariable.source)})`
      : `A role is configured for ${settings.stage} but this job has no ID token`,
    facts: [['role', `${roleArn} (from ${describeSource(settings.role!.source)})`], ['job', env.CI_JOB_NAME ?? '?']],
    fix: [
      'Add this to the deploy job in .gitlab-ci.yml:',
      ...idTokensBlock(settings, env),
      'The aud must be a client ID (audience) of the AWS IAM OIDC provider for this GitLab instance.',
    ],
  }
}
