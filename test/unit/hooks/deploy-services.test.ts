/**
 * src/hooks/deploy-services.ts: after every plugin's deploy.start, every role of the template
 * still carries the stage's boundary; otherwise the deploy is refused, naming the plugins listed
 * after this one and the @plugins order that fixes it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkBoundaries, type DeployServicesParams } from '../../../src/hooks/deploy-services.ts'
import { STOPPED } from '../../../src/hooks/deploy-start.ts'
import { applyBoundary, type HookFunction, type Template } from '../../../src/hooks/boundary.ts'
import type { Outcome } from '../../../src/plugin/activate.ts'
import { resolveSettings } from '../../../src/plugin/settings.ts'
import { hookRefusal } from '../../support/refusals.ts'

const ROLE = 'arn:aws:iam::111111111111:role/shop-staging'
const BOUNDARY = 'arn:aws:iam::111111111111:policy/shop-staging-boundary'

function outcome (boundary: boolean, kind: 'assumed' | 'existing-credentials' = 'assumed'): Outcome {
  const settings = resolveSettings({
    env: {},
    manifest: { file: 'app.arc', arc: { 'gitlab-oidc': [['staging-role', ROLE], ...(boundary ? [['staging-permissions-boundary', BOUNDARY]] : [])] } },
    stage: 'staging',
  })
  if (kind === 'existing-credentials') return { kind, stage: 'staging', settings }
  return {
    kind, origin: 'gitlab', stage: 'staging', roleArn: ROLE, assumedRoleArn: 'arn:aws:sts::111111111111:assumed-role/shop-staging/s',
    sessionName: 's', expiration: new Date('2026-11-26T13:00:00Z'), claims: {}, settings,
  }
}

const hook = (name?: string): HookFunction => {
  const fn: HookFunction = () => undefined
  if (name) fn._plugin = name
  return fn
}
const self = hook('arc-plugin-gitlab-oidc')

/** The template as ours left it (bounded), then changed by `change`. */
function template (change: (t: Template) => void = () => {}): Template {
  const t = applyBoundary({
    Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: {} },
      Fn: { Type: 'AWS::Serverless::Function', Properties: { Role: 'x' } },
      Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    },
  }, BOUNDARY).template
  change(t)
  return t
}
const params = (cloudformation: Template | undefined, start?: HookFunction[]): DeployServicesParams => ({
  ...(cloudformation ? { cloudformation } : {}),
  ...(start ? { inventory: { inv: { plugins: { _methods: { deploy: { start } } } } } } : {}),
})

test('every role bounded: nothing to say, nothing returned', () => {
  assert.equal(checkBoundaries(outcome(true), params(template(), [hook('a'), self, hook('b')]), self), undefined)
  // A later plugin that adds resources but no role is no problem.
  const withQueue = template(t => { t.Resources!.Queue = { Type: 'AWS::SQS::Queue', Properties: {} } })
  assert.equal(checkBoundaries(outcome(true), params(withQueue, [self, hook('arc-plugin-queue')]), self), undefined)
})

test('idle, no boundary configured, or no template: not checked', () => {
  const escaped = template(t => { t.Resources!.Extra = { Type: 'AWS::IAM::Role', Properties: {} } })
  assert.doesNotThrow(() => checkBoundaries({ kind: 'idle', reason: 'x' }, params(escaped), self))
  assert.doesNotThrow(() => checkBoundaries(outcome(false), params(escaped), self))
  assert.doesNotThrow(() => checkBoundaries(outcome(true), params(undefined), self))
})

test('a role added by a later plugin: refused, with the @plugins order that fixes it', () => {
  const escaped = template(t => { t.Resources!.ExtraRole = { Type: 'AWS::IAM::Role', Properties: {} } })
  const text = hookRefusal(() => checkBoundaries(outcome(true), params(escaped, [hook('arc-plugin-early'), self, hook('arc-plugin-roles'), hook()]), self))
  assert.match(text, /1 role of the template would be created without the permissions boundary arn:aws:iam::111111111111:policy\/shop-staging-boundary/)
  assert.match(text, /ExtraRole \.+ AWS::IAM::Role, PermissionsBoundary none/)
  assert.match(text, /deploy\.start after ours \.+ arc-plugin-roles, \(unnamed plugin\)/)
  assert.match(text, /List arc-plugin-gitlab-oidc after arc-plugin-roles, \(unnamed plugin\) under @plugins/)
  assert.match(text, /\| {5}@plugins\n.*\| {5}arc-plugin-roles\n.*\| {5}\(unnamed plugin\)\n.*\| {5}arc-plugin-gitlab-oidc/)
  assert.doesNotMatch(text, /arc-plugin-early/, 'a plugin before ours is not blamed')
  assert.ok(text.trimEnd().endsWith(STOPPED))
})

test('the existing-credentials outcome is checked too', () => {
  const escaped = template(t => { t.Resources!.ExtraRole = { Type: 'AWS::IAM::Role', Properties: {} } })
  assert.match(hookRefusal(() => checkBoundaries(outcome(true, 'existing-credentials'), params(escaped, [self, hook('x')]), self)), /1 role of the template would be created without/)
})

test('a boundary changed with no plugin after ours: refused, naming a deploy.start hook', () => {
  const changed = template(t => {
    t.Resources!.Role!.Properties!.PermissionsBoundary = 'arn:aws:iam::111111111111:policy/wide'
    t.Resources!.Own = { Type: 'AWS::Serverless::Function', Properties: {} }
  })
  for (const start of [[hook('arc-plugin-early'), self], undefined]) {
    const text = hookRefusal(() => checkBoundaries(outcome(true), params(changed, start), self))
    assert.match(text, /2 roles of the template would be created without the permissions boundary/)
    assert.match(text, /Role \.+ AWS::IAM::Role, PermissionsBoundary "arn:aws:iam::111111111111:policy\/wide"/)
    assert.match(text, /Own \.+ AWS::Serverless::Function, PermissionsBoundary none/)
    assert.match(text, /deploy\.start after ours \.+ none \(a deploy\.start hook changed the template\)/)
    assert.match(text, /Make sure no deploy hook adds or changes roles after arc-plugin-gitlab-oidc\./)
    assert.doesNotMatch(text, /@plugins/)
  }
})
