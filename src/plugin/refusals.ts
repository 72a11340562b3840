/**
 * Every refusal the preflight can give, as data: one entry per refusal, each building its one
 * message (what happened, the facts, the exact fix) from what the preflight found. The flow
 * (preflight.ts) and the guards (guards.ts) decide *whether* to refuse; the words live here,
 * and `doctor` shows the very same ones. test/unit/plugin/preflight.test.ts runs each entry
 * through both `arc` and `doctor`: an entry without a case there fails that test.
 */
import type { ManifestError } from './manifest.ts'
import { PRAGMA, describeSource, type Setting } from '../shared/setting-source.ts'
import type { Settings, SettingsError } from './settings.ts'
import type { StageChoice } from './stage.ts'
import type { FoundToken, TokenError } from './token.ts'
import { DEFAULT_TOKEN_VARIABLE, type Claims, type Origin } from '../shared/id-token.ts'
import type { Problem, Row } from '../shared/problem.ts'
import { DEFAULT_ISSUER } from '../iam/arns.ts'

/** A merge request from a fork: the project it comes from, and this one. */
export interface Fork {
  /** The fork (the merge request's source project, or the project the token names). */
  source: string
  /** This project (the merge request's target, or the job's CI_PROJECT_PATH). */
  target: string
}

/** What is being done, in the command's own words: "a production deploy", "`arc env` on production". */
export function actionOf (choice: Pick<StageChoice, 'stage' | 'command'>): string {
  const command = choice.command ?? 'deploy'
  return command === 'deploy' || command === 'destroy' ? `a ${choice.stage} ${command}` : `\`arc ${command}\` on ${choice.stage}`
}

/**
 * The `id_tokens:` block a GitLab job needs, for the variable the settings name (or the default)
 * and the job's own instance as audience.
 */
export function idTokensBlock (settings: Settings, env: NodeJS.ProcessEnv): string[] {
  return [
    '  id_tokens:',
    `    ${settings.tokenVariable?.value ?? DEFAULT_TOKEN_VARIABLE}:`,
    `      aud: ${env.CI_SERVER_URL || DEFAULT_ISSUER}`,
  ]
}

/** The Node.js running `arc`, the installed Architect and the range of its engines, the lowest major it admits. */
export interface NodeTooOld { node: string, architect: string, range: string, major: number | undefined }

const sourced = (s: Setting<unknown>, value = String(s.value)) => `${value} (from ${describeSource(s.source)})`

/**
 * GitLab withholds ID tokens from a project whose path another project used before (the job page
 * says "ID token issuance is disabled"); a subject built from the project ID lifts it.
 */
export const REUSED_PATH_FIX = [
  'If GitLab said "ID token issuance is disabled" for this job: another project used this path before. Set the project\'s',
  'ci_id_token_sub_claim_components to a project_id subject (e.g. project_id,ref_type,ref; Maintainer, projects API) and the roles\' trust',
  'to match (template: SubClaimComponents=project_id,ref_type,ref with GitLabProjectId; or trust-policy --sub-claim-components ... --project-id <id>).',
]

