/**
 * Issue 9, end to end: the core scenarios under Architect 11.3 (Inventory 4, deploy 5), with the
 * packed plugin installed next to it, on Node 22 and Node 24. Architect 11's aws-lite addresses S3
 * virtual-host style (`<bucket>.127.0.0.1`), which a loopback endpoint cannot serve, so its full
 * deploys cannot run against the stand-ins: these are dry runs (which still read SSM and
 * CloudFormation), `arc env` and refusals. One install of Architect 11 serves every scenario.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ARCHITECT11_VERSION } from '../support/harness.ts'
import { NODES, STS_BUNDLE, assertIdle, assertSignedBySession, lastSeq, sessionOf, startSuite, type Run, type Suite } from './e2e.ts'

let suite: Suite
before(async () => { suite = await startSuite() })
after(async () => { await suite?.close() })

const app = { architect: ARCHITECT11_VERSION }

/** Runs `arc` of the Architect 11 install; when Architect got as far as its banner, checks that it was Architect 11. */
async function arc11 (args: string[], env: Record<string, string | undefined>): Promise<Run> {
  const r = await suite.arc(args, { env, app })
  const banner = /Version ⌁ Architect (\S+)/.exec(r.output)
  if (r.code === 0) assert.ok(banner, `Architect printed its banner: ${r.output}`)
  if (banner) assert.equal(banner[1], ARCHITECT11_VERSION)
  return r
}

for (const node of NODES) {
  describe(`Architect ${ARCHITECT11_VERSION} on ${node}`, () => {
    before(() => { suite.node = node })

    test('arc deploy --production --dry-run from the default branch: the production role', async () => {
      const { s } = suite
      const job = s.job()
      const from = lastSeq(s)
      const r = await arc11(['deploy', '--production', '--dry-run'], job.env)
      assert.equal(r.code, 0, r.output)
      const calls = assertSignedBySession(suite.s, from, s.roles.production, sessionOf(job.claims))
      const names = calls.map(c => `${c.service}:${c.action}`)
      assert.ok(names.includes('ssm:GetParametersByPath'), `Inventory read SSM with the session: ${names.join(' ')}`)
      assert.ok(names.includes('cloudformation:DescribeStackResources'), `the dry run asked CloudFormation: ${names.join(' ')}`)
      assert.match(r.output, /GitLab OIDC Assumed arn:aws:sts::111111111111:assumed-role\/oidc-example-production-deploy\/gitlab-/)
      assert.match(r.output, /GitLab OIDC Deploying production \(OidcExampleProduction\) \[dry-run\] as arn:aws:sts::/)
      assert.deepEqual(r.sdkModules, [STS_BUNDLE], 'the exchange used the AWS SDK: the plugin\'s bundle, nothing from node_modules/@aws-sdk or @smithy')
    })

    test('arc deploy --dry-run from a branch: the staging role', async () => {
      const { s } = suite
      const job = s.job({ ref: 'feature/login', ref_protected: 'false', environment: 'staging' })
      const from = lastSeq(s)
      const r = await arc11(['deploy', '--dry-run'], job.env)
      assert.equal(r.code, 0, r.output)
      assertSignedBySession(suite.s, from, s.roles.staging, sessionOf(job.claims))
      assert.match(r.output, /Deploying staging \(OidcExampleStaging\) \[dry-run\]/)
    })

    test('the legacy CI_JOB_JWT_V2 works, with a warning', async () => {
      const { s } = suite
      const job = s.job()
      const from = lastSeq(s)
      const r = await arc11(['deploy', '--production', '--dry-run'], { ...job.env, GITLAB_OIDC_TOKEN: undefined, CI_JOB_JWT_V2: job.token })
      assert.equal(r.code, 0, r.output)
      assertSignedBySession(suite.s, from, s.roles.production, sessionOf(job.claims))
      assert.match(r.output, /CI_JOB_JWT_V2 was removed in GitLab 17\.0/)
    })

    test('`arc env` writes the parameter with the session of the stage\'s role', async () => {
      const { s } = suite
      const job = s.job()
      const from = lastSeq(s)
      const r = await arc11(['env', '--add', '--env', 'production', 'GREETING', 'hello'], job.env)
      assert.equal(r.code, 0, r.output)
      const calls = assertSignedBySession(suite.s, from, s.roles.production, sessionOf(job.claims))
      const put = calls.find(c => c.action === 'PutParameter')
      assert.ok(put, `arc env wrote the parameter: ${calls.map(c => c.action).join(' ')}`)
      assert.equal(put.params.Name, '/oidc-example/production/GREETING')
    })

    const refusals: Array<[string, () => { env: Record<string, string | undefined> }, RegExp]> = [
      ['production from an unprotected branch', () => ({ env: suite.s.job({ ref: 'feature/x', ref_protected: 'false' }).env }),
        /Refusing a production deploy from branch `feature\/x`, which is not protected/],
      ['a role ARN that is not one', () => ({ env: { ...suite.s.job().env, ARC_ROLE_ARN: 'arn:aws:iam::1111:role/deploy' } }),
        /CI variable ARC_ROLE_ARN is not an IAM role ARN/],
    ]
    for (const [name, setup, message] of refusals) {
      test(`refused before any AWS call: ${name}`, async () => {
        const { s } = suite
        const { env } = setup()
        const from = lastSeq(s)
        const r = await arc11(['deploy', '--production', '--dry-run'], env)
        assert.notEqual(r.code, 0, r.output)
        assert.match(r.output, message)
        assert.match(r.output, /Architect was stopped before any AWS call/)
        assert.equal((r.output.match(/× GitLab OIDC:/g) ?? []).length, 1, 'one message')
        assert.deepEqual(s.aws.calls.filter(c => c.seq > from).map(c => `${c.service}:${c.action}`), [], 'no AWS call at all')
        assert.deepEqual(r.sdkModules, [], 'a pre-flight refusal does not load the AWS SDK')
      })
    }

    test('off GitLab with a developer\'s own keys: no STS call, no output, no AWS SDK', async () => {
      const { s } = suite
      const job = s.job()
      const env = {
        AWS_ACCESS_KEY_ID: s.developer.accessKeyId, AWS_SECRET_ACCESS_KEY: s.developer.secretAccessKey, GITLAB_OIDC_TOKEN: job.token,
      }
      const from = lastSeq(s)
      const r = await arc11(['deploy', '--production', '--dry-run'], env)
      assert.equal(r.code, 0, r.output)
      assertIdle(s, from, r, s.developer.accessKeyId)
    })
  })
}

test('every Architect 11 scenario went through the leak check', () => {
  assert.ok(suite.leakChecks.outputs >= 2 * 7, `checked ${suite.leakChecks.outputs} outputs`)
  assert.ok(suite.leakChecks.secretsSeen.size >= 8, 'tokens, secret keys and session tokens were looked for')
})
