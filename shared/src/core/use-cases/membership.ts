import {
  type JoinedFrame,
  ONLINE_LIST_LIMIT,
  type OnlineUser,
  presenceFrame,
  type RoomsFrame,
} from '#protocol/server-frames';
import { ForbiddenError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import { roomFromTopic, topics } from '../domain/room.js';
import { connectionExpiry, epochSeconds } from '../domain/time.js';
import { presenceChanged } from '../events/presence-changed.js';
import type { ConnectionStore, DistributionPublisher, PresenceReader, SubscriptionStore } from '../ports.js';

export interface MembershipDeps {
  subscriptions: SubscriptionStore;
  events: DistributionPublisher;
  presence: PresenceReader;
}

export interface ConnectionContext {
  connectionId: string;
  identity: Identity;
  /** Epoch ms from the request context: the subscription expires with the connection. */
  connectedAt: number;
}

/**
 * Refuses (ForbiddenError with `refusal`) unless this connection has joined `room`: the one check that
 * typing, markRead and reactions make before acting in a room, so room access changes in one place.
 */
export async function requireJoined(
  connectionId: string,
  room: string,
  subscriptions: Pick<SubscriptionStore, 'topicsOf'>,
  refusal: string,
): Promise<void> {
  if (!(await subscriptions.topicsOf(connectionId)).includes(topics.room(room))) throw new ForbiddenError(refusal);
}

/** joinRoom: subscribe this connection, tell the room, and return who is online there (up to ONLINE_LIST_LIMIT). */
export async function joinRoom(context: ConnectionContext, room: string, deps: MembershipDeps): Promise<JoinedFrame> {
  const { userId, userName } = context.identity;
  await deps.subscriptions.subscribe([
    {
      topic: topics.room(room),
      connectionId: context.connectionId,
      userId,
      userName,
      expiresAt: connectionExpiry(context.connectedAt),
    },
  ]);
  await deps.events.distribute(presenceChanged.detailType, [
    { topic: topics.room(room), frame: presenceFrame('joined', room, context.identity) },
  ]);
  const { users, truncated } = await deps.presence.sampleOnlineIn(room, epochSeconds(), ONLINE_LIST_LIMIT);
  return { type: 'joined', room, online: users, ...(truncated ? { onlineTruncated: true as const } : {}) };
}

/** leaveRoom: unsubscribe this connection; the room hears about it only if it was a member. */
export async function leaveRoom(
  context: ConnectionContext,
  room: string,
  deps: MembershipDeps,
): Promise<{ type: 'left'; room: string }> {
  const wasMember = await deps.subscriptions.unsubscribe(topics.room(room), context.connectionId);
  if (wasMember) {
    await deps.events.distribute(presenceChanged.detailType, [
      { topic: topics.room(room), frame: presenceFrame('left', room, context.identity) },
    ]);
  }
  return { type: 'left', room };
}

export interface ListRoomsDeps {
  connections: ConnectionStore;
  subscriptions: SubscriptionStore;
  presence: PresenceReader;
}

/** The rooms any of a user's live connections is in, with how many users are online in each. */
export async function listRooms(userId: string, deps: ListRoomsDeps): Promise<RoomsFrame> {
  const now = epochSeconds();
  const rooms = new Set<string>();
  for (const connection of await deps.connections.liveConnectionsOf(userId, now)) {
    for (const topic of await deps.subscriptions.topicsOf(connection.connectionId)) {
      const room = roomFromTopic(topic);
      if (room) rooms.add(room);
    }
  }
  const sorted = [...rooms].sort();
  // Counts need every user, so this reads whole rooms rather than the capped sample joins use.
  const counts = await Promise.all(sorted.map((room) => deps.presence.onlineIn(room, now)));
  return {
    type: 'rooms',
    rooms: sorted.map((room, index) => ({ room, members: (counts[index] as OnlineUser[]).length })),
  };
}
