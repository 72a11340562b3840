/** A duration for people: "45 s", "12 min", "1.5 h" (expiry notes and warnings). */
export function humanDuration (seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${(s / 3600).toFixed(1)} h`
}
