import {
  MEMBER_LIST_LIMIT,
  type MembersFrame,
  presenceFrame,
  type RemovedFrame,
  type RoomCreatedFrame,
  type RoomDeletedFrame,
  type RoomMemberFrame,
} from '#protocol/server-frames';
import { forEachConcurrently } from '../concurrency.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import {
  isPrivateRoomId,
  newPrivateRoomId,
  PRIVATE_ROOM_PREFIX,
  type RoomRole,
  type RoomVisibility,
  topics,
} from '../domain/room.js';
import { epochSeconds } from '../domain/time.js';
import { presenceChanged } from '../events/presence-changed.js';
import type {
  ConnectionNotifier,
  ConnectionStore,
  DistributionPublisher,
  MessageStore,
  RoomStore,
  SubscriptionStore,
} from '../ports.js';
import { requireRoomAccess, roomNotFound } from './membership.js';

/*
 * Created rooms and their members. The rules (docs/security.md, "Private rooms"):
 * - owners do everything: invite, kick, ban, unban, change roles, delete the room;
 * - moderators invite, and kick, ban and unban members (never owners or moderators);
 * - members cannot invite: in a private room that would let any member widen the audience;
 * - nobody changes their own role, and the last owner cannot quit;
 * - an actor who is not a member of a private room gets `not_found`, as for a room that does not exist.
 */

const RANK: Record<RoomRole, number> = { owner: 3, moderator: 2, member: 1 };

/** How many posts and deletes a room-wide removal runs at once. */
const EVICT_CONCURRENCY = 16;

export interface CreateRoomDeps {
  rooms: Pick<RoomStore, 'create'>;
  /** A public name already in use (history or live subscribers) cannot be claimed. */
  messages: Pick<MessageStore, 'history'>;
  subscriptions: Pick<SubscriptionStore, 'liveSubscribersUpTo'>;
}

export interface RoomAdminDeps {
  rooms: RoomStore;
  connections: Pick<ConnectionStore, 'liveConnectionsOf'>;
  subscriptions: Pick<SubscriptionStore, 'unsubscribeMany' | 'liveSubscribers'>;
  notifier: ConnectionNotifier;
  events: DistributionPublisher;
}

/** createRoom: a private room with a fresh unguessable id, or a public name claimed; the creator owns it. */
export async function createRoom(
  input: { identity: Identity; visibility: RoomVisibility; title?: string; room?: string; now?: Date },
  deps: CreateRoomDeps,
): Promise<RoomCreatedFrame> {
  const createdAt = (input.now ?? new Date()).toISOString();
  let room: string;
  if (input.visibility === 'private') {
    room = newPrivateRoomId();
  } else {
    if (input.room === undefined) throw new ValidationError('a public room needs a name (room)');
    if (isPrivateRoomId(input.room)) {
      throw new ValidationError(`room names starting with ${PRIVATE_ROOM_PREFIX} are reserved for private rooms`);
    }
    room = input.room;
    // Claiming a room people already use would hand its owner powers (bans) over them: only a new name.
    if (await publicRoomInUse(room, deps)) throw new ConflictError('that room is already in use; pick a new name');
  }
  const created = await deps.rooms.create({
    room,
    visibility: input.visibility,
    createdBy: input.identity.userId,
    createdAt,
    ...(input.title !== undefined ? { title: input.title } : {}),
  });
  if (!created) {
    // 128 random bits do not collide; only a claimed public name lands here.
    throw new ConflictError('a room with that name was created already');
  }
  return {
    type: 'roomCreated',
    room,
    visibility: input.visibility,
    role: 'owner',
    ...(input.title !== undefined ? { title: input.title } : {}),
  };
}

async function publicRoomInUse(room: string, deps: CreateRoomDeps): Promise<boolean> {
  const nowSeconds = epochSeconds();
  const [history, live] = await Promise.all([
    deps.messages.history(room, { limit: 1, nowSeconds }),
    deps.subscriptions.liveSubscribersUpTo(topics.room(room), nowSeconds, 0),
  ]);
  return history.messages.length > 0 || live === undefined;
}

/** The actor's role; a private room they are not in does not exist as far as they can tell. */
async function actorRole(room: string, userId: string, rooms: Pick<RoomStore, 'roleIn'>) {
  const role = await rooms.roleIn(room, userId);
  if (!role && isPrivateRoomId(room)) throw roomNotFound();
  return role;
}

function requireRank(role: RoomRole | undefined, needed: RoomRole, what: string): RoomRole {
  if (!role || RANK[role] < RANK[needed]) {
    throw new ForbiddenError(`only ${needed === 'owner' ? 'owners' : 'owners and moderators'} can ${what}`);
  }
  return role;
}

/** Kick and ban: owners may remove anyone but themselves, moderators only members (or, in a public room, anyone without a role). */
async function requireCanRemove(room: string, actor: Identity, targetId: string, deps: Pick<RoomAdminDeps, 'rooms'>) {
  const role = requireRank(await actorRole(room, actor.userId, deps.rooms), 'moderator', 'remove users');
  if (targetId === actor.userId) throw new ForbiddenError('you cannot remove yourself; use quitRoom to leave');
  const targetRole = await deps.rooms.roleIn(room, targetId);
  if (targetRole && targetRole !== 'member' && role !== 'owner') {
    throw new ForbiddenError('moderators can remove members only, not owners or moderators');
  }
  return targetRole;
}

