/**
 * src/plugin/setting-sources.ts: where a setting comes from (CI variable or @gitlab-oidc), how a
 * bad one is named, and the readers for flags, whole numbers and report paths.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SettingReader, notA } from '../../../src/plugin/setting-sources.ts'
import { describeSource, type Setting } from '../../../src/shared/setting-source.ts'
import type { Manifest } from '../../../src/plugin/manifest.ts'

const manifest = (lines: Array<Array<string | number>>): Manifest => ({ file: 'app.arc', arc: { 'gitlab-oidc': lines } })

test('describeSource names each kind of source', () => {
  assert.equal(describeSource({ kind: 'variable', name: 'ARC_ROLE_ARN' }), 'CI variable ARC_ROLE_ARN')
  assert.equal(describeSource({ kind: 'manifest', name: 'staging-role', file: 'app.arc' }), '`staging-role` in @gitlab-oidc (app.arc)')
  assert.equal(describeSource({ kind: 'manifest', name: '@aws region', file: 'arc.json' }), '@aws region (arc.json)')
  assert.equal(describeSource({ kind: 'default', name: '3600' }), 'default 3600')
})

test('notA: a plain wrong value', () => {
  const fromVariable: Setting<string> = { value: 'not-an-arn', source: { kind: 'variable', name: 'ARC_ROLE_ARN' } }
  assert.equal(notA(fromVariable, 'an IAM role ARN', 'arn:aws:iam::<account>:role/<name>', () => true),
    'CI variable ARC_ROLE_ARN is not an IAM role ARN: "not-an-arn" (expected arn:aws:iam::<account>:role/<name>)')
})

test('notA: a CI variable holding the path of an existing file is a GitLab File variable', () => {
  const checked: string[] = []
  const exists = (path: string) => { checked.push(path); return path === '/builds/tmp/ARC_ROLE_ARN' }
  const file: Setting<string> = { value: '/builds/tmp/ARC_ROLE_ARN', source: { kind: 'variable', name: 'ARC_ROLE_ARN' } }
  const text = notA(file, 'an IAM role ARN', 'arn:aws:iam::<account>:role/<name>', exists)
  assert.equal(text, 'CI variable ARC_ROLE_ARN is a GitLab *File* variable (the job gets the path /builds/tmp/ARC_ROLE_ARN, not the value): ' +
    'change its type to *Variable* in Settings → CI/CD → Variables (expected arn:aws:iam::<account>:role/<name>)')
  assert.deepEqual(checked, ['/builds/tmp/ARC_ROLE_ARN'])

  // A path that does not exist, a relative path, or a manifest value: the plain message, and no file is looked at for the latter two.
  const gone: Setting<string> = { value: '/builds/tmp/gone', source: { kind: 'variable', name: 'ARC_ROLE_ARN' } }
  assert.match(notA(gone, 'an IAM role ARN', 'x', exists), /^CI variable ARC_ROLE_ARN is not an IAM role ARN: "\/builds\/tmp\/gone"/)
  checked.length = 0
  const relative: Setting<string> = { value: 'tmp/ARC_ROLE_ARN', source: { kind: 'variable', name: 'ARC_ROLE_ARN' } }
  assert.match(notA(relative, 'an IAM role ARN', 'x', exists), /is not an IAM role ARN/)
  const inManifest: Setting<string> = { value: '/builds/tmp/ARC_ROLE_ARN', source: { kind: 'manifest', name: 'role', file: 'app.arc' } }
  assert.match(notA(inManifest, 'an IAM role ARN', 'x', () => true), /^`role` in @gitlab-oidc \(app\.arc\) is not an IAM role ARN/)
  assert.deepEqual(checked, [])
})

test('variable: the first one set and not blank, trimmed', () => {
  const read = new SettingReader({ A: '  ', B: ' value ', C: 'other' }, undefined)
  assert.deepEqual(read.variable(['A', 'B', 'C']), { value: 'value', source: { kind: 'variable', name: 'B' } })
  assert.equal(read.variable(['A', 'MISSING']), undefined)
  assert.equal(read.file, 'app.arc', 'no manifest: messages still name app.arc')
  assert.equal(read.entries.size, 0)
})

test('single, list and pick: a CI variable wins over the pragma', () => {
  const read = new SettingReader({ ARC_X: 'from-env' }, manifest([['x', 'from-arc'], ['many', 'a', 'b']]))
  assert.deepEqual(read.pick('x', ['ARC_X']), { value: 'from-env', source: { kind: 'variable', name: 'ARC_X' } })
  assert.deepEqual(read.pick('x', ['ARC_OTHER']), { value: 'from-arc', source: { kind: 'manifest', name: 'x', file: 'app.arc' } })
  assert.deepEqual(read.list('many')?.value, ['a', 'b'])
  assert.equal(read.single('many'), undefined)
  assert.deepEqual(read.problems, ['`many` in @gitlab-oidc (app.arc) takes exactly one value, got 2'])
  assert.equal(read.pick('absent', []), undefined)
})

test('flag: true or false; anything else is a problem', () => {
  const read = new SettingReader({ ARC_ON: 'true', ARC_OFF: 'false', ARC_BAD: 'yes' }, manifest([['check', 'false']]))
  assert.deepEqual(read.flag('on', ['ARC_ON'], false), { value: true, source: { kind: 'variable', name: 'ARC_ON' } })
  assert.deepEqual(read.flag('off', ['ARC_OFF'], true), { value: false, source: { kind: 'variable', name: 'ARC_OFF' } })
  assert.deepEqual(read.flag('check', [], true), { value: false, source: { kind: 'manifest', name: 'check', file: 'app.arc' } })
  assert.deepEqual(read.flag('unset', ['ARC_UNSET'], true), { value: true, source: { kind: 'default', name: 'true' } })
  assert.deepEqual(read.problems, [])
  read.flag('bad', ['ARC_BAD'], false)
  assert.deepEqual(read.problems, ['CI variable ARC_BAD must be true or false, got "yes"'])
  const caps = new SettingReader({ ARC_CAPS: 'TRUE' }, undefined)
  caps.flag('x', ['ARC_CAPS'], false)
  assert.deepEqual(caps.problems, ['CI variable ARC_CAPS must be true or false, got "TRUE"'])
})

test('integer: whole numbers within bounds; otherwise the fallback and a problem', () => {
  const read = new SettingReader({ ARC_N: '900' }, manifest([['n', 43200]]))
  assert.deepEqual(read.integer('n', ['ARC_N'], 3600, 900, 43200), { value: 900, source: { kind: 'variable', name: 'ARC_N' } })
  assert.deepEqual(read.integer('n', [], 3600, 900, 43200), { value: 43200, source: { kind: 'manifest', name: 'n', file: 'app.arc' } })
  assert.deepEqual(read.integer('unset', [], 3600, 900, 43200), { value: 3600, source: { kind: 'default', name: '3600' } })
  assert.deepEqual(read.problems, [])
  for (const bad of ['899', '43201', '1h', '1e3', '-900', '900.5', '0x384']) {
    const r = new SettingReader({ ARC_N: bad }, undefined)
    assert.equal(r.integer('n', ['ARC_N'], 3600, 900, 43200).value, 3600, bad)
    assert.deepEqual(r.problems, [`CI variable ARC_N must be a whole number of seconds from 900 to 43200, got "${bad}"`])
  }
})

test('path: a relative path inside the app; absolute paths and `..` are refused', () => {
  const read = new SettingReader({ ARC_P: 'reports/deploy.env' }, manifest([['p', 'out.json']]))
  assert.deepEqual(read.path('p', ['ARC_P'], 'arc-deploy.env'), { value: 'reports/deploy.env', source: { kind: 'variable', name: 'ARC_P' } })
  assert.deepEqual(read.path('p', [], 'arc-deploy.env'), { value: 'out.json', source: { kind: 'manifest', name: 'p', file: 'app.arc' } })
  assert.deepEqual(read.path('unset', [], 'arc-deploy.env'), { value: 'arc-deploy.env', source: { kind: 'default', name: 'arc-deploy.env' } })
  assert.deepEqual(read.problems, [])

  for (const bad of ['/etc/cron.d/x', '../outside.env', 'reports/../../x', 'a\\..\\b', '..']) {
    const r = new SettingReader({ ARC_P: bad }, undefined)
    const got = r.path('p', ['ARC_P'], 'arc-deploy.env')
    assert.equal(got.value, 'arc-deploy.env', bad)
    assert.deepEqual(got.source, { kind: 'variable', name: 'ARC_P' })
    assert.deepEqual(r.problems, [`CI variable ARC_P must be a path inside the app directory, got "${bad}"`])
  }
  // A name that only contains dots is fine.
  const dotted = new SettingReader({ ARC_P: 'reports/..deploy.env' }, undefined)
  assert.equal(dotted.path('p', ['ARC_P'], 'x').value, 'reports/..deploy.env')
  assert.deepEqual(dotted.problems, [])
})
