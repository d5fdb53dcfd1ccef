import { describe, expect, it } from 'vitest';
import { deliverBatch } from '#core/use-cases/deliver-batch';
import { fakeNotifier } from '../../../../helpers/fakes.js';

const frame = { type: 'message', messageId: 'm1' };

function deps(outcomes: Record<string, 'delivered' | 'gone' | 'failed'> = {}) {
  const gone: string[] = [];
  const failed: string[][] = [];
  const receipts: unknown[] = [];
  const notifier = fakeNotifier(outcomes);
  return {
    notifier,
    gone,
    failed,
    receipts,
    deps: {
      notifier,
      messages: {
        advanceStatus: async (key: { room: string; sk: string }) => {
          receipts.push(key);
          return true;
        },
      },
      onGone: async (connectionId: string) => {
        gone.push(connectionId);
      },
      onFailed: async (ids: string[]) => {
        failed.push(ids);
      },
      concurrency: 3,
    },
  };
}

describe('deliverBatch', () => {
  it('posts exactly once to each connection, even when the batch repeats one', async () => {
    const t = deps();
    const result = await deliverBatch({ frame, connectionIds: ['a', 'b', 'a', 'c'] }, t.deps);
    expect(t.notifier.posts.map((p) => p.connectionId).sort()).toEqual(['a', 'b', 'c']);
    expect(result).toEqual({ delivered: 3, gone: 0, failed: 0 });
  });

  it('drops only the connection that answered 410 and still delivers to the rest', async () => {
    const t = deps({ b: 'gone' });
    const result = await deliverBatch({ frame, connectionIds: ['a', 'b', 'c'] }, t.deps);
    expect(t.gone).toEqual(['b']);
    expect(result).toEqual({ delivered: 2, gone: 1, failed: 0 });
  });

  it('records connections that still failed after the SDK retries, and reports them', async () => {
    const t = deps({ a: 'failed', c: 'failed' });
    const result = await deliverBatch({ frame, connectionIds: ['a', 'b', 'c'] }, t.deps);
    expect(t.failed).toEqual([['a', 'c']]);
    expect(result.failed).toBe(2);
  });

  it('marks a direct message delivered only when some connection received it', async () => {
    const receipt = { room: 'dm#c1', sk: 't#m1' };
    const none = deps({ a: 'gone' });
    await deliverBatch({ frame, connectionIds: ['a'], receipt }, none.deps);
    expect(none.receipts).toEqual([]);
    const some = deps();
    await deliverBatch({ frame, connectionIds: ['a'], receipt }, some.deps);
    expect(some.receipts).toEqual([receipt]);
  });

  it('never runs more posts at once than its concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const notifier = {
      post: async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return 'delivered' as const;
      },
    };
    const t = deps();
    await deliverBatch(
      { frame, connectionIds: Array.from({ length: 20 }, (_, i) => `c${i}`) },
      { ...t.deps, notifier },
    );
    expect(peak).toBe(3);
  });
});
