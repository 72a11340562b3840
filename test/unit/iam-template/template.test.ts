/**
 * iam/gitlab-oidc.yaml, evaluated for several deployments:
 * - its trust policies equal what src/trust-policy.ts generates for the same inputs, so the
 *   template and `arc-gitlab-oidc trust-policy` cannot drift;
 * - `Stages` creates one stage's role and boundary per account, or both, with their outputs;
 * - the names match what app.arc uses.
 * The deploy roles' permissions: deploy-roles.test.ts; the boundaries: boundary.test.ts;
 * issue 7's escalation: escalation.test.ts; the account fence (issue 12): fence.test.ts.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

import { ISSUER_PATTERN, providerArn } from '../../../src/iam/arns.ts'
import { parseSubClaimComponents, SUB_CLAIM_COMPONENTS, subjectOf } from '../../../src/iam/sub-claims.ts'
import { TrustPolicyError } from '../../../src/iam/errors.ts'
import { webIdentityKeys } from '../../support/aws/sts.ts'
import { buildTrustPolicy, type TrustPolicyOptions } from '../../../src/iam/trust-policy.ts'
import { validateProjectPath } from '../../../src/iam/gitlab-names.ts'
import { DEFAULTS } from '../../../src/plugin/settings.ts'
import { RuleError, Stack, appDir, get, template, type Deployment, type Json, type JsonObject } from '../../support/cfn-template.ts'
import { evaluateTrustPolicy, type PolicyDocument } from '../../support/aws/iam-policy.ts'

const require = createRequire(import.meta.url)

/* ------------------------------------------------------------------------ */
/* Deployments to test                                                       */
/* ------------------------------------------------------------------------ */

const app = { AppName: 'oidc-example', AppStackPrefix: 'OidcExample', Stages: 'both' }

const deployments: { name: string, d: Deployment }[] = [
  {
    name: 'gitlab.com, defaults, new provider',
    d: { account: '111111111111', partition: 'aws', params: { ...app, ProjectPath: 'my-group/oidc-example', GitLabProjectId: '4242' } },
  },
  {
    name: 'self-managed GitLab under a path, custom audience, existing provider, aws-cn',
    d: {
      account: '210987654321',
      partition: 'aws-cn',
      params: {
        ...app,
        GitLabUrl: 'https://git.example.org/gitlab',
        Audience: 'arc-deploy',
        ProjectPath: 'platform/web/shop',
        GitLabProjectId: '17',
        DefaultBranch: 'release/prod',
        CreateOidcProvider: 'false',
      },
    },
  },
  {
    name: 'self-managed GitLab whose tokens name another issuer (ci_id_tokens_issuer_url), new provider with a custom audience, no project ID',
    d: {
      account: '123456789012',
      partition: 'aws-us-gov',
      params: { ...app, GitLabUrl: 'https://gitlab.example.com', GitLabIssuer: 'https://oidc.example.com/gitlab', Audience: 'sts.amazonaws.com', ProjectPath: 'a/b', GitLabProjectId: 'none', DefaultBranch: 'trunk' },
    },
  },
]

function optionsFor (stack: Stack): Omit<TrustPolicyOptions, 'branches'> {
  const v = stack.values
  return {
    project: v.ProjectPath as string,
    subClaimComponents: v.SubClaimComponents as string,
    issuer: (v.GitLabIssuer || v.GitLabUrl) as string,
    // the template's audience defaults to GitLabUrl (the component's $CI_SERVER_URL), not to the issuer
    audience: (v.Audience || v.GitLabUrl) as string,
    ...(v.GitLabProjectId !== 'none' ? { projectId: v.GitLabProjectId as string } : {}),
    account: stack.d.account,
    partition: stack.d.partition,
  }
}

