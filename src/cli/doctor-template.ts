/**
 * doctor's template check: the template Architect's packager generates for this app and stage,
 * checked by the deploy's own function (src/iam/template-check.ts) with the same input, so doctor
 * refuses what deploy.start would refuse, with the same message.
 */
import type { Settings } from '../plugin/settings.ts'
import type { Stage } from '../plugin/detect.ts'
import { checkTemplate, roleCheckInput, templateProblem, templateWarnings } from '../iam/template-check.ts'
import { formatProblem, warning } from '../report/format.ts'
import type { CliIo } from './io.ts'
import { readApp } from './app-inventory.ts'
import { toLogicalID } from './setup-sources.ts'

/** The number of problems found (0 or 1); prints nothing when the role is not the IAM template's. */
export async function templateSection (settings: Settings, stage: Stage, io: CliIo): Promise<number> {
  const role = settings.roles[stage]?.value
  if (!role) return 0
  const app = await readApp(io.cwd, stage)
  if ('error' in app) {
    io.stdout(`\nTemplate check: not run, Architect could not read the app (${app.error})`)
    return 0
  }
  const stackName = `${toLogicalID(String(app.inv.app))}${stage === 'production' ? 'Production' : 'Staging'}`
  const iamParameters = settings.iamParameters?.value
  const input = roleCheckInput({ role, stage, inv: app.inv, template: app.template, stackName, iamParameters })
  if (!input) return 0
  const result = checkTemplate(input)
  const warnings = templateWarnings(result)
  if (warnings.length) io.stdout(`\n${warning(`The ${stage} permissions boundary will cap what the functions may do:`, warnings)}`)
  const problem = templateProblem(result, input)
  if (problem) {
    io.stderr(`\n${formatProblem({ ...problem, footer: 'A deploy would stop there, before CloudFormation starts.' })}`)
    return 1
  }
  io.stdout(`\nTemplate check: every resource of ${stackName} is one the ${stage} role may create`)
  return 0
}
