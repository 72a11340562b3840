/**
 * The release check of the project's own pipeline (.gitlab-ci.yml): a tag pipeline publishes only
 * when the tag is a semantic version equal to package.json's `version` (no `v` prefix: the CI/CD
 * catalog takes plain semantic versions). Exits 1 with one line saying what to fix.
 *
 *   node scripts/ci/tag-version.ts "$CI_COMMIT_TAG"
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Semantic version 2.0.0 (major.minor.patch, optional pre-release and build), as GitLab's catalog accepts. */
export const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/

/** Why this tag may not be published with this package version; undefined when it may. */
export function tagProblem (tag: string | undefined, version: unknown): string | undefined {
  if (!tag) return 'no tag: CI_COMMIT_TAG is empty (publishing runs only in tag pipelines)'
  if (typeof version !== 'string' || !SEMVER.test(version)) return `package.json's version ${JSON.stringify(version)} is not a semantic version`
  if (!SEMVER.test(tag)) {
    const hint = /^v\d/.test(tag) && SEMVER.test(tag.slice(1)) ? ` (drop the v: tag ${tag.slice(1)}; the CI/CD catalog takes plain semantic versions)` : ''
    return `tag ${tag} is not a semantic version${hint}`
  }
  if (tag !== version) return `tag ${tag} differs from package.json's version ${version}: bump the version (npm version ${tag} --no-git-tag-version), commit, and tag that commit`
  return undefined
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = new URL('../../', import.meta.url)
  const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version?: unknown }
  const problem = tagProblem(process.argv[2] ?? process.env.CI_COMMIT_TAG, version)
  if (problem) {
    console.error(`Not publishing: ${problem}`)
    process.exit(1)
  }
  console.log(`Tag ${String(version)} equals package.json's version: publishing`)
}
