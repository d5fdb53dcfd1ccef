import { describe, expect, it } from 'vitest';
import { createPresenceReader } from '#aws/adapters/presence-reader';
import type { MessageStore, Subscription } from '#core/ports';
import { joinRoom, listRooms } from '#core/use-cases/membership';
import { startSession } from '#core/use-cases/start-session';
import { joinedFrameSchema, welcomeFrameSchema } from '#protocol/server-frames';
import {
  connection,
  fakeConnections,
  fakeEvents,
  fakeNotifier,
  fakeRooms,
  fakeSubscriptions,
} from '../../../../helpers/fakes.js';

const expiresAt = Math.floor(Date.now() / 1000) + 600;
const member = (room: string, index: number, connectionId = `${room}-c${index}`): Subscription => ({
  topic: `room#${room}`,
  connectionId,
  userId: `${room}-u${String(index).padStart(4, '0')}`,
  userName: `${room} user ${index}`,
  expiresAt,
});
const members = (room: string, count: number) => Array.from({ length: count }, (_, index) => member(room, index));

const alice = { userId: 'alice', userName: 'Alice' };
const context = { connectionId: 'alice-c', identity: alice, connectedAt: Date.now() };
const opened = { version: 1 as const, connectionId: 'alice-c', ...alice, connectedAt: context.connectedAt };

function deps(subscriptions: Subscription[]) {
  const store = fakeSubscriptions(subscriptions);
  return { subscriptions: store, events: fakeEvents(), presence: createPresenceReader(store), rooms: fakeRooms() };
}

describe('joinRoom: the joined frame', () => {
  it('lists everyone in a small room, alice included, with no onlineTruncated', async () => {
    const frame = await joinRoom(context, 'small', deps([member('small', 1), member('small', 1, 'second-tab')]));
    expect(joinedFrameSchema.parse(frame)).toEqual({
      type: 'joined',
      room: 'small',
      online: [alice, { userId: 'small-u0001', userName: 'small user 1' }],
    });
  });

  it('is whole at exactly 100 users (alice is the 100th)', async () => {
    const frame = await joinRoom(context, 'full', deps(members('full', 99)));
    expect(frame.online).toHaveLength(100);
    expect(frame).not.toHaveProperty('onlineTruncated');
  });

  it('caps a 1,000-member room at 100 users, says so, and reads one page', async () => {
    const world = deps(members('big', 1000));
    const frame = joinedFrameSchema.parse(await joinRoom(context, 'big', world));
    expect(frame.online).toHaveLength(100);
    expect(frame.onlineTruncated).toBe(true);
    expect(world.subscriptions.pagedReads).toEqual({ pages: 1, items: 125 });
    expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThan(10_000);
  });
});

describe('listRooms', () => {
  it('counts every user of a big room, not the capped sample', async () => {
    const world = deps([...members('big', 1000), member('big', 5, 'second-tab')]);
    await joinRoom(context, 'big', world);
    const rooms = await listRooms('alice', {
      ...world,
      connections: fakeConnections([connection('alice-c', 'alice')]),
    });
    expect(rooms.rooms).toEqual([{ room: 'big', members: 1001 }]);
  });
});

describe('startSession: the welcome frame', () => {
  it('caps each room separately and marks only the cut ones', async () => {
    const world = deps([...members('big', 250), ...members('small', 3)]);
    const notifier = fakeNotifier();
    const messages = { pendingFor: async () => [] } as unknown as MessageStore;
    await startSession(
      { ...opened, rooms: ['big', 'small'] },
      { ...world, connections: fakeConnections([connection('alice-c', 'alice')]), messages, notifier },
    );
    const welcome = welcomeFrameSchema.parse(notifier.posts[0]?.frame);
    expect(welcome.online.big).toHaveLength(100);
    expect(welcome.online.small).toHaveLength(3);
    expect(welcome.onlineTruncated).toEqual({ big: true });
    expect(world.subscriptions.pagedReads).toEqual({ pages: 2, items: 128 });
  });

  it('has no onlineTruncated when no room was cut', async () => {
    const notifier = fakeNotifier();
    await startSession(
      { ...opened, rooms: ['small'] },
      {
        ...deps(members('small', 3)),
        connections: fakeConnections([connection('alice-c', 'alice')]),
        messages: { pendingFor: async () => [] } as unknown as MessageStore,
        notifier,
      },
    );
    expect(notifier.posts[0]?.frame).not.toHaveProperty('onlineTruncated');
  });
});
