/**
 * Issue 2, end to end: the packed plugin installed next to @architect/architect 12, the real
 * `arc` CLI, a simulated GitLab job with no AWS keys, loopback GitLab and AWS stand-ins.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXAMPLE_APP, stripPragmas } from '../support/harness.ts'
import { NODES, STS_BUNDLE, assertIdle, assertSignedBySession, lastSeq, sessionOf, startSuite, stsCallsSince, type Suite } from './e2e.ts'

let suite: Suite
before(async () => { suite = await startSuite() })
after(async () => { await suite?.close() })

const exampleArc = readFileSync(join(EXAMPLE_APP, 'app.arc'), 'utf8')

/** The job's own expectations, checked for every successful scenario. */
function assertDeployedWithSession (
  from: number, role: string, stack: string | undefined,
  claims: { project_id: string, pipeline_id: string, job_id: string }, duration = 3600,
) {
  const calls = assertSignedBySession(suite.s, from, role, sessionOf(claims), duration)
  if (stack) assert.ok(suite.s.aws.stacks.includes(stack), `stack ${stack} exists (have ${suite.s.aws.stacks.join(', ')})`)
  return calls
}

/** example-app names each stage's role in its own AWS account: no same-account warning, not in any form. */
function assertNoAccountWarning (output: string) {
  assert.doesNotMatch(output, /GitLab OIDC warning|both in AWS account|are the same role|Account fence/, 'no same-account warning for example-app')
}

