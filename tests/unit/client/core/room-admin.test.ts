import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient, type ChatEvent, type ChatRest, permissionsOf } from '#client-core/chat-client';
import { FakeWebSocket } from '../../../helpers/fake-websocket.js';

const PRIV = 'priv_3q2-7wEjRCqEzmFM8xkVfA';

/** Lets the coalesced change event and awaited callbacks run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

function harness(rooms: string[] = ['general']) {
  const store = new Map<string, string>([['switchboard.rooms.alice', JSON.stringify(rooms)]]);
  const rest: ChatRest = {
    roomHistory: async (room) => ({ room, messages: [] }),
    roomPresence: async (room) => ({ room, online: [] }),
    conversations: async () => ({ conversations: [] }),
    conversationHistory: async (conversationId) => ({ conversationId, messages: [] }),
  };
  const client = new ChatClient({
    me: { userId: 'alice', userName: 'Alice' },
    rest,
    storage: { getItem: (key) => store.get(key) ?? null, setItem: (key, value) => store.set(key, value) },
    WebSocket: FakeWebSocket,
    webSocketUrl: (list) => `ws://test/?room=${list.join(',')}`,
    newMessageId: () => 'id',
    backoff: { baseMs: 1_000, maxMs: 1_000 },
  });
  const events: ChatEvent[] = [];
  client.subscribe((event) => events.push(event));
  const receive = async (frame: object) => {
    FakeWebSocket.latest.receive(frame);
    await settle();
  };
  return {
    client,
    store,
    events,
    receive,
    async connect() {
      client.start();
      await vi.advanceTimersByTimeAsync(1_000);
      FakeWebSocket.latest.open();
      await receive({
        type: 'welcome',
        connectionId: 'conn',
        user: { userId: 'alice', userName: 'Alice' },
        rooms,
        online: {},
        pending: 0,
      });
    },
    sent: (action: string) => FakeWebSocket.latest.frames().filter((frame) => frame.action === action),
    roomNames: () => client.snapshot().rooms.map((thread) => thread.name),
    notices: () => events.flatMap((event) => (event.type === 'notice' ? [event] : [])),
  };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('private rooms in the chat client', () => {
  it('creates a private room, then joins it and selects it once the server confirms the join', async () => {
    const h = harness();
    await h.connect();
    expect(h.client.rooms.createPrivate('  Launch plans ')).toBe(true);
    expect(h.sent('createRoom')).toEqual([{ action: 'createRoom', visibility: 'private', title: 'Launch plans' }]);
    await h.receive({ type: 'roomCreated', room: PRIV, visibility: 'private', title: 'Launch plans', role: 'owner' });
    expect(h.sent('joinRoom')).toEqual([{ action: 'joinRoom', room: PRIV }]);
    // Never optimistic: the room appears with the server's `joined`.
    expect(h.roomNames()).toEqual(['general']);
    await h.receive({ type: 'joined', room: PRIV, online: [] });
    expect(h.roomNames()).toEqual(['general', PRIV]);
    expect(h.client.snapshot().activeKey).toBe(`room:${PRIV}`);
    expect(h.client.snapshot().roomInfo(PRIV)).toMatchObject({
      visibility: 'private',
      title: 'Launch plans',
      role: 'owner',
    });
  });

  it('enters a room it was invited to without leaving the room on screen', async () => {
    const h = harness();
    await h.connect();
    await h.receive({ type: 'invited', room: PRIV, visibility: 'private', title: 'Launch plans', by: 'bob' });
    expect(h.sent('joinRoom')).toEqual([{ action: 'joinRoom', room: PRIV }]);
    await h.receive({ type: 'joined', room: PRIV, online: [] });
    expect(h.roomNames()).toEqual(['general', PRIV]);
    expect(h.client.snapshot().activeKey).toBe('room:general');
    expect(h.client.snapshot().roomInfo(PRIV)?.role).toBe('member');
  });

  it('drops a room on `removed`, says why, and shows another room if it was on screen', async () => {
    const h = harness(['general', PRIV]);
    await h.connect();
    await h.receive({
      type: 'rooms',
      rooms: [{ room: PRIV, members: 1, visibility: 'private', role: 'member', title: 'Plans' }],
    });
    h.client.selectThread(`room:${PRIV}`);
    await h.receive({ type: 'removed', room: PRIV, reason: 'kicked' });
    expect(h.roomNames()).toEqual(['general']);
    expect(h.client.snapshot().activeKey).toBe('room:general');
    expect(h.notices()).toEqual([
      { type: 'notice', code: 'kicked', message: '“Plans”: you were removed from the room.' },
    ]);
    expect(h.client.snapshot().lastError).toBe('kicked: “Plans”: you were removed from the room.');
    expect(h.client.snapshot().roomInfo(PRIV)).toBeUndefined();
    // Forgotten for the next run too.
    expect(JSON.parse(h.store.get('switchboard.rooms.alice') ?? '[]')).toEqual(['general']);
  });

  it('says when a ban ends, and announces a deleted room once although the reply follows the removal', async () => {
    const h = harness(['general', PRIV, 'random']);
    await h.connect();
    await h.receive({ type: 'removed', room: PRIV, reason: 'banned', until: '2026-12-04T10:00:00.000Z' });
    await h.receive({ type: 'removed', room: 'random', reason: 'deleted' });
    await h.receive({ type: 'roomDeleted', room: 'random' });
    expect(h.roomNames()).toEqual(['general']);
    expect(h.notices().map((notice) => notice.message)).toEqual([
      `#${PRIV}: you were banned from the room until 2026-12-04T10:00:00.000Z.`,
      '#random: the room was deleted.',
    ]);
  });

  it('asks listRooms after a reload that remembers a private room by id only, and shows its title and role', async () => {
    const h = harness(['general', PRIV]);
    await h.connect();
    expect(h.sent('listRooms')).toEqual([{ action: 'listRooms' }]);
    await h.receive({
      type: 'rooms',
      rooms: [
        { room: 'general', members: 2 },
        { room: PRIV, members: 1, visibility: 'private', role: 'moderator', title: 'Plans' },
      ],
    });
    expect(h.client.snapshot().roomInfo('general')).toBeUndefined();
    expect(h.client.snapshot().roomInfo(PRIV)).toMatchObject({ title: 'Plans', role: 'moderator' });
  });

  it('does not ask listRooms when no private room is unknown', async () => {
    const h = harness(['general']);
    await h.connect();
    expect(h.sent('listRooms')).toEqual([]);
  });

  it('sends the admin frames for a room, and keeps the roles its replies report', async () => {
    const h = harness();
    await h.connect();
    await h.receive({ type: 'roomCreated', room: PRIV, visibility: 'private', title: 'Plans', role: 'owner' });
    const admin = h.client.rooms;
    expect(admin.invite(PRIV, ' bob ')).toBe(true);
    expect(admin.invite(PRIV, '  ')).toBe(false);
    admin.kick(PRIV, 'bob');
    admin.ban(PRIV, 'mallory', 90);
    admin.ban(PRIV, 'mallory');
    admin.unban(PRIV, 'mallory');
    admin.setRole(PRIV, 'bob', 'moderator');
    admin.quit(PRIV);
    admin.deleteRoom(PRIV);
    const frames = FakeWebSocket.latest.frames().filter((frame) => frame.room === PRIV && frame.action !== 'joinRoom');
    expect(frames).toEqual([
      { action: 'inviteMember', room: PRIV, userId: 'bob' },
      { action: 'kickMember', room: PRIV, userId: 'bob' },
      { action: 'banMember', room: PRIV, userId: 'mallory', durationSeconds: 5400 },
      { action: 'banMember', room: PRIV, userId: 'mallory' },
      { action: 'unbanMember', room: PRIV, userId: 'mallory' },
      { action: 'setRole', room: PRIV, userId: 'bob', role: 'moderator' },
      { action: 'quitRoom', room: PRIV },
      { action: 'deleteRoom', room: PRIV },
    ]);
    await h.receive({ type: 'roomMember', room: PRIV, userId: 'bob', change: 'invited', role: 'member' });
    await h.receive({ type: 'roomMember', room: PRIV, userId: 'bob', change: 'role', role: 'moderator' });
    await h.receive({ type: 'roomMember', room: PRIV, userId: 'carol', change: 'invited', role: 'member' });
    await h.receive({ type: 'roomMember', room: PRIV, userId: 'carol', change: 'kicked' });
    expect(Object.fromEntries(h.client.snapshot().roomInfo(PRIV)?.roles ?? [])).toEqual({
      alice: 'owner',
      bob: 'moderator',
    });
    expect([...(h.client.snapshot().roomInfo(PRIV)?.removed ?? [])]).toEqual(['carol']);
    await h.receive({ type: 'roomMember', room: PRIV, userId: 'carol', change: 'invited', role: 'member' });
    expect(h.client.snapshot().roomInfo(PRIV)?.removed.size).toBe(0);
  });

  it('asks for the member list on entering a created room, and after a reload once listRooms names it', async () => {
    const h = harness();
    await h.connect();
    await h.receive({ type: 'roomCreated', room: PRIV, visibility: 'private', title: 'Plans', role: 'owner' });
    expect(h.sent('listMembers')).toEqual([]);
    await h.receive({ type: 'joined', room: PRIV, online: [] });
    expect(h.sent('listMembers')).toEqual([{ action: 'listMembers', room: PRIV }]);
    // Not for an open room nobody created.
    await h.receive({ type: 'joined', room: 'random', online: [] });
    expect(h.sent('listMembers')).toHaveLength(1);

    const reloaded = harness(['general', PRIV]);
    await reloaded.connect();
    await reloaded.receive({ type: 'joined', room: PRIV, online: [] });
    expect(reloaded.sent('listMembers')).toEqual([]);
    await reloaded.receive({
      type: 'rooms',
      rooms: [{ room: PRIV, members: 3, visibility: 'private', role: 'member', title: 'Plans' }],
    });
    expect(reloaded.sent('listMembers')).toEqual([{ action: 'listMembers', room: PRIV }]);
  });

  it('takes the member list whole (offline members too), and follows a role change pushed to it', async () => {
    const h = harness(['general', PRIV]);
    await h.connect();
    await h.receive({
      type: 'rooms',
      rooms: [{ room: PRIV, members: 1, visibility: 'private', role: 'member', title: 'Plans' }],
    });
    await h.receive({ type: 'roomMember', room: PRIV, userId: 'carol', change: 'kicked' });
    await h.receive({
      type: 'members',
      room: PRIV,
      members: [
        { userId: 'bob', role: 'owner', since: '2026-12-01T00:00:00.000Z' },
        { userId: 'alice', role: 'member', since: '2026-12-02T00:00:00.000Z' },
        { userId: 'carol', role: 'member', since: '2026-12-03T00:00:00.000Z' },
      ],
    });
    const info = h.client.snapshot().roomInfo(PRIV);
    expect(Object.fromEntries(info?.roles ?? [])).toEqual({ bob: 'owner', alice: 'member', carol: 'member' });
    expect(info?.removed.size).toBe(0);
    expect(permissionsOf(info?.role ?? 'member').invite).toBe(false);

    await h.receive({ type: 'roomMember', room: PRIV, userId: 'alice', change: 'role', role: 'moderator' });
    expect(h.client.snapshot().roomInfo(PRIV)?.role).toBe('moderator');
  });

  it('says so instead of sending when offline', async () => {
    const h = harness();
    expect(h.client.rooms.createPrivate('Plans')).toBe(false);
    expect(h.notices()).toEqual([
      { type: 'notice', code: 'offline', message: 'Not connected: create the room once the connection is back.' },
    ]);
  });
});

describe('permissionsOf', () => {
  it('gives each role only what the server allows it', () => {
    expect(permissionsOf('owner')).toEqual({ invite: true, remove: true, setRole: true, deleteRoom: true });
    expect(permissionsOf('moderator')).toEqual({ invite: true, remove: true, setRole: false, deleteRoom: false });
    expect(permissionsOf('member')).toEqual({ invite: false, remove: false, setRole: false, deleteRoom: false });
    expect(permissionsOf(undefined)).toEqual({ invite: false, remove: false, setRole: false, deleteRoom: false });
  });
});
