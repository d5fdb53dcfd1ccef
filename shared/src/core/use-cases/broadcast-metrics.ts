import type { Frame } from '#protocol/server-frames';
import { forEachConcurrently } from '../concurrency.js';
import { topics } from '../domain/room.js';
import type { ConnectionNotifier, SubscriptionStore } from '../ports.js';

/** Seed 003's update entry. */
export interface MetricsUpdate {
  eventType: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** Epoch ms of the change (the stream record's approximate creation time). */
  timestamp: number;
  data: Record<string, unknown>;
}

export interface BroadcastMetricsDeps {
  subscriptions: SubscriptionStore;
  notifier: ConnectionNotifier;
  onGone: (connectionId: string) => Promise<void>;
  nowSeconds: number;
}

export interface BroadcastMetricsResult {
  connections: number;
  delivered: number;
  gone: number;
  failed: number;
}

/** The topics a metrics item is published on: its entity type and its entity id. */
export function metricsTopicsOf(data: Record<string, unknown>): string[] {
  const found: string[] = [];
  if (typeof data.entity_type === 'string') found.push(topics.metricsType(data.entity_type));
  if (typeof data.entity_id === 'string') found.push(topics.metricsEntity(data.entity_id));
  return found;
}

/**
 * A batch of 100 items can name ~100 distinct entity topics. Queried one after another they took a
 * stream batch 0.6–2.3 s locally, and later batches of the shard waited behind it.
 */
export const TOPIC_QUERY_CONCURRENCY = 16;
/** Frames in flight at once, as PostToConnectionsFunction does (the SDK's agent keeps 50 sockets). */
export const METRICS_POST_CONCURRENCY = 32;

/**
 * Sends each subscriber one METRICS_UPDATE frame holding every update of the batch it asked for
 * (seed 003's shape), finding subscribers by one Query per distinct topic instead of scanning
 * connections.
 */
export async function broadcastMetrics(
  updates: MetricsUpdate[],
  deps: BroadcastMetricsDeps,
): Promise<BroadcastMetricsResult> {
  const topicsByUpdate = updates.map((update) => metricsTopicsOf(update.data));
  const subscribersByTopic = new Map<string, string[]>();
  await forEachConcurrently([...new Set(topicsByUpdate.flat())], TOPIC_QUERY_CONCURRENCY, async (topic) => {
    const subscribers = await deps.subscriptions.liveSubscribers(topic, deps.nowSeconds);
    subscribersByTopic.set(
      topic,
      subscribers.map((subscriber) => subscriber.connectionId),
    );
  });
  const updatesByConnection = new Map<string, MetricsUpdate[]>();
  updates.forEach((update, index) => {
    const recipients = new Set((topicsByUpdate[index] ?? []).flatMap((topic) => subscribersByTopic.get(topic) ?? []));
    for (const connectionId of recipients) {
      const list = updatesByConnection.get(connectionId) ?? [];
      list.push(update);
      updatesByConnection.set(connectionId, list);
    }
  });
  const result: BroadcastMetricsResult = { connections: updatesByConnection.size, delivered: 0, gone: 0, failed: 0 };
  await forEachConcurrently([...updatesByConnection], METRICS_POST_CONCURRENCY, async ([connectionId, list]) => {
    const frame: Frame = { type: 'METRICS_UPDATE', updates: list };
    const outcome = await deps.notifier.post(connectionId, frame);
    result[outcome]++;
    if (outcome === 'gone') await deps.onGone(connectionId);
  });
  return result;
}