/** The CLI's options for each role: staging any branch (any ref without ref_type), production the protected default branch. */
const cliFor = (stack: Stack, role: 'StagingDeployRole' | 'ProductionDeployRole'): TrustPolicyOptions => {
  const opts = optionsFor(stack)
  if (role === 'ProductionDeployRole') return { ...opts, branches: [ stack.values.DefaultBranch as string ], requireProtectedRef: true }
  return (opts.subClaimComponents ?? '').includes('ref_type') ? { ...opts, branches: [ '*' ] } : { ...opts, refs: [ '*' ] }
}

describe('iam/gitlab-oidc.yaml', () => {
  it('declares the parameters and outputs the setup notes describe', () => {
    const params = Object.keys((template.Parameters ?? {}) as JsonObject)
    for (const p of [ 'GitLabUrl', 'GitLabIssuer', 'Audience', 'ProjectPath', 'GitLabProjectId', 'DefaultBranch', 'AppName', 'CreateOidcProvider', 'Stages' ]) {
      assert.ok(params.includes(p), `parameter ${p}`)
    }
    assert.equal(get(template, 'Parameters', 'GitLabUrl', 'Default'), 'https://gitlab.com')
    assert.deepEqual(get(template, 'Outputs', 'StagingRoleArn', 'Value'), { 'Fn::GetAtt': [ 'StagingDeployRole', 'Arn' ] })
    assert.deepEqual(get(template, 'Outputs', 'ProductionRoleArn', 'Value'), { 'Fn::GetAtt': [ 'ProductionDeployRole', 'Arn' ] })
    assert.deepEqual(get(template, 'Outputs', 'StagingBoundaryArn', 'Value'), { Ref: 'StagingBoundary' })
    assert.deepEqual(get(template, 'Outputs', 'ProductionBoundaryArn', 'Value'), { Ref: 'ProductionBoundary' })
    // No default: CloudFormation asks, and one account per stage is the answer the docs give.
    assert.equal(get(template, 'Parameters', 'Stages', 'Default'), undefined)
    assert.deepEqual(get(template, 'Parameters', 'Stages', 'AllowedValues'), [ 'production', 'staging', 'both' ])
    assert.match(get(template, 'Parameters', 'Stages', 'Description') as string, /both puts them in one account, where any branch can take over production .* and read\s+production's arc env values/)
    assert.throws(() => new Stack({ account: '111111111111', partition: 'aws', params: { AppName: 'oidc-example', AppStackPrefix: 'OidcExample', ProjectPath: 'a/b', GitLabProjectId: '1' } }), /parameter Stages has no default/)
    // No silent default for the project ID either: a number, or the explicit word none
    assert.equal(get(template, 'Parameters', 'GitLabProjectId', 'Default'), undefined)
    assert.throws(() => new Stack({ account: '111111111111', partition: 'aws', params: { ...app, ProjectPath: 'a/b' } }), /parameter GitLabProjectId has no default/)
    const idPattern = new RegExp(get(template, 'Parameters', 'GitLabProjectId', 'AllowedPattern') as string)
    for (const ok of [ '1', '4242', 'none', '9'.repeat(20) ]) assert.ok(idPattern.test(ok), ok)
    for (const bad of [ '', '0', '01', 'None', '12a', '-1', '1 ', '9'.repeat(21) ]) assert.ok(!idPattern.test(bad), bad)
    // GitLabIssuer: empty (the GitLab URL) or an issuer as GitLabUrl's rule has it
    const issuerPattern = new RegExp(get(template, 'Parameters', 'GitLabIssuer', 'AllowedPattern') as string)
    assert.equal(get(template, 'Parameters', 'GitLabIssuer', 'AllowedPattern'), `^(${ISSUER_PATTERN.slice(1, -1)})?$`)
    for (const ok of [ '', 'https://gitlab.com', 'https://oidc.example.com/gitlab' ]) assert.ok(issuerPattern.test(ok), ok)
    for (const bad of [ 'http://gitlab.com', 'https://gitlab.com/', 'gitlab.com' ]) assert.ok(!issuerPattern.test(bad), bad)
    for (const p of [ 'AllowCloudFrontWrites', 'AllowMainTableDeletion' ]) {
      assert.equal(get(template, 'Parameters', p, 'Default'), 'false', `${p} is off unless a project turns it on`)
      assert.deepEqual(get(template, 'Parameters', p, 'AllowedValues'), [ 'false', 'true' ])
    }
  })

  it('Stages creates one stage\'s role and boundary (one account per stage), or both', () => {
    const expected: Record<string, string[]> = {
      both: [ 'GitLabOidcProvider', 'StagingBoundary', 'StagingDeployRole', 'ProductionBoundary', 'ProductionDeployRole', 'SharedDeployPolicy' ],
      staging: [ 'GitLabOidcProvider', 'StagingBoundary', 'StagingDeployRole', 'SharedDeployPolicy' ],
      production: [ 'GitLabOidcProvider', 'ProductionBoundary', 'ProductionDeployRole', 'SharedDeployPolicy' ],
    }
    const full = new Stack({ account: '111111111111', partition: 'aws', params: { ...app, ProjectPath: 'my-group/oidc-example', GitLabProjectId: '4242' } })
    for (const [ Stages, resources ] of Object.entries(expected)) {
      const stack = new Stack({ account: '111111111111', partition: 'aws', params: { ...app, ProjectPath: 'my-group/oidc-example', GitLabProjectId: '4242', Stages } })
      const ids = Object.keys(template.Resources as JsonObject)
      assert.deepEqual(ids.filter(id => stack.resourceExists(id)).sort(), [ ...resources ].sort(), `Stages=${Stages}`)
      const outputs = stack.outputs()
      const stagesOut = resources.filter(r => r.endsWith('DeployRole')).map(r => r.replace('DeployRole', ''))
      assert.deepEqual(Object.keys(outputs).sort(), [ 'OidcProviderArn', ...stagesOut.flatMap(s => [ `${s}RoleArn`, `${s}BoundaryArn` ]) ].sort(), `Stages=${Stages} outputs`)
      for (const s of stagesOut) {
        assert.deepEqual(stack.permissions(`${s}DeployRole`), full.permissions(`${s}DeployRole`), `${s} role does not depend on Stages`)
        assert.deepEqual(stack.policyDocument(`${s}Boundary`), full.policyDocument(`${s}Boundary`))
        assert.equal(outputs[`${s}BoundaryArn`], `arn:aws:iam::111111111111:policy/oidc-example-${s.toLowerCase()}-boundary`)
      }
    }
  })

  for (const { name, d } of deployments) {
    for (const Stages of [ 'production', 'staging', 'both' ]) {
      it(`trust policies equal trust-policy.ts output (${name}, Stages=${Stages})`, () => {
        const stack = new Stack({ ...d, params: { ...d.params, Stages } })
        const opts = optionsFor(stack)
        assert.equal(stack.resourceExists('ProductionDeployRole'), Stages !== 'staging')
        assert.equal(stack.resourceExists('StagingDeployRole'), Stages !== 'production')
        if (Stages !== 'staging') assert.deepEqual(stack.trustPolicy('ProductionDeployRole'), buildTrustPolicy(cliFor(stack, 'ProductionDeployRole')))
        if (Stages !== 'production') assert.deepEqual(stack.trustPolicy('StagingDeployRole'), buildTrustPolicy(cliFor(stack, 'StagingDeployRole')))

        const createsProvider = stack.values.CreateOidcProvider === 'true'
        assert.equal(stack.resourceExists('GitLabOidcProvider'), createsProvider)
        const expectedProvider = providerArn({ account: d.account, partition: d.partition, issuer: opts.issuer! })
        assert.equal(stack.eval(get(template, 'Outputs', 'OidcProviderArn', 'Value') ?? null), expectedProvider)
        if (createsProvider) {
          const provider = stack.resource('GitLabOidcProvider')
          assert.equal(get(provider, 'Properties', 'Url'), opts.issuer)
          assert.deepEqual(get(provider, 'Properties', 'ClientIdList'), [ opts.audience! ], 'the audience is registered')
          assert.equal((get(provider, 'Properties', 'ThumbprintList') as Json[]).length, 1, 'CloudFormation still requires a thumbprint')
        }
      })
    }
  }

  describe('SubClaimComponents: the four formats every GitLab accepts, and the project_id / ref_protected ones', () => {
    const formats = get(template, 'Parameters', 'SubClaimComponents', 'AllowedValues') as string[]
    it('is declared with the four first (the default first), then their project_id and ref_protected forms, each one the CLI parses', () => {
      assert.deepEqual(formats.slice(0, 4), [ ...SUB_CLAIM_COMPONENTS ])
      assert.equal(get(template, 'Parameters', 'SubClaimComponents', 'Default'), SUB_CLAIM_COMPONENTS[0])
      for (const f of formats) assert.equal(parseSubClaimComponents(f), f)
      for (const head of [ 'project_path', 'project_id' ]) {
        for (const f of SUB_CLAIM_COMPONENTS) {
          const tail = f.slice('project_path'.length)
          assert.ok(formats.includes(`${head}${tail}`) && formats.includes(`${head}${tail},ref_protected`), `${head}${tail}`)
        }
      }
      assert.equal(formats.length, 16)
    })

    const base = { ...app, ProjectPath: 'my-group/oidc-example', GitLabProjectId: '4242', DefaultBranch: 'main' }
    for (const [ where, issuer ] of [ [ 'gitlab.com', 'https://gitlab.com' ], [ 'self-managed', 'https://git.example.com' ] ] as const) {
      /** STS's decision, with the keys the STS stand-in supplies for this issuer. */
      const admits = (stack: Stack, role: string, over: Record<string, string>): boolean => {
        const claims: Record<string, string> = { project_path: base.ProjectPath, project_id: '4242', ref_type: 'branch', ref: 'main', ref_protected: 'true', ...over }
        const sub = subjectOf(stack.values.SubClaimComponents as string, claims)
        const host = issuer.slice('https://'.length)
        return evaluateTrustPolicy(stack.trustPolicy(role) as unknown as PolicyDocument, {
          federatedPrincipal: providerArn({ account: stack.d.account, partition: stack.d.partition, issuer }),
          action: 'sts:AssumeRoleWithWebIdentity',
          keys: webIdentityKeys(host, claims, sub, issuer),
        }) === 'allow'
      }
      for (const format of formats) {
        const withRefType = format.includes('ref_type')
        const withRef = format.split(',').includes('ref')
        const byId = format.startsWith('project_id')
        const params = { ...base, GitLabUrl: issuer, SubClaimComponents: format }
        it(`${where}, ${format}: the staging role equals the CLI's policy and admits branches${withRefType ? ' only' : ' and tags'} of this project`, () => {
          const stack = new Stack({ account: '111111111111', partition: 'aws', params: { ...params, Stages: 'staging' } })
          assert.deepEqual(stack.trustPolicy('StagingDeployRole'), buildTrustPolicy(cliFor(stack, 'StagingDeployRole')))
          assert.ok(admits(stack, 'StagingDeployRole', { ref: 'feature/login', ref_protected: 'false' }))
          assert.equal(admits(stack, 'StagingDeployRole', { ref_type: 'tag', ref: 'v1.0.0' }), !withRefType, 'a tag')
          assert.ok(!admits(stack, 'StagingDeployRole', { project_path: 'my-group/oidc-example-fork' }) || byId, 'another project\'s path')
          // another project under this path (renamed, transferred, re-registered): refused where AWS sees the ID
          assert.equal(admits(stack, 'StagingDeployRole', { project_id: '9999' }), !(byId || issuer === 'https://gitlab.com'), 'another project ID')
        })
        if (withRef && withRefType) {
          it(`${where}, ${format}: the production role equals the CLI's policy and admits only the default branch, protected where AWS can see it`, () => {
            const stack = new Stack({ account: '111111111111', partition: 'aws', params: { ...params, Stages: 'both' } })
            assert.deepEqual(stack.trustPolicy('ProductionDeployRole'), buildTrustPolicy(cliFor(stack, 'ProductionDeployRole')))
            assert.ok(admits(stack, 'ProductionDeployRole', {}))
            assert.ok(!admits(stack, 'ProductionDeployRole', { ref_type: 'tag' }), 'a tag named main')
            assert.ok(!admits(stack, 'ProductionDeployRole', { ref: 'main2' }))
            const protectionSeen = issuer === 'https://gitlab.com' || format.endsWith('ref_protected')
            assert.equal(admits(stack, 'ProductionDeployRole', { ref_protected: 'false' }), !protectionSeen, 'the default branch unprotected')
          })
        }
        else {
          it(`${where}, ${format}: a production role is refused (Rules), as the CLI refuses --branch main`, () => {
            for (const Stages of [ 'production', 'both' ]) {
              assert.throws(() => new Stack({ account: '111111111111', partition: 'aws', params: { ...params, Stages } }),
                (err: unknown) => err instanceof RuleError && /Deploy Stages=staging here/.test(err.message), Stages)
            }
            assert.throws(() => buildTrustPolicy({ project: base.ProjectPath, projectId: '4242', branches: [ 'main' ], account: '111111111111', subClaimComponents: format }), /cannot be expressed/)
          })
        }
      }
    }
  })

  it('every parameter combination: each role\'s trust policy equals trust-policy\'s output (issuer, project ID, audience, provider, sub format)', () => {
    const formats = get(template, 'Parameters', 'SubClaimComponents', 'AllowedValues') as string[]
    const issuers: Record<string, string>[] = [ { GitLabUrl: 'https://gitlab.com' }, { GitLabUrl: 'https://git.example.org/gitlab' }, { GitLabUrl: 'https://git.example.org', GitLabIssuer: 'https://gitlab.com' }, { GitLabUrl: 'https://gitlab.com', GitLabIssuer: 'https://oidc.example.org' } ]
    let compared = 0
    for (const issuer of issuers) {
      for (const GitLabProjectId of [ '4242', 'none' ]) {
        for (const SubClaimComponents of formats) {
          for (const Audience of [ '', 'arc-deploy' ]) {
            for (const CreateOidcProvider of [ 'true', 'false' ]) {
              for (const [ Stages, role ] of [ [ 'staging', 'StagingDeployRole' ], [ 'production', 'ProductionDeployRole' ] ] as const) {
                let stack: Stack
                try { stack = new Stack({ account: '111111111111', partition: 'aws', params: { ...app, ...issuer, ProjectPath: 'a/b', GitLabProjectId, SubClaimComponents, Audience, CreateOidcProvider, Stages } }) }
                catch (err) {
                  assert.ok(err instanceof RuleError, String(err))
                  assert.throws(() => buildTrustPolicy({ ...cliFor(new Stack({ account: '111111111111', partition: 'aws', params: { ...app, ...issuer, ProjectPath: 'a/b', GitLabProjectId: '1', SubClaimComponents, Audience, CreateOidcProvider, Stages: 'staging' } }), role), ...(GitLabProjectId === 'none' ? { projectId: undefined } : {}) }), TrustPolicyError, 'the CLI refuses it too')
                  continue
                }
                assert.deepEqual(stack.trustPolicy(role), buildTrustPolicy(cliFor(stack, role)), `${JSON.stringify(stack.values)} ${role}`)
                compared++
              }
            }
          }
        }
      }
    }
    assert.ok(compared > 300, `${compared} policies compared`)
  })

  it('GitLabUrl AllowedPattern is the issuer rule of the CLI', () => {
    assert.equal(get(template, 'Parameters', 'GitLabUrl', 'AllowedPattern'), ISSUER_PATTERN)
  })

  it('Audience AllowedPattern keeps the value a literal in the trust policy JSON (no quote, backslash, $ or control character)', () => {
    const pattern = new RegExp(get(template, 'Parameters', 'Audience', 'AllowedPattern') as string)
    for (const ok of [ '', 'https://gitlab.com', 'sts.amazonaws.com', 'arc-deploy', 'a b*?{}' ]) assert.ok(pattern.test(ok), ok)
    for (const bad of [ 'a"b', 'a\\b', '${aws:username}', 'a$b', 'a\nb' ]) assert.ok(!pattern.test(bad), bad)
  })

  it('names the roles app.arc uses, with MaxSessionDuration above the plugin\'s default duration', () => {
    const arc = require('@architect/parser')(readFileSync(join(appDir, 'app.arc'), 'utf8')) as { app: string[], 'gitlab-oidc': [string, string][] }
    const { toLogicalID } = require('@architect/utils') as { toLogicalID: (s: string) => string }
    const appName = arc.app[0] as string
    assert.equal(app.AppName, appName)
    assert.equal(app.AppStackPrefix, toLogicalID(appName), 'AppStackPrefix is Architect\'s stack name prefix')
    const roles = Object.fromEntries(arc['gitlab-oidc'])
    // One AWS account per stage: each stage's stack (Stages=<stage>) in the account its role names
    const accountOf = (arn: string | undefined) => String(arn).split(':')[4]
    assert.notEqual(accountOf(roles['production-role']), accountOf(roles['staging-role']), 'example-app: one AWS account per stage')
    for (const [ stage, Stage ] of [ [ 'staging', 'Staging' ], [ 'production', 'Production' ] ] as const) {
      const stack = new Stack({ account: accountOf(roles[`${stage}-role`])!, partition: 'aws', params: { ...app, ProjectPath: 'my-group/oidc-example', GitLabProjectId: '4242', Stages: stage } })
      assert.equal(stack.eval(get(template, 'Outputs', `${Stage}RoleArn`, 'Value') ?? null), roles[`${stage}-role`])
      // The boundary settings, once app.arc names them, must be the outputs too.
      if (roles[`${stage}-permissions-boundary`] !== undefined) assert.equal(stack.outputs()[`${Stage}BoundaryArn`], roles[`${stage}-permissions-boundary`], stage)
      // A Number parameter reaches CloudFormation as its text: MaxSessionDuration is the parameter's value.
      const max = Number(get(stack.resource(`${Stage}DeployRole`), 'Properties', 'MaxSessionDuration'))
      assert.ok(Number.isInteger(max) && max >= DEFAULTS.duration && max <= 43200, `${Stage}DeployRole MaxSessionDuration ${String(max)}`)
    }
  })

  it('MaxSessionDuration is a parameter: IAM\'s bounds (3600 to 43200 s), both roles get the value given', () => {
    const decl = get(template, 'Parameters', 'MaxSessionDuration') as JsonObject
    assert.deepEqual([decl.Type, decl.MinValue, decl.MaxValue], ['Number', 3600, 43200])
    assert.ok(Number(decl.Default) >= DEFAULTS.duration, 'the default covers the plugin\'s default duration')
    const stack = new Stack({ account: '111111111111', partition: 'aws', params: { ...app, ProjectPath: 'acme/shop', GitLabProjectId: '4242', Stages: 'both', MaxSessionDuration: '43200' } })
    for (const role of ['ProductionDeployRole', 'StagingDeployRole']) assert.equal(Number(get(stack.resource(role), 'Properties', 'MaxSessionDuration')), 43200, role)
  })

  it('ProjectPath AllowedPattern agrees with validateProjectPath', () => {
    const pattern = new RegExp(get(template, 'Parameters', 'ProjectPath', 'AllowedPattern') as string)
    const samples = [ 'a/b', 'Acme_Corp/sub.group/my-shop_2', 'shop', '/a/b', 'a/b/', 'a//b', 'https://gitlab.com/a/b', '-a/b', 'a/*' ]
    for (const s of samples) {
      let ok = true
      try { validateProjectPath(s) }
      catch { ok = false }
      assert.equal(pattern.test(s), ok, s)
    }
  })
})
