// `node test/support/standins.ts` with options: the stand-ins for any app and project, and the
// job environment it prints, as a real process.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { realpathSync } from 'node:fs'
import { join } from 'node:path'
import { decodeJwt } from '../../support/jwt.ts'
import { NODE22, ROOT } from '../../support/install.ts'
import { parseStandInsArgs, tierOf } from '../../support/standins.ts'

describe('standins.ts options', () => {
  it('defaults to example-app\'s names, production on the default branch', () => {
    assert.deepEqual(parseStandInsArgs([]), { app: 'oidc-example', project: 'acme/oidc-example', branch: 'main', defaultBranch: 'main', environment: 'production', aud: undefined })
  })
  it('another branch is a staging job; every option is taken', () => {
    assert.equal((parseStandInsArgs([ '--branch', 'feature/x' ]) as { environment: string }).environment, 'staging')
    assert.deepEqual(parseStandInsArgs([ '--app', 'my-shop', '--project', 'a/b/c', '--branch', 'x', '--default-branch', 'trunk', '--environment', 'review/x', '--aud', 'sts.amazonaws.com' ]),
      { app: 'my-shop', project: 'a/b/c', branch: 'x', defaultBranch: 'trunk', environment: 'review/x', aud: 'sts.amazonaws.com' })
    assert.throws(() => parseStandInsArgs([ '--nope' ]), /Unknown option/)
    assert.equal(parseStandInsArgs([ '--help' ]), 'help')
  })
  it('tiers as GitLab guesses them from the environment name', () => {
    assert.deepEqual([ 'production', 'prod', 'staging', 'review/feature-x', 'qa', 'sandbox' ].map(tierOf), [ 'production', 'production', 'staging', 'development', 'testing', 'other' ])
  })

  it('as a process: prints the job environment for the app, project, branch, environment and audience', async () => {
    const child = spawn(realpathSync(NODE22), [ join(ROOT, 'test', 'support', 'standins.ts'), '--app', 'my-shop', '--project', 'shops/web/my-shop', '--branch', 'feature/cart', '--default-branch', 'trunk', '--aud', 'sts.amazonaws.com' ], { stdio: [ 'ignore', 'pipe', 'pipe' ] })
    let out = ''
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', d => { out += d; if (out.includes('export ARC_PERMISSIONS_BOUNDARY=')) resolve() })
        child.on('exit', code => reject(new Error(`exited ${code}: ${out}`)))
        setTimeout(() => reject(new Error(`no environment printed: ${out}`)), 20_000)
      })
    }
    finally {
      child.kill('SIGTERM')
    }
    const env = Object.fromEntries([ ...out.matchAll(/^export (\w+)='(.*)'$/gm) ].map(m => [ m[1]!, m[2]! ]))
    assert.equal(env.ARC_ROLE_ARN, 'arn:aws:iam::222222222222:role/my-shop-staging-deploy')
    assert.equal(env.ARC_PERMISSIONS_BOUNDARY, 'arn:aws:iam::222222222222:policy/my-shop-staging-boundary')
    assert.match(env.AWS_ENDPOINT_URL ?? '', /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(env.CI_PROJECT_PATH, 'shops/web/my-shop')
    assert.equal(env.CI_COMMIT_REF_NAME, 'feature/cart')
    assert.equal(env.CI_DEFAULT_BRANCH, 'trunk')
    const claims = decodeJwt(env.GITLAB_OIDC_TOKEN!)!.payload as Record<string, unknown>
    assert.deepEqual([ claims.sub, claims.aud, claims.environment, claims.deployment_tier, claims.ref_protected ],
      [ 'project_path:shops/web/my-shop:ref_type:branch:ref:feature/cart', 'sts.amazonaws.com', 'staging', 'staging', 'false' ])
    assert.match(out, /Roles: +arn:aws:iam::111111111111:role\/my-shop-production-deploy \(production account; project shops\/web\/my-shop, branch trunk\)/)
    assert.match(out, /^ +arn:aws:iam::222222222222:role\/my-shop-staging-deploy \(staging account; project shops\/web\/my-shop, any branch\)/m)
    assert.match(out, /then in the app \(@app my-shop, the plugin installed\): npx arc deploy$/m)
  })
})
