/** How a setting's source is named in messages (src/shared/setting-source.ts). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PRAGMA, describeSource } from '../../../src/shared/setting-source.ts'

test('a CI variable, a pragma key, another pragma (@aws region) and a default', () => {
  assert.equal(PRAGMA, 'gitlab-oidc')
  assert.equal(describeSource({ kind: 'variable', name: 'ARC_ROLE_ARN' }), 'CI variable ARC_ROLE_ARN')
  assert.equal(describeSource({ kind: 'manifest', name: 'staging-role', file: 'app.arc' }), '`staging-role` in @gitlab-oidc (app.arc)')
  assert.equal(describeSource({ kind: 'manifest', name: '@aws region', file: 'app.arc' }), '@aws region (app.arc)')
  assert.equal(describeSource({ kind: 'default', name: 'us-west-2' }), 'default us-west-2')
})
