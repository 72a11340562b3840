/**
 * The known word a mistyped one most resembles (Levenshtein distance), for "did you mean"
 * hints. A leaf module: it imports nothing.
 */
export function distance (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const cur = [ i ]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]!
}

/**
 * The nearest of `known` to `word` when it is close enough to be a typo (at most a third of
 * the word's length, and at least 1, edits away; case ignored); undefined otherwise.
 */
export function nearest (word: string, known: readonly string[]): string | undefined {
  const w = word.toLowerCase()
  let best: string | undefined
  let bestDistance = Infinity
  for (const k of known) {
    const d = distance(w, k.toLowerCase())
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return bestDistance <= Math.max(1, Math.ceil(w.length / 3)) ? best : undefined
}
