import { describe, expect, it } from 'vitest';
import { createPresenceReader } from '#aws/adapters/presence-reader';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '#core/domain/errors';
import type { ChatMessage } from '#core/domain/message';
import { PRIVATE_ROOM_PREFIX, roomNameSchema, topics } from '#core/domain/room';
import type { Subscription } from '#core/ports';
import {
  accessibleRooms,
  joinRoom,
  ROOM_NOT_FOUND,
  requireJoined,
  requireRoomAccess,
} from '#core/use-cases/membership';
import {
  banMember,
  createRoom,
  deleteRoom,
  inviteMember,
  kickMember,
  listMembers,
  quitRoom,
  setRole,
} from '#core/use-cases/room-admin';
import {
  connection,
  fakeConnections,
  fakeEvents,
  fakeNotifier,
  fakeRooms,
  fakeSubscriptions,
} from '../../../../helpers/fakes.js';

const alice = { userId: 'alice', userName: 'Alice' };
const bob = { userId: 'bob', userName: 'Bob' };
const expiresAt = Math.floor(Date.now() / 1000) + 3600;
/** What was pushed besides the invitations. */
const removals = (w: { notifier: ReturnType<typeof fakeNotifier> }) =>
  w.notifier.posts.filter((post) => post.frame.type === 'removed');

const sub = (room: string, connectionId: string, userId: string): Subscription => ({
  topic: topics.room(room),
  connectionId,
  userId,
  userName: userId,
  expiresAt,
});

function world(subscriptions: Subscription[] = [], roomsWithHistory: string[] = []) {
  const rooms = fakeRooms();
  const messages = {
    history: async (room: string) => ({
      messages: roomsWithHistory
        .filter((name) => name === room)
        .map(
          (name): ChatMessage => ({
            room: name,
            sk: `2026-12-03T00:00:00.000Z#m-${name}`,
            messageId: `m-${name}`,
            userId: 'carol',
            userName: 'carol',
            content: 'hi',
            timestamp: '2026-12-03T00:00:00.000Z',
            kind: 'room',
          }),
        ),
    }),
  };
  const subs = fakeSubscriptions(subscriptions);
  const notifier = fakeNotifier();
  const events = fakeEvents();
  const connections = fakeConnections([
    connection('a1', 'alice'),
    connection('b-phone', 'bob'),
    connection('b-laptop', 'bob'),
    connection('c1', 'carol'),
  ]);
  return { rooms, subscriptions: subs, notifier, events, connections, messages };
}

async function privateRoom(w: ReturnType<typeof world>, ...members: string[]) {
  const { room } = await createRoom({ identity: alice, visibility: 'private', title: 'Secret' }, w);
  for (const userId of members) await inviteMember({ identity: alice, room, userId }, w);
  return room;
}

describe('the room-access policy', () => {
  it('answers a private room a user is not in exactly like one that does not exist', async () => {
    const w = world();
    const room = await privateRoom(w, 'bob');
    const made = `${PRIVATE_ROOM_PREFIX}${'A'.repeat(22)}`;
    for (const target of [room, made]) {
      const refusal = await requireRoomAccess(target, 'mallory', w).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(NotFoundError);
      expect((refusal as Error).message).toBe(ROOM_NOT_FOUND);
    }
    expect(await requireRoomAccess(room, 'bob', w)).toBe('member');
    expect(await requireRoomAccess(room, 'alice', w)).toBe('owner');
  });

  it('lets anyone into a public room unless a ban is in force; an expired ban no longer counts', async () => {
    const w = world();
    expect(await requireRoomAccess('square', 'mallory', w)).toBeUndefined();
    w.rooms.bans.push({ room: 'square', userId: 'mallory', bannedBy: 'alice', expiresAt: expiresAt });
    await expect(requireRoomAccess('square', 'mallory', w)).rejects.toThrow(/banned from this room until 20/);
    w.rooms.bans[0] = { room: 'square', userId: 'mallory', bannedBy: 'alice', expiresAt: 1 };
    expect(await requireRoomAccess('square', 'mallory', w)).toBeUndefined();
  });

  it("$connect's rooms= keeps only the rooms the user may enter, in order", async () => {
    const w = world();
    const room = await privateRoom(w, 'bob');
    expect(await accessibleRooms(['lobby', room, 'games'], 'mallory', w)).toEqual(['lobby', 'games']);
    expect(await accessibleRooms(['lobby', room], 'bob', w)).toEqual(['lobby', room]);
  });

  it('requireJoined asks the policy before saying "join first", so it never confirms a private room', async () => {
    const w = world();
    const room = await privateRoom(w, 'bob');
    const asMallory = requireJoined({ connectionId: 'm1', userId: 'mallory' }, room, w, 'join first');
    await expect(asMallory).rejects.toBeInstanceOf(NotFoundError);
    const asBob = requireJoined({ connectionId: 'b-phone', userId: 'bob' }, room, w, 'join first');
    await expect(asBob).rejects.toThrow(new ForbiddenError('join first'));
  });

  it('joinRoom subscribes members only; a refused join leaves no subscription', async () => {
    const w = world();
    const room = await privateRoom(w);
    const deps = { ...w, presence: createPresenceReader(w.subscriptions) };
    const context = { connectionId: 'm1', identity: { userId: 'mallory', userName: 'M' }, connectedAt: Date.now() };
    await expect(joinRoom(context, room, deps)).rejects.toBeInstanceOf(NotFoundError);
    expect(w.subscriptions.items).toEqual([]);
    expect(w.events.deliveries).toEqual([]);
  });
});

