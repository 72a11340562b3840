/**
 * Issue 25, item 4, end to end: the zoo's apps (public manifests, test/fixtures/zoo) deployed by
 * the real `arc` with the plugin, under the IAM template's roles as setup's printed commands
 * create them, with the parameters setup computed for each app: every call Architect makes and
 * every request CloudFormation makes for each resource is authorized for the stage's role. Where
 * the template cannot fit an app (generated names CloudFormation would shorten), the plugin says
 * so first, before CloudFormation starts.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { readApp } from '../../src/cli/app-inventory.ts'
import { toLogicalID } from '../../src/cli/setup-sources.ts'
import { installApp, type App, type InstallAppOptions } from '../support/harness.ts'
import { setupFromTemplate } from '../support/iam-setup.ts'
import { ZOO, zooHandlers, zooManifest, type ZooApp } from '../support/zoo.ts'
import { assertSignedBySession, awsCallsSince, lastSeq, sessionOf, startSuite, type Suite } from './e2e.ts'

const ISSUER = 'https://gitlab.example.test'
const STAGE = { staging: 'Staging', production: 'Production' } as const

/** Per app: the stages it deploys, and the stages the plugin refuses first (names CloudFormation would shorten). */
const PLAN: Record<string, { deploys: Array<'staging' | 'production'>, refused: Array<'staging' | 'production'> }> = {
  // @aws bucket is one bucket for both stages (Architect 12); with one account per stage only the account holding it deploys.
  'arc-codes': { deploys: [ 'production' ], refused: [] },
  'remix-grunge': { deploys: [ 'staging' ], refused: [ 'production' ] },
  'greenwood-aws': { deploys: [], refused: [ 'staging' ] },
  gcn: { deploys: [ 'staging', 'production' ], refused: [] },
}

const cleanups: Array<() => Promise<void> | void> = []
after(async () => { for (const c of cleanups.reverse()) await c() })

/** The zoo manifest with the plugin and its settings for the stand-ins' roles, and a handler per function, in an app of its own. */
async function zooApp (zoo: ZooApp, suite: Suite): Promise<InstallAppOptions> {
  const manifest = zooManifest(zoo)
  const from = mkdtempSync(join(tmpdir(), 'zoo-app-'))
  cleanups.push(() => rmSync(from, { recursive: true, force: true }))
  writeFileSync(join(from, 'app.arc'), manifest)
  const read = await readApp(from)
  assert.ok('inv' in read, 'error' in read ? read.error : '')
  const srcDirs = (read.inv.lambdaSrcDirs as string[]).map(d => relative(from, d))
  const { roles, boundaries } = suite.s
  const arc = `${manifest}\n@plugins\narc-plugin-gitlab-oidc\n\n@gitlab-oidc\n` +
    `production-role ${roles.production}\nstaging-role ${roles.staging}\n` +
    `production-permissions-boundary ${boundaries.production}\nstaging-permissions-boundary ${boundaries.staging}\n`
  return { from, arc, files: zooHandlers(srcDirs) }
}

for (const zoo of ZOO) {
  describe(`${zoo.name} (${zoo.repository}@${zoo.commit.slice(0, 8)})`, () => {
    let suite: Suite
    let opts: InstallAppOptions
    const appName = () => /^@app\n(\S+)/m.exec(zooManifest(zoo))![1]!
    const prefix = () => toLogicalID(appName())

    test('setup\'s commands create the roles in each account', async () => {
      suite = await startSuite({ iam: 'none', publicIssuer: ISSUER, appName: appName() })
      cleanups.push(() => suite.close())
      opts = await zooApp(zoo, suite)
      const app: App = await installApp(opts)
      cleanups.push(() => app.remove())
      const iam = await setupFromTemplate(suite.s, { appDir: app.dir })
      for (const run of iam.runs) assert.equal(run.result.code, 0, run.result.stdout + run.result.stderr)
      if (zoo.name === 'arc-codes') {
        // Its own deployment bucket (@aws bucket), which the team created once in the production account.
        suite.s.aws.state.buckets.set('arc.codes-deploy', { name: 'arc.codes-deploy', region: 'us-west-1', owner: suite.s.accounts.production, created: Date.now(), objects: new Map() })
      }
    })

    for (const stage of PLAN[zoo.name]!.deploys) {
      test(`${stage}: deploys, every request authorized for the ${stage} role`, async () => {
        const job = stage === 'production' ? suite.s.job() : suite.s.job({ ref: 'feature/x', ref_protected: 'false', environment: 'staging' })
        const from = lastSeq(suite.s)
        const checked = suite.s.aws.state.authz.length
        const r = await suite.arc([ 'deploy', ...stage === 'production' ? [ '--production' ] : [] ], { env: job.env, app: opts })
        assert.equal(r.code, 0, r.output)
        assertSignedBySession(suite.s, from, suite.s.roles[stage], sessionOf(job.claims))
        const stack = suite.s.aws.stack(`${prefix()}${STAGE[stage]}`, suite.s.accounts[stage])
        assert.match(stack?.StackStatus ?? '', /^(CREATE|UPDATE)_COMPLETE$/, r.output)
        const decisions = suite.s.aws.state.authz.slice(checked)
        assert.deepEqual(decisions.filter(d => d.decision !== 'allow'), [], 'every request allowed')
        assert.ok(decisions.some(d => d.by === 'cloudformation'), 'CloudFormation created the resources with the role\'s permissions')
      })
    }

    for (const stage of PLAN[zoo.name]!.refused) {
      test(`${stage}: refused first, naming each function whose name CloudFormation would shorten`, async () => {
        const job = stage === 'production' ? suite.s.job() : suite.s.job({ ref: 'feature/x', ref_protected: 'false', environment: 'staging' })
        const from = lastSeq(suite.s)
        const r = await suite.arc([ 'deploy', ...stage === 'production' ? [ '--production' ] : [] ], { env: job.env, app: opts })
        assert.notEqual(r.code, 0, r.output)
        assert.match(r.output, new RegExp(`of ${prefix()}${STAGE[stage]} cannot be deployed under the ${stage} role of the IAM template`))
        assert.match(r.output, /it shortens the name, which then may not start with/)
        const started = awsCallsSince(suite.s, from).map(c => c.action).filter(a => /^(CreateChangeSet|CreateStack|UpdateStack|PutObject)$/.test(a))
        assert.deepEqual(started, [], 'CloudFormation never started')
      })
    }
  })
}
