import { presenceFrame } from '#protocol/server-frames';
import { roomFromTopic, topics } from '../domain/room.js';
import { epochSeconds } from '../domain/time.js';
import type { Delivery } from '../events/delivery.js';
import { presenceChanged } from '../events/presence-changed.js';
import type { ConnectionStore, DistributionPublisher, SubscriptionStore } from '../ports.js';

export interface CloseConnectionDeps {
  connections: ConnectionStore;
  subscriptions: SubscriptionStore;
  events: DistributionPublisher;
}

/**
 * A connection ended: $disconnect, or a 410 found while posting to it. Primary course:
 * 1. Delete exactly this connection and its subscriptions (never anyone else's).
 * 2. Tell its rooms it left, and that its user went offline when this was their last live connection.
 * Safe to run twice: the second run finds nothing and announces nothing.
 */
export async function closeConnection(connectionId: string, deps: CloseConnectionDeps): Promise<{ removed: boolean }> {
  const record = await deps.connections.remove(connectionId);
  const removedSubscriptions = await deps.subscriptions.removeAllFor(connectionId);
  if (!record) return { removed: false };

  const user = { userId: record.userId, userName: record.userName };
  const rooms = removedSubscriptions.map((s) => roomFromTopic(s.topic)).filter((room): room is string => !!room);
  if (rooms.length === 0) return { removed: true };

  const stillOnline = (await deps.connections.liveConnectionsOf(record.userId, epochSeconds())).length > 0;
  const deliveries: Delivery[] = [];
  for (const room of rooms) {
    deliveries.push({ topic: topics.room(room), frame: presenceFrame('left', room, user) });
    if (!stillOnline) deliveries.push({ topic: topics.room(room), frame: presenceFrame('offline', room, user) });
  }
  await deps.events.distribute(presenceChanged.detailType, deliveries);
  return { removed: true };
}

/**
 * API Gateway answers 410 to posts made while a connection's $connect is still running (up to
 * its 29 s integration timeout). A fan-out that reaches a brand-new connection must not delete
 * it; a genuinely dead one is removed by a later 410, its $disconnect, or TTL.
 */
export const CONNECTING_GRACE_MS = 30_000;

/**
 * A post to this connection answered 410 Gone. Primary course: remove exactly that connection
 * (see closeConnection), unless it opened so recently that it may still be connecting.
 */
export async function dropGoneConnection(
  connectionId: string,
  deps: CloseConnectionDeps,
  nowMs: number = Date.now(),
): Promise<{ removed: boolean }> {
  const record = await deps.connections.get(connectionId, epochSeconds(nowMs));
  if (record && nowMs - record.connectedAt < CONNECTING_GRACE_MS) return { removed: false };
  return closeConnection(connectionId, deps);
}
