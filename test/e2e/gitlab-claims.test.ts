/**
 * GitLab as it is today, through the real `arc` with the packed plugin (issue 14):
 * - each of the four sub claim formats GitLab accepts: a token in that format is accepted by the
 *   STS stand-in under the trust policy `arc-gitlab-oidc trust-policy --sub-claim-components`
 *   prints, and a ref that policy must not admit is refused, with the explanation naming the
 *   format and the matching command;
 * - doctor reads the format from the job's token;
 * - a merge request pipeline from a fork is refused before any AWS call.
 * Dry runs: the exchange is the point, not the deploy.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { buildTrustPolicy } from '../../src/iam/trust-policy.ts'
import { cleanEnv, installApp, nodeBinary, stripAnsi } from '../support/harness.ts'
import { SUB_CLAIM_FORMATS } from '../support/gitlab.ts'
import { awsCallsSince, lastSeq, secretsOf, startSuite, stsCallsSince, type Suite } from './e2e.ts'

let suite: Suite
before(async () => { suite = await startSuite() })
after(async () => { await suite?.close() })

const PROJECT = 'acme/oidc-example'
const PLACEHOLDER = 'gitlab.example.com'

/** The CLI's policy for this project, its provider host swapped for the stand-in's loopback one. */
function cliPolicy (options: { branches?: string[], tags?: string[], refs?: string[] }, format: string): string {
  const policy = buildTrustPolicy({ project: PROJECT, account: suite.s.aws.accountId, issuer: `https://${PLACEHOLDER}`, audience: suite.s.audience, subClaimComponents: format, ...options })
  return JSON.stringify(policy).replaceAll(PLACEHOLDER, suite.s.gitlab.providerUrl)
}

/** Per format: what the role allows, a ref it admits and one it must refuse. */
const CASES: Record<string, { allow: { branches?: string[], tags?: string[], refs?: string[] }, refused: { ref: string, ref_type: 'branch' | 'tag' } }> = {
  'project_path,ref_type,ref': { allow: { branches: [ 'main' ] }, refused: { ref: 'main', ref_type: 'tag' } },
  'project_path,ref,ref_type': { allow: { branches: [ 'main' ] }, refused: { ref: 'main', ref_type: 'tag' } },
  'project_path,ref': { allow: { refs: [ 'main' ] }, refused: { ref: 'release', ref_type: 'branch' } },
  'project_path,ref_type': { allow: { branches: [ '*' ] }, refused: { ref: 'v1.0.0', ref_type: 'tag' } },
}