for (const node of NODES) {
  describe(`arc on ${node}`, () => {
    before(() => { suite.node = node })

    describe('production from the default branch', () => {
      test('arc deploy --production --dry-run', async () => {
        const { s } = suite
        const job = s.job()
        const from = lastSeq(s)
        const r = await suite.arc(['deploy', '--production', '--dry-run'], { env: job.env })
        assert.equal(r.code, 0, r.output)
        const calls = assertDeployedWithSession(from, s.roles.production, undefined, job.claims)
        assert.ok(calls.some(c => c.service === 'ssm' && c.action === 'GetParametersByPath'), 'Inventory read SSM with the session')
        assert.match(r.output, /GitLab OIDC Assumed arn:aws:sts::111111111111:assumed-role\/oidc-example-production-deploy\/gitlab-/)
        assert.match(r.output, /GitLab OIDC Deploying production \(OidcExampleProduction\) \[dry-run\] as arn:aws:sts::/)
        assert.match(r.output, /expires \.+ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \(UTC \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)/)
        assert.deepEqual(r.sdkModules, [STS_BUNDLE], 'the exchange used the AWS SDK: the plugin\'s bundle, nothing from node_modules/@aws-sdk or @smithy')
        // src/shared/builtins.ts: these builtins' ES module facades cost 5 to 30 ms (undici for node:http).
        assert.ok(r.pluginEsBuiltins.length > 0, 'the trace sees the plugin\'s ES imports of builtins')
        assert.deepEqual(r.pluginEsBuiltins.filter(b => ['node:fs', 'node:fs/promises', 'node:http', 'node:https', 'node:util'].includes(b)), [],
          `the deploy path took node:fs, node:http, node:https or node:util by require (ES imports: ${r.pluginEsBuiltins.join(', ')})`)
      })

      test('a full arc deploy --production creates the production stack', async () => {
        const { s } = suite
        const job = s.job()
        const from = lastSeq(s)
        const r = await suite.arc(['deploy', '--production'], { env: job.env })
        assert.equal(r.code, 0, r.output)
        const calls = assertDeployedWithSession(from, s.roles.production, 'OidcExampleProduction', job.claims)
        const names = calls.map(c => `${c.service}:${c.action}`)
        for (const expected of ['ssm:GetParametersByPath', 's3:PutObject', 'cloudformation:DescribeStacks']) {
          assert.ok(names.includes(expected), `${expected} in ${names.join(' ')}`)
        }
        // The first run creates the stack; the Node 24 run, later in this file, updates it.
        assert.ok(names.includes('cloudformation:CreateStack') || names.includes('cloudformation:UpdateStack'))
        const stackCall = calls.find(c => c.action === 'CreateStack' || c.action === 'UpdateStack')!
        assert.equal(stackCall.params.StackName, 'OidcExampleProduction')
        assert.match(r.output, /Deployed & built infrastructure/)
        assertNoAccountWarning(r.output)
      })
    })

    test('the legacy CI_JOB_JWT_V2 works, with a warning', async () => {
      const { s } = suite
      const job = s.job()
      const env: Record<string, string | undefined> = { ...job.env, GITLAB_OIDC_TOKEN: undefined, CI_JOB_JWT_V2: job.token }
      const from = lastSeq(s)
      const r = await suite.arc(['deploy', '--production'], { env })
      assert.equal(r.code, 0, r.output)
      assertDeployedWithSession(from, s.roles.production, 'OidcExampleProduction', job.claims)
      assert.match(r.output, /CI_JOB_JWT_V2 was removed in GitLab 17\.0/)
    })

    test('per-stage roles: a branch deploys staging with the staging role', async () => {
      const { s } = suite
      const job = s.job({ ref: 'feature/login', ref_protected: 'false', environment: 'staging' })
      const from = lastSeq(s)
      const r = await suite.arc(['deploy'], { env: job.env })
      assert.equal(r.code, 0, r.output)
      assertDeployedWithSession(from, s.roles.staging, 'OidcExampleStaging', job.claims)
      assert.match(r.output, /Deploying staging \(OidcExampleStaging\) as arn:aws:sts::222222222222:assumed-role\/oidc-example-staging-deploy\//)
      assertNoAccountWarning(r.output)
    })

    test('settings from CI variables win: ARC_ROLE_ARN, ARC_ROLE_DURATION, ARC_ROLE_SESSION_NAME, token-variable', async () => {
      const { s } = suite
      const job = s.job()
      const env = { ...job.env, GITLAB_OIDC_TOKEN: undefined, MY_ID_TOKEN: job.token, ARC_OIDC_TOKEN_VARIABLE: 'MY_ID_TOKEN', ARC_ROLE_ARN: s.roles.production, ARC_ROLE_DURATION: '900', ARC_ROLE_SESSION_NAME: 'release-42' }
      const from = lastSeq(s)
      const r = await suite.arc(['deploy', '--production', '--dry-run'], { env, app: { arc: stripPragmas(exampleArc, ['gitlab-oidc']) } })
      assert.equal(r.code, 0, r.output)
      const sts = stsCallsSince(s, from)
      assert.equal(sts.length, 1)
      assert.equal(sts[0]!.assume?.roleArn, s.roles.production)
      assert.equal(sts[0]!.assume?.durationSeconds, 900)
      assert.equal(sts[0]!.assume?.sessionName, 'release-42')
      assert.match(r.output, /role from \.+ CI variable ARC_ROLE_ARN/)
    })

    describe('manifests in other formats than app.arc', () => {
      const roles = () => ({ 'production-role': suite.s.roles.production, 'staging-role': suite.s.roles.staging })
      const formats: Array<[string, () => Record<string, string>]> = [
        ['arc.json', () => ({ 'arc.json': JSON.stringify({ app: 'oidc-example', http: [['get', '/']], events: ['deployed'], aws: { region: 'us-west-2', runtime: 'nodejs22.x' }, plugins: ['arc-plugin-gitlab-oidc'], 'gitlab-oidc': roles() }, null, 2) })],
        ['arc.yaml', () => ({ 'arc.yaml': `app: oidc-example\nhttp:\n  - get: /\nevents:\n  - deployed\naws:\n  region: us-west-2\n  runtime: nodejs22.x\nplugins:\n  - arc-plugin-gitlab-oidc\ngitlab-oidc:\n  production-role: ${roles()['production-role']}\n  staging-role: ${roles()['staging-role']}\n` })],
        ['package.json', () => ({ 'package.json': JSON.stringify({ name: 'oidc-example', private: true, arc: { app: 'oidc-example', http: [['get', '/']], events: ['deployed'], aws: { region: 'us-west-2' }, plugins: ['arc-plugin-gitlab-oidc'], 'gitlab-oidc': roles() } }, null, 2) })],
      ]
      for (const [file, files] of formats) {
        test(file, async () => {
          const { s } = suite
          const job = s.job()
          const from = lastSeq(s)
          // No app.arc: Architect reads the other manifest, and so must the plugin.
          const r = await suite.arc(['deploy', '--production'], { env: job.env, app: { omit: ['app.arc'], files: files() } })
          assert.equal(r.code, 0, r.output)
          assertDeployedWithSession(from, s.roles.production, 'OidcExampleProduction', job.claims)
          assert.match(r.output, new RegExp(`role from \\.+ \`production-role\` in @gitlab-oidc \\(${file.replace('.', '\\.')}\\)`))
        })
      }
    })

    test('off GitLab with a developer\'s own keys: no STS call, no output, no AWS SDK', async () => {
      const { s } = suite
      const job = s.job()
      // A developer's shell: their keys, maybe even a stray token; no GITLAB_CI.
      const env = {
        AWS_ACCESS_KEY_ID: s.developer.accessKeyId, AWS_SECRET_ACCESS_KEY: s.developer.secretAccessKey, GITLAB_OIDC_TOKEN: job.token,
      }
      const from = lastSeq(s)
      const r = await suite.arc(['deploy', '--production'], { env })
      assert.equal(r.code, 0, r.output)
      assertIdle(s, from, r, s.developer.accessKeyId)
    })

    for (const args of [['version'], ['help'], ['deploy', '--help']]) {
      test(`\`arc ${args.join(' ')}\` in a GitLab job with a token and a role: no exchange`, async () => {
        const { s } = suite
        const job = s.job()
        const from = lastSeq(s)
        const r = await suite.arc(args, { env: { ...job.env, ARC_ROLE_ARN: s.roles.production } })
        assert.equal(r.code, 0, r.output)
        assert.equal(s.aws.calls.filter(c => c.seq > from).length, 0, 'no AWS call at all')
        assert.doesNotMatch(r.output, /GitLab OIDC/)
        assert.deepEqual(r.sdkModules, [])
      })
    }

    test('with Architect\'s --debug and --verbose, still no secret in the output', async () => {
      const { s } = suite
      const job = s.job()
      const r = await suite.arc(['deploy', '--production', '--debug', '--verbose'], { env: job.env })
      assert.equal(r.code, 0, r.output)
      assert.match(r.output, /GitLab OIDC Assumed/)
      // suite.arc has checked the output against the token and every issued secret key and session token.
    })
  })
}

test('every scenario above went through the leak check', () => {
  assert.ok(suite.leakChecks.outputs >= 2 * 13, `checked ${suite.leakChecks.outputs} outputs`)
  assert.ok(suite.leakChecks.secretsSeen.size >= 10, 'tokens, secret keys and session tokens were looked for')
})
