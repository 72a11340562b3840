/**
 * deploy.services runs after every plugin's deploy.start, on the template Architect will deploy.
 * Plugins listed after this one in `@plugins` may have added roles to it; the plugin checks here
 * that every role still carries the stage's boundary.
 *
 * A refusal, not a warning: the deploy roles of the IAM template may only create roles that carry
 * the boundary, so such a deploy would fail half-way in CloudFormation (and roll back); a job that
 * uses a broader role would create a role outside the boundary. Either way, stopping here, before
 * anything is deployed, with the exact fix, is the better outcome. A later plugin that adds no
 * role is no problem and is not reported.
 */
import type { Outcome } from '../plugin/activate.ts'
import { PluginError, type Row } from '../shared/problem.ts'
import { pluginsAfter, unbounded, type HookFunction, type Template } from './boundary.ts'
import { STOPPED } from './deploy-start.ts'

export interface DeployServicesParams {
  cloudformation?: Template
  inventory?: { inv?: { plugins?: { _methods?: { deploy?: { start?: HookFunction[] } } } } }
}

/** Returns nothing: deploy.services results would become SSM parameters. */
export function checkBoundaries (outcome: Outcome, params: DeployServicesParams, self: unknown): void {
  if (outcome.kind === 'idle') return
  const boundary = outcome.settings.boundary
  if (!boundary || !params.cloudformation) return
  const escaped = unbounded(params.cloudformation, boundary.value)
  if (!escaped.length) return
  const later = pluginsAfter(params.inventory?.inv?.plugins?._methods?.deploy?.start, self)
  throw new PluginError({
    title: `${escaped.length} role${escaped.length === 1 ? '' : 's'} of the template would be created without the permissions boundary ${boundary.value}`,
    facts: [
      ...escaped.map(r => [r.id, `${r.type}, PermissionsBoundary ${r.current === undefined ? 'none' : JSON.stringify(r.current)}`] as Row),
      ['deploy.start after ours', later.length ? later.join(', ') : 'none (a deploy.start hook changed the template)'],
    ],
    fix: [
      later.length
        ? `List arc-plugin-gitlab-oidc after ${later.join(', ')} under @plugins (its deploy.start must run last), so it bounds the roles they add:`
        : 'Make sure no deploy hook adds or changes roles after arc-plugin-gitlab-oidc.',
      ...(later.length ? ['  @plugins', ...later.map(name => `  ${name}`), '  arc-plugin-gitlab-oidc'] : []),
    ],
    footer: STOPPED,
  })
}
