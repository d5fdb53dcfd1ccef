import type { Frame } from '#protocol/server-frames';
import { topics } from '../domain/room.js';
import { connectionExpiry } from '../domain/time.js';
import type { SubscriptionStore } from '../ports.js';
import type { ConnectionContext } from './membership.js';

export interface MetricsSelector {
  entity_type?: string;
  entity_id?: string;
}

function topicsFor(selector: MetricsSelector): string[] {
  const list: string[] = [];
  if (selector.entity_type) list.push(topics.metricsType(selector.entity_type));
  if (selector.entity_id) list.push(topics.metricsEntity(selector.entity_id));
  return list;
}

/** subscribe: this connection receives METRICS_UPDATE frames for the selected entities. */
export async function subscribeToMetrics(
  context: ConnectionContext,
  selector: MetricsSelector,
  deps: { subscriptions: SubscriptionStore },
): Promise<Frame> {
  const { userId, userName } = context.identity;
  const expiresAt = connectionExpiry(context.connectedAt);
  const list = topicsFor(selector);
  await deps.subscriptions.subscribe(
    list.map((topic) => ({ topic, connectionId: context.connectionId, userId, userName, expiresAt })),
  );
  return { type: 'subscribed', ...selector };
}

/** unsubscribe: stop the selected feeds for this connection. */
export async function unsubscribeFromMetrics(
  context: ConnectionContext,
  selector: MetricsSelector,
  deps: { subscriptions: SubscriptionStore },
): Promise<Frame> {
  for (const topic of topicsFor(selector)) await deps.subscriptions.unsubscribe(topic, context.connectionId);
  return { type: 'unsubscribed', ...selector };
}
