import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient, type ChatEvent, type ChatRest } from '#client-core/chat-client';
import type { ConversationSummary } from '#protocol/http-bodies';
import type { DirectMessageFrame, RoomMessageFrame, WelcomeFrame } from '#protocol/server-frames';
import { FakeWebSocket } from '../../../helpers/fake-websocket.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000).toISOString();

const roomMessage = (id: string, seconds: number, room = 'general', user = 'bob'): RoomMessageFrame => ({
  type: 'message',
  action: 'message',
  messageId: id,
  room,
  user_id: user,
  userName: user === 'bob' ? 'Bob' : user,
  message: `text ${id}`,
  timestamp: at(seconds),
});

const directMessage = (id: string, seconds: number, from = 'bob', to = 'alice'): DirectMessageFrame => ({
  type: 'message',
  data: {
    messageId: id,
    conversationId: 'c1',
    senderId: from,
    senderName: from === 'bob' ? 'Bob' : 'Alice',
    recipientId: to,
    content: `dm ${id}`,
    timestamp: at(seconds),
    status: 'sent',
  },
});

const welcome = (online: WelcomeFrame['online'] = {}): WelcomeFrame => ({
  type: 'welcome',
  connectionId: 'conn',
  user: { userId: 'alice', userName: 'Alice' },
  rooms: Object.keys(online),
  online,
  pending: 0,
});

