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
import { installApp, runArc, stripAnsi, type App } from '../support/harness.ts'
import { putLogEvents } from '../support/aws/logs.ts'
import { parseStandInsArgs, standInsJob, startStandInsFor, type StandIns, type StandInsCliOptions } from '../support/standins.ts'
import { assertSignedBySession, lastSeq, secretsOf, sessionOf, startSuite, stsCallsSince, type Run, type Suite } from './e2e.ts'

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
    assert.match(r.output, /Or the role does not exist \(AWS answers AccessDenied for a missing role too\): compare the ARN with the ProductionRoleArn/)
  })

  test('issue 21: a staging role ARN in the wrong account: the ARN and its account first, not a branch condition', async () => {
    // the staging role's name and boundary, in the production account (pasted from the wrong account)
    const wrong = 'arn:aws:iam::111111111111:role/oidc-example-staging-deploy'
    const from = lastSeq(suite.s)
    const job = suite.s.job({ ref: 'feature/cart', ref_protected: 'false', environment: 'staging', deployment_tier: 'staging' })
    const r = await suite.arc([ 'deploy', '--dry-run' ], { env: { ...job.env, ARC_ROLE_ARN: wrong, ARC_PERMISSIONS_BOUNDARY: 'arn:aws:iam::111111111111:policy/oidc-example-staging-boundary' } })
    assert.equal(r.code, 1, r.output)
    assert.deepEqual(stsCallsSince(suite.s, from).map(c => [ c.status, c.assume?.roleArn ]), [ [ 403, wrong ] ], 'one refused exchange')
    const fix = r.output.slice(r.output.indexOf('How to fix:'))
    assert.match(fix, /How to fix:\n\s+\|\s+First check the ARN: arn:aws:iam::111111111111:role\/oidc-example-staging-deploy \(from CI variable ARC_ROLE_ARN\), account 111111111111/)
    assert.match(fix, /describe-stacks --stack-name oidc-example-gitlab-oidc/)
    assert.doesNotMatch(fix, /--branch feature\/cart|ref:feature\/cart"/, 'no branch-only condition or command')
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

describe('the stand-ins for your own app (node test/support/standins.ts --app ... --project ...)', () => {
  // An app that is not example-app: another name (toLogicalID: MyShop2), a project in a subgroup,
  // no @gitlab-oidc (the stand-ins' job sets ARC_ROLE_ARN and ARC_PERMISSIONS_BOUNDARY).
  const ARC = '@app\nmy-shop-2\n\n@http\nget /\n\n@aws\nregion us-west-2\nruntime nodejs22.x\n\n@plugins\narc-plugin-gitlab-oidc\n'
  const base = [ '--app', 'my-shop-2', '--project', 'shops/web/my-shop-2', '--default-branch', 'trunk', '--aud', 'sts.amazonaws.com' ]
  let own: StandIns
  let app: App
  const options = (...more: string[]) => parseStandInsArgs([ ...base, ...more ]) as StandInsCliOptions
  before(async () => {
    own = await startStandInsFor(options())
    app = await installApp({ arc: ARC })
  })
  after(async () => {
    app?.remove()
    await own?.close()
  })

  type Claimed = { output: string, code: number | null, claims: { project_id: string, pipeline_id: string, job_id: string } }
  async function arc (args: string[], o: StandInsCliOptions): Promise<Claimed> {
    const job = standInsJob(own, o)
    const r = await runArc(app.dir, args, { env: job.env })
    for (const secret of secretsOf(own, job.env)) assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'no secret in the output')
    return { output: stripAnsi(r.stdout + r.stderr), code: r.code, claims: job.claims }
  }

  /** What the function logged, as if it had run: its log group is /aws/lambda/<physical id>. */
  function functionLogged (stack: string, message: string): void {
    const fn = own.aws.stack(stack)?.Resources.find(r => r.LogicalResourceId === 'GetIndexHTTPLambda')
    assert.ok(fn, `${stack} has the get / function`)
    // Lambda's Node.js runtime writes console.log as <time>\t<request id>\t<level>\t<message>.
    const line = `${new Date().toISOString()}\t6f1e7b2c-0000-4000-8000-000000000001\tINFO\t${message}`
    putLogEvents(own.aws.state, `/aws/lambda/${fn.PhysicalResourceId}`, '2026/11/30/[$LATEST]0123', [ 'START RequestId: 6f1e7b2c-0000-4000-8000-000000000001 Version: $LATEST', line ])
  }

  for (const [ stage, more, stack ] of [
    [ 'production', [ '--branch', 'trunk' ], 'MyShop2Production' ],
    [ 'staging', [ '--branch', 'feature/cart' ], 'MyShop2Staging' ],
  ] as const) {
    test(`${stage}: arc deploy, then arc logs, each with the ${stage} role, every call signed by its session`, async () => {
      const o = options(...more)
      const flag = stage === 'production' ? [ '--production' ] : []
      let from = lastSeq(own)
      const deploy = await arc([ 'deploy', ...flag ], o)
      assert.equal(deploy.code, 0, deploy.output)
      assertSignedBySession(own, from, own.roles[stage], sessionOf(deploy.claims))
      assert.ok(own.aws.stacks.includes(stack), `${stack} deployed`)

      functionLogged(stack, `hello from ${stage}`)
      from = lastSeq(own)
      const logs = await arc([ 'logs', 'src/http/get-index', ...flag ], o)
      assert.equal(logs.code, 0, logs.output)
      assert.match(logs.output, new RegExp(`hello from ${stage}`))
      const calls = assertSignedBySession(own, from, own.roles[stage], sessionOf(logs.claims))
      assert.deepEqual(calls.filter(c => c.service === 'logs').map(c => c.action), [ 'DescribeLogStreams', 'GetLogEvents' ])
      assert.ok(calls.some(c => c.action === 'ListStackResources' && c.params.StackName === stack))
    })
  }
})
