/**
 * src/iam/sub-claims.ts: the four sub formats GitLab accepts, recognising a token's format from
 * its own claims, the refs each format can and cannot express, and the CLI options naming a job's ref.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { stripVTControlCharacters } from 'node:util'

import { main } from '../../../src/cli/main.ts'
import { EXIT_OK, EXIT_USAGE, type CliIo } from '../../../src/cli/io.ts'
import { parseSubClaimComponents, refOptionsFor, SUB_CLAIM_COMPONENTS, subClaimComponentsOf, subjectForSpec, subjectIn } from '../../../src/iam/sub-claims.ts'
import { TrustPolicyError } from '../../../src/iam/errors.ts'
import { buildTrustPolicy } from '../../../src/iam/trust-policy.ts'

const P = 'acme/shop'

describe('sub claim components', () => {
  it('builds sub as GitLab does: <claim>:<value> joined with :', () => {
    assert.deepEqual(SUB_CLAIM_COMPONENTS.map(f => subjectIn(f, P, 'branch', 'main')), [
      'project_path:acme/shop:ref_type:branch:ref:main',
      'project_path:acme/shop:ref:main:ref_type:branch',
      'project_path:acme/shop:ref:main',
      'project_path:acme/shop:ref_type:branch',
    ])
  })

  it('recognises the format from the token\'s own claims', () => {
    for (const f of SUB_CLAIM_COMPONENTS) {
      for (const [ refType, ref ] of [ [ 'branch', 'main' ], [ 'tag', 'v1.2.3' ] ] as const) {
        assert.equal(subClaimComponentsOf({ sub: subjectIn(f, P, refType, ref), project_path: P, ref_type: refType, ref }), f)
      }
    }
    assert.equal(subClaimComponentsOf({ sub: 'project_path:other/shop:ref_type:branch:ref:main', project_path: P, ref_type: 'branch', ref: 'main' }), undefined)
    assert.equal(subClaimComponentsOf({ sub: 'x', ref_type: 'branch', ref: 'main' }), undefined)
  })

  it('accepts the four values (spaces after commas too), refuses anything else naming them', () => {
    assert.equal(parseSubClaimComponents('project_path, ref'), 'project_path,ref')
    for (const bad of [ 'ref,project_path', 'project_path,environment', '', 'project_path', undefined ]) {
      assert.throws(() => parseSubClaimComponents(bad), (e: unknown) => e instanceof TrustPolicyError && e.code === 'INVALID_SUB_CLAIM_COMPONENTS' && e.message.includes('project_path,ref_type,ref | project_path,ref,ref_type'))
    }
  })

  it('refuses what a format cannot express, with the reason and what to do instead', () => {
    const refuse = (f: string, spec: Parameters<typeof subjectForSpec>[2], why: RegExp, instead: RegExp) =>
      assert.throws(() => subjectForSpec(parseSubClaimComponents(f), P, spec), (e: unknown) => e instanceof TrustPolicyError && e.code === 'UNEXPRESSIBLE_REF' && why.test(e.message) && instead.test(e.message))
    refuse('project_path,ref', { kind: 'branch', name: 'main' }, /same for a branch and a tag/, /--ref main.*--any-ref/)
    refuse('project_path,ref', { kind: 'tag', name: 'v*' }, /same for a branch and a tag/, /includes ref_type/)
    refuse('project_path,ref_type', { kind: 'branch', name: 'main' }, /names no branch or tag/, /--branch '\*'/)
    refuse('project_path,ref_type', { kind: 'ref', name: 'main' }, /names no branch or tag/, /--any-ref/)
    assert.equal(subjectForSpec('project_path,ref_type', P, { kind: 'tag', name: '*' }), 'project_path:acme/shop:ref_type:tag')
    assert.equal(subjectForSpec('project_path,ref', P, { kind: 'ref', name: 'release/*' }), 'project_path:acme/shop:ref:release/*')
  })

  it('--ref in the default format admits a branch and a tag of that name', () => {
    const policy = buildTrustPolicy({ project: P, refs: [ 'main' ], account: '111111111111' })
    assert.deepEqual(policy.Statement.map(s => [ s.Sid, s.Condition.StringLike?.['gitlab.com:sub'] ]), [ [ 'GitLabRefPatterns', 'project_path:acme/shop:ref_type:*:ref:main' ] ])
  })

  it('names the job\'s ref in the options the format can express', () => {
    assert.equal(refOptionsFor('project_path,ref_type,ref', 'branch', 'main'), '--branch main')
    assert.equal(refOptionsFor('project_path,ref,ref_type', 'tag', 'v1.0'), '--tag v1.0 --sub-claim-components project_path,ref,ref_type')
    assert.equal(refOptionsFor('project_path,ref', 'branch', 'feature/x'), '--ref feature/x --sub-claim-components project_path,ref')
    assert.equal(refOptionsFor('project_path,ref_type', 'tag', 'v1'), '--tag \'*\' --sub-claim-components project_path,ref_type')
    assert.equal(refOptionsFor('project_path,ref_type,ref', 'branch', 'it\'s'), '--branch \'it\'\\\'\'s\'')
  })
})

describe('arc-gitlab-oidc trust-policy --sub-claim-components', () => {
  async function cli (argv: string[], env: NodeJS.ProcessEnv = {}) {
    let stdout = ''
    let stderr = ''
    const io: CliIo = { env, cwd: process.cwd(), stdout: t => { stdout += t }, stderr: t => { stderr += `${t}\n` }, now: () => new Date('2026-01-01T00:00:00Z') }
    const code = await main([ 'trust-policy', '--project', P, '--account', '111111111111', ...argv ], io)
    return { code, stdout, stderr: stripVTControlCharacters(stderr) }
  }

  it('prints the policy in the project\'s format and says which format it used', async () => {
    const r = await cli([ '--branch', 'main', '--sub-claim-components', 'project_path,ref,ref_type' ])
    assert.equal(r.code, EXIT_OK, r.stderr)
    assert.equal(JSON.parse(r.stdout).Statement[0].Condition.StringEquals['gitlab.com:sub'], 'project_path:acme/shop:ref:main:ref_type:branch')
    assert.match(r.stderr, /sub claim components \.+ project_path,ref,ref_type/)
    const ref = await cli([ '--ref', 'main', '--sub-claim-components', 'project_path,ref' ])
    assert.equal(JSON.parse(ref.stdout).Statement[0].Condition.StringEquals['gitlab.com:sub'], 'project_path:acme/shop:ref:main')
    assert.match(ref.stderr, /--ref admits a branch and a tag of that name alike/)
  })

  it('refuses (exit 2) what the format cannot express, and a value GitLab does not accept', async () => {
    const r = await cli([ '--branch', 'main', '--sub-claim-components', 'project_path,ref_type' ])
    assert.equal(r.code, EXIT_USAGE)
    assert.equal(r.stdout, '', 'no policy printed')
    assert.match(r.stderr, /--branch main cannot be expressed .* Use --branch '\*'/)
    const bad = await cli([ '--branch', 'main', '--sub-claim-components', 'project_path,environment' ])
    assert.equal(bad.code, EXIT_USAGE)
    assert.match(bad.stderr, /GitLab accepts project_path,ref_type,ref \| project_path,ref,ref_type \| project_path,ref \| project_path,ref_type/)
  })

  it('in a job, takes the format from the job\'s own ID token (GITLAB_OIDC_TOKEN)', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const claims = { sub: 'project_path:acme/shop:ref:main:ref_type:branch', project_path: P, ref: 'main', ref_type: 'branch' }
    const env = { GITLAB_CI: 'true', CI_DEFAULT_BRANCH: 'main', GITLAB_OIDC_TOKEN: `${b64({ alg: 'RS256' })}.${b64(claims)}.c2ln` }
    const r = await cli([], env)
    assert.equal(r.code, EXIT_OK, r.stderr)
    assert.equal(JSON.parse(r.stdout).Statement[0].Condition.StringEquals['gitlab.com:sub'], claims.sub, 'the job\'s own sub is admitted')
    assert.match(r.stderr, /from this job \.+ branch \(CI_DEFAULT_BRANCH\), sub claim components \(the job's ID token\)/)
    assert.ok(!r.stderr.includes(env.GITLAB_OIDC_TOKEN) && !r.stdout.includes('c2ln'), 'the token is never printed')
    const explicit = await cli([ '--sub-claim-components', 'project_path,ref_type,ref' ], env)
    assert.equal(JSON.parse(explicit.stdout).Statement[0].Condition.StringEquals['gitlab.com:sub'], 'project_path:acme/shop:ref_type:branch:ref:main', 'the option wins')
  })

  it('--help lists the four values, the default first', async () => {
    const r = await cli([ '--help' ])
    assert.match(r.stdout, /--sub-claim-components <components>[\s\S]*project_path,ref_type,ref\n\s+project_path,ref,ref_type\n\s+project_path,ref\n\s+project_path,ref_type/)
  })
})
