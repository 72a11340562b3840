/**
 * Which GitLab the component and the plugin need, pinned. The oldest GitLab the component supports
 * is 17.0 (CI/CD inputs and components generally available, the CI/CD catalog released). Each
 * keyword templates/arc-deploy.yml uses is listed below with the GitLab version that introduced
 * it (GitLab's own keyword and ID-token documentation); a keyword not listed, or newer than 17.0,
 * fails here: older instances refuse an unknown spec: key and with it the whole include. The
 * "GitLab support" table of docs/compatibility.md must say the same.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { root, yaml, type Json, type JsonObject } from '../support/cfn-template.ts'

const MINIMUM = '17.0'
const component = readFileSync(join(root, 'templates', 'arc-deploy.yml'), 'utf8')
const compatibility = readFileSync(join(root, 'docs', 'compatibility.md'), 'utf8')

/** spec: header keys the component may use, and since when. */
const SPEC_KEYS: Record<string, string> = {
  inputs: '15.11', // beta in 15.11, generally available in 17.0
}
/** Keys of one input, and since when. */
const INPUT_KEYS: Record<string, string> = {
  default: '15.11',
  description: '16.5',
  regex: '16.5',
  options: '16.6',
  type: '16.6', // GitLab's page gives no version for string/number/boolean; array came in 16.11
}
/** Newer spec: keys the component must not use (the version that brought them). */
const TOO_NEW: Record<string, string> = { description: '18.10' }

/** Job keywords (paths) the component uses, and since when. */
const JOB_KEYWORDS: Record<string, string> = {
  'stage': '8.0', 'image': '8.0', 'script': '8.0', 'variables': '8.0', 'allow_failure': '8.0',
  'interruptible': '12.3',
  'rules:if': '12.3', 'rules:when': '12.3',
  'resource_group': '12.7',
  'environment:name': '8.9', 'environment:url': '9.3', 'environment:on_stop': '8.13', 'environment:action': '8.13',
  'environment:auto_stop_in': '12.8',
  'environment:deployment_tier': '13.10',
  'artifacts:reports:dotenv': '12.9',
  'artifacts:reports:annotations': '16.3',
  'id_tokens': '15.7', 'id_tokens:*:aud': '15.7',
}

const newer = (a: string, b: string): boolean => {
  const [ a1, a2 ] = a.split('.').map(Number) as [number, number]
  const [ b1, b2 ] = b.split('.').map(Number) as [number, number]
  return a1 > b1 || (a1 === b1 && a2 > b2)
}

/** The keyword path of every leaf of a job (`id_tokens:*:aud`); variables and script are leaves. */
function keywordPaths (node: Json, prefix = ''): string[] {
  if (Array.isArray(node)) return node.flatMap(n => keywordPaths(n, prefix))
  if (node === null || typeof node !== 'object') return [ prefix ]
  return Object.entries(node).flatMap(([ key, value ]) => {
    const path = prefix ? `${prefix}:${prefix === 'id_tokens' ? '*' : key}` : key
    return key === 'variables' || key === 'script' ? [ path ] : keywordPaths(value, path)
  })
}

const [ header, body ] = component.split(/^---$/m) as [string, string]
const spec = (yaml.load(header) as JsonObject).spec as JsonObject

describe(`GitLab ${MINIMUM} or later: what the component may use`, () => {
  it('spec: only keys GitLab 17.0 accepts (no spec:description, which 18.10 brought)', () => {
    for (const key of Object.keys(spec)) {
      assert.ok(key in SPEC_KEYS, `spec:${key} is not known to be accepted by GitLab ${MINIMUM}${key in TOO_NEW ? ` (it came in ${TOO_NEW[key]})` : ''}`)
      assert.ok(!newer(SPEC_KEYS[key]!, MINIMUM), `spec:${key}`)
    }
  })

  it('inputs: only default, description, regex, options and type (string, number, boolean)', () => {
    for (const [ name, input ] of Object.entries(spec.inputs as JsonObject)) {
      for (const key of Object.keys(input as JsonObject)) {
        assert.ok(key in INPUT_KEYS && !newer(INPUT_KEYS[key]!, MINIMUM), `spec:inputs:${name}:${key}`)
      }
      const type = (input as JsonObject).type
      assert.ok(type === undefined || [ 'string', 'number', 'boolean' ].includes(type as string), `${name}: type ${String(type)}`)
    }
  })

  it('jobs: only keywords GitLab 17.0 knows', () => {
    const jobs = yaml.load(body) as JsonObject
    const used = new Set<string>()
    for (const [ name, job ] of Object.entries(jobs)) {
      if (name.startsWith('.')) continue
      for (const path of keywordPaths(job)) used.add(path)
    }
    for (const path of used) {
      assert.ok(path in JOB_KEYWORDS, `${path} is not in the list of keywords GitLab ${MINIMUM} accepts`)
      assert.ok(!newer(JOB_KEYWORDS[path]!, MINIMUM), path)
    }
    assert.ok(used.has('artifacts:reports:annotations') && used.has('environment:deployment_tier') && used.has('id_tokens:*:aud'), 'the walk sees nested keys')
  })
})

describe('docs/compatibility.md "GitLab support"', () => {
  const start = compatibility.indexOf('## GitLab support')
  const end = compatibility.indexOf('\n## ', start + 5)
  const section = compatibility.slice(start, end < 0 ? undefined : end)
  const rows = section.split('\n').filter(l => l.startsWith('|'))
  const row = (needle: string) => rows.find(r => r.includes(needle))

  it('names the oldest supported GitLab', () => {
    assert.ok(section.length > 100, 'the section exists')
    assert.match(section, new RegExp(`GitLab ${MINIMUM.replace('.', '\\.')} or later`))
  })

  it('lists each keyword the component relies on with the version the test pins', () => {
    const listed: Record<string, string> = {
      'spec:inputs': SPEC_KEYS.inputs!, 'spec:inputs:description': INPUT_KEYS.description!, 'spec:inputs:regex': INPUT_KEYS.regex!,
      'spec:inputs:type': INPUT_KEYS.type!, 'id_tokens': JOB_KEYWORDS.id_tokens!, 'environment:deployment_tier': JOB_KEYWORDS['environment:deployment_tier']!,
      'environment:auto_stop_in': JOB_KEYWORDS['environment:auto_stop_in']!, 'artifacts:reports:annotations': JOB_KEYWORDS['artifacts:reports:annotations']!,
      'artifacts:reports:dotenv': JOB_KEYWORDS['artifacts:reports:dotenv']!, 'resource_group': JOB_KEYWORDS.resource_group!, 'rules:if': JOB_KEYWORDS['rules:if']!,
      'spec:description': TOO_NEW.description!,
    }
    for (const [ keyword, since ] of Object.entries(listed)) {
      const r = row(`\`${keyword}\``)
      assert.ok(r, `a row for ${keyword}`)
      assert.ok(r.includes(since), `${keyword}: ${since} in ${r}`)
    }
  })
})
