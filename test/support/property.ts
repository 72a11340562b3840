/**
 * fast-check settings shared by the property tests (test/unit/**\/*.property.test.ts).
 *
 * `npm test` runs each property with a fixed seed and a bounded number of runs (seconds in all).
 * To search harder, set FC_RUNS (runs per property) and FC_SEED (a different seed finds other
 * cases), for example: FC_RUNS=20000 FC_SEED=$RANDOM node --test test/unit/plugin/token.property.test.ts
 * A failing case prints its seed and path: re-run with them, then keep the case as an example test.
 */
import fc from 'fast-check'

export const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 13

/** fast-check parameters: `runs` by default, FC_RUNS when set. */
export function params<T> (runs: number): fc.Parameters<T> {
  return { seed: SEED, numRuns: process.env.FC_RUNS ? Number(process.env.FC_RUNS) : runs }
}

/** Names every JavaScript object inherits: as variable names or keys they must read as unset. */
export const INHERITED = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__'] as const

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/** A JWT-shaped string (header, claims, signature) for any claims. */
export function jwt (claims: unknown, header: unknown = { alg: 'RS256', kid: 'k' }): string {
  return `${b64(header)}.${b64(claims)}.${b64('signature-that-is-secret')}`
}

/** Tokens of every shape: real-looking JWTs over any JSON, and any string. */
export const anyToken: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue().map(v => jwt(v)),
  fc.dictionary(fc.string(), fc.jsonValue()).map(v => jwt(v)),
  fc.string({ minLength: 1 }),
  fc.string({ minLength: 1 }).map(s => `Bearer ${s}`),
)

/** Strings where a name, a path or an ARN belongs: anything, inherited names, tokens, paths. */
export const anyValue = (token: string): fc.Arbitrary<string> => fc.oneof(
  fc.string(),
  fc.constantFrom(...INHERITED),
  fc.constant(token),
  fc.constant(`Bearer ${token}`),
  fc.constantFrom('/etc/hostname', '/builds/tmp/VAR', '/', '.'),
  fc.string({ unit: 'binary', maxLength: 40 }),
)