describe('createRoom', () => {
  it('gives a private room an unguessable id that is a valid room name', async () => {
    const w = world();
    const first = await createRoom({ identity: alice, visibility: 'private' }, w);
    const second = await createRoom({ identity: alice, visibility: 'private' }, w);
    expect(first.room).toMatch(/^priv_[A-Za-z0-9_-]{22}$/);
    expect(roomNameSchema.safeParse(first.room).success).toBe(true);
    expect(second.room).not.toBe(first.room);
    expect(await w.rooms.roleIn(first.room, 'alice')).toBe('owner');
  });

  it('refuses a public name with the private prefix, and a public name created already', async () => {
    const w = world();
    await expect(
      createRoom({ identity: alice, visibility: 'public', room: `${PRIVATE_ROOM_PREFIX}x` }, w),
    ).rejects.toBeInstanceOf(ValidationError);
    await createRoom({ identity: alice, visibility: 'public', room: 'square' }, w);
    await expect(createRoom({ identity: bob, visibility: 'public', room: 'square' }, w)).rejects.toBeInstanceOf(
      ConflictError,
    );
  });

  it('refuses to claim a public room people already use (history or live members): its owner could ban them', async () => {
    const w = world([sub('lobby', 'c1', 'carol')], ['archive']);
    for (const room of ['lobby', 'archive']) {
      await expect(createRoom({ identity: alice, visibility: 'public', room }, w)).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect(await w.rooms.roleIn(room, 'alice')).toBeUndefined();
    }
    expect((await createRoom({ identity: alice, visibility: 'public', room: 'fresh' }, w)).role).toBe('owner');
  });
});

