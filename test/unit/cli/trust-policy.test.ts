/**
 * `arc-gitlab-oidc trust-policy` (src/cli/trust-policy.ts), through the CLI's main: the policy
 * on stdout is exactly what buildTrustPolicy makes, defaults from a GitLab job's variables,
 * usage errors on stderr with exit 2.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { EXIT_OK, EXIT_USAGE } from '../../../src/cli/io.ts'
import { parseTrustPolicyArgs } from '../../../src/cli/trust-policy.ts'
import { buildTrustPolicy, type TrustPolicy } from '../../../src/iam/trust-policy.ts'
import { evaluateTrustPolicy, type PolicyDocument } from '../../support/aws/iam-policy.ts'
import { run, type Run } from '../../support/cli.ts'

function policyOf (r: Run): TrustPolicy {
  assert.equal(r.code, EXIT_OK, r.stderr)
  return JSON.parse(r.stdout) as TrustPolicy
}

// What GitLab puts in every job; the values are those of a made-up project.
const jobEnv: NodeJS.ProcessEnv = {
  CI: 'true',
  GITLAB_CI: 'true',
  CI_PROJECT_PATH: 'acme/web/shop',
  CI_SERVER_URL: 'https://gitlab.example.com',
  CI_DEFAULT_BRANCH: 'trunk',
  CI_COMMIT_BRANCH: 'feature/x',
}

describe('trust-policy', () => {
  it('prints exactly the policy buildTrustPolicy makes, as clean JSON on stdout', async () => {
    const r = await run([ 'trust-policy', '--project', 'acme/shop', '--branch', 'main', '--branch', 'develop', '--tag', 'v*', '--account', '123456789012' ])
    assert.deepEqual(policyOf(r), buildTrustPolicy({
      project: 'acme/shop', branches: [ 'main', 'develop' ], tags: [ 'v*' ], account: '123456789012',
    }))
    assert.ok(r.stdout.endsWith('}\n'))
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(r.stdout, /\u001b/, 'no colour codes in the JSON')
    assert.match(r.stderr, /✓ GitLab OIDC Trust policy for acme\/shop: branches main, develop; tag v\*/)
    assert.match(r.stderr, /provider \.+ arn:aws:iam::123456789012:oidc-provider\/gitlab\.com/)
  })

  it('builds StringEquals for branches, StringLike for tag globs, and anyRef', async () => {
    const branches = policyOf(await run([ 'trust-policy', '--project', 'a/b', '--branch', 'main', '--account', '123456789012' ]))
    assert.deepEqual(branches.Statement.map(s => s.Condition), [ {
      StringEquals: { 'gitlab.com:aud': 'https://gitlab.com', 'gitlab.com:sub': 'project_path:a/b:ref_type:branch:ref:main' },
    } ])
    const tags = policyOf(await run([ 'trust-policy', '--project', 'a/b', '--tag', 'v*', '--account', '123456789012' ]))
    assert.deepEqual(tags.Statement.map(s => s.Condition), [ {
      StringEquals: { 'gitlab.com:aud': 'https://gitlab.com' },
      StringLike: { 'gitlab.com:sub': 'project_path:a/b:ref_type:tag:ref:v*' },
    } ])
    const any = await run([ 'trust-policy', '--project', 'a/b', '--any-ref', '--account', '123456789012' ])
    assert.equal(policyOf(any).Statement[0]?.Condition.StringLike?.['gitlab.com:sub'], 'project_path:a/b:*')
    assert.match(any.stderr, /Warning|warning/)
    assert.match(any.stderr, /not protected/)
  })

  it('handles a self-managed issuer with a path, a custom audience, a partition and a role ARN', async () => {
    const p = policyOf(await run([
      'trust-policy', '--project', 'team/api', '--branch', 'main',
      '--issuer', 'https://example.org/gitlab/', '--audience', 'arc-deploy',
      '--role-arn', 'arn:aws-us-gov:iam::210987654321:role/api-production',
    ]))
    assert.equal(p.Statement[0]?.Principal.Federated, 'arn:aws-us-gov:iam::210987654321:oidc-provider/example.org/gitlab')
    assert.deepEqual(p.Statement[0]?.Condition.StringEquals, {
      'example.org/gitlab:aud': 'arc-deploy',
      'example.org/gitlab:sub': 'project_path:team/api:ref_type:branch:ref:main',
    })
  })

  it('in a GitLab job, defaults project, issuer and default branch from predefined variables', async () => {
    const r = await run([ 'trust-policy', '--account', '123456789012' ], jobEnv)
    const p = policyOf(r)
    assert.deepEqual(p, buildTrustPolicy({
      project: 'acme/web/shop', branches: [ 'trunk' ], issuer: 'https://gitlab.example.com', account: '123456789012',
    }))
    // The default-branch policy lets the default branch in, not the branch this job runs on.
    const decide = (sub: string) => evaluateTrustPolicy(p as unknown as PolicyDocument, {
      federatedPrincipal: 'arn:aws:iam::123456789012:oidc-provider/gitlab.example.com',
      action: 'sts:AssumeRoleWithWebIdentity',
      keys: { 'gitlab.example.com:aud': 'https://gitlab.example.com', 'gitlab.example.com:sub': sub },
    })
    assert.equal(decide('project_path:acme/web/shop:ref_type:branch:ref:trunk'), 'allow')
    assert.equal(decide('project_path:acme/web/shop:ref_type:branch:ref:feature/x'), 'implicit-deny')
    assert.match(r.stderr, /from this job \.+ project \(CI_PROJECT_PATH\), issuer \(CI_SERVER_URL\), branch \(CI_DEFAULT_BRANCH\)/)
  })

  it('--project-id and --protected-ref pin gitlab.com:project_id and gitlab.com:ref_protected; a job gives CI_PROJECT_ID; warnings say what is not pinned', async () => {
    const r = await run([ 'trust-policy', '--project', 'acme/shop', '--project-id', '4242', '--branch', 'main', '--protected-ref', '--account', '123456789012' ])
    assert.deepEqual(policyOf(r), buildTrustPolicy({ project: 'acme/shop', projectId: '4242', requireProtectedRef: true, branches: [ 'main' ], account: '123456789012' }))
    assert.equal(policyOf(r).Statement[0]?.Condition.StringEquals['gitlab.com:ref_protected'], 'true')
    assert.match(r.stderr, /project ID \.+ 4242 \(gitlab\.com:project_id\)/)
    assert.doesNotMatch(r.stderr, /protected/i, 'nothing to warn about')
    const unpinned = await run([ 'trust-policy', '--project', 'acme/shop', '--branch', 'main', '--account', '123456789012' ])
    assert.match(unpinned.stderr, /not pinned to the project ID: a project that later takes over the path acme\/shop could assume this role\. Give --project-id <id>\./)
    assert.match(unpinned.stderr, /add --protected-ref to make AWS check it/)
    const selfManaged = await run([ 'trust-policy', '--project', 'acme/shop', '--project-id', '4242', '--branch', 'main', '--protected-ref', '--issuer', 'https://git.example.com', '--account', '123456789012' ])
    assert.match(selfManaged.stderr, /4242 \(not testable here: AWS sees only sub and aud\)/)
    assert.match(selfManaged.stderr, /AWS cannot see whether a branch is protected here/)
    const inJob = parseTrustPolicyArgs([ '--account', '123456789012' ], { ...jobEnv, CI_PROJECT_ID: '77' })
    assert.equal(inJob.options.projectId, '77')
    assert.ok(inJob.fromJob.includes('project ID (CI_PROJECT_ID)'))
    const bad = await run([ 'trust-policy', '--project', 'acme/shop', '--project-id', 'abc', '--branch', 'main', '--account', '123456789012' ])
    assert.equal(bad.code, EXIT_USAGE)
    assert.match(bad.stderr, /Invalid project ID "abc"/)
  })

  it('in a job whose instance has an issuer of its own, the audience is the token\'s aud, not the issuer URL', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const now = Math.floor(Date.now() / 1000)
    // ci_id_tokens_issuer_url set: iss is not the instance URL; the job's id_tokens asked for aud: $CI_SERVER_URL.
    const claims = {
      iss: 'https://oidc.example.com', aud: 'https://gitlab.example.com', sub: 'project_path:acme/web/shop:ref_type:branch:ref:trunk',
      project_path: 'acme/web/shop', ref: 'trunk', ref_type: 'branch', exp: now + 600, iat: now, nbf: now,
    }
    const env = { ...jobEnv, GITLAB_OIDC_TOKEN: `${b64({ alg: 'RS256', kid: 'k' })}.${b64(claims)}.c2lnbmF0dXJl` }
    const r = await run([ 'trust-policy', '--account', '123456789012' ], env)
    const p = policyOf(r)
    assert.deepEqual(p.Statement[0]?.Condition.StringEquals, { 'oidc.example.com:aud': 'https://gitlab.example.com', 'oidc.example.com:sub': claims.sub })
    assert.match(r.stderr, /issuer \(the job's ID token\), branch \(CI_DEFAULT_BRANCH\), audience \(the job's ID token\)/)
    // The job's own token is admitted; with the issuer URL as aud (the default outside a job) it would not be.
    const decide = (aud: string) => evaluateTrustPolicy(p as unknown as PolicyDocument, {
      federatedPrincipal: 'arn:aws:iam::123456789012:oidc-provider/oidc.example.com',
      action: 'sts:AssumeRoleWithWebIdentity',
      keys: { 'oidc.example.com:aud': aud, 'oidc.example.com:sub': claims.sub },
    })
    assert.equal(decide(claims.aud), 'allow')
    assert.equal(decide('https://oidc.example.com'), 'implicit-deny')
    // --audience still wins.
    assert.equal(parseTrustPolicyArgs([ '--account', '123456789012', '--audience', 'arc' ], env).options.audience, 'arc')
  })

  it('in a job, explicit flags win and the default branch is not added to explicit refs', async () => {
    const p = policyOf(await run([ 'trust-policy', '--account', '123456789012', '--project', 'other/proj', '--tag', 'v*', '--issuer', 'https://gitlab.com' ], jobEnv))
    assert.equal(p.Statement.length, 1)
    assert.deepEqual(p.Statement[0]?.Condition, {
      StringEquals: { 'gitlab.com:aud': 'https://gitlab.com' },
      StringLike: { 'gitlab.com:sub': 'project_path:other/proj:ref_type:tag:ref:v*' },
    })
    const any = parseTrustPolicyArgs([ '--any-ref', '--account', '123456789012' ], jobEnv)
    assert.deepEqual(any.options.branches, [])
    assert.equal(any.options.anyRef, true)
  })

  it('ignores GitLab variables outside a job (GITLAB_CI not true)', async () => {
    const r = await run([ 'trust-policy', '--account', '123456789012' ], { ...jobEnv, GITLAB_CI: undefined })
    assert.equal(r.code, EXIT_USAGE)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /--project <group\/project> is required/)
  })

  it('exits 2 with a message on stderr and nothing on stdout for usage errors', async () => {
    const cases: [string[], RegExp][] = [
      [ [ 'trust-policy', '--project', 'a/b', '--branch', 'main' ], /--account <12-digit id> or --role-arn <arn> is required/ ],
      [ [ 'trust-policy', '--project', 'a/b', '--account', '123456789012' ], /Say which refs/ ],
      [ [ 'trust-policy', '--project', 'a/b', '--branch', 'main', '--account', '12345' ], /Invalid AWS account ID "12345": expected exactly 12 digits/ ],
      [ [ 'trust-policy', '--project', 'shop', '--branch', 'main', '--account', '123456789012' ], /Invalid GitLab project path "shop"/ ],
      [ [ 'trust-policy', '--project', 'a/b', '--branch', 'main', '--account', '123456789012', '--issuer', 'http://gitlab.com' ], /must use https/ ],
      [ [ 'trust-policy', '--project', 'a/b', '--branch', 'main', '--any-ref', '--account', '123456789012' ], /--any-ref already matches every branch and tag/ ],
      [ [ 'trust-policy', '--project', 'a/b', '--bogus' ], /Unknown option '--bogus'/ ],
      [ [ 'trust-policy', '--project' ], /--project/ ],
      [ [ 'trust-policy', 'a/b' ], /positional|Unexpected argument/i ],
      [ [ 'trust-policy', '--any-ref=yes', '--project', 'a/b', '--account', '123456789012' ], /any-ref/ ],
      [ [ 'deploy' ], /Unknown command: deploy/ ],
      [ [ '--bogus' ], /Unknown option '--bogus'/ ],
      [ [ 'help', 'nope' ], /Unknown command: nope/ ],
    ]
    for (const [ argv, message ] of cases) {
      const r = await run(argv)
      assert.equal(r.code, EXIT_USAGE, `${argv.join(' ')}: ${r.stderr}`)
      assert.equal(r.stdout, '', argv.join(' '))
      assert.match(r.stderr, message, argv.join(' '))
      assert.match(r.stderr, /^× GitLab OIDC: /m)
    }
  })

  it('explains why --environment cannot be honoured instead of ignoring it', async () => {
    const r = await run([ 'trust-policy', '--project', 'a/b', '--branch', 'main', '--environment', 'production', '--account', '123456789012' ])
    assert.equal(r.code, EXIT_USAGE)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /--environment cannot be honoured/)
    assert.match(r.stderr, /only test the token's aud and sub claims/)
  })

  it('prints help on stdout with exit 0', async () => {
    for (const argv of [ [ 'trust-policy', '--help' ], [ 'trust-policy', '-h' ], [ 'help', 'trust-policy' ], [ '--help', 'trust-policy' ] ]) {
      const r = await run(argv)
      assert.equal(r.code, EXIT_OK, argv.join(' '))
      assert.match(r.stdout, /^Usage: arc-gitlab-oidc trust-policy/, argv.join(' '))
      assert.match(r.stdout, /--any-ref/)
    }
  })
})
