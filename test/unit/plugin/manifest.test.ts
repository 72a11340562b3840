/**
 * Step 2a, the manifest (src/plugin/manifest.ts): read with Architect's own reader, in every
 * format Architect accepts, and one pragma's entries as key → values whatever the format.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ManifestError, pragmaEntries, readManifest, type ArcObject } from '../../../src/plugin/manifest.ts'

function withApp (files: Record<string, string>, check: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-manifest-'))
  try {
    for (const [ name, text ] of Object.entries(files)) writeFileSync(join(dir, name), text)
    check(dir)
  }
  finally { rmSync(dir, { recursive: true, force: true }) }
}

const ROLE = 'arn:aws:iam::111111111111:role/shop-production'

test('app.arc: the file name for messages and the parsed pragmas', () => {
  withApp({ 'app.arc': `@app\nshop\n\n@gitlab-oidc\nproduction-role ${ROLE}\nallow-unprotected-production\n` }, dir => {
    const manifest = readManifest(dir)
    assert.equal(manifest?.file, 'app.arc')
    assert.deepEqual(manifest?.arc.app, [ 'shop' ])
    assert.deepEqual(new Map(pragmaEntries(manifest!.arc, 'gitlab-oidc')), new Map([
      [ 'production-role', [ ROLE ] ],
      [ 'allow-unprotected-production', [ 'true' ] ],
    ]))
  })
})

test('arc.json: the same settings as a map', () => {
  const json = { app: 'shop', 'gitlab-oidc': { 'production-role': ROLE, duration: 900, 'allowed-accounts': [ '111111111111', '222222222222' ] } }
  withApp({ 'arc.json': JSON.stringify(json) }, dir => {
    const manifest = readManifest(dir)
    assert.equal(manifest?.file, 'arc.json')
    assert.deepEqual(new Map(pragmaEntries(manifest!.arc, 'gitlab-oidc')), new Map([
      [ 'production-role', [ ROLE ] ],
      [ 'duration', [ '900' ] ],
      [ 'allowed-accounts', [ '111111111111', '222222222222' ] ],
    ]))
  })
})

test('no manifest: undefined, not an error', () => {
  withApp({}, dir => assert.equal(readManifest(dir), undefined))
})

test('a manifest Architect cannot read is a ManifestError with its reason', () => {
  withApp({ 'arc.json': '{ "app": ' }, dir => {
    assert.throws(() => readManifest(dir), (err: Error) => err instanceof ManifestError && err.message.length > 0)
  })
})

test('pragmaEntries: vectors, bare keys, maps, numbers and booleans become strings; a missing pragma is empty', () => {
  const arc: ArcObject = {
    'gitlab-oidc': [
      [ 'region', 'eu-west-1' ],
      [ 'duration', 1800 ],
      'environment-check',
      { 'staging-role': 'arn:aws:iam::1:role/s', flags: [ true, 'x' ] },
    ],
  }
  assert.deepEqual(new Map(pragmaEntries(arc, 'gitlab-oidc')), new Map([
    [ 'region', [ 'eu-west-1' ] ],
    [ 'duration', [ '1800' ] ],
    [ 'environment-check', [ 'true' ] ],
    [ 'staging-role', [ 'arn:aws:iam::1:role/s' ] ],
    [ 'flags', [ 'true', 'x' ] ],
  ]))
  assert.deepEqual(new Map(pragmaEntries(arc, 'aws')), new Map())
})
