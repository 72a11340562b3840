/**
 * The deploy.start guard and the other ways the plugin is reached: a script that calls
 * @architect/deploy itself, short-lived credentials, keys already in the job, and the
 * `arc-gitlab-oidc doctor` CLI as installed from the package.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXAMPLE_APP, cleanEnv, installApp, nodeBinary, stripAnsi } from '../support/harness.ts'
import { NODES, awsCallsSince, lastSeq, secretsOf, startSuite, stsCallsSince, type Suite } from './e2e.ts'

let suite: Suite
before(async () => { suite = await startSuite() })
after(async () => { await suite?.close() })

/** A deploy script, as a team might write one, calling @architect/deploy directly. */
const SCRIPT = `import inventory from '@architect/inventory'
import deploy from '@architect/deploy'
const production = process.argv.includes('prod')
const inv = await inventory({ deployStage: production ? 'production' : 'staging', env: true })
await deploy.sam({ inventory: inv, production, isDryRun: true })
console.log('script deploy done')
`

async function runNode (dir: string, args: string[], env: Record<string, string | undefined>) {
  const node = nodeBinary(suite.node)
  const child = spawn(node, args, { cwd: dir, env: cleanEnv(node, { env, endpoint: suite.s.aws.endpoint }), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', d => { out += d })
  child.stderr.on('data', d => { out += d })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  for (const secret of secretsOf(suite.s, env)) assert.ok(!out.includes(secret), 'no secret in the output')
  return { code, output: stripAnsi(out) }
}

/** A script loading the installed plugin in a job, whose deploy.start meets a bug that carries the token. */
const BUG = `const { default: plugin } = await import('arc-plugin-gitlab-oidc')
const params = { get stage () { throw new TypeError('boom ' + process.env.GITLAB_OIDC_TOKEN) } }
try { await plugin.deploy.start(params); console.log('no error') }
catch (err) { console.log('caught: ' + err.message) }
`

test('an unexpected error in a hook is one message with the hooks\' footer, never a stack trace or the token', async () => {
  const { s } = suite
  const app = await installApp({ files: { 'bug.mjs': BUG } })
  try {
    const job = s.job()
    const r = await runNode(app.dir, ['bug.mjs'], { ...job.env, ARC_OIDC_STAGE: 'production' })
    assert.equal(r.code, 0, r.output)
    assert.match(r.output, /caught: × GitLab OIDC: Unexpected error in the plugin: TypeError: boom \[a JWT, [\d,]+ characters\]/)
    assert.match(r.output, /This is a bug in arc-plugin-gitlab-oidc/)
    assert.match(r.output, /Architect was stopped before it deployed anything\./)
    assert.doesNotMatch(r.output, /before any AWS call/)
    assert.doesNotMatch(r.output, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace')
    assert.ok(!r.output.includes(job.token.split('.')[2]!), 'not even the token\'s signature')
  }
  finally { app.remove() }
})

for (const node of NODES) {
  describe(`arc on ${node}`, () => {
    before(() => { suite.node = node })

    test('a script calling @architect/deploy: the plugin acts when configured, for ARC_OIDC_STAGE', async () => {
      const { s } = suite
      const app = await installApp({ files: { 'deploy.mjs': SCRIPT } })
      try {
        const job = s.job()
        let from = lastSeq(s)
        const ok = await runNode(app.dir, ['deploy.mjs', 'prod'], { ...job.env, ARC_OIDC_STAGE: 'production' })
        assert.equal(ok.code, 0, ok.output)
        assert.match(ok.output, /script deploy done/)
        assert.equal(stsCallsSince(s, from)[0]?.assume?.roleArn, s.roles.production)

        // The script deploys production but the plugin was told staging: deploy.start refuses.
        from = lastSeq(s)
        const staging = s.job({ ref: 'feature/a', ref_protected: 'false', environment: 'staging' })
        const mismatch = await runNode(app.dir, ['deploy.mjs', 'prod'], staging.env)
        assert.notEqual(mismatch.code, 0)
        assert.match(mismatch.output, /Architect is deploying production, but the credentials were obtained for staging/)
        assert.equal(stsCallsSince(s, from)[0]?.assume?.roleArn, s.roles.staging)
        const writes = awsCallsSince(s, from).filter(c => !/^(Describe|Get|List|Head)/.test(c.action))
        assert.deepEqual(writes.map(c => c.action), [], 'nothing written to AWS')
      }
      finally { app.remove() }
    })

    test('`arc env` and `arc destroy` get the role\'s credentials too, for their stage', async () => {
      const { s } = suite
      const job = s.job()
      let from = lastSeq(s)
      const env = await suite.arc(['env', '--add', '--env', 'production', 'GREETING', 'hello'], { env: job.env })
      assert.equal(env.code, 0, env.output)
      assert.equal(stsCallsSince(s, from)[0]?.assume?.roleArn, s.roles.production)
      const put = awsCallsSince(s, from).find(c => c.action === 'PutParameter')
      assert.ok(put, 'arc env wrote the parameter')
      assert.equal(put.accessKeyId, s.aws.sessions.at(-1)!.accessKeyId)

      const deployed = await suite.arc(['deploy', '--production'], { env: s.job().env })
      assert.equal(deployed.code, 0, deployed.output)
      from = lastSeq(s)
      const destroy = await suite.arc(['destroy', '--app', 'oidc-example', '--production', '--now', '--force'], { env: s.job().env })
      assert.equal(destroy.code, 0, destroy.output)
      assert.equal(stsCallsSince(s, from).length, 1)
      const calls = awsCallsSince(s, from)
      assert.ok(calls.some(c => c.action === 'DeleteStack'), calls.map(c => c.action).join(' '))
      assert.ok(calls.every(c => c.accessKeyId === s.aws.sessions.at(-1)!.accessKeyId))
      assert.ok(!s.aws.stacks.includes('OidcExampleProduction'), 'the production stack is gone')
    })

    test('credentials that expire within 15 minutes: a warning at deploy.start', async () => {
      const { s } = suite
      const job = s.job()
      const r = await suite.arc(['deploy', '--production', '--dry-run'], { env: { ...job.env, ARC_ROLE_DURATION: '900' } })
      assert.equal(r.code, 0, r.output)
      assert.match(r.output, /GitLab OIDC warning: The credentials expire in 15 min; a deploy can take longer/)
    })

    test('keys already in the job are replaced by the role, and the plugin says so', async () => {
      const { s } = suite
      const job = s.job()
      const from = lastSeq(s)
      const r = await suite.arc(['deploy', '--production', '--dry-run'], { env: { ...job.env, AWS_ACCESS_KEY_ID: s.developer.accessKeyId, AWS_SECRET_ACCESS_KEY: s.developer.secretAccessKey, AWS_PROFILE: 'default' } })
      assert.equal(r.code, 0, r.output)
      assert.match(r.output, /replaced: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY/)
      assert.match(r.output, /unset \(it would take precedence in AWS SDKs\): AWS_PROFILE/)
      const session = s.aws.sessions.at(-1)!
      assert.ok(awsCallsSince(s, from).every(c => c.accessKeyId === session.accessKeyId), 'the role signed, not the old keys')
    })

    test('a job with its own keys and no role: the plugin leaves them in place', async () => {
      const { s } = suite
      const from = lastSeq(s)
      const arc = readFileSync(join(EXAMPLE_APP, 'app.arc'), 'utf8').replace(/@gitlab-oidc[\s\S]*$/, '')
      const job = s.job()
      const env = {
        ...job.env, GITLAB_OIDC_TOKEN: undefined,
        AWS_ACCESS_KEY_ID: s.developer.accessKeyId, AWS_SECRET_ACCESS_KEY: s.developer.secretAccessKey,
      }
      const r = await suite.arc(['deploy', '--dry-run'], { env, app: { arc } })
      assert.equal(r.code, 0, r.output)
      assert.match(r.output, /No role configured for staging: using the AWS credentials already in this job/)
      assert.equal(stsCallsSince(s, from).length, 0)
      assert.ok(awsCallsSince(s, from).every(c => c.accessKeyId === s.developer.accessKeyId))
    })

    test('`arc-gitlab-oidc doctor --exchange` from the installed package', async () => {
      const { s } = suite
      const app = await installApp()
      try {
        const job = s.job()
        const from = lastSeq(s)
        const r = await runNode(app.dir, ['node_modules/.bin/arc-gitlab-oidc', 'doctor', '--exchange', '--stage', 'production'], job.env)
        assert.equal(r.code, 0, r.output)
        assert.match(r.output, /production role \.+ arn:aws:iam::111111111111:role\/oidc-example-production-deploy \(from `production-role` in @gitlab-oidc \(app\.arc\)\)/)
        assert.match(r.output, /staging boundary \.+ arn:aws:iam::222222222222:policy\/oidc-example-staging-boundary \(from `staging-permissions-boundary` in @gitlab-oidc \(app\.arc\)\)/)
        assert.match(r.output, /subject \.+ project_path:acme\/oidc-example:ref_type:branch:ref:main/)
        assert.match(r.output, /"127\.0\.0\.1:\d+:sub": "project_path:acme\/oidc-example:ref_type:branch:ref:main"/)
        assert.match(r.output, /Exchange for production: assumed arn:aws:sts::111111111111:assumed-role\/oidc-example-production-deploy\//)
        assert.doesNotMatch(r.output, /deploy-bot@example\.com/)
        assert.equal(stsCallsSince(s, from).length, 1)
        assert.equal(awsCallsSince(s, from).length, 0)

        const expired = s.job({}, { expired: true })
        const bad = await runNode(app.dir, ['node_modules/.bin/arc-gitlab-oidc', 'doctor'], expired.env)
        assert.equal(bad.code, 1)
        assert.match(bad.output, /× GitLab OIDC: The ID token cannot be used: it expired at/)
        const usage = await runNode(app.dir, ['node_modules/.bin/arc-gitlab-oidc', 'doctor', '--bogus'], job.env)
        assert.equal(usage.code, 2)
      }
      finally { app.remove() }
    })
  })
}
