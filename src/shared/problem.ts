/**
 * A refusal: the one message the plugin stops `arc` with (what happened, the facts, what GitLab
 * asserted, the exact fix). Any layer raises one by throwing PluginError; only report/format.ts
 * turns it into text, so a guard or a hook refuses without loading the formatter.
 */
import type { Claims, Origin } from './id-token.ts'

export type Row = [label: string, value: string]

export interface Problem {
  /** One line: what happened. */
  title: string
  /** Facts about this run (role, where the token came from...). */
  facts?: Row[]
  /** What GitLab asserted in the token, when there is a token. */
  claims?: Claims
  /** Where the token came from (default a GitLab job): it heads the claims ("GitLab asserted"). */
  origin?: Origin
  /** The fix, as lines (may include a YAML or JSON block). */
  fix: string[]
  /** The last line (default: Architect was stopped before any AWS call). */
  footer?: string
  /** Values never to print (the job's token, secret keys): scrubbed from the message, as is anything JWT-shaped. */
  secrets?: readonly string[]
}

export class PluginError extends Error {
  readonly problem: Problem
  constructor (problem: Problem) {
    super(problem.title)
    this.name = 'PluginError'
    this.problem = problem
  }
}