describe('removals reach every device before the reply', () => {
  it('kick: both of bob’s connections lose the subscription and get `removed`; others keep theirs', async () => {
    const w = world();
    const room = await privateRoom(w, 'bob', 'carol');
    w.subscriptions.items.push(sub(room, 'a1', 'alice'), sub(room, 'b-phone', 'bob'), sub(room, 'b-laptop', 'bob'));
    w.subscriptions.items.push(sub('lobby', 'b-phone', 'bob'));
    await kickMember({ identity: alice, room, userId: 'bob' }, w);
    expect(w.subscriptions.items.map((s) => `${s.topic} ${s.connectionId}`).sort()).toEqual(
      [`${topics.room(room)} a1`, 'room#lobby b-phone'].sort(),
    );
    expect(
      removals(w)
        .map((p) => p.connectionId)
        .sort(),
    ).toEqual(['b-laptop', 'b-phone']);
    expect(removals(w)[0]?.frame).toEqual({ type: 'removed', room, reason: 'kicked' });
    expect(await w.rooms.roleIn(room, 'bob')).toBeUndefined();
    expect(w.events.deliveries).toEqual([
      { topic: topics.room(room), frame: expect.objectContaining({ type: 'presence', event: 'left', userId: 'bob' }) },
    ]);
  });

  it('ban: records the expiry, removes the member, and blocks a re-invite until lifted', async () => {
    const w = world();
    const room = await privateRoom(w, 'bob');
    const reply = await banMember({ identity: alice, room, userId: 'bob', durationSeconds: 600 }, w);
    expect(reply.change).toBe('banned');
    expect(w.rooms.bans[0]?.expiresAt).toBeGreaterThan(Date.now() / 1000 + 590);
    expect(removals(w)[0]?.frame).toMatchObject({ type: 'removed', room, reason: 'banned' });
    await expect(inviteMember({ identity: alice, room, userId: 'bob' }, w)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(requireRoomAccess(room, 'bob', w)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('deleteRoom: every membership and subscription goes, every subscriber and member is told', async () => {
    const w = world();
    const room = await privateRoom(w, 'bob', 'carol');
    w.subscriptions.items.push(sub(room, 'a1', 'alice'), sub(room, 'b-phone', 'bob'));
    await deleteRoom({ identity: alice, room }, w);
    expect(w.subscriptions.items).toEqual([]);
    expect(w.rooms.memberships).toEqual([]);
    expect(
      removals(w)
        .map((p) => p.connectionId)
        .sort(),
    ).toEqual(['a1', 'b-laptop', 'b-phone', 'c1']);
    await expect(requireRoomAccess(room, 'alice', w)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('role rules', () => {
  it('nobody changes their own role; only owners change roles', async () => {
    const w = world();
    const room = await privateRoom(w, 'bob', 'carol');
    await expect(setRole({ identity: bob, room, userId: 'bob', role: 'owner' }, w)).rejects.toThrow(
      'nobody can change their own role',
    );
    await expect(setRole({ identity: bob, room, userId: 'carol', role: 'moderator' }, w)).rejects.toThrow(
      'only owners can change roles',
    );
    await expect(setRole({ identity: alice, room, userId: 'alice', role: 'member' }, w)).rejects.toThrow(
      'nobody can change their own role',
    );
    expect(await w.rooms.roleIn(room, 'bob')).toBe('member');
  });

  it('moderators invite and remove members, never owners or other moderators; members do neither', async () => {
    const w = world();
    const room = await privateRoom(w, 'bob', 'carol', 'dave');
    await expect(inviteMember({ identity: bob, room, userId: 'erin' }, w)).rejects.toBeInstanceOf(ForbiddenError);
    await setRole({ identity: alice, room, userId: 'bob', role: 'moderator' }, w);
    await setRole({ identity: alice, room, userId: 'carol', role: 'moderator' }, w);
    await inviteMember({ identity: bob, room, userId: 'erin' }, w);
    await expect(kickMember({ identity: bob, room, userId: 'alice' }, w)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(kickMember({ identity: bob, room, userId: 'carol' }, w)).rejects.toBeInstanceOf(ForbiddenError);
    await kickMember({ identity: bob, room, userId: 'dave' }, w);
    expect((await w.rooms.members(room)).map((m) => `${m.userId}:${m.role}`).sort()).toEqual([
      'alice:owner',
      'bob:moderator',
      'carol:moderator',
      'erin:member',
    ]);
  });

  it('a non-member acting on a private room gets not_found, whatever the action', async () => {
    const w = world();
    const room = await privateRoom(w, 'bob');
    const mallory = { userId: 'mallory', userName: 'M' };
    for (const attempt of [
      inviteMember({ identity: mallory, room, userId: 'x' }, w),
      kickMember({ identity: mallory, room, userId: 'bob' }, w),
      setRole({ identity: mallory, room, userId: 'bob', role: 'owner' }, w),
      deleteRoom({ identity: mallory, room }, w),
      quitRoom({ identity: mallory, room }, w),
    ]) {
      await expect(attempt).rejects.toThrow(new NotFoundError(ROOM_NOT_FOUND));
    }
  });

  it('a role change reaches every device of the user it changes, so their controls follow it', async () => {
    const w = world();
    const room = await privateRoom(w, 'bob');
    const reply = await setRole({ identity: alice, room, userId: 'bob', role: 'moderator' }, w);
    const pushed = w.notifier.posts.filter((post) => post.frame.type === 'roomMember');
    expect(pushed.map((post) => post.connectionId).sort()).toEqual(['b-laptop', 'b-phone']);
    for (const post of pushed) expect(post.frame).toEqual(reply);
    expect(reply).toMatchObject({ change: 'role', userId: 'bob', role: 'moderator' });
  });

  it('listMembers: members see everyone with roles, owners first; a non-member gets not_found', async () => {
    const w = world();
    const room = await privateRoom(w, 'bob', 'carol');
    await setRole({ identity: alice, room, userId: 'carol', role: 'moderator' }, w);
    const list = await listMembers({ identity: bob, room }, w);
    expect(list.members.map((m) => `${m.userId}:${m.role}`)).toEqual(['alice:owner', 'carol:moderator', 'bob:member']);
    expect(list.truncated).toBeUndefined();
    await expect(listMembers({ identity: { userId: 'mallory', userName: 'M' }, room }, w)).rejects.toThrow(
      new NotFoundError(ROOM_NOT_FOUND),
    );
  });

  it('the last owner cannot quit; with a second owner they can, on every device', async () => {
    const w = world();
    const room = await privateRoom(w, 'bob');
    await expect(quitRoom({ identity: alice, room }, w)).rejects.toThrow(
      'the last owner cannot leave: delete the room or make someone else owner first',
    );
    await setRole({ identity: alice, room, userId: 'bob', role: 'owner' }, w);
    await quitRoom({ identity: alice, room }, w);
    expect(await w.rooms.roleIn(room, 'alice')).toBeUndefined();
    expect(w.notifier.posts.at(-1)).toEqual({ connectionId: 'a1', frame: { type: 'removed', room, reason: 'left' } });
  });
});
