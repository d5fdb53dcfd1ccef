import { describe, expect, it } from 'vitest';
import { fmt, LatencyHistogram, quantile, ratio, summarize } from '../../../../bench/lib/stats.js';

describe('quantile', () => {
  it('uses the nearest rank, so every value reported is a real sample', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(quantile(sorted, 0.5)).toBe(5);
    expect(quantile(sorted, 0.95)).toBe(10);
    expect(quantile(sorted, 0.99)).toBe(10);
    expect(quantile(sorted, 0)).toBe(1);
  });

  it('is NaN for no samples', () => {
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('summarize', () => {
  it('sorts a copy and reports the usual percentiles', () => {
    const samples = [9, 1, 5, 3, 7];
    const summary = summarize(samples);
    expect(summary).toEqual({ count: 5, min: 1, p50: 5, p95: 9, p99: 9, max: 9, mean: 5 });
    expect(samples).toEqual([9, 1, 5, 3, 7]);
  });

  it('gives count 0 and NaN for an empty set', () => {
    const summary = summarize([]);
    expect(summary.count).toBe(0);
    expect(summary.p50).toBeNaN();
    expect(summary.mean).toBeNaN();
  });
});

describe('LatencyHistogram', () => {
  it('answers quantiles within one 0.5 ms bucket of the exact ones', () => {
    const histogram = new LatencyHistogram();
    const samples = Array.from({ length: 1000 }, (_, index) => index / 10);
    for (const sample of samples) histogram.add(sample);
    const exact = summarize(samples);
    const approximate = histogram.summary();
    expect(approximate.count).toBe(1000);
    expect(Math.abs(approximate.p50 - exact.p50)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(approximate.p99 - exact.p99)).toBeLessThanOrEqual(0.5);
    expect(approximate.min).toBe(0);
    expect(approximate.max).toBeCloseTo(99.9);
  });

  it('keeps samples beyond a minute in the last bucket and reports the true maximum', () => {
    const histogram = new LatencyHistogram();
    histogram.add(90_000);
    expect(histogram.quantile(0.5)).toBe(90_000);
    expect(histogram.summary().max).toBe(90_000);
  });

  it('starts over after reset', () => {
    const histogram = new LatencyHistogram();
    histogram.add(5);
    histogram.reset();
    expect(histogram.count).toBe(0);
    expect(histogram.quantile(0.5)).toBeNaN();
  });
});

describe('formatting', () => {
  it('prints a dash for missing numbers and groups thousands', () => {
    expect(fmt(Number.NaN)).toBe('–');
    expect(fmt(12_345.6)).toBe('12,346');
    expect(fmt(1.234, 2)).toBe('1.23');
  });

  it('prints ratios with one decimal below 10 and none above', () => {
    expect(ratio(3, 2)).toBe('1.5×');
    expect(ratio(250, 2)).toBe('125×');
    expect(ratio(1, 0)).toBe('–');
  });
});
