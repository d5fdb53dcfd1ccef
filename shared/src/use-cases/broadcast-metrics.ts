import type { Frame } from '../domain/frames.js';
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
 * Sends each subscriber one METRICS_UPDATE frame holding every update of the batch it asked for
 * (seed 003's shape), finding subscribers by Query per topic instead of scanning connections.
 */
export async function broadcastMetrics(
  updates: MetricsUpdate[],
  deps: BroadcastMetricsDeps,
): Promise<BroadcastMetricsResult> {
  const subscribersByTopic = new Map<string, string[]>();
  const updatesByConnection = new Map<string, MetricsUpdate[]>();
  for (const update of updates) {
    const recipients = new Set<string>();
    for (const topic of metricsTopicsOf(update.data)) {
      let subscribers = subscribersByTopic.get(topic);
      if (!subscribers) {
        subscribers = (await deps.subscriptions.liveSubscribers(topic, deps.nowSeconds)).map((s) => s.connectionId);
        subscribersByTopic.set(topic, subscribers);
      }
      for (const connectionId of subscribers) recipients.add(connectionId);
    }
    for (const connectionId of recipients) {
      const list = updatesByConnection.get(connectionId) ?? [];
      list.push(update);
      updatesByConnection.set(connectionId, list);
    }
  }
  const result: BroadcastMetricsResult = { connections: updatesByConnection.size, delivered: 0, gone: 0, failed: 0 };
  await Promise.all(
    [...updatesByConnection].map(async ([connectionId, connectionUpdates]) => {
      const frame: Frame = { type: 'METRICS_UPDATE', updates: connectionUpdates };
      const outcome = await deps.notifier.post(connectionId, frame);
      result[outcome]++;
      if (outcome === 'gone') await deps.onGone(connectionId);
    }),
  );
  return result;
}
