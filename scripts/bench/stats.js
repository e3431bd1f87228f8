/** The median of some numbers (the lower middle one for an even count); undefined for none. */
export function median(numbers) {
  const defined = numbers.filter((value) => value !== undefined && value !== null)
  if (defined.length === 0) return undefined
  return [...defined].sort((a, b) => a - b)[Math.floor((defined.length - 1) / 2)]
}

/** The p-th percentile (0 < p < 1) by the nearest-rank method; undefined for no numbers. */
export function percentile(numbers, p) {
  if (numbers.length === 0) return undefined
  const sorted = [...numbers].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)]
}

/** Adds the counts of `more` (status → count) into `into`. */
export function addCounts(into, more) {
  for (const [key, count] of Object.entries(more)) into[key] = (into[key] ?? 0) + count
  return into
}
