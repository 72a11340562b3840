/**
 * GitLab's names as they go into a trust policy (src/iam/gitlab-names.ts): project paths, ref
 * names and patterns, and IAM's policy-variable escape. Each problem is a TrustPolicyError with a stable code.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { escapePolicyValue, validateProjectPath, validateRefName } from '../../../src/iam/gitlab-names.ts'
import { refuses } from '../../support/refusals.ts'

describe('GitLab project paths', () => {
  it('group/project, with subgroups, unchanged', () => {
    for (const ok of [ 'acme/shop', 'acme/web/shop', 'a_b/c.d-e', '_x/y' ]) assert.equal(validateProjectPath(ok), ok)
  })

  it('says what to change for a URL, .git, slashes or wildcards', () => {
    refuses(() => validateProjectPath('https://gitlab.com/acme/shop'), 'INVALID_PROJECT', /Pass the path only/)
    refuses(() => validateProjectPath('git@gitlab.com:acme/shop'), 'INVALID_PROJECT', /Pass the path only/)
    refuses(() => validateProjectPath('acme/shop.git'), 'INVALID_PROJECT', /Drop the trailing \.git/)
    refuses(() => validateProjectPath('/acme/shop'), 'INVALID_PROJECT', /leading\/trailing slash/)
    refuses(() => validateProjectPath('acme/*'), 'INVALID_PROJECT', /Wildcards are not allowed/)
  })

  it('refuses a single segment, and segments GitLab itself refuses', () => {
    for (const bad of [ 'shop', 'acme/-shop', 'acme/.shop', 'acme/shop.', 'acme/shop.atom', 'acme//shop', '', '  ', undefined ]) {
      refuses(() => validateProjectPath(bad), 'INVALID_PROJECT')
    }
  })
})

describe('ref names', () => {
  it('accepts branch and tag names and IAM wildcards', () => {
    for (const ok of [ 'main', 'release/1.x', 'v1.2.0', 'feature/*', 'v?.*' ]) assert.equal(validateRefName('branch', ok), ok)
  })

  it('refuses what git refuses, saying why', () => {
    const cases: Array<[string, RegExp]> = [
      [ '', /it is empty/ ],
      [ 'refs/heads/main', /give the short name \(GitLab's sub uses main, not refs\/heads\/main\)/ ],
      [ 'has space', /spaces, control characters/ ],
      [ 'a:b', /~ \^ :/ ],
      [ 'a..b', /cannot contain \.\./ ],
      [ 'a@{1}', /@\{/ ],
      [ '@', /@\{ or be @/ ],
      [ 'a//b', /start or end with \/ or contain \/\// ],
      [ 'main.', /cannot end with \./ ],
      [ 'a/.hidden', /start with \. or end with \.lock/ ],
      [ 'main.lock', /start with \. or end with \.lock/ ],
    ]
    for (const [ name, why ] of cases) refuses(() => validateRefName('tag', name), 'INVALID_REF', why)
    refuses(() => validateRefName('branch', 42), 'INVALID_REF', /^Invalid branch 42: it is empty$/)
  })
})

describe('policy values', () => {
  it('a literal ${ is written ${$}{ so IAM does not read it as a policy variable', () => {
    assert.equal(escapePolicyValue('project_path:a/b:ref_type:branch:ref:x${aws:username}'), 'project_path:a/b:ref_type:branch:ref:x${$}{aws:username}')
    assert.equal(escapePolicyValue('$a{b}$'), '$a{b}$', 'a $ not followed by { stays')
    assert.equal(escapePolicyValue('${${'), '${$}{${$}{')
  })
})
