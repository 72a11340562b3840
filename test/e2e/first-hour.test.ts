/**
 * Issue 15, end to end through the real `arc` with the packed plugin: the messages a new user
 * meets in the first hour. Refusals are checked to make no AWS call at all; dry runs where a
 * command would deploy.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXAMPLE_APP } from '../support/install.ts'
import { lastSeq, startSuite, stsCallsSince, type Run, type Suite } from './e2e.ts'

let suite: Suite
before(async () => { suite = await startSuite() })
after(async () => { await suite?.close() })

/** A job on an unprotected feature branch (its environment: production, as a copied job would have). */
const featureJob = () => suite.s.job({ ref: 'feature/login', ref_protected: 'false' })

function assertNoAwsCall (from: number, r: Run): void {
  assert.equal(r.code, 1, r.output)
  assert.deepEqual(suite.s.aws.calls.filter(c => c.seq > from).map(c => c.action), [], 'refused before any AWS call')
  assert.equal(r.output.match(/GitLab OIDC:/g)?.length, 1, 'one message')
}

describe('a production command from a branch that is not the default one', () => {
  test('deploy --production: the refusal first says to restrict the job with rules:, the opt-out last', async () => {
    const from = lastSeq(suite.s)
    const r = await suite.arc([ 'deploy', '--production', '--dry-run' ], { env: featureJob().env })
    assertNoAwsCall(from, r)
    assert.match(r.output, /Refusing a production deploy from branch `feature\/login`, which is not protected/)
    const fix = r.output.slice(r.output.indexOf('How to fix:'))
    assert.match(fix, /How to fix:\n\s+\|\s+Run this job only on the default branch \(`main`\): give it rules/, 'rules: first')
    assert.match(fix, /- if: \$CI_COMMIT_BRANCH == \$CI_DEFAULT_BRANCH/)
    const rules = fix.indexOf('rules:')
    const optOut = fix.indexOf('allow-unprotected-production true')
    assert.ok(rules > 0 && optOut > rules, 'allow-unprotected-production comes after rules:')
    assert.match(fix, /Last resort[^\n]*allow-unprotected-production true/)
  })

  test('the default branch itself, unprotected: protect it; the opt-out still last', async () => {
    const from = lastSeq(suite.s)
    const r = await suite.arc([ 'deploy', '--production', '--dry-run' ], { env: suite.s.job({ ref: 'main', ref_protected: 'false' }).env })
    assertNoAwsCall(from, r)
    assert.match(r.output, /How to fix:\n\s+\|\s+Protect the branch `main`/)
    assert.doesNotMatch(r.output, /rules:/)
  })

  for (const [ args, action ] of [
    [ [ 'env', '-e', 'production' ], '`arc env` on production' ],
    [ [ 'env', '--env', 'production', '--add', 'X', 'y' ], '`arc env` on production' ],
    [ [ 'logs', 'src/http/get-index', '--production' ], '`arc logs` on production' ],
    [ [ 'destroy', '--app', 'oidc-example', '--production', '--force' ], 'a production destroy' ],
  ] as const) {
    test(`arc ${args.join(' ')}: refused in the command's own words (${action})`, async () => {
      const from = lastSeq(suite.s)
      const r = await suite.arc([ ...args ], { env: featureJob().env })
      assertNoAwsCall(from, r)
      assert.ok(r.output.includes(`Refusing ${action} from branch \`feature/login\`, which is not protected`), r.output)
      assert.doesNotMatch(r.output, /production deploy/)
    })
  }
})

describe('the job\'s environment, said once', () => {
  test('a staging deploy from a production-tier job: "production (deployment tier production)", not "production: production"', async () => {
    const from = lastSeq(suite.s)
    const r = await suite.arc([ 'deploy', '--dry-run' ], { env: suite.s.job({ ref: 'feature/x', ref_protected: 'false' }).env })
    assertNoAwsCall(from, r)
    assert.match(r.output, /Refusing a staging deploy from a job in GitLab environment production \(deployment tier production\)\n/)
    assert.doesNotMatch(r.output, /production: production/)
  })

  test('arc env (staging) from a production-tier job: its own verb and flag', async () => {
    const from = lastSeq(suite.s)
    const r = await suite.arc([ 'env' ], { env: suite.s.job().env })
    assertNoAwsCall(from, r)
    assert.match(r.output, /Refusing `arc env` on staging from a job in GitLab environment production \(deployment tier production\)/)
    assert.match(r.output, /Add --env production to the command/)
  })
})

describe('a role that does not exist', () => {
  test('AccessDenied says the role may not exist and to compare the ARN with the stack outputs', async () => {
    const missing = 'arn:aws:iam::111111111111:role/oidc-example-prodution-deploy'
    const from = lastSeq(suite.s)
    const r = await suite.arc([ 'deploy', '--production', '--dry-run' ], { env: { ...suite.s.job().env, ARC_ROLE_ARN: missing } })
    assert.equal(r.code, 1, r.output)
    assert.deepEqual(stsCallsSince(suite.s, from).map(c => [ c.status, c.assume?.roleArn ]), [ [ 403, missing ] ], 'one refused exchange')
    assert.deepEqual(suite.s.aws.awsCalls().filter(c => c.seq > from), [], 'nothing after it')
    assert.match(r.output, /the role does not exist, or its trust policy does not match this job \(AccessDenied\)/)
    assert.match(r.output, /Or the role does not exist \(AWS answers AccessDenied for a missing role too\): compare the ARN with the stack outputs/)
  })
})

describe('an unknown @gitlab-oidc key', () => {
  test('says which known key it most resembles', async () => {
    const arc = readFileSync(join(EXAMPLE_APP, 'app.arc'), 'utf8').replace('production-role ', 'production-rol ')
    const from = lastSeq(suite.s)
    const r = await suite.arc([ 'deploy', '--production', '--dry-run' ], { env: suite.s.job().env, app: { arc } })
    assertNoAwsCall(from, r)
    assert.match(r.output, /Unknown setting `production-rol` in @gitlab-oidc \(app\.arc\): did you mean `production-role`\?/)
  })
})
