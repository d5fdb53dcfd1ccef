import { describe, expect, it } from 'vitest';
import { ForbiddenError, IdentityMismatchError } from '#core/domain/errors';
import type { Subscription, TypingThrottle } from '#core/ports';
import { identityForFrame } from '#core/use-cases/guest-identity';
import { postRoomMessage } from '#core/use-cases/post-room-message';
import { markRoomRead } from '#core/use-cases/read-positions';
import { sendTyping, TYPING_INTERVAL_MS } from '#core/use-cases/typing';
import {
  connection,
  fakeConnections,
  fakeEvents,
  fakeNotifier,
  fakeReadPositions,
  fakeRooms,
  fakeSubscriptions,
} from '../../../../helpers/fakes.js';

const expiresAt = Math.floor(Date.now() / 1000) + 3600;
const sub = (topic: string, connectionId: string, userId: string): Subscription => ({
  topic,
  connectionId,
  userId,
  userName: userId,
  expiresAt,
});

/** The connection item's `typingAt`, as the store keeps it. */
function memoryThrottle(): TypingThrottle {
  const last = new Map<string, number>();
  return {
    async allowTyping(connectionId, nowMs, intervalMs) {
      const at = last.get(connectionId);
      if (at !== undefined && at > nowMs - intervalMs) return false;
      last.set(connectionId, nowMs);
      return true;
    },
  };
}

function typingDeps(subscriptions: Subscription[], maxMembers = 10) {
  const notifier = fakeNotifier();
  const events = fakeEvents();
  const store = fakeSubscriptions(subscriptions);
  return {
    notifier,
    events,
    deps: {
      subscriptions: store,
      rooms: fakeRooms(),
      conversations: { participants: async (id: string) => (id === 'c1' ? ['alice', 'bob'] : undefined) },
      throttle: memoryThrottle(),
      events,
      direct: {
        subscriptions: store,
        notifier,
        messages: { advanceStatus: async () => false },
        onGone: async () => {},
        maxMembers,
        concurrency: 4,
      },
    },
  };
}

const alice = { userId: 'alice', userName: 'Alice' };
const room = [
  sub('room#general', 'a1', 'alice'),
  sub('room#general', 'a2', 'alice'),
  sub('room#general', 'b1', 'bob'),
  sub('room#general', 'b2', 'bob'),
  sub('room#general', 'c1', 'carol'),
];

