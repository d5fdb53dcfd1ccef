import { describe, expect, it } from 'vitest';
import { reconnectDelay } from '../../../../client/core/backoff.js';

const options = { baseMs: 500, maxMs: 30_000 };

describe('reconnectDelay', () => {
  it('doubles the ceiling each attempt and keeps the delay between half of it and all of it', () => {
    expect([0, 1, 2, 3].map((attempt) => reconnectDelay(attempt, options, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect([0, 1, 2, 3].map((attempt) => reconnectDelay(attempt, options, () => 1))).toEqual([500, 1000, 2000, 4000]);
  });

  it('starts from the default 0.5 s and caps at 30 s when given no options', () => {
    expect(reconnectDelay(0, undefined, () => 1)).toBe(500);
    expect(reconnectDelay(3, undefined, () => 0)).toBe(2000);
    expect(reconnectDelay(20, undefined, () => 0)).toBe(15_000);
  });

  it('never waits longer than the cap, however many attempts failed', () => {
    expect(reconnectDelay(50, options, () => 1)).toBe(30_000);
    expect(reconnectDelay(10_000, options, () => 0)).toBe(15_000);
  });

  it('spreads clients out: different random draws give different delays', () => {
    const delays = new Set([0.1, 0.5, 0.9].map((draw) => reconnectDelay(4, options, () => draw)));
    expect(delays.size).toBe(3);
  });
});
