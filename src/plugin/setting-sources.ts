/**
 * Where a setting's value comes from: a CI variable (wins) or the `@gitlab-oidc` pragma, and how
 * a bad value is named. Readers collect problems instead of throwing, so one run reports them all.
 */
import { PragmaEntries, pragmaEntries, type Manifest } from './manifest.ts'
import { bare, ownString, shown } from '../shared/redact.ts'
import { PRAGMA, describeSource, type Setting } from '../shared/setting-source.ts'
import { fs } from '../shared/builtins.ts'

/**
 * "X is not a Y": for a CI variable whose value is the path of an existing file, say what that
 * means: GitLab gives a job a *File* type variable as a path to a file holding the value.
 */
export function notA (
  setting: Setting<string>, what: string, expected: string, fileExists: (path: string) => boolean = fs.existsSync,
): string {
  if (setting.source.kind === 'variable' && setting.value.startsWith('/') && fileExists(setting.value)) {
    return fileVariable(describeSource(setting.source), setting.value, `expected ${expected}`)
  }
  return `${describeSource(setting.source)} is not ${what}: ${shown(setting.value)} (expected ${expected})`
}

/** The message for a GitLab *File* variable where the value itself belongs. */
export function fileVariable (described: string, path: string, expected: string): string {
  return `${described} is a GitLab *File* variable (the job gets the path ${bare(path)}, not the value): ` +
    `change its type to *Variable* in Settings → CI/CD → Variables (${expected})`
}

/** Reads settings from the environment and the pragma; `problems` collects what is wrong. */
export class SettingReader {
  readonly problems: string[] = []
  readonly entries: PragmaEntries
  readonly file: string
  private readonly env: NodeJS.ProcessEnv

  constructor (env: NodeJS.ProcessEnv, manifest: Manifest | undefined) {
    this.env = env
    this.entries = manifest ? pragmaEntries(manifest.arc, PRAGMA) : new PragmaEntries()
    this.file = manifest?.file ?? 'app.arc'
    for (const { key, got } of this.entries.invalid) {
      const where = key.startsWith('@') ? `${key} (${this.file})` : describeSource({ kind: 'manifest', name: key, file: this.file })
      this.problems.push(`${where} must be a string, number or true/false, got ${got}`)
    }
  }

  /** The first of these CI variables that is set (and not blank). */
  variable (names: readonly string[]): Setting<string> | undefined {
    for (const name of names) {
      const value = ownString(this.env, name)?.trim()
      if (value) return { value, source: { kind: 'variable', name } }
    }
    return undefined
  }

  /** Every value of a pragma key. */
  list (key: string): Setting<string[]> | undefined {
    const values = this.entries.get(key)
    if (!values) return undefined
    return { value: values, source: { kind: 'manifest', name: key, file: this.file } }
  }

  /** A pragma key that takes exactly one value. */
  single (key: string): Setting<string> | undefined {
    const found = this.list(key)
    if (!found) return undefined
    if (found.value.length !== 1) {
      this.problems.push(`${describeSource(found.source)} takes exactly one value, got ${found.value.length}`)
      return undefined
    }
    return { value: found.value[0] as string, source: found.source }
  }

  /** A CI variable, else the pragma key. */
  pick (key: string, variables: readonly string[]): Setting<string> | undefined {
    return this.variable(variables) ?? this.single(key)
  }

  integer (key: string, variables: readonly string[], fallback: number, min: number, max: number): Setting<number> {
    const found = this.pick(key, variables)
    if (!found) return { value: fallback, source: { kind: 'default', name: String(fallback) } }
    const value = Number(found.value)
    if (!/^\d+$/.test(found.value) || value < min || value > max) {
      this.problems.push(`${describeSource(found.source)} must be a whole number of seconds from ${min} to ${max}, got ${shown(found.value)}`)
      return { value: fallback, source: found.source }
    }
    return { value, source: found.source }
  }

  flag (key: string, variables: readonly string[], fallback: boolean): Setting<boolean> {
    const found = this.pick(key, variables)
    if (!found) return { value: fallback, source: { kind: 'default', name: String(fallback) } }
    if (found.value !== 'true' && found.value !== 'false') this.problems.push(`${describeSource(found.source)} must be true or false, got ${shown(found.value)}`)
    return { value: found.value === 'true', source: found.source }
  }

  /** A relative file path inside the app (for the reports the deploy writes). */
  path (key: string, variables: readonly string[], fallback: string): Setting<string> {
    const found = this.pick(key, variables)
    if (!found) return { value: fallback, source: { kind: 'default', name: fallback } }
    if (found.value.startsWith('/') || found.value.split(/[\\/]/).includes('..')) {
      this.problems.push(`${describeSource(found.source)} must be a path inside the app directory, got ${shown(found.value)}`)
      return { value: fallback, source: found.source }
    }
    return found
  }
}
