/**
 * Issue 24, item 2, end to end: trust pinned to what AWS can check, for gitlab.com tokens.
 *
 * The GitLab stand-in goes by https://gitlab.com (served on loopback), so the STS stand-in puts
 * GitLab's own condition keys (gitlab.com:project_id, gitlab.com:ref_protected, ...) in the
 * request, as AWS does for that provider only. The roles come from the IAM template, deployed
 * with exactly the commands `arc-gitlab-oidc setup --project-id <id>` prints (test/support/iam-setup.ts).
 * Then the real `arc`, with the packed plugin:
 * - the project's own jobs pass: production from its protected default branch, staging from any branch;
 * - a job of another project under the same path (another project ID) is refused by STS
 *   (AccessDenied), and the explanation's matching condition names the job's project ID;
 * - a production job whose branch is not protected, with the plugin's own guard switched off
 *   (ARC_ALLOW_UNPROTECTED_PRODUCTION=true), reaches STS and is refused there: the proof is IAM's.
 * Dry runs: the exchange is the point.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { installApp, type App } from '../support/harness.ts'
import { projectIdOf } from '../support/gitlab.ts'
import { setupFromTemplate, type IamSetup } from '../support/iam-setup.ts'
import { assertSignedBySession, awsCallsSince, lastSeq, sessionOf, startSuite, stsCallsSince, type Suite } from './e2e.ts'

const ISSUER = 'https://gitlab.com'
const PROJECT = 'acme/oidc-example'
const ID = projectIdOf(PROJECT)

let suite: Suite
let app: App
let iam: IamSetup
before(async () => {
  suite = await startSuite({ iam: 'none', publicIssuer: ISSUER })
  app = await installApp()
  iam = await setupFromTemplate(suite.s, { appDir: app.dir, project: PROJECT, projectId: ID })
})
after(async () => {
  app?.remove()
  await suite?.close()
})

/** Run a dry run as this job; the STS calls it made, and every AWS call after them. */
async function dryRun (job: ReturnType<Suite['s']['job']>, production: boolean, env: Record<string, string> = {}) {
  const from = lastSeq(suite.s)
  const r = await suite.arc([ 'deploy', ...production ? [ '--production' ] : [], '--dry-run' ], { env: { ...job.env, ...env } })
  return { r, sts: stsCallsSince(suite.s, from), aws: awsCallsSince(suite.s, from), from }
}

describe('gitlab.com: the roles pin the project ID, production a protected ref', () => {
  test('setup\'s commands created both roles with the project ID in their trust', () => {
    assert.equal(iam.runs.length, 2, iam.setupOutput)
    for (const { stage, result } of iam.runs) assert.equal(result.code, 0, `${stage}: ${result.stdout}${result.stderr}`)
    for (const stage of [ 'production', 'staging' ] as const) {
      const role = suite.s.aws.state.accounts.get(suite.s.accounts[stage])!.roles.get(suite.s.roles[stage])!
      const trust = JSON.stringify(role.trustPolicy)
      assert.ok(trust.includes(`"gitlab.com:project_id":"${ID}"`), `${stage}: ${trust}`)
      assert.equal(trust.includes('"gitlab.com:ref_protected":"true"'), stage === 'production', stage)
    }
  })

  test('the project\'s own jobs pass: production from the protected default branch, staging from an unprotected branch', async () => {
    const production = suite.s.job({ project_id: ID })
    const p = await dryRun(production, true)
    assert.equal(p.r.code, 0, p.r.output)
    assert.equal(p.sts.length, 1)
    assertSignedBySession(suite.s, p.from, suite.s.roles.production, sessionOf(production.claims))

    const branch = suite.s.job({ project_id: ID, ref: 'feature/login', ref_protected: 'false', environment: 'staging' })
    const s = await dryRun(branch, false)
    assert.equal(s.r.code, 0, s.r.output)
    assertSignedBySession(suite.s, s.from, suite.s.roles.staging, sessionOf(branch.claims))
  })

  test('another project under the same path (another project ID) is refused by STS, and the explanation names the job\'s project ID', async () => {
    // production names the job's branch; a staging role trusts every branch ('*')
    const cases = [ [ 'production', true, {}, 'main' ], [ 'staging', false, { ref: 'feature/login', ref_protected: 'false', environment: 'staging' }, '\'*\'' ] ] as const
    for (const [ stage, production, claims, branch ] of cases) {
      const other = suite.s.job({ ...claims, project_id: '999001' })
      const { r, sts, aws } = await dryRun(other, production)
      assert.notEqual(r.code, 0, `${stage}: ${r.output}`)
      assert.equal(sts.length, 1, `${stage}: one exchange`)
      assert.equal(sts[0]?.errorCode, 'AccessDenied', `${stage}: STS said AccessDenied`)
      assert.equal(aws.length, 0, `${stage}: nothing after the refused exchange`)
      if (production) {
        assert.match(r.output, /its trust policy does not match this job \(AccessDenied\)/)
        assert.match(r.output, /"gitlab\.com:project_id": "999001"/, 'the condition that would match this job names its project ID')
      }
      else {
        assert.match(r.output, /its trust policy does not name this project \(AccessDenied\)/)
        assert.match(r.output, /its project ID 999001 \(gitlab\.com:project_id\)/, 'the explanation names the job\'s project ID')
      }
      assert.ok(r.output.includes(`trust-policy --project acme/oidc-example --branch ${branch} --role-arn ${suite.s.roles[stage]} --project-id 999001`), r.output)
    }
  })

  test('production from an unprotected default branch, the plugin\'s own guard switched off: STS refuses it (gitlab.com:ref_protected)', async () => {
    const unprotected = suite.s.job({ project_id: ID, ref_protected: 'false' })
    // the guard first: without the switch the plugin refuses before any AWS call
    const guarded = await dryRun(unprotected, true)
    assert.notEqual(guarded.r.code, 0, guarded.r.output)
    assert.equal(guarded.sts.length, 0, 'the plugin\'s guard: no exchange')
    // switched off: the exchange happens, and IAM refuses it
    const { r, sts, aws } = await dryRun(unprotected, true, { ARC_ALLOW_UNPROTECTED_PRODUCTION: 'true' })
    assert.notEqual(r.code, 0, r.output)
    assert.equal(sts.length, 1, 'the exchange reached STS')
    assert.equal(sts[0]?.errorCode, 'AccessDenied')
    assert.equal(aws.length, 0)
    assert.match(r.output, /its trust policy does not match this job \(AccessDenied\)/)
    // the same job on the staging role (no protection required) is let in: only the protection was missing
    const staging = await dryRun(suite.s.job({ project_id: ID, ref: 'main', ref_protected: 'false', environment: 'staging' }), false)
    assert.equal(staging.r.code, 0, staging.r.output)
  })
})
