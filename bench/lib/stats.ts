/** Latency summary of one sample set, in milliseconds. */
export interface LatencySummary {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The q-quantile (0..1) by the nearest-rank method on a sorted copy: every reported value is a
 * sample that really happened, which matters for tails drawn from a few hundred samples.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Summarises samples (any order). An empty set gives NaN everywhere and count 0. */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length > 0 ? total / sorted.length : Number.NaN,
  };
}

/** Formats a number for a table: a few significant digits, `–` for NaN. */
export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

/** `a / b` as "1.8×", `–` when either side is missing. */
export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '–';
  return `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}×`;
}

/**
 * Latencies in 0.5 ms buckets up to a minute (and one overflow bucket), so a long soak keeps
 * constant memory however many samples it takes.
 */
export class LatencyHistogram {
  private static readonly BUCKET_MS = 0.5;
  private readonly buckets = new Float64Array(120_001);
  private total = 0;
  private sum = 0;
  private low = Number.POSITIVE_INFINITY;
  private high = 0;

  add(ms: number): void {
    const index = Math.min(this.buckets.length - 1, Math.max(0, Math.floor(ms / LatencyHistogram.BUCKET_MS)));
    this.buckets[index] = (this.buckets[index] ?? 0) + 1;
    this.total++;
    this.sum += ms;
    this.low = Math.min(this.low, ms);
    this.high = Math.max(this.high, ms);
  }

  get count(): number {
    return this.total;
  }

  /** The upper edge of the bucket holding the q-quantile (0..1). */
  quantile(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let index = 0; index < this.buckets.length; index++) {
      seen += this.buckets[index] ?? 0;
      if (seen >= rank) {
        // The last bucket is open-ended: its only honest bound is the largest sample.
        if (index === this.buckets.length - 1) return this.high;
        return Math.min(this.high, (index + 1) * LatencyHistogram.BUCKET_MS);
      }
    }
    return this.high;
  }

  summary(): LatencySummary {
    return {
      count: this.total,
      min: this.total ? this.low : Number.NaN,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      max: this.total ? this.high : Number.NaN,
      mean: this.total ? this.sum / this.total : Number.NaN,
    };
  }

  reset(): void {
    this.buckets.fill(0);
    this.total = 0;
    this.sum = 0;
    this.low = Number.POSITIVE_INFINITY;
    this.high = 0;
  }
}