/** Lets awaited callbacks, REST promises and the coalesced change event run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

function harness(options: { rooms?: string[]; conversations?: ConversationSummary[]; visible?: boolean } = {}) {
  const store = new Map<string, string>();
  if (options.rooms) store.set('switchboard.rooms.alice', JSON.stringify(options.rooms));
  const rest = {
    roomHistory: vi.fn<ChatRest['roomHistory']>(async (room) => ({ room, messages: [] })),
    roomPresence: vi.fn<ChatRest['roomPresence']>(async (room) => ({ room, online: [] })),
    conversations: vi.fn<ChatRest['conversations']>(async () => ({ conversations: options.conversations ?? [] })),
    conversationHistory: vi.fn<ChatRest['conversationHistory']>(async (conversationId) => ({
      conversationId,
      messages: [],
    })),
  };
  let ids = 0;
  const client = new ChatClient({
    me: { userId: 'alice', userName: 'Alice' },
    rest,
    storage: { getItem: (key) => store.get(key) ?? null, setItem: (key, value) => store.set(key, value) },
    WebSocket: FakeWebSocket,
    webSocketUrl: (rooms) => `ws://test/?room=${rooms.join(',')}`,
    newMessageId: () => `mine-${++ids}`,
    isVisible: () => options.visible ?? true,
    now: () => NOW,
    backoff: { baseMs: 1_000, maxMs: 1_000 },
  });
  const events: ChatEvent[] = [];
  client.subscribe((event) => events.push(event));
  return {
    client,
    rest,
    store,
    events,
    get socket() {
      return FakeWebSocket.latest;
    },
    /** Opens the current (or, after a drop, the next) connection and greets it. */
    async connect(online: WelcomeFrame['online'] = {}) {
      await vi.advanceTimersByTimeAsync(1_000);
      FakeWebSocket.latest.open();
      FakeWebSocket.latest.receive(welcome(online));
      await settle();
    },
    async drop() {
      FakeWebSocket.latest.serverClose(1006);
      await settle();
    },
    receive: async (frame: object) => {
      FakeWebSocket.latest.receive(frame);
      await settle();
    },
    sentBy: (socket: FakeWebSocket, action: string) => socket.frames().filter((frame) => frame.action === action),
    thread: (key: string) => {
      const thread = client
        .snapshot()
        .rooms.concat(client.snapshot().conversations)
        .find((each) => each.key === key);
      if (!thread) throw new Error(`no thread ${key}`);
      return thread;
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ChatClient', () => {
  it('connects with up to ten rooms in the URL and joins the rest once open', async () => {
    const rooms = Array.from({ length: 12 }, (_, index) => `r${index}`);
    const h = harness({ rooms });
    h.client.start();
    await h.connect();
    expect(h.socket.url).toBe(`ws://test/?room=${rooms.slice(0, 10).join(',')}`);
    expect(h.sentBy(h.socket, 'joinRoom')).toEqual([
      { action: 'joinRoom', room: 'r10' },
      { action: 'joinRoom', room: 'r11' },
    ]);
    expect(h.client.snapshot().activeKey).toBe('room:r0');
  });

  it('shows a message once however often it arrives, and counts it unread outside the active room', async () => {
    const h = harness({ rooms: ['general', 'random'] });
    h.client.start();
    await h.connect();
    await h.receive(roomMessage('b-1', 1, 'random'));
    await h.receive(roomMessage('b-1', 1, 'random'));
    await h.receive({ type: 'history', room: 'random', messages: [roomMessage('b-1', 1, 'random')], hasMore: false });
    const random = h.thread('room:random');
    expect(random.timeline.list().map((item) => item.id)).toEqual(['b-1']);
    expect(random.unread).toBe(1);
    expect(random.people.get('bob')).toEqual({ userId: 'bob', userName: 'Bob', online: false });
    expect(h.client.snapshot().unreadTotal).toBe(1);

    h.client.selectThread('room:random');
    expect(h.thread('room:random').unread).toBe(0);
    expect(h.events).toContainEqual({ type: 'thread-selected', key: 'room:random' });
  });

  it('keeps a send until its ack, re-sending it with the same messageId after each reconnect', async () => {
    const h = harness();
    h.client.start();
    await h.connect();
    await h.drop();

    // Written while offline: shown at once, sent on the next open.
    expect(h.client.send('hello')).toBe(true);
    expect(h.thread('room:general').timeline.get('mine-1')).toMatchObject({ delivery: 'pending', mine: true });
    await h.connect();
    const first = h.socket;
    expect(h.sentBy(first, 'sendMessage')).toEqual([
      { action: 'sendMessage', room: 'general', message: 'hello', messageId: 'mine-1' },
    ]);

    // Dropped before the ack: the next connection sends it again, same id, so the server stores it once.
    await h.drop();
    await h.connect();
    expect(h.socket).not.toBe(first);
    expect(h.sentBy(h.socket, 'sendMessage').map((frame) => frame.messageId)).toEqual(['mine-1']);

    await h.receive({ type: 'ack', messageId: 'mine-1', timestamp: at(5), room: 'general' });
    await h.receive({ ...roomMessage('mine-1', 5, 'general', 'alice'), message: 'hello' });
    const timeline = h.thread('room:general').timeline;
    expect(timeline.size).toBe(1);
    expect(timeline.get('mine-1')).toMatchObject({ delivery: 'sent', timestamp: at(5), text: 'hello' });

    await h.drop();
    await h.connect();
    expect(h.sentBy(h.socket, 'sendMessage')).toEqual([]);
  });

  it('resumes each room after its newest confirmed message and follows the history pages', async () => {
    const h = harness();
    h.client.start();
    await h.connect();
    await h.receive(roomMessage('b-1', 1));
    await h.receive(roomMessage('b-2', 2));
    await h.drop();
    await h.connect();
    expect(h.sentBy(h.socket, 'resume')).toEqual([
      { action: 'resume', room: 'general', lastTimestamp: at(2), lastMessageId: 'b-2', limit: 100 },
    ]);

    await h.receive({
      type: 'history',
      room: 'general',
      messages: [roomMessage('b-2', 2), roomMessage('b-3', 3)],
      hasMore: true,
      cursor: `${at(3)}#b-3`,
    });
    expect(h.sentBy(h.socket, 'resume').at(-1)).toEqual({
      action: 'resume',
      room: 'general',
      cursor: `${at(3)}#b-3`,
      limit: 100,
    });
    expect(
      h
        .thread('room:general')
        .timeline.list()
        .map((item) => item.id),
    ).toEqual(['b-1', 'b-2', 'b-3']);
  });

  it('refetches the newest REST page for a room that had no messages when the socket came back', async () => {
    const h = harness();
    h.client.start();
    await h.connect();
    const calls = h.rest.roomHistory.mock.calls.length;
    h.rest.roomHistory.mockResolvedValueOnce({ room: 'general', messages: [roomMessage('b-9', 9)] });
    await h.drop();
    await h.connect();
    expect(h.sentBy(h.socket, 'resume')).toEqual([]);
    expect(h.rest.roomHistory).toHaveBeenCalledTimes(calls + 1);
    expect(h.rest.roomHistory).toHaveBeenLastCalledWith('general', undefined);
    expect(h.thread('room:general').timeline.get('b-9')).toBeDefined();
  });

  it('marks a refused send failed and retries it under the same messageId', async () => {
    const h = harness();
    h.client.start();
    await h.connect();
    h.client.send('too fast');
    await h.receive({ type: 'error', code: 'rate_limited', message: 'slow down', messageId: 'mine-1' });
    expect(h.thread('room:general').timeline.get('mine-1')?.delivery).toBe('failed');
    expect(h.client.snapshot().lastError).toBe('rate_limited: slow down');

    h.client.retry('mine-1');
    expect(h.thread('room:general').timeline.get('mine-1')?.delivery).toBe('pending');
    expect(h.sentBy(h.socket, 'sendMessage').map((frame) => frame.messageId)).toEqual(['mine-1', 'mine-1']);
    h.client.dismissError();
    expect(h.client.snapshot().lastError).toBeUndefined();
  });

  it('keeps one thread per peer: unread while elsewhere, a read receipt once opened, status and deletion', async () => {
    const h = harness();
    h.client.start();
    await h.connect();
    await h.receive(directMessage('d-1', 1));
    await h.receive(directMessage('d-2', 2));
    let dm = h.thread('dm:bob');
    expect(dm).toMatchObject({ kind: 'dm', name: 'bob', peerName: 'Bob', conversationId: 'c1', unread: 2 });
    expect(h.sentBy(h.socket, 'markRead')).toEqual([]);

    h.client.openDirect('bob');
    await settle();
    dm = h.thread('dm:bob');
    expect(h.client.snapshot().activeKey).toBe('dm:bob');
    expect(dm.unread).toBe(0);
    expect(h.sentBy(h.socket, 'markRead')).toEqual([
      { action: 'markRead', conversationId: 'c1', upToMessageId: 'd-2' },
    ]);
    expect(dm.timeline.list().map((item) => item.delivery)).toEqual(['read', 'read']);
    expect(h.rest.conversationHistory).toHaveBeenCalledWith('c1', undefined);

    h.client.send('hi Bob');
    expect(h.sentBy(h.socket, 'sendMessage')).toEqual([
      { action: 'sendMessage', recipientId: 'bob', content: 'hi Bob', messageId: 'mine-1', conversationId: 'c1' },
    ]);
    await h.receive({ type: 'ack', messageId: 'mine-1', timestamp: at(3), conversationId: 'c1' });
    await h.receive({ type: 'status', data: { messageId: 'mine-1', conversationId: 'c1', status: 'delivered' } });
    expect(h.thread('dm:bob').timeline.get('mine-1')?.delivery).toBe('delivered');
    // Status only moves forward.
    await h.receive({ type: 'status', data: { messageId: 'mine-1', conversationId: 'c1', status: 'sent' } });
    expect(h.thread('dm:bob').timeline.get('mine-1')?.delivery).toBe('delivered');

    h.client.deleteMessage('mine-1');
    expect(h.sentBy(h.socket, 'deleteMessage')).toEqual([{ action: 'deleteMessage', messageId: 'mine-1' }]);
    await h.receive({ type: 'deleted', data: { messageId: 'mine-1', conversationId: 'c1' } });
    expect(h.thread('dm:bob').timeline.get('mine-1')).toMatchObject({ deleted: true, text: '' });
  });

  it('sends no read receipt while the chat is hidden', async () => {
    const h = harness({ visible: false });
    h.client.start();
    await h.connect();
    h.client.openDirect('bob', 'Bob');
    await h.receive(directMessage('d-1', 1));
    expect(h.sentBy(h.socket, 'markRead')).toEqual([]);
    expect(h.thread('dm:bob').unread).toBe(1);
  });

  it('learns a new conversation id from the ack of its first message', async () => {
    const h = harness();
    h.client.start();
    await h.connect();
    h.client.openDirect('carol', 'Carol');
    h.client.send('first');
    expect(h.sentBy(h.socket, 'sendMessage')[0]).not.toHaveProperty('conversationId');
    await h.receive({ type: 'ack', messageId: 'mine-1', timestamp: at(1), conversationId: 'c9' });
    expect(h.thread('dm:carol').conversationId).toBe('c9');
    h.client.send('second');
    expect(h.sentBy(h.socket, 'sendMessage')[1]).toMatchObject({ conversationId: 'c9', messageId: 'mine-2' });
  });

  it('lists the conversations from REST with their previews and unread counts', async () => {
    const h = harness({
      conversations: [
        {
          conversationId: 'c1',
          peerId: 'bob',
          peerName: 'Bob',
          lastMessage: { messageId: 'd-7', senderId: 'bob', content: 'see you', timestamp: at(7) },
          unreadCount: 3,
          updatedAt: at(7),
        },
      ],
    });
    h.client.start();
    await settle();
    expect(h.thread('dm:bob')).toMatchObject({ conversationId: 'c1', preview: 'see you', unread: 3 });
    expect(h.client.snapshot().conversations.map((thread) => thread.key)).toEqual(['dm:bob']);
  });

  it('tracks who is online, asking REST again when someone leaves', async () => {
    const h = harness();
    h.client.start();
    await h.connect({ general: [{ userId: 'bob', userName: 'Bob' }] });
    expect(h.client.snapshot().isOnline('bob')).toBe(true);

    await h.receive({
      type: 'presence',
      event: 'left',
      room: 'general',
      userId: 'bob',
      userName: 'Bob',
      timestamp: at(1),
    });
    expect(h.thread('room:general').people.get('bob')?.online).toBe(false);
    // bob may still be here through another tab: the room's presence list decides.
    h.rest.roomPresence.mockResolvedValueOnce({ room: 'general', online: [{ userId: 'bob', userName: 'Bob' }] });
    await vi.advanceTimersByTimeAsync(300);
    expect(h.rest.roomPresence).toHaveBeenCalledWith('general');
    expect(h.thread('room:general').people.get('bob')?.online).toBe(true);
  });

  it('adds a room only when the server confirms the join, and leaves it', async () => {
    const h = harness();
    h.client.start();
    await h.connect();
    h.client.joinRoom('#news');
    expect(h.sentBy(h.socket, 'joinRoom')).toEqual([{ action: 'joinRoom', room: 'news' }]);
    expect(h.client.snapshot().rooms.map((thread) => thread.name)).toEqual(['general']);

    await h.receive({ type: 'joined', room: 'news', online: [] });
    expect(h.client.snapshot().activeKey).toBe('room:news');
    expect(JSON.parse(h.store.get('switchboard.rooms.alice') ?? '[]')).toEqual(['general', 'news']);

    h.client.leaveRoom('news');
    expect(h.sentBy(h.socket, 'leaveRoom')).toEqual([{ action: 'leaveRoom', room: 'news' }]);
    await h.receive({ type: 'left', room: 'news' });
    expect(h.client.snapshot().activeKey).toBe('room:general');

    h.client.leaveRoom('general');
    expect(h.sentBy(h.socket, 'leaveRoom')).toHaveLength(1);
    expect(h.client.snapshot().lastError).toMatch(/^last_room:/);
  });

  it('starts in the rooms it is given, ahead of the ones it remembers', async () => {
    const store = new Map([['switchboard.rooms.alice', JSON.stringify(['old'])]]);
    const client = new ChatClient({
      me: { userId: 'alice', userName: 'Alice' },
      rooms: ['lobby', 'general'],
      rest: {
        roomHistory: async (room) => ({ room, messages: [] }),
        roomPresence: async (room) => ({ room, online: [] }),
        conversations: async () => ({ conversations: [] }),
        conversationHistory: async (conversationId) => ({ conversationId, messages: [] }),
      },
      storage: { getItem: (key) => store.get(key) ?? null, setItem: (key, value) => store.set(key, value) },
      WebSocket: FakeWebSocket,
      webSocketUrl: (rooms) => `ws://test/?room=${rooms.join(',')}`,
      newMessageId: () => 'id',
    });
    expect(client.snapshot().rooms.map((room) => room.name)).toEqual(['lobby', 'general']);
    expect(client.snapshot().activeKey).toBe('room:lobby');
  });

  it('answers the first history page once, however often it is asked, and pages on from its cursor', async () => {
    const h = harness();
    h.rest.roomHistory.mockImplementation(async (room, before) =>
      before
        ? { room, messages: [roomMessage('b-0', 0)] }
        : { room, messages: [roomMessage('b-2', 2), roomMessage('b-1', 1)], nextCursor: 'cursor-1' },
    );
    h.client.start();
    const first = h.client.firstPage('room:general');
    const again = h.client.loadOlder('room:general');
    const page = await first;
    expect(await again).toBe(page);
    expect(page.added.map((item) => item.id)).toEqual(['b-1', 'b-2']);
    expect(page.hasMore).toBe(true);
    expect(await h.client.firstPage('room:general')).toBe(page);
    expect(h.rest.roomHistory).toHaveBeenCalledTimes(1);

    const older = await h.client.loadOlder('room:general');
    expect(h.rest.roomHistory).toHaveBeenLastCalledWith('general', 'cursor-1');
    expect(older).toEqual({ added: [expect.objectContaining({ id: 'b-0' })], hasMore: false });
  });

  it('announces each message once, saying where it came from', async () => {
    const h = harness();
    h.rest.roomHistory.mockResolvedValue({ room: 'general', messages: [roomMessage('b-1', 1)] });
    h.client.start();
    await h.connect();
    h.client.send('mine');
    await h.receive(roomMessage('b-2', 2));
    await h.receive(roomMessage('b-2', 2));
    await h.receive({ ...roomMessage('mine-1', 3), user_id: 'alice' });
    const added = h.events.flatMap((event) => (event.type === 'message-added' ? [[event.item.id, event.origin]] : []));
    expect(added).toEqual([
      ['b-1', 'older'],
      ['mine-1', 'local'],
      ['b-2', 'live'],
    ]);
  });

  it('announces changes once per burst, through a snapshot no UI can write to', async () => {
    const h = harness();
    h.client.start();
    await h.connect();
    h.events.length = 0;
    h.socket.receive(roomMessage('b-1', 1));
    h.socket.receive(roomMessage('b-2', 2));
    h.socket.receive(roomMessage('b-3', 3));
    const changes = () => h.events.filter((event) => event.type === 'change');
    expect(changes()).toEqual([]);
    // What printing UIs follow comes at once, in order: each message, then the frame that brought it.
    expect(h.events.map((event) => event.type)).toEqual([
      'message-added',
      'frame',
      'message-added',
      'frame',
      'message-added',
      'frame',
    ]);
    await settle();
    expect(changes()).toEqual([{ type: 'change' }]);

    const snapshot = h.client.snapshot();
    const thread = snapshot.activeThread;
    if (thread) {
      // @ts-expect-error a snapshot's threads are read-only
      thread.unread = 5;
      // @ts-expect-error and so is the snapshot
      snapshot.activeKey = 'room:elsewhere';
    }
  });
});
