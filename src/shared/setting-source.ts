/**
 * Where a setting's value came from, and how a message names it: a CI variable, a key of the
 * `@gitlab-oidc` pragma (or `@aws region`), or a default. Plugin, hooks and CLI name settings alike.
 */

/** The app manifest's pragma the plugin reads. */
export const PRAGMA = 'gitlab-oidc'

export type Source =
  | { kind: 'variable', name: string }
  | { kind: 'manifest', name: string, file: string }
  | { kind: 'default', name: string }

export interface Setting<T> { value: T, source: Source }

export function describeSource (source: Source): string {
  switch (source.kind) {
    case 'variable': return `CI variable ${source.name}`
    case 'manifest': return source.name.startsWith('@') ? `${source.name} (${source.file})` : `\`${source.name}\` in @${PRAGMA} (${source.file})`
    case 'default': return `default ${source.name}`
  }
}
