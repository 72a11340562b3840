/**
 * Issue 25: iam/gitlab-oidc.allows.json is what scripts/allows.ts makes of the template, so a
 * template change without `node scripts/allows.ts` fails here; the package ships it; and what it
 * says holds for the template (a type it calls creatable is created under the stand-in IAM in
 * test/unit/iam-template/zoo.test.ts and test/e2e/template-check.test.ts).
 */
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { ALLOWS_PATH, allowsText } from '../../../scripts/allows.ts'
import { readAllows } from '../../../src/iam/allows.ts'
import { root } from '../../support/cfn-template.ts'

it('iam/gitlab-oidc.allows.json is regenerated from the template (node scripts/allows.ts)', () => {
  assert.equal(readFileSync(ALLOWS_PATH, 'utf8'), allowsText(), 'the template changed: run node scripts/allows.ts')
})

it('the package ships it, and the plugin reads the shipped file', () => {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { files: string[] }
  assert.ok(pkg.files.includes('iam/gitlab-oidc.allows.json'))
  const allows = readAllows()
  assert.equal(allows.template.file, 'iam/gitlab-oidc.yaml')
  // What the issue found: EventBridge rules only with DeployServices=events, CloudFront only with its switch.
  for (const stage of [ 'staging', 'production' ] as const) {
    assert.equal(allows.stages[stage].creates['AWS::Serverless::Function'], '')
    assert.equal(allows.stages[stage].creates['AWS::Events::Rule'], 'DeployServices=events')
    assert.equal(allows.stages[stage].creates['AWS::CloudFront::Distribution'], 'AllowCloudFrontWrites=true')
    assert.ok(!allows.stages[stage].runtime.some(a => /^(iam|sts):/.test(a)), 'the boundary allows no iam or sts action')
  }
})
