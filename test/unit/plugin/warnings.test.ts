/**
 * The preflight's warnings (src/plugin/warnings.ts), through `arc`'s load-time flow and `doctor`:
 * GitLab's AWS integration (AWS_ROLE_ARN with AWS_ID_TOKEN) picking the deploy role is said, with
 * the way to keep them apart; a job set up the plugin's way hears nothing.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stripVTControlCharacters as plain } from 'node:util'
import { activate } from '../../../src/plugin/activate.ts'
import { detect } from '../../../src/plugin/detect.ts'
import { runWarnings } from '../../../src/plugin/warnings.ts'
import { resolveSettings } from '../../../src/plugin/settings.ts'
import { exchangeRequest } from '../../../src/plugin/preflight.ts'
import { main } from '../../../src/cli/main.ts'

const DEPLOY = 'arn:aws:iam::111111111111:role/shop-staging-deploy'
const SECRETS = 'arn:aws:iam::111111111111:role/shop-read-secrets'
const now = new Date('2026-11-26T12:00:00Z')
const t = Math.floor(now.getTime() / 1000)
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
const claims = {
  iss: 'https://gitlab.example.com', sub: 'project_path:acme/shop:ref_type:branch:ref:fix', aud: 'https://gitlab.example.com',
  exp: t + 300, nbf: t - 5, iat: t - 5, project_path: 'acme/shop', project_id: '42', pipeline_id: '1001', job_id: '5005',
  ref: 'fix', ref_type: 'branch', ref_protected: 'false',
}
const token = `${b64({ alg: 'RS256', kid: 'k' })}.${b64(claims)}.c2lnbmF0dXJlLXNlY3JldA`
const dir = mkdtempSync(join(tmpdir(), 'oidc-warnings-'))
writeFileSync(join(dir, 'app.arc'), `@app\nshop\n@gitlab-oidc\nstaging-role ${DEPLOY}\n`)
const job = (over: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ GITLAB_CI: 'true', CI: 'true', CI_SERVER_URL: 'https://gitlab.example.com', ...over })
/** GitLab's AWS integration set up in the job: its role variable and its token variable. */
const integration = job({ AWS_ROLE_ARN: SECRETS, AWS_ID_TOKEN: token })

function warningsFor (env: NodeJS.ProcessEnv, origin: 'gitlab' | 'web-identity' = 'gitlab') {
  const settings = resolveSettings({ env, manifest: { file: 'app.arc', arc: { 'gitlab-oidc': [['staging-role', DEPLOY]] } }, stage: 'staging' })
  const request = exchangeRequest('token', settings.role!.value, 'session', settings, env)
  return runWarnings({ settings, role: settings.role!, env, origin, request }).map(n => n.name)
}

async function arcOutput (env: NodeJS.ProcessEnv): Promise<{ text: string, roleArn: string | undefined }> {
  const lines: string[] = []
  let roleArn: string | undefined
  await activate(detect(env, ['/n', '/b/node_modules/.bin/arc', 'deploy']), {
    env: { ...env }, cwd: dir, now: () => now, out: s => lines.push(s), err: s => lines.push(s),
    exchange: async request => {
      roleArn = request.roleArn
      return { accessKeyId: 'ASIAISSUED', secretAccessKey: 'issued-secret', sessionToken: 'issued-session', expiration: new Date(now.getTime() + 3600_000), assumedRoleArn: `${request.roleArn}/s`, attempts: 1, elapsedMs: 1 }
    },
  })
  return { text: plain(lines.join('\n')), roleArn }
}

async function doctorOutput (env: NodeJS.ProcessEnv): Promise<string> {
  let text = ''
  await main(['doctor'], { env, cwd: dir, now: () => now, stdout: s => { text += `${s}\n` }, stderr: s => { text += `${s}\n` } })
  return plain(text)
}

describe('GitLab\'s AWS integration next to the plugin', () => {
  it('AWS_ID_TOKEN is a token source: a job set up for the integration gets no "no ID token"', async () => {
    const { text } = await arcOutput(integration)
    assert.match(text, /token from \.+ CI variable AWS_ID_TOKEN \(GitLab's AWS integration's name\)/)
    assert.ok(!text.includes(token), 'the token is never printed')
  })

  it('AWS_ROLE_ARN meant for the integration picks the deploy role: the deploy and doctor say so, and how to keep them apart', async () => {
    const arc = await arcOutput(integration)
    assert.equal(arc.roleArn, SECRETS, 'the variable wins over the manifest (which is what the warning is about)')
    const said = /warning: The deploy role comes from AWS_ROLE_ARN, the variable GitLab's AWS integration \(secrets: aws_secrets_manager\) also assumes with AWS_ID_TOKEN/
    assert.match(arc.text, said)
    assert.match(arc.text, /Keep them apart: set the deploy role in ARC_ROLE_ARN/)
    const doctor = await doctorOutput(integration)
    assert.match(doctor, /! The deploy role comes from AWS_ROLE_ARN, the variable GitLab's AWS integration/)
    assert.match(doctor, /Keep them apart: set the deploy role in ARC_ROLE_ARN/)
  })

  it('kept apart (ARC_ROLE_ARN), or without the integration, or off GitLab: no warning', async () => {
    const apart = job({ ARC_ROLE_ARN: DEPLOY, AWS_ROLE_ARN: SECRETS, AWS_ID_TOKEN: token })
    const arc = await arcOutput(apart)
    assert.equal(arc.roleArn, DEPLOY)
    assert.doesNotMatch(arc.text, /warning/)
    assert.doesNotMatch(await doctorOutput(apart), /GitLab's AWS integration \(secrets/)
    assert.deepEqual(warningsFor(job({ AWS_ROLE_ARN: DEPLOY, GITLAB_OIDC_TOKEN: token })), [], 'AWS_ROLE_ARN without the integration\'s token')
    assert.deepEqual(warningsFor(job({ GITLAB_OIDC_TOKEN: token, AWS_ID_TOKEN: token })), [], 'the manifest\'s role')
    assert.deepEqual(warningsFor({ AWS_ROLE_ARN: SECRETS, AWS_ID_TOKEN: token }, 'web-identity'), [])
    assert.deepEqual(warningsFor(integration), ['gitlabAwsIntegrationRole'])
  })
})
