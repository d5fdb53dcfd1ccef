import { describe, expect, it } from 'vitest';
import { allOrFirstError, forEachConcurrently } from '#core/concurrency';

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

describe('allOrFirstError', () => {
  it('rejects with the first failure only once every task has settled', async () => {
    let slowDone = false;
    const slow = new Promise<void>((resolve) =>
      setTimeout(() => {
        slowDone = true;
        resolve();
      }, 20),
    );
    await expect(allOrFirstError([Promise.reject(new Error('first')), slow, undefined])).rejects.toThrow('first');
    expect(slowDone).toBe(true);
  });

  it('resolves when every task does (absent ones included)', async () => {
    await expect(allOrFirstError([Promise.resolve(1), undefined])).resolves.toBeUndefined();
  });
});
