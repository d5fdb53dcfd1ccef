import {
  type JoinedFrame,
  ONLINE_LIST_LIMIT,
  type OnlineUser,
  presenceFrame,
  type RoomsFrame,
} from '#protocol/server-frames';
import { ForbiddenError, NotFoundError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import { isPrivateRoomId, type RoomRole, roomFromTopic, topics } from '../domain/room.js';
import { connectionExpiry, epochSeconds } from '../domain/time.js';
import { presenceChanged } from '../events/presence-changed.js';
import type { ConnectionStore, DistributionPublisher, PresenceReader, RoomStore, SubscriptionStore } from '../ports.js';

/**
 * The one answer for a private room the caller may not see and for a room that does not exist, on
 * every entry point (WebSocket and REST), so an answer never tells whether a private id exists.
 */
export const ROOM_NOT_FOUND = 'room not found';

export const roomNotFound = () => new NotFoundError(ROOM_NOT_FOUND);

export interface RoomAccessDeps {
  rooms: Pick<RoomStore, 'standing'>;
}

/**
 * The room-access policy, the single check every room entry point makes (join, send, history and
 * resume, presence, unread, typing, markRead, reactions, edits, attachments, $connect's rooms=):
 * - a private room (server-assigned `priv_` id): members only; anyone else, banned or not, gets
 *   exactly the not-found answer a missing room gets;
 * - a public room: anyone without a ban in force (ForbiddenError, with the expiry if it has one).
 * One BatchGetItem (the member and ban items). Returns the caller's role, if any.
 */
export async function requireRoomAccess(
  room: string,
  userId: string,
  deps: RoomAccessDeps,
): Promise<RoomRole | undefined> {
  const { role, ban } = await deps.rooms.standing(room, userId, epochSeconds());
  if (isPrivateRoomId(room)) {
    if (!role) throw roomNotFound();
    return role;
  }
  if (ban) {
    const until = ban.expiresAt === undefined ? '' : ` until ${new Date(ban.expiresAt * 1000).toISOString()}`;
    throw new ForbiddenError(`you are banned from this room${until}`);
  }
  return role;
}

/** The policy as a yes/no, for lists that silently leave out what the user may not see. */
export async function canAccessRoom(room: string, userId: string, deps: RoomAccessDeps): Promise<boolean> {
  try {
    await requireRoomAccess(room, userId, deps);
    return true;
  } catch (error) {
    if (error instanceof NotFoundError || error instanceof ForbiddenError) return false;
    throw error;
  }
}

export interface MembershipDeps extends RoomAccessDeps {
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

export interface JoinedCheckDeps extends RoomAccessDeps {
  subscriptions: Pick<SubscriptionStore, 'topicsOf'>;
}

/**
 * Refuses unless this connection has joined `room`: the check typing, markRead and reactions make
 * before acting in a room. Only joinRoom (which runs requireRoomAccess) subscribes, and kicks, bans
 * and deletes remove the subscriptions, so a live subscription implies access. Without one the
 * access policy answers first (not_found for a private room the user is not in, whether it exists
 * or not), then ForbiddenError with `refusal`.
 */
export async function requireJoined(
  connection: { connectionId: string; userId: string },
  room: string,
  deps: JoinedCheckDeps,
  refusal: string,
): Promise<void> {
  if ((await deps.subscriptions.topicsOf(connection.connectionId)).includes(topics.room(room))) return;
  await requireRoomAccess(room, connection.userId, deps);
  throw new ForbiddenError(refusal);
}

/**
 * joinRoom: check the room-access policy, subscribe this connection, tell the room, and return who is
 * online there (up to ONLINE_LIST_LIMIT).
 */
export async function joinRoom(context: ConnectionContext, room: string, deps: MembershipDeps): Promise<JoinedFrame> {
  const { userId, userName } = context.identity;
  await requireRoomAccess(room, userId, deps);
  await deps.subscriptions.subscribe([
    {
      topic: topics.room(room),
      connectionId: context.connectionId,
      userId,
      userName,
      expiresAt: connectionExpiry(context.connectedAt),
    },
  ]);
  // A kick or ban that ran between the check and the subscribe deleted the user's subscriptions
  // before this one existed: check again, so the new subscription cannot outlive the removal.
  try {
    await requireRoomAccess(room, userId, deps);
  } catch (error) {
    await deps.subscriptions.unsubscribe(topics.room(room), context.connectionId);
    throw error;
  }
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
  rooms: Pick<RoomStore, 'roomsOf'>;
}

/**
 * The rooms any of a user's live connections is in, and the rooms they are a member of (private ones
 * included: one Query on the member index), with how many users are online in each.
 */
export async function listRooms(userId: string, deps: ListRoomsDeps): Promise<RoomsFrame> {
  const now = epochSeconds();
  const rooms = new Set<string>();
  for (const connection of await deps.connections.liveConnectionsOf(userId, now)) {
    for (const topic of await deps.subscriptions.topicsOf(connection.connectionId)) {
      const room = roomFromTopic(topic);
      if (room) rooms.add(room);
    }
  }
  const memberships = new Map((await deps.rooms.roomsOf(userId)).map((member) => [member.room, member]));
  for (const room of memberships.keys()) rooms.add(room);
  const sorted = [...rooms].sort();
  // Counts need every user, so this reads whole rooms rather than the capped sample joins use.
  const counts = await Promise.all(sorted.map((room) => deps.presence.onlineIn(room, now)));
  return {
    type: 'rooms',
    rooms: sorted.map((room, index) => {
      const member = memberships.get(room);
      return {
        room,
        members: (counts[index] as OnlineUser[]).length,
        ...(member
          ? { visibility: member.visibility, role: member.role, ...(member.title ? { title: member.title } : {}) }
          : {}),
      };
    }),
  };
}

export interface StartingRoomsDeps extends RoomAccessDeps {}

/** $connect's rooms=: the ones the user may enter; the rest are silently dropped (never named back). */
export async function accessibleRooms(rooms: string[], userId: string, deps: StartingRoomsDeps): Promise<string[]> {
  const allowed = await Promise.all(rooms.map((room) => canAccessRoom(room, userId, deps)));
  return rooms.filter((_room, index) => allowed[index]);
}

/** GET /rooms/{room}/presence: everyone online in a room the viewer may enter. */
export async function roomPresence(
  viewerId: string,
  room: string,
  deps: RoomAccessDeps & { presence: Pick<PresenceReader, 'onlineIn'> },
): Promise<OnlineUser[]> {
  await requireRoomAccess(room, viewerId, deps);
  return deps.presence.onlineIn(room, epochSeconds());
}
