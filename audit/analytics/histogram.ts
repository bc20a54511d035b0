// Latency histograms with log-scale buckets: fixed-size counts that add up across hours, departments and instances,
// from which percentiles are estimated. Bucket 0 holds [0, 0.1 ms); bucket i (1…46) holds
// [0.1·√2^(i−1), 0.1·√2^i) ms; bucket 47 holds everything from 0.1·2^23 ms (about 14 minutes) up. A percentile is
// the bucket holding its rank, interpolated geometrically inside it, so the estimate lies in the same bucket as the
// true value: off by less than a factor √2 (41%), usually far less.

export const LATENCY_BUCKETS = 48;
const FIRST_BOUND_MS = 0.1;
const GROWTH = Math.SQRT2;
const LOG_GROWTH = Math.log(GROWTH);

/** The bucket of a latency in milliseconds. */
export function latencyBucket(ms: number): number {
  if (!(ms >= FIRST_BOUND_MS)) return 0; // also NaN and negatives, which normalisation never lets through
  const i = Math.floor(Math.log(ms / FIRST_BOUND_MS) / LOG_GROWTH) + 1;
  // Floating point can put an exact bound one bucket low; the bound belongs to the bucket it opens.
  const bucket = ms >= bucketLowerMs(i + 1) ? i + 1 : i;
  return Math.min(LATENCY_BUCKETS - 1, bucket);
}

/** The lower bound of bucket i, in milliseconds. */
export function bucketLowerMs(i: number): number {
  return i <= 0 ? 0 : FIRST_BOUND_MS * GROWTH ** (i - 1);
}

/** The upper bound of bucket i (Infinity for the last). */
export function bucketUpperMs(i: number): number {
  return i >= LATENCY_BUCKETS - 1 ? Number.POSITIVE_INFINITY : FIRST_BOUND_MS * GROWTH ** i;
}

/** Adds b into a (both LATENCY_BUCKETS long). */
export function addHistograms(a: number[], b: readonly (number | string)[]): number[] {
  for (let i = 0; i < LATENCY_BUCKETS; i++) a[i] = (a[i] ?? 0) + Number(b[i] ?? 0);
  return a;
}

export function emptyHistogram(): number[] {
  return new Array<number>(LATENCY_BUCKETS).fill(0);
}

/**
 * The q-quantile (0 < q ≤ 1) by nearest rank: the value of the ⌈q·n⌉-th smallest latency, estimated from the counts.
 * null when the histogram is empty.
 */
export function histogramQuantile(counts: readonly (number | string)[], q: number): number | null {
  let total = 0;
  for (let i = 0; i < LATENCY_BUCKETS; i++) total += Number(counts[i] ?? 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < LATENCY_BUCKETS; i++) {
    const n = Number(counts[i] ?? 0);
    if (n === 0) continue;
    if (seen + n >= rank) {
      const lower = bucketLowerMs(i);
      const upper = bucketUpperMs(i);
      if (!Number.isFinite(upper)) return lower;
      // Where the rank falls among the bucket's n values, spread evenly (in log space: the buckets are log-scale).
      const fraction = (rank - seen - 0.5) / n;
      return lower === 0 ? upper * fraction : lower * (upper / lower) ** fraction;
    }
    seen += n;
  }
  return bucketLowerMs(LATENCY_BUCKETS - 1);
}
