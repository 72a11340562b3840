/**
 * The same-account warning (issue 12): src/iam/account-fence.ts finds both stages' roles in one
 * AWS account with the ARN parser of src/iam/arns.ts; every deploy (deploy.start) prints it once,
 * and `arc-gitlab-oidc doctor` shows it. Roles in two accounts, or a role only this job knows
 * (one CI variable for both stages), say nothing.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { sharedAccount, sharedAccountOf, sharedAccountWarning } from '../../../src/iam/account-fence.ts'
import { deployStart } from '../../../src/hooks/deploy-start.ts'
import { doctor } from '../../../src/cli/doctor.ts'
import { resolveSettings } from '../../../src/plugin/settings.ts'
import type { Manifest } from '../../../src/plugin/manifest.ts'

const PROD = 'arn:aws:iam::111111111111:role/shop-production-deploy'
const STAGING_SAME = 'arn:aws:iam::111111111111:role/shop-staging-deploy'
const STAGING_OTHER = 'arn:aws:iam::222222222222:role/shop-staging-deploy'
const plain = (s: string): string => stripVTControlCharacters(s)

const manifest = (roles: [string, string][]): Manifest => ({ file: 'app.arc', arc: { app: ['shop'], 'gitlab-oidc': roles } })

test('sharedAccount: same partition and account; two accounts, two partitions or a malformed ARN are not', () => {
  assert.deepEqual(sharedAccount(PROD, STAGING_SAME), { account: '111111111111', production: PROD, staging: STAGING_SAME })
  assert.equal(sharedAccount(PROD, STAGING_OTHER), undefined)
  assert.equal(sharedAccount(PROD, 'arn:aws-cn:iam::111111111111:role/shop-staging-deploy'), undefined)
  assert.equal(sharedAccount(PROD, 'arn:aws:iam::11111111111:role/x'), undefined)
  assert.equal(sharedAccount(PROD, 'not an arn'), undefined)
})

test('sharedAccountOf: only when the settings know both stages\' roles', () => {
  const of = (roles: [string, string][], env: NodeJS.ProcessEnv = {}) => sharedAccountOf(resolveSettings({ env, manifest: manifest(roles), stage: 'staging' }).roles)
  assert.equal(of([['production-role', PROD], ['staging-role', STAGING_SAME]])?.account, '111111111111')
  assert.equal(of([['production-role', PROD], ['staging-role', STAGING_OTHER]]), undefined)
  assert.equal(of([['production-role', PROD]]), undefined, 'one stage only')
  assert.equal(of([['role', PROD]])?.account, '111111111111', 'one role for both stages in app.arc: the same account, and worse')
  assert.equal(of([], { ARC_ROLE_ARN: PROD }), undefined, 'one CI variable (scoped per environment in GitLab) names only this job\'s role')
  assert.equal(of([['staging-role', STAGING_OTHER]], { ARC_ROLE_ARN: PROD }), undefined, 'the variable wins for both stages')
})

test('the warning names the account, the risk and the fix', () => {
  const { title, lines } = sharedAccountWarning({ account: '111111111111', production: PROD, staging: STAGING_SAME })
  assert.match(title, /both in AWS account 111111111111: any branch that can deploy staging can take over production/)
  const text = lines.join('\n')
  assert.match(text, /deployment bucket production deploys from/)
  assert.match(text, /API Gateway V2/)
  assert.match(text, /production's `arc env` values/)
  assert.match(text, /Fix: one AWS account per stage\. Deploy iam\/gitlab-oidc\.yaml with Stages=production .* and\nStages=staging in another/)
  assert.match(sharedAccountWarning({ account: '111111111111', production: PROD, staging: PROD }).title, /are the same role/)
})

test('deploy.start: one warning per deploy with same-account roles, for either stage and with existing credentials; none with two accounts', () => {
  for (const stage of ['production', 'staging'] as const) {
    for (const [staging, expected] of [[STAGING_SAME, 1], [STAGING_OTHER, 0]] as const) {
      const err: string[] = []
      const out: string[] = []
      const settings = resolveSettings({ env: {}, manifest: manifest([['production-role', PROD], ['staging-role', staging]]), stage })
      deployStart({ kind: 'existing-credentials', stage, settings }, { stage }, { now: new Date(), out: s => out.push(plain(s)), err: s => err.push(plain(s)) })
      assert.equal(err.length, expected, `${stage}, staging role ${staging}`)
      if (expected) assert.match(err[0]!, /GitLab OIDC warning: The production and staging roles are both in AWS account 111111111111/)
    }
  }
})

test('doctor shows it, as a warning (exit code unchanged); not with two accounts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fence-doctor-'))
  try {
    const run = async (staging: string) => {
      writeFileSync(join(dir, 'app.arc'), `@app\nshop\n\n@gitlab-oidc\nproduction-role ${PROD}\nstaging-role ${staging}\n`)
      const out: string[] = []
      const code = await doctor(['--token-file', join(dir, 'missing-token')], { env: {}, cwd: dir, now: () => new Date(), stdout: s => out.push(s), stderr: s => out.push(s) })
      return { code, text: out.join('\n') }
    }
    const same = await run(STAGING_SAME)
    const two = await run(STAGING_OTHER)
    assert.match(same.text, /! Account fence: The production and staging roles are both in AWS account 111111111111/)
    assert.match(same.text, /Fix: one AWS account per stage/)
    assert.doesNotMatch(two.text, /Account fence/)
    assert.equal(same.code, two.code, 'a warning, not a problem: the exit code is the same')
  }
  finally { rmSync(dir, { recursive: true, force: true }) }
})