export const REFUSALS = {
  /** Node older than the installed Architect's engines: Architect would crash after the exchange. */
  nodeTooOld: ({ node, architect, range, major }: NodeTooOld): Problem => {
    const image = major === undefined ? `a Node.js image in ${range}` : `the image node:${major}`
    return {
      title: `Node.js ${node} is older than Architect ${architect} needs (node ${range}): use ${image}`,
      facts: [['node', `${node} (this job)`], ['architect', `${architect}, engines node ${range}`]],
      fix: [
        `Run the job in ${image} (\`image:\` in .gitlab-ci.yml, or the arc-deploy component's \`image\` input),`,
        'or install a Node.js that Architect supports before `arc` runs.',
      ],
    }
  },

  /** `arc deploy production` (a bare word) would deploy staging. */
  bareProduction: ({ command, args }: { command: string, args: readonly string[] }): Problem => ({
    title: `\`arc ${command} production\` would ${command} the STAGING stack: Architect ignores a bare \`production\` argument`,
    facts: [['command', ['arc', command, ...args].join(' ').trim()]],
    fix: [`Write the flag: arc ${command} --production ${args.filter(a => a !== 'production').join(' ')}`.trimEnd()],
  }),

  manifest: (err: ManifestError): Problem => ({
    title: `Cannot read the app manifest: ${err.message}`,
    fix: ['Fix the manifest so that `arc` can read it.'],
  }),

  /**
   * Settings that cannot be used; the title names where they are (CI variables or the manifest).
   * Outside GitLab the variables are the process environment's, and the fix says so.
   */
  settings: (err: SettingsError, origin: Origin): Problem => {
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
  },

  /** The token's variable or file cannot be read as a token (a File variable, an unreadable file; doctor's --token-file). */
  unreadableToken: (err: TokenError, origin: Origin, tokenFileOption = false): Problem => ({
    title: err.message,
    fix: err.fix ?? (tokenFileOption ? ['Pass --token-file a readable file holding the ID token.'] : origin === 'gitlab'
      ? ['Point AWS_WEB_IDENTITY_TOKEN_FILE at a readable file holding the ID token, or unset it.']
      : ['Point AWS_WEB_IDENTITY_TOKEN_FILE at a readable file holding the OIDC token your platform issues (write it there before `arc` runs),', 'or unset AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN to use other credentials.']),
  }),

  noRole: (settings: Settings, hasToken: boolean): Problem => {
    const stage = settings.stage
    const other = stage === 'production' ? 'staging' : 'production'
    const otherRole = settings.roles[other]
    return {
      title: hasToken
        ? `This job has an ID token but no IAM role to assume for ${stage}, and no other AWS credentials`
        : `No IAM role to assume for ${stage}, no ID token, and no other AWS credentials in this job`,
      facts: [
        ['manifest', settings.manifestFile ?? '(none found)'],
        ...(otherRole ? [[`${other} role`, sourced(otherRole)] as Row] : []),
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
  },

  noToken: (settings: Settings, env: NodeJS.ProcessEnv, role: Setting<string>): Problem => {
    const variable = settings.tokenVariable?.value ?? DEFAULT_TOKEN_VARIABLE
    return {
      title: settings.tokenVariable
        ? `No ID token in ${variable} (named by ${describeSource(settings.tokenVariable.source)})`
        : `A role is configured for ${settings.stage} but this job has no ID token`,
      facts: [['role', sourced(role)], ['job', env.CI_JOB_NAME ?? '?']],
      fix: [
        'Add this to the deploy job in .gitlab-ci.yml:',
        ...idTokensBlock(settings, env),
        'The aud must be a client ID (audience) of the AWS IAM OIDC provider for this GitLab instance.',
        ...REUSED_PATH_FIX,
      ],
    }
  },

  notAJwt: (err: TokenError, found: FoundToken, origin: Origin): Problem => ({
    title: err.message,
    facts: [['token from', found.source]],
    fix: [origin === 'gitlab'
      ? `${found.source} must hold the job's ID token as GitLab issues it (declare it under id_tokens: and don't modify it).`
      : `${found.source} must hold the OIDC token exactly as your platform issued it (a JWT).`],
  }),

  /** A JWT that AWS would refuse: expired, not yet valid, no audience, claims of the wrong type. */
  unusableToken: (
    { problems, found, claims, now, origin }: { problems: string[], found: FoundToken, claims: Claims, now: Date, origin: Origin },
  ): Problem => ({
    title: `The ID token cannot be used: ${problems.join('; ')}`,
    facts: [['token from', found.source], ['checked at', now.toISOString()]],
    claims,
    origin,
    fix: origin === 'gitlab'
      ? [
        'Use the token GitLab issues to this job: declare it under id_tokens: with an aud, and deploy in the job that received it.',
        'A token from another job, or one that waited past its expiry, cannot be used.',
      ]
      : [
        'Write a fresh token to the file before `arc` runs (platforms refresh it: read it late, not at the start of a long job),',
        'with an audience (aud) that the IAM OIDC provider accepts; check this machine\'s clock too.',
      ],
  }),

  forkMergeRequest: ({ fork, claims, env }: { fork: Fork, claims: Claims, env: NodeJS.ProcessEnv }): Problem => ({
    title: `This pipeline is for a merge request from a fork (${fork.source} into ${fork.target}): forks never deploy with this project's roles`,
    facts: [
      ['token project', String(claims.project_path ?? '?')], ['job project', String(claims.job_project_path ?? env.CI_PROJECT_PATH ?? '?')],
      ...(env.CI_MERGE_REQUEST_IID ? [['merge request', `!${env.CI_MERGE_REQUEST_IID}`] as Row] : []),
    ],
    claims,
    fix: [
      `Review the merge request's changes; to deploy them, run the pipeline from a branch of ${fork.target} (push the reviewed commits to one, or merge).`,
      'Keep deploy jobs out of fork merge request pipelines with a first rule `- if: $CI_MERGE_REQUEST_SOURCE_PROJECT_ID != $CI_MERGE_REQUEST_PROJECT_ID` `when: never` (the arc-deploy component has it).',
    ],
  }),

  allowedAccount: (
    { account, role, allowed, claims, origin }:
      { account: string, role: Setting<string>, allowed: Setting<string[]>, claims: Claims, origin: Origin },
  ): Problem => ({
    title: `The role is in AWS account ${account}, which is not an allowed account`,
    facts: [['role', sourced(role)], ['allowed', sourced(allowed, allowed.value.join(', '))]],
    claims,
    origin,
    fix: ['Check the role setting (a CI variable scoped to the wrong project or environment?), or add the account to the allowed list.'],
  }),

  unprotectedProduction: (
    { choice, role, claims, env }: { choice: StageChoice, role: Setting<string>, claims: Claims, env: NodeJS.ProcessEnv },
  ): Problem => {
    const ref = claims.ref ?? env.CI_COMMIT_REF_NAME
    const defaultBranch = env.CI_DEFAULT_BRANCH
    const fromOtherRef = !(claims.ref_type === 'branch' && ref !== undefined && ref === defaultBranch)
    return {
      title: `Refusing ${actionOf(choice)} from ${claims.ref_type ?? 'ref'} \`${ref ?? '?'}\`, which is not protected`,
      facts: [['stage', `production (${choice.reason})`], ['role', role.value], ...(defaultBranch ? [['default branch', defaultBranch] as Row] : [])],
      claims,
      fix: [
        ...(fromOtherRef
          ? [
            `Run this job only on the default branch${defaultBranch ? ` (\`${defaultBranch}\`)` : ''}: give it rules, as the arc-deploy component's jobs do:`,
            '  rules:',
            '    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH',
            'and protect that branch (Settings → Repository → Protected branches);',
            `or, to deploy production from \`${ref ?? 'this ref'}\` on purpose, protect it too.`,
          ]
          : [`Protect the branch \`${ref}\` (Settings → Repository → Protected branches).`]),
        `Last resort, to deploy production from unprotected refs: \`allow-unprotected-production true\` in @${PRAGMA} or ARC_ALLOW_UNPROTECTED_PRODUCTION=true.`,
      ],
    }
  },

  environmentTier: ({ choice, tier, claims }: { choice: StageChoice, tier: string, claims: Claims }): Problem => {
    const production = choice.stage === 'production'
    const environment = `${claims.environment ?? '?'} (deployment tier ${tier})`
    const flag = choice.command === 'env' ? '--env production' : '--production'
    return {
      title: production
        ? `Refusing ${actionOf(choice)} from a job whose GitLab environment is not production: ${environment}`
        : `Refusing ${actionOf(choice)} from a job in GitLab environment ${environment}`,
      facts: [['stage', `${choice.stage} (${choice.reason})`], ['environment', environment]],
      claims,
      fix: [
        ...(production
          ? ['Give this job the production environment (environment: name: production, or deployment_tier: production),', `or drop ${flag} if it should act on staging.`]
          : [`Add ${flag} to the command if this job acts on production,`, 'or give the job a non-production environment (environment: deployment_tier: staging).']),
        `If this is intended, set \`environment-check false\` in @${PRAGMA} or ARC_ENVIRONMENT_CHECK=false.`,
      ],
    }
  },
} as const

export type RefusalName = keyof typeof REFUSALS
