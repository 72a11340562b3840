/**
 * Issue 12, end to end: the same-account warning through the real `arc` (dry runs), the packed
 * plugin and the stand-ins, and through the installed `arc-gitlab-oidc doctor`. example-app names
 * both roles in account 111111111111 (the stand-ins' account); a second account is simulated by
 * naming the other stage's role (which this job does not assume) in 222222222222.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXAMPLE_APP, cleanEnv, installApp, nodeBinary, stripAnsi } from '../support/harness.ts'
import { assertSignedBySession, lastSeq, secretsOf, sessionOf, startSuite, type Suite } from './e2e.ts'

let suite: Suite
before(async () => { suite = await startSuite() })
after(async () => { await suite?.close() })

const sameAccountArc = readFileSync(join(EXAMPLE_APP, 'app.arc'), 'utf8')
/** The other stage's role and boundary in account 222222222222: two accounts. */
function twoAccounts (other: 'production' | 'staging'): string {
  return sameAccountArc.replace(new RegExp(`^(${other}-(role|permissions-boundary) arn:aws:iam::)111111111111`, 'gm'), '$1222222222222')
}
const WARNING = /GitLab OIDC warning: The production and staging roles are both in AWS account 111111111111: any branch that can deploy staging can take over production there\./g
const count = (text: string): number => text.match(WARNING)?.length ?? 0

describe('the same-account warning', () => {
  test('production and staging deploys with both roles in one account: one warning each, with the fix', async () => {
    const { s } = suite
    for (const [args, job, role] of [
      [['deploy', '--production', '--dry-run'], s.job(), s.roles.production],
      [['deploy', '--dry-run'], s.job({ ref: 'feature/x', ref_protected: 'false', environment: 'staging' }), s.roles.staging],
    ] as const) {
      const from = lastSeq(s)
      const r = await suite.arc([...args], { env: job.env, app: { arc: sameAccountArc } })
      assert.equal(r.code, 0, r.output)
      assert.equal(count(r.output), 1, r.output)
      assert.match(r.output, /Fix: one AWS account per stage\. Deploy iam\/gitlab-oidc\.yaml with Stages=production in the production account and/)
      assertSignedBySession(s, from, role, sessionOf(job.claims))
    }
  })

  test('roles in two accounts: no warning, for either stage', async () => {
    const { s } = suite
    for (const [args, job, arc] of [
      [['deploy', '--production', '--dry-run'], s.job(), twoAccounts('staging')],
      [['deploy', '--dry-run'], s.job({ ref: 'feature/y', ref_protected: 'false', environment: 'staging' }), twoAccounts('production')],
    ] as const) {
      const r = await suite.arc([...args], { env: job.env, app: { arc } })
      assert.equal(r.code, 0, r.output)
      assert.match(r.output, /Deploying (production|staging)/)
      assert.equal(count(r.output), 0, r.output)
      assert.doesNotMatch(r.output, /Account fence|both in AWS account/)
    }
  })

  test('`arc-gitlab-oidc doctor` from the installed package shows it, and not with two accounts', async () => {
    const { s } = suite
    const job = s.job()
    for (const [arc, shown] of [[sameAccountArc, true], [twoAccounts('staging'), false]] as const) {
      const app = await installApp({ arc })
      try {
        const node = nodeBinary(suite.node)
        const child = spawn(node, ['node_modules/.bin/arc-gitlab-oidc', 'doctor'], { cwd: app.dir, env: cleanEnv(node, { env: job.env, endpoint: s.aws.endpoint }), stdio: ['ignore', 'pipe', 'pipe'] })
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
