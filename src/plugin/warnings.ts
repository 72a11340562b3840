/**
 * What the preflight warns about without refusing: a job that works, but not quite as its author
 * may think. The warnings are data, as the guards are (guards.ts): the preflight runs `WARNINGS`
 * on every plan, and `arc` (activate.ts) and `doctor` both print what they return.
 */
import type { Settings } from './settings.ts'
import type { Origin } from '../shared/id-token.ts'
import { GITLAB_AWS_TOKEN_VARIABLE } from '../shared/id-token.ts'
import { ownString } from '../shared/redact.ts'
import { describeSource, type Setting } from '../shared/setting-source.ts'
import type { ExchangeRequest } from '../shared/sts.ts'
import { ignoredProxies, proxiesOf } from './proxy.ts'

export interface WarningInputs {
  settings: Settings
  role: Setting<string>
  env: NodeJS.ProcessEnv
  origin: Origin
  request: ExchangeRequest
}

/** One warning: a title, then its lines (what it means, then the fix). */
export interface Notice {
  name: string
  title: string
  lines: string[]
}

export interface Warning {
  name: string
  check: (inputs: WarningInputs) => Omit<Notice, 'name'> | undefined
}

export const WARNINGS: Warning[] = [
  {
    /**
     * GitLab's AWS integration (`secrets:` with `aws_secrets_manager`, GitLab 18.3) assumes the
     * role in AWS_ROLE_ARN with the token in AWS_ID_TOKEN. AWS_ROLE_ARN is also one of the plugin's
     * role variables (after ARC_ROLE_ARN, before the manifest): a job set up for that integration
     * would deploy with the secrets role.
     */
    name: 'gitlabAwsIntegrationRole',
    check: ({ role, env, origin }) => {
      if (origin !== 'gitlab' || role.source.kind !== 'variable' || role.source.name !== 'AWS_ROLE_ARN') return undefined
      if (!ownString(env, GITLAB_AWS_TOKEN_VARIABLE)?.trim()) return undefined
      return {
        title: `The deploy role comes from AWS_ROLE_ARN, the variable GitLab's AWS integration (secrets: aws_secrets_manager) also assumes with ${GITLAB_AWS_TOKEN_VARIABLE}`,
        lines: [
          `role: ${role.value} (from ${describeSource(role.source)}); it wins over production-role / staging-role in @gitlab-oidc.`,
          'If AWS_ROLE_ARN is the role that reads your secrets, the deploy runs with it too.',
          'Keep them apart: set the deploy role in ARC_ROLE_ARN (it wins over AWS_ROLE_ARN for the plugin, and GitLab does not read it),',
          'or scope AWS_ROLE_ARN to the jobs that read secrets and name the deploy roles in @gitlab-oidc.',
        ],
      }
    },
  },
  {
    /** A proxy variable the exchange (and Architect) would not use: say so, rather than time out behind a firewall. */
    name: 'proxyIgnored',
    check: ({ env, request }) => {
      const lines = ignoredProxies(proxiesOf(env), new URL(stsEndpoint(request)))
      if (!lines.length) return undefined
      return { title: 'A proxy variable is set but would be ignored', lines: [...lines, 'See docs/configuration.md, "Behind a proxy".'] }
    },
  },
]

/** Where the exchange goes: the endpoint variable, else STS's regional endpoint (https). */
export function stsEndpoint (request: ExchangeRequest): string {
  return request.endpoint ?? `https://sts.${request.region}.amazonaws.com`
}

/** Every warning that applies, in order. */
export function runWarnings (inputs: WarningInputs): Notice[] {
  const notices: Notice[] = []
  for (const w of WARNINGS) {
    const found = w.check(inputs)
    if (found) notices.push({ name: w.name, ...found })
  }
  return notices
}