/**
 * Takes a room away from one user on every device, before the caller replies: deletes each of their
 * subscriptions to it (found by a Query on the room's topic, and on the user's live connections, since
 * that index may lag), pushes `removed` to each of their connections, and tells the room they left.
 */
export async function evictUser(
  room: string,
  userId: string,
  removal: Pick<RemovedFrame, 'reason' | 'until'>,
  deps: Pick<RoomAdminDeps, 'connections' | 'subscriptions' | 'notifier' | 'events'>,
): Promise<void> {
  const now = epochSeconds();
  const topic = topics.room(room);
  const [subscribers, connections] = await Promise.all([
    deps.subscriptions.liveSubscribers(topic, now),
    deps.connections.liveConnectionsOf(userId, now),
  ]);
  const subscribed = subscribers.filter((subscription) => subscription.userId === userId);
  const connectionIds = new Set([...subscribed, ...connections].map((connection) => connection.connectionId));
  await deps.subscriptions.unsubscribeMany([...connectionIds].map((connectionId) => ({ topic, connectionId })));
  const frame: RemovedFrame = { type: 'removed', room, ...removal };
  // A gone connection (410) needs nothing more: its subscriptions are deleted above.
  await forEachConcurrently([...connectionIds], EVICT_CONCURRENCY, async (connectionId) => {
    await deps.notifier.post(connectionId, frame);
  });
  const seen = subscribed[0] ?? connections[0];
  if (subscribed.length > 0 && seen) {
    await deps.events.distribute(presenceChanged.detailType, [
      { topic, frame: presenceFrame('left', room, { userId, userName: seen.userName }) },
    ]);
  }
}

/** inviteMember (owners and moderators): adds the user as a member and tells their devices. */
export async function inviteMember(
  input: { identity: Identity; room: string; userId: string; now?: Date },
  deps: RoomAdminDeps,
): Promise<RoomMemberFrame> {
  requireRank(await actorRole(input.room, input.identity.userId, deps.rooms), 'moderator', 'invite');
  const meta = await deps.rooms.meta(input.room);
  if (!meta) throw roomNotFound();
  const outcome = await deps.rooms.addMember(
    {
      room: input.room,
      userId: input.userId,
      role: 'member',
      invitedBy: input.identity.userId,
      since: (input.now ?? new Date()).toISOString(),
      visibility: meta.visibility,
      ...(meta.title !== undefined ? { title: meta.title } : {}),
    },
    epochSeconds(),
  );
  if (outcome === 'no_room') throw roomNotFound();
  if (outcome === 'banned') throw new ForbiddenError('that user is banned from this room; unban them first');
  const reply: RoomMemberFrame = { type: 'roomMember', room: input.room, userId: input.userId, change: 'invited' };
  if (outcome === 'already_member') return { ...reply, unchanged: true };
  const frame = {
    type: 'invited' as const,
    room: input.room,
    visibility: meta.visibility,
    by: input.identity.userId,
    ...(meta.title !== undefined ? { title: meta.title } : {}),
  };
  const connections = await deps.connections.liveConnectionsOf(input.userId, epochSeconds());
  await forEachConcurrently(connections, EVICT_CONCURRENCY, async ({ connectionId }) => {
    await deps.notifier.post(connectionId, frame);
  });
  return { ...reply, role: 'member' };
}

/** kickMember: the membership goes, and the room leaves every one of the user's devices now. */
export async function kickMember(
  input: { identity: Identity; room: string; userId: string },
  deps: RoomAdminDeps,
): Promise<RoomMemberFrame> {
  await requireCanRemove(input.room, input.identity, input.userId, deps);
  const wasMember = await deps.rooms.removeMember(input.room, input.userId);
  if (!wasMember && isPrivateRoomId(input.room)) throw new NotFoundError('that user is not a member of this room');
  await evictUser(input.room, input.userId, { reason: 'kicked' }, deps);
  return { type: 'roomMember', room: input.room, userId: input.userId, change: 'kicked' };
}

/** banMember: a kick that also refuses the user's joins and invites until `durationSeconds` pass (or forever). */
export async function banMember(
  input: { identity: Identity; room: string; userId: string; durationSeconds?: number },
  deps: RoomAdminDeps,
): Promise<RoomMemberFrame> {
  await requireCanRemove(input.room, input.identity, input.userId, deps);
  const expiresAt = input.durationSeconds === undefined ? undefined : epochSeconds() + input.durationSeconds;
  await deps.rooms.ban({
    room: input.room,
    userId: input.userId,
    bannedBy: input.identity.userId,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  });
  const until = expiresAt === undefined ? undefined : new Date(expiresAt * 1000).toISOString();
  await evictUser(input.room, input.userId, { reason: 'banned', ...(until ? { until } : {}) }, deps);
  return {
    type: 'roomMember',
    room: input.room,
    userId: input.userId,
    change: 'banned',
    ...(until ? { until } : {}),
  };
}

