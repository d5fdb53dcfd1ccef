import type { Identity } from '../domain/identity.js';
import { topics } from '../domain/room.js';
import { connectionExpiry } from '../domain/time.js';
import { type ConnectionOpenedDetail, connectionOpened } from '../events/connection-opened.js';
import type { ConnectionStore, EventPublisher, SubscriptionStore } from '../ports.js';
import { accessibleRooms, type RoomAccessDeps } from './membership.js';

export interface OpenConnectionInput {
  connectionId: string;
  identity: Identity;
  rooms: string[];
  connectedAt: number;
  sourceIp?: string;
  userAgent?: string;
  /** Demo mode, no identity given: the first message may name it (guest-identity.ts). */
  guest?: boolean;
}

export interface OpenConnectionDeps extends RoomAccessDeps {
  connections: ConnectionStore;
  subscriptions: SubscriptionStore;
  events: EventPublisher;
}

/**
 * $connect. Primary course:
 * 1. Record the connection with the identity the authorizer fixed, expiring with API Gateway's 2 h cap.
 * 2. Subscribe it to its user inbox and the starting rooms the room-access policy lets it into; the
 *    others (a private room it is not in, a room it is banned from) are dropped without a word.
 * 3. Announce it; the welcome frame is sent from that event because posting during $connect fails.
 */
export async function openConnection(input: OpenConnectionInput, deps: OpenConnectionDeps): Promise<void> {
  const expiresAt = connectionExpiry(input.connectedAt);
  const { userId, userName } = input.identity;
  await deps.connections.put({
    connectionId: input.connectionId,
    userId,
    userName,
    connectedAt: input.connectedAt,
    expiresAt,
    sourceIp: input.sourceIp,
    userAgent: input.userAgent,
    ...(input.guest ? { guest: true } : {}),
  });
  const rooms = await accessibleRooms(input.rooms, userId, deps);
  const topicList = [topics.user(userId), ...rooms.map(topics.room)];
  await deps.subscriptions.subscribe(
    topicList.map((topic) => ({ topic, connectionId: input.connectionId, userId, userName, expiresAt })),
  );
  const detail: ConnectionOpenedDetail = {
    version: 1,
    connectionId: input.connectionId,
    userId,
    userName,
    rooms,
    connectedAt: input.connectedAt,
  };
  await deps.events.publish(connectionOpened.detailType, detail);
}
