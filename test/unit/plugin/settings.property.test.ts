/**
 * Property tests of the settings: every CI variable and pragma key set to anything (any string,
 * inherited property names, tokens, paths), and manifests in every format Architect reads
 * (app.arc, arc.json, arc.yaml, package.json) with values of the wrong type.
 * Contract: the settings, or one SettingsError/ManifestError whose problems are strings that never
 * contain the token, never "[object Object]", and are one line each.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { ManifestError, readManifest, type Manifest } from '../../../src/plugin/manifest.ts'
import { KEYS, SettingsError, resolveSettings } from '../../../src/plugin/settings.ts'
import { INHERITED, anyValue, jwt, params } from '../../support/property.ts'

const TOKEN = jwt({ iss: 'https://gitlab.com', sub: 'project_path:g/p:ref_type:branch:ref:main', aud: 'a', exp: 1 })
const VARIABLE_NAMES = [...new Set([...Object.values(KEYS).flat(), 'AWS_REGION', 'AWS_DEFAULT_REGION', 'ARC_ROLE_SESSION_NAME', 'AWS_ROLE_SESSION_NAME'])]
const PRAGMA_KEYS = [...Object.keys(KEYS), ...INHERITED]

/** Settings or one settings error, checked against the contract; returns the problems. */
function settle (env: NodeJS.ProcessEnv, manifest: Manifest | undefined, secret = TOKEN): string[] {
  try {
    resolveSettings({ env, manifest, stage: 'production' })
    return []
  }
  catch (err) {
    assert.ok(err instanceof SettingsError, `only a SettingsError, got ${err instanceof Error ? err.stack : String(err)}`)
    for (const p of err.problems) {
      assert.equal(typeof p, 'string')
      assert.ok(!p.includes(secret), `the token is never shown: ${p}`)
      assert.ok(!p.includes('[object Object]'), p)
      assert.ok(!/[\n\r]/.test(p), 'one line')
    }
    return err.problems
  }
}

/** Any JSON value, including the shapes that broke: objects with toString, deep lists, null. */
const wrongTyped = fc.oneof(fc.jsonValue(), fc.constant({ toString: 1 }), fc.constant(null), fc.constant([[[['x']]]]), fc.constant(TOKEN))

test('every CI variable set to anything (strings, inherited names, the token, paths)', () => {
  const env = fc.dictionary(fc.oneof(fc.constantFrom(...VARIABLE_NAMES), fc.constantFrom(...INHERITED)), anyValue(TOKEN))
  fc.assert(fc.property(env, e => { settle(e, undefined) }), params(400))
})

test('every pragma key, inherited names and any key, with values of any type', () => {
  const items = fc.array(fc.oneof(
    fc.tuple(fc.oneof(fc.constantFrom(...PRAGMA_KEYS), fc.string()), wrongTyped).map(([k, v]) => [k, v]),
    fc.dictionary(fc.oneof(fc.constantFrom(...PRAGMA_KEYS), fc.string()), wrongTyped),
    wrongTyped,
  ), { maxLength: 6 })
  const aws = fc.oneof(fc.constant(undefined), fc.array(fc.oneof(fc.tuple(fc.constant('region'), wrongTyped), fc.dictionary(fc.constant('region'), wrongTyped)), { maxLength: 2 }))
  fc.assert(fc.property(items, aws, (pragma, region) => {
    const arc = { app: ['x'], 'gitlab-oidc': pragma, ...(region ? { aws: region } : {}) } as unknown as Manifest['arc']
    settle({}, { file: 'arc.json', arc })
  }), params(400))
})

const FORMATS: Array<[string, (settings: Record<string, unknown>) => string]> = [
  ['arc.json', s => JSON.stringify({ app: 'x', 'gitlab-oidc': s, aws: { region: s.region ?? 'us-west-2' } })],
  ['arc.yaml', s => `app: x\ngitlab-oidc:\n${Object.entries(s).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join('\n') || '  role: x'}\n`],
  ['package.json', s => JSON.stringify({ name: 'x', arc: { app: 'x', 'gitlab-oidc': s } })],
  ['app.arc', s => `@app\nx\n@gitlab-oidc\n${Object.entries(s).map(([k, v]) => `${k.replace(/\s/g, '') || 'k'} ${String(typeof v === 'object' ? JSON.stringify(v) : v).replace(/[\n#@]/g, '')}`).join('\n')}\n`],
]

test('manifests in every format Architect reads, with wrong types: settings, or one settings or manifest error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-manifest-prop-'))
  try {
    const settings = fc.dictionary(fc.oneof(fc.constantFrom(...PRAGMA_KEYS, 'region'), fc.string({ minLength: 1, maxLength: 8 })), wrongTyped, { maxKeys: 4 })
    fc.assert(fc.property(fc.constantFrom(...FORMATS), settings, ([file, write], s) => {
      for (const [name] of FORMATS) rmSync(join(dir, name), { force: true })
      writeFileSync(join(dir, file), write(s))
      let manifest: Manifest | undefined
      try { manifest = readManifest(dir) }
      catch (err) {
        assert.ok(err instanceof ManifestError, String(err))
        return
      }
      settle({}, manifest)
    }), params(60))
  }
  finally { rmSync(dir, { recursive: true, force: true }) }
})

// Fixed bugs, kept as examples.

test('example: an object where a string belongs (also under @aws region) is a settings problem, not a TypeError', () => {
  const arc = { app: ['x'], 'gitlab-oidc': [['role', { toString: 1 }]], aws: [['region', { toString: 1 }]] } as unknown as Manifest['arc']
  const problems = settle({}, { file: 'arc.json', arc }).join('\n')
  assert.match(problems, /`role` in @gitlab-oidc \(arc\.json\) must be a string, number or true\/false, got an object/)
  assert.match(problems, /@aws region \(arc\.json\) must be a string, got an object/)
})

test('example: inherited names as pragma keys are unknown settings; as variables they are unset', () => {
  const arc = { app: ['x'], 'gitlab-oidc': [['constructor', 'x'], ['toString', 'y']] } as unknown as Manifest['arc']
  assert.match(settle({}, { file: 'app.arc', arc }).join('\n'), /Unknown setting `constructor`.*\n.*Unknown setting `toString`/)
  assert.deepEqual(settle({ constructor: 'x', toString: 'y' } as unknown as NodeJS.ProcessEnv, undefined), [])
})

test('example: AWS_REGION is checked before the SDK sees it', () => {
  assert.match(settle({ AWS_REGION: 'bad region' }, undefined).join(), /CI variable AWS_REGION is not an AWS region: "bad region"/)
  for (const region of ['us-west-2', 'us-gov-west-1', 'cn-north-1', 'eu-isoe-west-1', 'ap-southeast-5']) assert.deepEqual(settle({ AWS_REGION: region }, undefined), [], region)
})

test('example: the token where a variable name belongs is said to be the token, and described', () => {
  const problems = settle({ ARC_OIDC_TOKEN_VARIABLE: TOKEN }, undefined).join()
  assert.match(problems, /CI variable ARC_OIDC_TOKEN_VARIABLE holds the token itself \(a JWT, [\d,]+ characters\): it takes the NAME/)
})