/** unbanMember (owners and moderators): the user may be invited or join again. */
export async function unbanMember(
  input: { identity: Identity; room: string; userId: string },
  deps: Pick<RoomAdminDeps, 'rooms'>,
): Promise<RoomMemberFrame> {
  requireRank(await actorRole(input.room, input.identity.userId, deps.rooms), 'moderator', 'unban');
  if (!(await deps.rooms.unban(input.room, input.userId))) throw new NotFoundError('that user is not banned here');
  return { type: 'roomMember', room: input.room, userId: input.userId, change: 'unbanned' };
}

/** setRole (owners only, never on themselves): makes a member an owner, a moderator or a member. */
export async function setRole(
  input: { identity: Identity; room: string; userId: string; role: RoomRole },
  deps: Pick<RoomAdminDeps, 'rooms' | 'connections' | 'notifier'>,
): Promise<RoomMemberFrame> {
  const role = await actorRole(input.room, input.identity.userId, deps.rooms);
  if (input.userId === input.identity.userId) throw new ForbiddenError('nobody can change their own role');
  requireRank(role, 'owner', 'change roles');
  if (!(await deps.rooms.setRole(input.room, input.userId, input.role))) {
    throw new NotFoundError('that user is not a member of this room');
  }
  const frame: RoomMemberFrame = {
    type: 'roomMember',
    room: input.room,
    userId: input.userId,
    change: 'role',
    role: input.role,
  };
  // The user's open pages learn the new role now, so their controls match it without a reload.
  const connections = await deps.connections.liveConnectionsOf(input.userId, epochSeconds());
  await forEachConcurrently(connections, EVICT_CONCURRENCY, async ({ connectionId }) => {
    await deps.notifier.post(connectionId, frame);
  });
  return frame;
}

/**
 * listMembers: a created room's members with their roles, owners first. Who may ask is the room-access
 * policy's answer (a private room's members; anyone not banned from a public one).
 */
export async function listMembers(
  input: { identity: Identity; room: string },
  deps: Pick<RoomAdminDeps, 'rooms'>,
): Promise<MembersFrame> {
  await requireRoomAccess(input.room, input.identity.userId, deps);
  const members = (await deps.rooms.members(input.room)).sort(
    (a, b) => RANK[b.role] - RANK[a.role] || a.since.localeCompare(b.since) || a.userId.localeCompare(b.userId),
  );
  return {
    type: 'members',
    room: input.room,
    members: members.slice(0, MEMBER_LIST_LIMIT).map(({ userId, role, since }) => ({ userId, role, since })),
    ...(members.length > MEMBER_LIST_LIMIT ? { truncated: true as const } : {}),
  };
}

/** quitRoom: gives up membership on every device. The last owner must delete the room or hand it on first. */
export async function quitRoom(
  input: { identity: Identity; room: string },
  deps: RoomAdminDeps,
): Promise<RoomMemberFrame> {
  const { userId } = input.identity;
  const role = await actorRole(input.room, userId, deps.rooms);
  if (!role) throw new NotFoundError('you are not a member of this room');
  if (role === 'owner') {
    const owners = (await deps.rooms.members(input.room)).filter((member) => member.role === 'owner');
    if (owners.length <= 1) {
      throw new ForbiddenError('the last owner cannot leave: delete the room or make someone else owner first');
    }
  }
  await deps.rooms.removeMember(input.room, userId);
  await evictUser(input.room, userId, { reason: 'left' }, deps);
  return { type: 'roomMember', room: input.room, userId, change: 'left' };
}

/**
 * deleteRoom (owners): removes the room's items (a Query and BatchWriteItem), every subscription to it
 * (a Query on its topic and BatchWriteItem), and tells every subscribed connection and every member's
 * devices. A private id answers not_found from then on; a public name becomes an open room again.
 */
export async function deleteRoom(
  input: { identity: Identity; room: string },
  deps: RoomAdminDeps,
): Promise<RoomDeletedFrame> {
  requireRank(await actorRole(input.room, input.identity.userId, deps.rooms), 'owner', 'delete the room');
  const members = await deps.rooms.remove(input.room);
  const now = epochSeconds();
  const topic = topics.room(input.room);
  const subscribers = await deps.subscriptions.liveSubscribers(topic, now);
  await deps.subscriptions.unsubscribeMany(subscribers.map(({ connectionId }) => ({ topic, connectionId })));
  const connectionIds = new Set(subscribers.map((subscription) => subscription.connectionId));
  await forEachConcurrently(members, EVICT_CONCURRENCY, async (member) => {
    for (const connection of await deps.connections.liveConnectionsOf(member.userId, now)) {
      connectionIds.add(connection.connectionId);
    }
  });
  const frame: RemovedFrame = { type: 'removed', room: input.room, reason: 'deleted' };
  await forEachConcurrently([...connectionIds], EVICT_CONCURRENCY, async (connectionId) => {
    await deps.notifier.post(connectionId, frame);
  });
  return { type: 'roomDeleted', room: input.room };
}
