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
import { SUB_CLAIM_COMPONENTS, subjectIn } from '../../../src/iam/sub-claims.ts'
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
    d: { account: '111111111111', partition: 'aws', params: { ...app, ProjectPath: 'my-group/oidc-example' } },
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
        DefaultBranch: 'release/prod',
        CreateOidcProvider: 'false',
      },
    },
  },
  {
    name: 'self-managed GitLab, new provider with a custom audience',
    d: {
      account: '123456789012',
      partition: 'aws-us-gov',
      params: { ...app, GitLabUrl: 'https://gitlab.example.com', Audience: 'sts.amazonaws.com', ProjectPath: 'a/b', DefaultBranch: 'trunk' },
    },
  },
]

function optionsFor (stack: Stack): Omit<TrustPolicyOptions, 'branches'> {
  const v = stack.values
  return {
    project: v.ProjectPath as string,
    subClaimComponents: v.SubClaimComponents as string,
    issuer: v.GitLabUrl as string,
    ...(v.Audience ? { audience: v.Audience } : {}),
    account: stack.d.account,
    partition: stack.d.partition,
  }
}

describe('iam/gitlab-oidc.yaml', () => {
  it('declares the parameters and outputs the setup notes describe', () => {
    const params = Object.keys((template.Parameters ?? {}) as JsonObject)
    for (const p of [ 'GitLabUrl', 'Audience', 'ProjectPath', 'DefaultBranch', 'AppName', 'CreateOidcProvider', 'Stages' ]) {
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
    assert.throws(() => new Stack({ account: '111111111111', partition: 'aws', params: { AppName: 'oidc-example', AppStackPrefix: 'OidcExample', ProjectPath: 'a/b' } }), /parameter Stages has no default/)
    for (const p of [ 'AllowCloudFrontWrites', 'AllowMainTableDeletion' ]) {
      assert.equal(get(template, 'Parameters', p, 'Default'), 'false', `${p} is off unless a project turns it on`)
      assert.deepEqual(get(template, 'Parameters', p, 'AllowedValues'), [ 'false', 'true' ])
    }
  })

  it('Stages creates one stage\'s role and boundary (one account per stage), or both', () => {
    const expected: Record<string, string[]> = {
      both: [ 'GitLabOidcProvider', 'StagingBoundary', 'StagingDeployRole', 'ProductionBoundary', 'ProductionDeployRole' ],
      staging: [ 'GitLabOidcProvider', 'StagingBoundary', 'StagingDeployRole' ],
      production: [ 'GitLabOidcProvider', 'ProductionBoundary', 'ProductionDeployRole' ],
    }
    const full = new Stack({ account: '111111111111', partition: 'aws', params: { ...app, ProjectPath: 'my-group/oidc-example' } })
    for (const [ Stages, resources ] of Object.entries(expected)) {
      const stack = new Stack({ account: '111111111111', partition: 'aws', params: { ...app, ProjectPath: 'my-group/oidc-example', Stages } })
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
        if (Stages !== 'staging') assert.deepEqual(stack.trustPolicy('ProductionDeployRole'), buildTrustPolicy({ ...opts, branches: [ stack.values.DefaultBranch as string ] }))
        if (Stages !== 'production') assert.deepEqual(stack.trustPolicy('StagingDeployRole'), buildTrustPolicy({ ...opts, branches: [ '*' ] }))

        const createsProvider = stack.values.CreateOidcProvider === 'true'
        assert.equal(stack.resourceExists('GitLabOidcProvider'), createsProvider)
        const expectedProvider = providerArn({ account: d.account, partition: d.partition, issuer: opts.issuer })
        assert.equal(stack.eval(get(template, 'Outputs', 'OidcProviderArn', 'Value') ?? null), expectedProvider)
        if (createsProvider) {
          const provider = stack.resource('GitLabOidcProvider')
          assert.equal(get(provider, 'Properties', 'Url'), opts.issuer)
          assert.deepEqual(get(provider, 'Properties', 'ClientIdList'), [ opts.audience ?? opts.issuer ], 'the audience is registered')
          assert.equal((get(provider, 'Properties', 'ThumbprintList') as Json[]).length, 1, 'CloudFormation still requires a thumbprint')
        }
      })
    }
  }

  describe('SubClaimComponents: each of the four formats GitLab accepts', () => {
    it('is declared with exactly those values, the default first', () => {
      assert.deepEqual(get(template, 'Parameters', 'SubClaimComponents', 'AllowedValues'), [ ...SUB_CLAIM_COMPONENTS ])
      assert.equal(get(template, 'Parameters', 'SubClaimComponents', 'Default'), SUB_CLAIM_COMPONENTS[0])
    })

    const base = { ...app, ProjectPath: 'my-group/oidc-example', DefaultBranch: 'main' }
    const issuer = 'https://gitlab.com'
    const ctx = (stack: Stack, sub: string) => ({
      federatedPrincipal: providerArn({ account: stack.d.account, partition: stack.d.partition, issuer }),
      action: 'sts:AssumeRoleWithWebIdentity',
      keys: { 'gitlab.com:aud': issuer, 'gitlab.com:sub': sub },
    })
    const admits = (stack: Stack, role: string, refType: 'branch' | 'tag', ref: string) =>
      evaluateTrustPolicy(stack.trustPolicy(role) as unknown as PolicyDocument, ctx(stack, subjectIn(stack.values.SubClaimComponents as never, base.ProjectPath, refType, ref))) === 'allow'

    for (const format of SUB_CLAIM_COMPONENTS) {
      const withRefType = format.includes('ref_type')
      const withRef = format.split(',').includes('ref')
      it(`${format}: the staging role equals the CLI's policy and admits branches${withRefType ? ' only' : ' and tags'}`, () => {
        const stack = new Stack({ account: '111111111111', partition: 'aws', params: { ...base, SubClaimComponents: format, Stages: 'staging' } })
        const cli = withRefType ? buildTrustPolicy({ ...optionsFor(stack), branches: [ '*' ] }) : buildTrustPolicy({ ...optionsFor(stack), anyRef: true })
        assert.deepEqual(stack.trustPolicy('StagingDeployRole'), cli)
        assert.ok(admits(stack, 'StagingDeployRole', 'branch', 'feature/login'))
        assert.equal(admits(stack, 'StagingDeployRole', 'tag', 'v1.0.0'), !withRefType, 'a tag')
        // another project's branch never
        const other = evaluateTrustPolicy(stack.trustPolicy('StagingDeployRole') as unknown as PolicyDocument, ctx(stack, subjectIn(format, 'my-group/oidc-example-fork', 'branch', 'main')))
        assert.equal(other, 'implicit-deny')
      })
      if (withRef && withRefType) {
        it(`${format}: the production role equals the CLI's policy and admits only the default branch`, () => {
          const stack = new Stack({ account: '111111111111', partition: 'aws', params: { ...base, SubClaimComponents: format, Stages: 'both' } })
          assert.deepEqual(stack.trustPolicy('ProductionDeployRole'), buildTrustPolicy({ ...optionsFor(stack), branches: [ 'main' ] }))
          assert.ok(admits(stack, 'ProductionDeployRole', 'branch', 'main'))
          assert.ok(!admits(stack, 'ProductionDeployRole', 'tag', 'main'), 'a tag named main')
          assert.ok(!admits(stack, 'ProductionDeployRole', 'branch', 'main2'))
        })
      }
      else {
        it(`${format}: a production role is refused (Rules), as the CLI refuses --branch main`, () => {
          for (const Stages of [ 'production', 'both' ]) {
            assert.throws(() => new Stack({ account: '111111111111', partition: 'aws', params: { ...base, SubClaimComponents: format, Stages } }),
              (err: unknown) => err instanceof RuleError && /Deploy Stages=staging here/.test(err.message), Stages)
          }
          assert.throws(() => buildTrustPolicy({ project: base.ProjectPath, branches: [ 'main' ], account: '111111111111', subClaimComponents: format }), /cannot be expressed/)
        })
      }
    }
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
      const stack = new Stack({ account: accountOf(roles[`${stage}-role`])!, partition: 'aws', params: { ...app, ProjectPath: 'my-group/oidc-example', Stages: stage } })
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
    const stack = new Stack({ account: '111111111111', partition: 'aws', params: { ...app, ProjectPath: 'acme/shop', Stages: 'both', MaxSessionDuration: '43200' } })
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
