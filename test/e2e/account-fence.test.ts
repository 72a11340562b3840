/**
 * Issue 12, end to end: the same-account warning through the real `arc` (dry runs), the packed
 * plugin and the stand-ins, and through the installed `arc-gitlab-oidc doctor`. example-app uses
 * the recommended layout (production role and boundary in account 111111111111, staging in
 * 222222222222, as the stand-ins serve them): no warning. The one-account layout is this file's
 * own: a manifest naming the staging role and boundary in 111111111111 too, and a staging role
 * registered in that account (trusting the account's own OIDC provider), as `Stages=both` makes.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gitlabTrustPolicy } from '../support/aws.ts'
import { EXAMPLE_APP, cleanEnv, installApp, nodeBinary, stripAnsi } from '../support/harness.ts'
import { assertSignedBySession, lastSeq, secretsOf, sessionOf, startSuite, type Suite } from './e2e.ts'

const PRODUCTION_ACCOUNT = '111111111111'
const STAGING_ACCOUNT = '222222222222'

let suite: Suite
/** The staging role of the one-account layout: in the production account. */
let sameAccountStagingRole: string
before(async () => {
  suite = await startSuite()
  const { s } = suite
  assert.deepEqual(s.accounts, { production: PRODUCTION_ACCOUNT, staging: STAGING_ACCOUNT })
  sameAccountStagingRole = s.aws.addRole({
    name: 'oidc-example-staging-deploy',
    accountId: PRODUCTION_ACCOUNT,
    trustPolicy: gitlabTrustPolicy({ accountId: PRODUCTION_ACCOUNT, providerUrl: s.gitlab.providerUrl, aud: s.audience, sub: 'project_path:acme/oidc-example:ref_type:branch:ref:*' }),
  })
})
after(async () => { await suite?.close() })

/** example-app's manifest: one AWS account per stage. */
const twoAccountsArc = readFileSync(join(EXAMPLE_APP, 'app.arc'), 'utf8')
/** The same app with the staging role and boundary in the production account. */
const sameAccountArc = twoAccountsArc.replace(new RegExp(`^(staging-(role|permissions-boundary) arn:aws:iam::)${STAGING_ACCOUNT}`, 'gm'), `$1${PRODUCTION_ACCOUNT}`)
const WARNING = /GitLab OIDC warning: The production and staging roles are both in AWS account 111111111111: any branch that can deploy staging can take over production there\./g
const count = (text: string): number => text.match(WARNING)?.length ?? 0

test('the layouts this file compares: example-app in two accounts, the one-account manifest in one', () => {
  assert.match(twoAccountsArc, /^production-role arn:aws:iam::111111111111:role\/oidc-example-production-deploy$/m)
  assert.match(twoAccountsArc, /^staging-role arn:aws:iam::222222222222:role\/oidc-example-staging-deploy$/m)
  assert.match(twoAccountsArc, /^staging-permissions-boundary arn:aws:iam::222222222222:policy\/oidc-example-staging-boundary$/m)
  assert.match(sameAccountArc, /^staging-role arn:aws:iam::111111111111:role\/oidc-example-staging-deploy$/m)
  assert.match(sameAccountArc, /^staging-permissions-boundary arn:aws:iam::111111111111:policy\/oidc-example-staging-boundary$/m)
  assert.doesNotMatch(sameAccountArc, /222222222222/)
})

describe('the same-account warning', () => {
  test('production and staging deploys with both roles in one account: one warning each, with the fix', async () => {
    const { s } = suite
    for (const [args, job, role] of [
      [['deploy', '--production', '--dry-run'], s.job(), s.roles.production],
      [['deploy', '--dry-run'], s.job({ ref: 'feature/x', ref_protected: 'false', environment: 'staging' }), sameAccountStagingRole],
    ] as const) {
      const from = lastSeq(s)
      const r = await suite.arc([...args], { env: job.env, app: { arc: sameAccountArc } })
      assert.equal(r.code, 0, r.output)
      assert.equal(count(r.output), 1, r.output)
      assert.match(r.output, /Fix: one AWS account per stage\. Deploy iam\/gitlab-oidc\.yaml with Stages=production in the production account and/)
      assertSignedBySession(s, from, role, sessionOf(job.claims))
    }
  })

  test('example-app\'s roles in two accounts: no warning, for either stage, each role assumed in its own account', async () => {
    const { s } = suite
    for (const [args, job, role, account] of [
      [['deploy', '--production', '--dry-run'], s.job(), s.roles.production, PRODUCTION_ACCOUNT],
      [['deploy', '--dry-run'], s.job({ ref: 'feature/y', ref_protected: 'false', environment: 'staging' }), s.roles.staging, STAGING_ACCOUNT],
    ] as const) {
      const from = lastSeq(s)
      const r = await suite.arc([...args], { env: job.env })
      assert.equal(r.code, 0, r.output)
      assert.match(r.output, new RegExp(`Deploying (production|staging) .* as arn:aws:sts::${account}:assumed-role/`))
      assertSignedBySession(s, from, role, sessionOf(job.claims))
      assert.equal(count(r.output), 0, r.output)
      assert.doesNotMatch(r.output, /Account fence|both in AWS account/)
    }
  })

  test('`arc-gitlab-oidc doctor` from the installed package shows it, and not with two accounts', async () => {
    const { s } = suite
    const job = s.job()
    for (const [arc, shown] of [[sameAccountArc, true], [twoAccountsArc, false]] as const) {
      const app = await installApp({ arc })
      try {
        const node = nodeBinary(suite.node)
        // the job is a production one (protected main, production environment): doctor checks it as `arc deploy --production`
        const child = spawn(node, ['node_modules/.bin/arc-gitlab-oidc', 'doctor', '--stage', 'production'], { cwd: app.dir, env: cleanEnv(node, { env: job.env, endpoint: s.aws.endpoint }), stdio: ['ignore', 'pipe', 'pipe'] })
        let out = ''
        child.stdout.on('data', d => { out += d })
        child.stderr.on('data', d => { out += d })
        const code = await new Promise<number | null>(resolve => child.on('close', resolve))
        for (const secret of secretsOf(s, job.env)) assert.ok(!out.includes(secret), 'no secret in the output')
        const text = stripAnsi(out)
        assert.equal(code, 0, text)
        if (shown) {
          assert.match(text, /! Account fence: The production and staging roles are both in AWS account 111111111111/)
          assert.match(text, /Fix: one AWS account per stage/)
        }
        else assert.doesNotMatch(text, /Account fence/)
      }
      finally { app.remove() }
    }
  })
})
