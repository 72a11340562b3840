// The GitLab OIDC issuer stand-in behaves like GitLab where the plugin and AWS can tell.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { decodeJwt, verifyRs256 } from '../../support/jwt.ts'
import { startGitLab, type GitLabStandIn } from '../../support/gitlab.ts'

describe('GitLab OIDC issuer stand-in', () => {
  let gitlab: GitLabStandIn
  before(async () => { gitlab = await startGitLab() })
  after(() => gitlab.close())

  it('serves discovery and a JWKS that verifies the tokens it mints', async () => {
    const discovery = await (await fetch(`${gitlab.issuer}/.well-known/openid-configuration`)).json() as Record<string, any>
    assert.equal(discovery.issuer, gitlab.issuer)
    assert.deepEqual(discovery.id_token_signing_alg_values_supported, [ 'RS256' ])
    const jwks = await (await fetch(discovery.jwks_uri)).json() as { keys: any[] }
    assert.equal(jwks.keys.length, 1)
    assert.equal(jwks.keys[0].kid, gitlab.key.kid)

    const jwt = decodeJwt(gitlab.mint())!
    assert.deepEqual(jwt.header, { kid: gitlab.key.kid, typ: 'JWT', alg: 'RS256' })
    assert.ok(verifyRs256(jwt, jwks.keys[0]))
    assert.ok(!verifyRs256(decodeJwt(gitlab.mint({}, { signWith: 'unknown-key-same-kid' }))!, jwks.keys[0]))
  })

  it("mints GitLab's claim set with consistent derived claims", () => {
    const c = decodeJwt(gitlab.mint({ project_path: 'team/sub/app', ref: 'v1.2.0', ref_type: 'tag', ref_protected: 'false' }, { aud: [ 'a', 'b' ] }))!.payload
    assert.equal(c.sub, 'project_path:team/sub/app:ref_type:tag:ref:v1.2.0')
    assert.equal(c.namespace_path, 'team/sub')
    assert.equal(c.ref_path, 'refs/tags/v1.2.0')
    assert.equal(c.ref_protected, 'false')
    assert.deepEqual(c.aud, [ 'a', 'b' ])
    assert.equal(c.iss, gitlab.issuer)
    assert.equal(c.nbf, (c.iat as number) - 5)
    assert.equal(c.exp, (c.iat as number) + 3600)
    for (const claim of [ 'namespace_id', 'project_id', 'user_id', 'pipeline_id', 'job_id' ]) assert.equal(typeof c[claim], 'string', claim)
    assert.equal(typeof c.runner_id, 'number')
    assert.match(String(c.ci_config_ref_uri), /^127\.0\.0\.1:\d+\/team\/sub\/app\/\/\.gitlab-ci\.yml@refs\/tags\/v1\.2\.0$/)
    const noEnv = decodeJwt(gitlab.mint({}, { omit: [ 'environment', 'environment_protected', 'deployment_tier', 'environment_action' ] }))!.payload
    assert.equal(noEnv.environment, undefined)
  })

  it('builds the job environment GitLab would set for those claims', () => {
    const claims = gitlab.claims({ ref: 'main', environment: 'staging', deployment_tier: 'staging' })
    const env = gitlab.jobEnv(claims, { idTokens: { GITLAB_OIDC_TOKEN: 'tok' } })
    assert.equal(env.GITLAB_CI, 'true')
    assert.equal(env.CI, 'true')
    assert.equal(env.CI_PROJECT_PATH, claims.project_path)
    assert.equal(env.CI_PROJECT_ID, claims.project_id)
    assert.equal(env.CI_PIPELINE_ID, claims.pipeline_id)
    assert.equal(env.CI_JOB_ID, claims.job_id)
    assert.equal(env.CI_COMMIT_REF_NAME, 'main')
    assert.equal(env.CI_COMMIT_BRANCH, 'main')
    assert.equal(env.CI_COMMIT_REF_PROTECTED, 'true')
    assert.equal(env.CI_DEFAULT_BRANCH, 'main')
    assert.equal(env.CI_ENVIRONMENT_NAME, 'staging')
    assert.equal(env.CI_SERVER_URL, gitlab.issuer)
    assert.equal(env.CI_JOB_URL, `${gitlab.issuer}/${claims.project_path}/-/jobs/${claims.job_id}`)
    assert.equal(env.GITLAB_OIDC_TOKEN, 'tok')
  })

  it('can make discovery fail', async () => {
    gitlab.setFault('error')
    assert.equal((await fetch(`${gitlab.issuer}/oauth/discovery/keys`)).status, 500)
    gitlab.setFault(null)
    assert.equal((await fetch(`${gitlab.issuer}/oauth/discovery/keys`)).status, 200)
  })
})
