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

/** The statuses other than `expected`, with their counts. */
export function unexpected(statuses, expected) {
  return Object.fromEntries(Object.entries(statuses).filter(([status]) => status !== expected))
}

/** The medians of some measured runs of one path (undefined runs left out), their statuses summed. */
export function summarisePath(runs) {
  const defined = runs.filter(Boolean)
  if (defined.length === 0) return undefined
  const pick = (key) => median(defined.map((run) => run[key]))
  return {
    expected: defined[0].expected,
    requestsPerSecond: pick('requestsPerSecond'),
    p50Ms: pick('p50Ms'),
    p99Ms: pick('p99Ms'),
    cpuMicrosPerRequest: pick('cpuMicrosPerRequest'),
    alsoCpuMicrosPerRequest: Object.fromEntries(
      Object.keys(defined[0].alsoCpuMicrosPerRequest ?? {}).map((name) => [
        name,
        median(defined.map((run) => run.alsoCpuMicrosPerRequest[name])),
      ]),
    ),
    requests: defined.reduce((sum, run) => sum + run.requests, 0),
    unexpected: defined.reduce((counts, run) => addCounts(counts, run.unexpected), {}),
  }
}
