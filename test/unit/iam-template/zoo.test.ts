/**
 * Issue 25, item 4: apps we did not design (test/fixtures/zoo, public manifests noted by
 * repository and commit). For each, as a user goes: `arc-gitlab-oidc setup` in the app prints the
 * parameters; the IAM template takes them; and the template Architect's packager generates for each
 * stage passes the deploy's template check with them, except what the check refuses first, with
 * its reason (generated names CloudFormation would shorten). The same apps deploy end to end
 * under the stand-ins in test/e2e/zoo.test.ts.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../../src/cli/main.ts'
import { readApp } from '../../../src/cli/app-inventory.ts'
import { readAllows } from '../../../src/iam/allows.ts'
import { checkTemplate } from '../../../src/iam/template-check.ts'
import { Stack } from '../../support/cfn-template.ts'
import { ZOO, zooManifest } from '../../support/zoo.ts'

const dirs: string[] = []
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

/** setup's printed --parameter-overrides, per Stages value. */
let lastOutput = ''
async function setupIn (dir: string): Promise<Record<string, Record<string, string>>> {
  let stdout = '', stderr = ''
  const code = await main([ 'setup', '--project', 'acme/app', '--project-id', '4242', '--branch', 'main', '--gitlab-url', 'https://gitlab.com' ],
    { env: {}, cwd: dir, now: () => new Date(), stdout: s => { stdout += s }, stderr: s => { stderr += s } })
  assert.equal(code, 0, stderr)
  lastOutput = stdout
  const found: Record<string, Record<string, string>> = {}
  for (const m of stdout.matchAll(/--parameter-overrides (.+)$/gm)) {
    const params = Object.fromEntries(m[1]!.split(' ').map(p => [ p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1).replace(/^'(.*)'$/, '$1') ]))
    found[params.Stages!] = params
  }
  return found
}

/** What the check may refuse in an app nobody designed for it: only names CloudFormation would shorten. */
const SHORTENED = /it shortens the name, which then may not start with/

for (const app of ZOO) {
  describe(`${app.name} (${app.repository}@${app.commit.slice(0, 8)}): ${app.what}`, () => {
    const dir = mkdtempSync(join(tmpdir(), `zoo-${app.name}-`))
    dirs.push(dir)
    writeFileSync(join(dir, 'app.arc'), zooManifest(app))

    for (const stage of [ 'staging', 'production' ] as const) {
      it(`${stage}: the template takes setup's parameters, and every resource Architect generates passes the check or is refused for its name`, async () => {
        const printed = (await setupIn(dir))[stage]!
        const stack = new Stack({ account: '111111111111', partition: 'aws', params: printed })
        assert.ok(stack.resourceExists(`${stage === 'staging' ? 'Staging' : 'Production'}DeployRole`))
        const read = await readApp(dir, stage)
        assert.ok('template' in read && read.template, `Architect packages the app: ${'error' in read ? read.error : ''}`)
        const stackName = `${printed.AppStackPrefix}${stage === 'staging' ? 'Staging' : 'Production'}`
        const result = checkTemplate({ template: read.template, stage, stackName, parameters: printed, allows: readAllows() })
        assert.deepEqual(result.refusals.filter(f => !SHORTENED.test(f.what)), [], 'refused only for names')
        // setup said it first, in a note on the stage's refusal
        assert.equal(new RegExp(`^# Note: .* of ${stackName} cannot be deployed`, 'm').test(lastOutput), result.refusals.length > 0, 'setup notes it')
        for (const f of result.refusals) {
          const length = Number(/, (\d+) characters: over/.exec(f.what)?.[1])
          assert.ok(length > 64 && f.what.includes(stackName), f.what)
        }
        const types = new Set(Object.values(read.template.Resources ?? {}).map(r => String((r as { Type: unknown }).Type)))
        for (const type of types) assert.ok(readAllows().stages[stage].creates[type] !== undefined, `${type} is one the role may create`)
      })
    }
  })
}

it('the zoo as the issue found it: Architect\'s own deployment bucket (arc.codes) is the role\'s with setup\'s DeployBucket', async () => {
  const arcCodes = ZOO.find(a => a.name === 'arc-codes')!
  const dir = mkdtempSync(join(tmpdir(), 'zoo-bucket-'))
  dirs.push(dir)
  writeFileSync(join(dir, 'app.arc'), zooManifest(arcCodes))
  const printed = (await setupIn(dir)).production!
  assert.equal(printed.DeployBucket, 'arc.codes-deploy')
  assert.equal(printed.AllowCloudFrontWrites, 'true', '@cdn')
  const statements = new Stack({ account: '111111111111', partition: 'aws', params: printed }).permissions('ProductionDeployRole')
  assert.deepEqual(statements.find(s => s.Sid === 'AppDeployBucket')?.Resource, [ 'arn:aws:s3:::arc.codes-deploy', 'arn:aws:s3:::arc.codes-deploy/*' ])
})