describe('sendTyping', () => {
  it('posts to every connection of the other members, none of the sender’s, and stores nothing', async () => {
    const { deps, notifier, events } = typingDeps(room);
    expect(await sendTyping({ connectionId: 'a1', identity: alice, room: 'general', nowMs: 1_000 }, deps)).toEqual({
      sent: true,
    });
    expect(notifier.posts.map((post) => post.connectionId).sort()).toEqual(['b1', 'b2', 'c1']);
    expect(notifier.posts[0]?.frame).toEqual({
      type: 'typing',
      room: 'general',
      userId: 'alice',
      userName: 'Alice',
      expiresInMs: 5000,
    });
    expect(events.deliveries).toEqual([]);
  });

  it('drops frames inside the throttle window silently, per connection', async () => {
    const { deps, notifier } = typingDeps(room);
    await sendTyping({ connectionId: 'a1', identity: alice, room: 'general', nowMs: 1_000 }, deps);
    const dropped = await sendTyping(
      { connectionId: 'a1', identity: alice, room: 'general', nowMs: 1_000 + TYPING_INTERVAL_MS - 1 },
      deps,
    );
    expect(dropped).toEqual({ sent: false });
    expect(notifier.posts).toHaveLength(3);
    await sendTyping({ connectionId: 'a1', identity: alice, room: 'general', nowMs: 1_000 + TYPING_INTERVAL_MS }, deps);
    expect(notifier.posts).toHaveLength(6);
  });

  it('refuses a room this connection is not in, before touching the throttle', async () => {
    const { deps, notifier } = typingDeps(room);
    await expect(
      sendTyping({ connectionId: 'x1', identity: { userId: 'x', userName: 'x' }, room: 'general' }, deps),
    ).rejects.toBeInstanceOf(ForbiddenError);
    expect(notifier.posts).toEqual([]);
  });

  it('goes to the other participant of a conversation, and refuses outsiders', async () => {
    const { deps, notifier } = typingDeps([sub('user#bob', 'b1', 'bob'), sub('user#alice', 'a1', 'alice')]);
    await sendTyping({ connectionId: 'a1', identity: alice, conversationId: 'c1' }, deps);
    expect(notifier.posts.map((post) => post.connectionId)).toEqual(['b1']);
    await expect(
      sendTyping({ connectionId: 'm1', identity: { userId: 'mallory', userName: 'm' }, conversationId: 'c1' }, deps),
    ).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('hands a room bigger than the direct path to the state machine', async () => {
    const { deps, notifier, events } = typingDeps(room, 2);
    await sendTyping({ connectionId: 'a1', identity: alice, room: 'general' }, deps);
    expect(notifier.posts).toEqual([]);
    expect(events.deliveries.map((delivery) => delivery.topic)).toEqual(['room#general']);
  });
});

describe('markRoomRead', () => {
  function readDeps(latestSeq: number, readSeq = 0) {
    const positions = { latestSeq, readSeq };
    const events = fakeEvents();
    return {
      positions,
      events,
      deps: {
        subscriptions: fakeSubscriptions([sub('room#general', 'a1', 'alice')]),
        rooms: fakeRooms(),
        messages: {
          findById: async (id: string) =>
            id === 'm-5'
              ? {
                  room: 'general',
                  sk: 's',
                  messageId: 'm-5',
                  userId: 'bob',
                  userName: 'bob',
                  content: 'x',
                  timestamp: 't',
                  kind: 'room' as const,
                  seq: 5,
                }
              : undefined,
        },
        readPositions: {
          positions: async (_userId: string, rooms: string[]) => new Map(rooms.map((r) => [r, { ...positions }])),
          advance: async (_userId: string, _room: string, seq: number) => {
            positions.readSeq = Math.max(positions.readSeq, seq);
            return positions.readSeq;
          },
        },
        events,
      },
    };
  }

  it('moves the read position to a message, never past the newest, and tells all the user’s connections', async () => {
    const { deps, events, positions } = readDeps(8);
    const frame = await markRoomRead(
      { connectionId: 'a1', identity: alice, room: 'general', upToMessageId: 'm-5' },
      deps,
    );
    expect(frame).toEqual({ type: 'read', room: 'general', readSeq: 5, unread: 3 });
    expect(events.deliveries).toEqual([{ topic: 'user#alice', frame }]);
    const capped = await markRoomRead({ connectionId: 'a1', identity: alice, room: 'general', upToSeq: 99 }, deps);
    expect(capped).toMatchObject({ readSeq: 8, unread: 0 });
    expect(positions.readSeq).toBe(8);
  });

  it('never moves back, and announces nothing when nothing moved', async () => {
    const { deps, events } = readDeps(8, 6);
    const frame = await markRoomRead({ connectionId: 'a1', identity: alice, room: 'general', upToSeq: 2 }, deps);
    expect(frame).toMatchObject({ readSeq: 6, unread: 2 });
    expect(events.deliveries).toEqual([]);
  });

  it('refuses a room the connection is not in', async () => {
    const { deps } = readDeps(8);
    await expect(
      markRoomRead({ connectionId: 'z9', identity: alice, room: 'general', upToSeq: 1 }, deps),
    ).rejects.toBeInstanceOf(ForbiddenError);
  });
});

describe('identityForFrame (demo-mode guests)', () => {
  function guestDeps() {
    const connections = fakeConnections([{ ...connection('g1', 'guest-1'), guest: true }]);
    const claims = {
      async claimGuest(connectionId: string, guestUserId: string, identity: { userId: string; userName: string }) {
        const record = connections.records.get(connectionId);
        if (!record?.guest || record.userId !== guestUserId) return undefined;
        const renamed = { ...record, ...identity };
        connections.records.set(connectionId, renamed);
        return renamed;
      },
    };
    const subscriptions = fakeSubscriptions([
      sub('user#guest-1', 'g1', 'guest-1'),
      sub('room#general', 'g1', 'guest-1'),
    ]);
    const events = fakeEvents();
    return {
      connections,
      subscriptions,
      events,
      deps: { connections: Object.assign(connections, claims), subscriptions, events },
    };
  }
  const guest = { userId: 'guest-1', userName: 'guest-1' };

  it('takes the first user_id, moves the subscriptions and announces the new name', async () => {
    const { deps, subscriptions, events } = guestDeps();
    const identity = await identityForFrame(
      { connectionId: 'g1', identity: guest, guest: true, claimedUserId: 'test-user-1' },
      deps,
    );
    expect(identity).toEqual({ userId: 'test-user-1', userName: 'test-user-1' });
    expect(subscriptions.items.map((s) => `${s.topic}:${s.userId}`).sort()).toEqual([
      'room#general:test-user-1',
      'user#test-user-1:test-user-1',
    ]);
    expect(events.deliveries.map((d) => `${d.frame.event}:${d.frame.userId}`)).toEqual([
      'left:guest-1',
      'offline:guest-1',
      'joined:test-user-1',
      'online:test-user-1',
    ]);
    // Later frames keep that identity, so another user_id is refused by the use case as for anyone.
    const later = await identityForFrame(
      { connectionId: 'g1', identity: guest, guest: true, claimedUserId: 'other' },
      deps,
    );
    expect(later.userId).toBe('test-user-1');
    await expect(
      postRoomMessage(
        { identity: later, room: 'general', content: 'x', claimedUserId: 'other' },
        { messages: {} as never, events: fakeEvents(), retentionDays: 1, readPositions: fakeReadPositions() },
      ),
    ).rejects.toBeInstanceOf(IdentityMismatchError);
  });

  it('never renames a connection the authorizer did not mark a guest', async () => {
    const { deps, subscriptions } = guestDeps();
    const identity = await identityForFrame(
      { connectionId: 'g1', identity: guest, guest: false, claimedUserId: 'test-user-1' },
      deps,
    );
    expect(identity).toEqual(guest);
    expect(subscriptions.items.every((s) => s.userId === 'guest-1')).toBe(true);
  });
});
