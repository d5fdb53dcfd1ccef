import { describe, expect, it } from 'vitest';
import { forEachConcurrently } from '#core/concurrency';

describe('forEachConcurrently', () => {
  it('runs every item once, never more than the limit at a time, starting them in order', async () => {
    const started: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    await forEachConcurrently([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      started.push(item);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    });
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(maxInFlight).toBe(3);
  });

  it('does nothing for no items and rejects when a task fails', async () => {
    await expect(forEachConcurrently([], 4, async () => {})).resolves.toBeUndefined();
    await expect(
      forEachConcurrently([1, 2], 1, async (item) => {
        if (item === 1) throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
  });
});