describe('custom sub claims (ci_id_token_sub_claim_components)', () => {
  for (const format of SUB_CLAIM_FORMATS) {
    test(`${format}: the CLI's policy admits a token in that format and refuses a ref it should not`, async () => {
      const { s } = suite
      const c = CASES[format]!
      const role = s.aws.addRole({ name: `claims-${format.replaceAll(',', '-').replaceAll('_', '')}`, trustPolicy: cliPolicy(c.allow, format) })
      const ok = s.job({ ref: 'main' }, { subClaimComponents: format })
      let from = lastSeq(s)
      const r = await suite.arc([ 'deploy', '--production', '--dry-run' ], { env: { ...ok.env, ARC_ROLE_ARN: role } })
      assert.equal(r.code, 0, r.output)
      assert.equal(stsCallsSince(s, from).length, 1)
      assert.equal(stsCallsSince(s, from)[0]?.assume?.roleArn, role)
      assert.match(r.output, /Deploying production \(OidcExampleProduction\) \[dry-run\] as arn:aws:sts::/)

      const bad = s.job({ ...c.refused, ref_protected: 'true' }, { subClaimComponents: format })
      from = lastSeq(s)
      const refused = await suite.arc([ 'deploy', '--production', '--dry-run' ], { env: { ...bad.env, ARC_ROLE_ARN: role } })
      assert.notEqual(refused.code, 0)
      assert.match(refused.output, /its trust policy does not match this job \(AccessDenied\)/)
      assert.equal(awsCallsSince(s, from).length, 0, 'nothing but the refused exchange')
      const suggested = format === SUB_CLAIM_FORMATS[0] ? '' : ` --sub-claim-components ${format}`
      const expectedRef = format === 'project_path,ref' ? '--ref release' : format === 'project_path,ref_type' ? '--tag \'*\'' : `--${c.refused.ref_type} ${c.refused.ref}`
      assert.ok(refused.output.includes(`trust-policy --project ${PROJECT} ${expectedRef}${suggested} --role-arn ${role}`), refused.output)
      if (suggested) assert.match(refused.output, new RegExp(`this project's sub claim components are ${format}`))
    })
  }

  test('doctor reads the format from the token and prints the matching trust-policy command; it names a fork', async () => {
    const { s } = suite
    const app = await installApp()
    const doctor = async (env: Record<string, string>) => {
      const node = nodeBinary('node22')
      const child = spawn(node, [ 'node_modules/.bin/arc-gitlab-oidc', 'doctor' ], { cwd: app.dir, env: cleanEnv(node, { env, endpoint: s.aws.endpoint }), stdio: [ 'ignore', 'pipe', 'pipe' ] })
      let out = ''
      child.stdout.on('data', d => { out += d })
      child.stderr.on('data', d => { out += d })
      const code = await new Promise(resolve => child.on('close', resolve))
      for (const secret of secretsOf(s, env)) assert.ok(!out.includes(secret), 'no secret in the output')
      return { code, text: stripAnsi(out) }
    }
    try {
      const job = s.job({ ref: 'v2.0.0', ref_type: 'tag' }, { subClaimComponents: 'project_path,ref,ref_type' })
      const { text } = await doctor(job.env)
      assert.match(text, /sub claim components \.+ project_path,ref,ref_type \(customised: trust policies must use this format\)/)
      assert.match(text, /trust policy \.+ npx arc-gitlab-oidc trust-policy --project acme\/oidc-example --project-id \d+ --tag v2\.0\.0 --sub-claim-components project_path,ref,ref_type --account <id>/)

      // a fork's merge request: doctor says so, as a problem
      const fork = s.job({ project_path: 'alice/oidc-example', ref: 'fix', ref_protected: 'false', environment: 'review/fix' })
      const forked = await doctor({ ...fork.env, CI_PROJECT_PATH: PROJECT })
      assert.equal(forked.code, 1)
      assert.match(forked.text, /× GitLab OIDC: This pipeline is for a merge request from a fork \(alice\/oidc-example into acme\/oidc-example\): forks never deploy with this project's roles\n/)
    }
    finally { app.remove() }
  })
})

describe('merge requests from forks', () => {
  test('refused before any AWS call, whichever sign of the fork the job shows', async () => {
    const { s } = suite
    const fork = s.job({ project_path: 'alice/oidc-example', ref: 'fix-typo', ref_protected: 'false', environment: 'review/fix-typo', pipeline_source: 'merge_request_event' })
    const env = {
      ...fork.env,
      CI_PROJECT_PATH: PROJECT, CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_IID: '12',
      CI_MERGE_REQUEST_PROJECT_PATH: PROJECT, CI_MERGE_REQUEST_PROJECT_ID: '100',
      CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: 'alice/oidc-example', CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '200',
    }
    const from = lastSeq(s)
    const r = await suite.arc([ 'deploy', '--dry-run', '--name', 'mr-12' ], { env })
    assert.notEqual(r.code, 0)
    assert.match(r.output, /merge request from a fork \(alice\/oidc-example into acme\/oidc-example\): forks never deploy with this project's roles/)
    assert.match(r.output, /run the pipeline from a branch of acme\/oidc-example/)
    assert.match(r.output, /Architect was stopped before any AWS call/)
    assert.equal(stsCallsSince(s, from).length, 0, 'no exchange')
    assert.equal(awsCallsSince(s, from).length, 0)
  })

  test('the token alone (GitLab 18.4: job_project_path names the parent, project_path the fork), whatever the CI variables say', async () => {
    const { s } = suite
    // A fork's merge request pipeline running in the parent; its variables claim a plain branch pipeline of the fork.
    const fork = s.job({ project_path: 'alice/oidc-example', project_id: '200', job_project_path: PROJECT, job_project_id: '100', ref: 'fix-typo', ref_protected: 'false', environment: 'review/fix-typo' })
    const env = { ...fork.env, CI_PROJECT_PATH: 'alice/oidc-example', CI_PIPELINE_SOURCE: 'push', CI_MERGE_REQUEST_IID: undefined }
    const from = lastSeq(s)
    const r = await suite.arc([ 'deploy', '--dry-run' ], { env })
    assert.equal(r.code, 1, r.output)
    assert.match(r.output, /merge request from a fork \(alice\/oidc-example into acme\/oidc-example\)/)
    assert.match(r.output, /job project \.+ acme\/oidc-example/)
    assert.equal(stsCallsSince(s, from).length, 0, 'no exchange')
    assert.equal(awsCallsSince(s, from).length, 0)
    // Architect's own use: the parent's own branch pipeline (job project = project) deploys.
    const own = s.job({ ref: 'fix-typo', ref_protected: 'false', environment: 'staging' })
    const ok = await suite.arc([ 'deploy', '--dry-run' ], { env: own.env })
    assert.equal(ok.code, 0, ok.output)
  })
})
