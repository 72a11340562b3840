/**
 * Node's built-in modules for the code a deploy runs, through `require` rather than `import`.
 *
 * An ES import of a builtin makes Node build the builtin's ES module facade, which reads every
 * export once. For node:fs that loads fs/promises (about 5 ms); for node:http and node:https it
 * loads undici, Node's fetch (about 30 ms), even inside `arc`, where Architect has already
 * required them. `require` returns the module as it is. CONTRIBUTING.md (Benchmarks, issue 23)
 * has the figures; eslint.config.js keeps the ES imports of these builtins out of the modules a
 * deploy loads.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export const fs = require('node:fs') as typeof import('node:fs')

/** node:http and node:https, only when the exchange goes through a proxy (their agents). */
export const web = (): { http: typeof import('node:http'), https: typeof import('node:https') } =>
  ({ http: require('node:http') as typeof import('node:http'), https: require('node:https') as typeof import('node:https') })
