/**
 * GitLab's names as they go into a trust policy: project paths, ref names (and patterns), the
 * audience a job requests, and IAM's escape of `${` in condition values (pure functions).
 */
import { TrustPolicyError } from './errors.ts'

// One path segment of a GitLab namespace or project: letters, digits, '_', '-', '.',
// starting with a letter, digit or '_' (GitLab refuses a leading '-' or '.').
const PATH_SEGMENT_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

/** Validate a GitLab project path (`group[/subgroup...]/project`) and return it unchanged. */
export function validateProjectPath (project: unknown): string {
  if (typeof project !== 'string' || project.trim() === '') {
    throw new TrustPolicyError('INVALID_PROJECT', 'A GitLab project path is required, e.g. my-group/my-project (CI_PROJECT_PATH in a job)')
  }
  let hint = ''
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(project) || project.startsWith('git@')) {
    hint = ' Pass the path only (what CI_PROJECT_PATH holds), not the project URL.'
  }
  else if (project.endsWith('.git')) {
    hint = ' Drop the trailing .git.'
  }
  else if (project.startsWith('/') || project.endsWith('/')) {
    hint = ' Remove the leading/trailing slash.'
  }
  else if (project.includes('*') || project.includes('?')) {
    hint = ' Wildcards are not allowed in the project path.'
  }
  const segments = project.split('/')
  const ok = hint === '' &&
    segments.length >= 2 &&
    segments.every(s => PATH_SEGMENT_RE.test(s) && !s.endsWith('.') && !s.endsWith('.atom'))
  if (!ok) {
    throw new TrustPolicyError('INVALID_PROJECT',
      `Invalid GitLab project path ${JSON.stringify(project)}: expected <group>/<project> or <group>/<subgroup>/.../<project>.${hint}`)
  }
  return project
}

/** The `aud` a job requests: any non-empty text without control characters (escaped where it goes into a policy). */
export function validateAudience (audience: unknown): string {
  // eslint-disable-next-line no-control-regex
  if (typeof audience !== 'string' || audience.trim() === '' || /[\x00-\x1f\x7f]/.test(audience)) {
    throw new TrustPolicyError('INVALID_AUDIENCE', `Invalid audience ${JSON.stringify(audience)}: expected the aud value of the job's id_tokens entry, e.g. https://gitlab.com`)
  }
  return audience
}

/**
 * IAM treats `${...}` inside condition values as a policy variable. Git refs
 * may contain `${`, so a literal `$` before `{` is written as `${$}`.
 */
export function escapePolicyValue (value: string): string {
  return value.replace(/\$(?=\{)/g, '${$}')
}

/**
 * Validate a branch or tag name (or pattern) against git's ref-name rules,
 * with `*` and `?` allowed as IAM wildcards (git forbids both in names, so a
 * pattern can never be confused with a real ref).
 */
export function validateRefName (kind: 'branch' | 'tag' | 'ref', name: unknown): string {
  const fail = (why: string): never => {
    throw new TrustPolicyError('INVALID_REF', `Invalid ${kind} ${JSON.stringify(name)}: ${why}`)
  }
  if (typeof name !== 'string' || name === '') return fail('it is empty')
  if (/^refs\//.test(name)) fail(`give the short name (GitLab's sub uses ${name.replace(/^refs\/(heads|tags)\//, '')}, not ${name})`)
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:\\[]/.test(name)) fail('git ref names cannot contain spaces, control characters or any of ~ ^ : \\ [')
  if (name.includes('..')) fail('git ref names cannot contain ..')
  if (name.includes('@{') || name === '@') fail('git ref names cannot contain @{ or be @')
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) fail('git ref names cannot start or end with / or contain //')
  if (name.endsWith('.')) fail('git ref names cannot end with .')
  if (name.split('/').some(c => c.startsWith('.') || c.endsWith('.lock'))) fail('no path component may start with . or end with .lock')
  return name
}
