/**
 * What `arc-gitlab-oidc setup` reads (src/cli/setup-sources.ts): the GitLab project from a git
 * remote (a token in the URL dropped), the IAM template's parameters and their constraints, and
 * Architect's stack-name prefix.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parameterProblem, parseRemote, templateFileFor, templateParameters, toLogicalID, TEMPLATE_PATH } from '../../../src/cli/setup-sources.ts'

test('a GitLab project from HTTPS, SSH and scp-style remotes; the user part (a token) is dropped', () => {
  assert.deepEqual(parseRemote('https://oauth2:glpat-secret@gitlab.example.com:8443/acme/sub/shop.git'),
    { host: 'gitlab.example.com', projectPath: 'acme/sub/shop', gitlabUrl: 'https://gitlab.example.com:8443' })
  assert.deepEqual(parseRemote('git@gitlab.com:acme/shop.git'), { host: 'gitlab.com', projectPath: 'acme/shop', gitlabUrl: 'https://gitlab.com' })
  assert.deepEqual(parseRemote('ssh://git@gitlab.example.com:2222/acme/shop.git'),
    { host: 'gitlab.example.com', projectPath: 'acme/shop', gitlabUrl: undefined })
  for (const url of [ 'ftp://host/a/b', 'just-a-word', 'https://gitlab.com/only-one-segment', 'https://gitlab.com/-bad/x' ]) {
    assert.equal(parseRemote(url), undefined, url)
  }
  assert.ok(!JSON.stringify(parseRemote('https://oauth2:glpat-secret@gitlab.com/a/b')).includes('glpat-secret'))
})

test('the IAM template\'s parameters, and why a value does not fit one', () => {
  const parameters = templateParameters()
  const url = parameters.find(p => p.name === 'GitLabUrl')
  assert.ok(url?.allowedPattern, JSON.stringify(parameters.map(p => p.name)))
  assert.equal(parameterProblem(url, 'https://gitlab.example.com'), undefined)
  assert.ok(parameterProblem(url, 'http://gitlab.example.com:80'))
  const listed = parameters.find(p => p.allowedValues)
  assert.ok(listed)
  assert.match(parameterProblem(listed, 'not-one-of-them') ?? '', /^one of /)
})

test('Architect\'s stack-name prefix, and the template path as the app sees it', () => {
  assert.equal(toLogicalID('my-shop'), 'MyShop')
  const dir = mkdtempSync(join(tmpdir(), 'oidc-setup-sources-'))
  try { assert.equal(templateFileFor(dir), TEMPLATE_PATH) }
  finally { rmSync(dir, { recursive: true, force: true }) }
})
