import { presenceFrame } from '../domain/frames.js';
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
