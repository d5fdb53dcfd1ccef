import { describe, expect, it } from 'vitest';
import type { Subscription } from '#core/ports';
import { broadcastMetrics, type MetricsUpdate, TOPIC_QUERY_CONCURRENCY } from '#core/use-cases/broadcast-metrics';
import { fakeNotifier, fakeSubscriptions } from '../../../../helpers/fakes.js';

const now = 1_000;
const subscription = (topic: string, connectionId: string): Subscription => ({
  topic,
  connectionId,
  userId: connectionId,
  userName: connectionId,
  expiresAt: now + 60,
});
const update = (entityId: string, entityType = 'stream'): MetricsUpdate => ({
  eventType: 'MODIFY',
  timestamp: 1,
  data: { entity_id: entityId, entity_type: entityType },
});

/** The fake store, with each Query held for a tick so overlapping Queries can be counted. */
function countingSubscriptions(items: Subscription[]) {
  const store = fakeSubscriptions(items);
  const queried: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    queried,
    maxInFlight: () => maxInFlight,
    store: {
      ...store,
      async liveSubscribers(topic: string, nowSeconds: number) {
        queried.push(topic);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return store.liveSubscribers(topic, nowSeconds);
      },
    },
  };
}

describe('broadcastMetrics', () => {
  it('queries each distinct topic once, several at a time, and sends each subscriber one frame', async () => {
    const updates = Array.from({ length: 100 }, (_, index) => update(`e${index}`));
    const subscriptions = countingSubscriptions([
      subscription('metrics#type#stream', 'dashboard'),
      subscription('metrics#id#e7', 'watcher'),
    ]);
    const notifier = fakeNotifier();

    const result = await broadcastMetrics(updates, {
      subscriptions: subscriptions.store,
      notifier,
      onGone: async () => {},
      nowSeconds: now,
    });

    // 100 entity topics and one type topic, each read once.
    expect(subscriptions.queried).toHaveLength(101);
    expect(new Set(subscriptions.queried).size).toBe(101);
    expect(subscriptions.maxInFlight()).toBe(TOPIC_QUERY_CONCURRENCY);
    expect(result).toEqual({ connections: 2, delivered: 2, gone: 0, failed: 0 });
    const frameFor = (connectionId: string) => notifier.posts.find((post) => post.connectionId === connectionId)?.frame;
    // Every update of the batch, in stream order, for the type subscriber; only its entity for the other.
    expect(frameFor('dashboard')).toEqual({ type: 'METRICS_UPDATE', updates });
    expect(frameFor('watcher')).toEqual({ type: 'METRICS_UPDATE', updates: [updates[7]] });
  });

  it('sends a subscriber of both an item and its type that item once', async () => {
    const subscriptions = countingSubscriptions([
      subscription('metrics#type#stream', 'both'),
      subscription('metrics#id#e1', 'both'),
    ]);
    const notifier = fakeNotifier({ gone: 'gone' });
    const updates = [update('e1'), update('e2')];

    await broadcastMetrics(updates, {
      subscriptions: subscriptions.store,
      notifier,
      onGone: async () => {},
      nowSeconds: now,
    });

    expect(notifier.posts).toEqual([{ connectionId: 'both', frame: { type: 'METRICS_UPDATE', updates } }]);
  });

  it('drops a subscriber that answered 410 and counts it', async () => {
    const subscriptions = countingSubscriptions([subscription('metrics#type#stream', 'stale')]);
    const gone: string[] = [];
    const result = await broadcastMetrics([update('e1')], {
      subscriptions: subscriptions.store,
      notifier: fakeNotifier({ stale: 'gone' }),
      onGone: async (connectionId) => {
        gone.push(connectionId);
      },
      nowSeconds: now,
    });
    expect(result).toEqual({ connections: 1, delivered: 0, gone: 1, failed: 0 });
    expect(gone).toEqual(['stale']);
  });
});
