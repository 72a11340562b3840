import { test } from 'node:test'
import assert from 'node:assert/strict'
import { distance, nearest } from '../../../src/plugin/settings.ts'

const KEYS = [ 'production-role', 'staging-role', 'role', 'token-variable', 'duration', 'allow-unprotected-production', 'environment-check' ]

test('distance is the Levenshtein distance', () => {
  assert.equal(distance('', ''), 0)
  assert.equal(distance('role', 'role'), 0)
  assert.equal(distance('rol', 'role'), 1)
  assert.equal(distance('kitten', 'sitting'), 3)
  assert.equal(distance('abc', ''), 3)
})

test('nearest: typos find their key, unrelated words none', () => {
  assert.equal(nearest('production-rol', KEYS), 'production-role')
  assert.equal(nearest('Staging-Role', KEYS), 'staging-role')
  assert.equal(nearest('durations', KEYS), 'duration')
  assert.equal(nearest('allow-unprotected-prod', KEYS), 'allow-unprotected-production')
  assert.equal(nearest('environment_check', KEYS), 'environment-check')
  assert.equal(nearest('region', KEYS), undefined)
  assert.equal(nearest('x', KEYS), undefined)
})
