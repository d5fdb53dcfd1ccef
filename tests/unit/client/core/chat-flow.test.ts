import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient, type ChatRest } from '#client-core/chat-client';
import { SequenceGaps } from '#client-core/sequence-gaps';
import type { ConversationSummary } from '#protocol/http-bodies';
import type { RoomMessageFrame, TypingFrame, WelcomeFrame } from '#protocol/server-frames';
import { FakeWebSocket } from '../../../helpers/fake-websocket.js';

// Typing indicators, room unread counts and seq gaps in the UI-free client.

const NOW = new Date('2026-03-01T12:00:00.000Z');

const message = (seq: number, room = 'general', user = 'bob'): RoomMessageFrame => ({
  type: 'message',
  action: 'message',
  messageId: `m-${room}-${seq}`,
  room,
  user_id: user,
  userName: user,
  message: `text ${seq}`,
  timestamp: new Date(NOW.getTime() + seq * 1000).toISOString(),
  seq,
});

const typing = (over: Partial<TypingFrame> = {}): TypingFrame => ({
  type: 'typing',
  room: 'general',
  userId: 'bob',
  userName: 'Bob',
  expiresInMs: 5000,
  ...over,
});

function harness(options: { rooms?: string[]; visible?: boolean; conversations?: ConversationSummary[] } = {}) {
  const store = new Map<string, string>();
  store.set('switchboard.rooms.alice', JSON.stringify(options.rooms ?? ['general', 'random']));
  const rest: ChatRest = {
    roomHistory: async (room) => ({
      room,
      messages: room === 'history-room' ? [message(7, room), message(6, room)] : [],
    }),
    roomPresence: async (room) => ({ room, online: [] }),
    conversations: async () => ({ conversations: options.conversations ?? [] }),
    conversationHistory: async (conversationId) => ({ conversationId, messages: [] }),
  };
  let visible = options.visible ?? true;
  const client = new ChatClient({
    me: { userId: 'alice', userName: 'Alice' },
    rest,
    storage: { getItem: (key) => store.get(key) ?? null, setItem: (key, value) => store.set(key, value) },
    WebSocket: FakeWebSocket,
    webSocketUrl: (rooms) => `ws://test/?room=${rooms.join(',')}`,
    newMessageId: () => 'mine-1',
    isVisible: () => visible,
    now: () => NOW,
    backoff: { baseMs: 1_000, maxMs: 1_000 },
  });
  const h = {
    client,
    setVisible(value: boolean) {
      visible = value;
    },
    async connect(extra: Partial<WelcomeFrame> = {}) {
      client.start();
      await vi.advanceTimersByTimeAsync(1_000);
      FakeWebSocket.latest.open();
      await h.receive({
        type: 'welcome',
        connectionId: 'c',
        user: { userId: 'alice', userName: 'Alice' },
        rooms: ['general', 'random'],
        online: {},
        pending: 0,
        ...extra,
      });
    },
    async receive(frame: object) {
      FakeWebSocket.latest.receive(frame);
      await vi.advanceTimersByTimeAsync(0);
    },
    sent: (action: string) => FakeWebSocket.latest.frames().filter((frame) => frame.action === action),
    thread: (key: string) => {
      const snapshot = client.snapshot();
      const thread = [...snapshot.rooms, ...snapshot.conversations].find((each) => each.key === key);
      if (!thread) throw new Error(`no thread ${key}`);
      return thread;
    },
  };
  return h;
}

beforeEach(() => {
  vi.useFakeTimers({ now: NOW });
  FakeWebSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('typing indicators', () => {
  it('show who is typing until expiresInMs passes, with no refresh needed', async () => {
    const h = harness();
    await h.connect();
    const changes: number[] = [];
    h.client.subscribe((event) => {
      if (event.type === 'change') changes.push(Date.now());
    });
    await h.receive(typing());
    expect(h.client.snapshot().typingIn('room:general')).toEqual(['Bob']);
    expect(h.client.snapshot().typingIn('room:random')).toEqual([]);
    changes.length = 0;
    await vi.advanceTimersByTimeAsync(4_999);
    expect(h.client.snapshot().typingIn('room:general')).toEqual(['Bob']);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.client.snapshot().typingIn('room:general')).toEqual([]);
    // The client announced the change itself, so a UI re-renders without being poked.
    expect(changes.length).toBeGreaterThan(0);
  });

  it('end when a message from that user arrives, and ignore this user’s own typing', async () => {
    const h = harness();
    await h.connect();
    await h.receive(typing());
    await h.receive(typing({ userId: 'carol', userName: 'Carol' }));
    await h.receive(typing({ userId: 'alice', userName: 'Alice' }));
    expect(h.client.snapshot().typingIn('room:general')).toEqual(['Bob', 'Carol']);
    await h.receive(message(1));
    expect(h.client.snapshot().typingIn('room:general')).toEqual(['Carol']);
  });

  it('in a direct conversation show on the peer’s thread', async () => {
    const h = harness({
      conversations: [{ conversationId: 'c1', peerId: 'bob', peerName: 'Bob', unreadCount: 0, updatedAt: '' }],
    });
    await h.connect();
    await h.receive(typing({ room: undefined, conversationId: 'c1' }));
    expect(h.client.snapshot().typingIn('dm:bob')).toEqual(['Bob']);
  });

  it('are sent at most once every 3 s while the user types, and again right after a send', async () => {
    const h = harness();
    await h.connect();
    h.client.typing();
    h.client.typing();
    await vi.advanceTimersByTimeAsync(2_999);
    h.client.typing();
    expect(h.sent('typing')).toEqual([{ action: 'typing', room: 'general' }]);
    await vi.advanceTimersByTimeAsync(1);
    h.client.typing();
    expect(h.sent('typing')).toHaveLength(2);
    h.client.send('hello');
    h.client.typing();
    expect(h.sent('typing')).toHaveLength(3);
  });
});

describe('room unread counts', () => {
  it("take the welcome's counts for rooms not on screen and mark the visible one read", async () => {
    const h = harness();
    await h.connect({ unread: { general: 4, random: 2 } });
    expect(h.thread('room:random').unread).toBe(2);
    expect(h.thread('room:general').unread).toBe(0);
  });

  it('follow read frames from this user’s other devices', async () => {
    const h = harness();
    await h.connect({ unread: { random: 5 } });
    await h.receive({ type: 'read', room: 'random', readSeq: 9, unread: 1 });
    expect(h.thread('room:random').unread).toBe(1);
    // An older position arriving late never moves the count back.
    await h.receive({ type: 'read', room: 'random', readSeq: 7, unread: 3 });
    expect(h.thread('room:random').unread).toBe(1);
  });

  it('count live messages in hidden rooms and report the read position once a room is shown', async () => {
    const h = harness();
    await h.connect();
    await h.receive(message(1, 'random'));
    await h.receive(message(2, 'random'));
    expect(h.thread('room:random').unread).toBe(2);
    h.client.selectThread('room:random');
    expect(h.thread('room:random').unread).toBe(0);
    expect(h.sent('markRead')).toEqual([{ action: 'markRead', room: 'random', upToSeq: 2 }]);
  });

  it('report a room read once its first history page is in, when it was opened empty', async () => {
    const h = harness({ rooms: ['general', 'history-room'] });
    await h.connect({ unread: { 'history-room': 7 } });
    expect(h.thread('room:history-room').unread).toBe(7);
    h.client.selectThread('room:history-room');
    await vi.advanceTimersByTimeAsync(0);
    expect(h.sent('markRead')).toEqual([{ action: 'markRead', room: 'history-room', upToSeq: 7 }]);
  });

  it('report a watched room at most every 2 s, the newest seq trailing', async () => {
    const h = harness();
    await h.connect();
    await h.receive(message(1));
    await h.receive(message(2));
    await h.receive(message(3));
    expect(h.sent('markRead')).toEqual([{ action: 'markRead', room: 'general', upToSeq: 1 }]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(h.sent('markRead')).toEqual([
      { action: 'markRead', room: 'general', upToSeq: 1 },
      { action: 'markRead', room: 'general', upToSeq: 3 },
    ]);
  });

  it('do not report a room the user cannot see', async () => {
    const h = harness({ visible: false });
    await h.connect();
    await h.receive(message(1));
    expect(h.thread('room:general').unread).toBe(1);
    expect(h.sent('markRead')).toEqual([]);
  });
});

describe('seq order and gaps', () => {
  it('orders a room by seq, whatever order the frames arrive in', async () => {
    const h = harness();
    await h.connect();
    await h.receive(message(2));
    // Seq 1 was stamped later (a slower sender's clock) but committed first.
    await h.receive({ ...message(1), timestamp: new Date(NOW.getTime() + 60_000).toISOString() });
    await h.receive(message(3));
    expect(
      h
        .thread('room:general')
        .timeline.list()
        .map((item) => item.seq),
    ).toEqual([1, 2, 3]);
  });

  it('waits for a missing seq, then resumes from the message before it', async () => {
    const h = harness();
    await h.connect();
    await h.receive(message(1));
    await h.receive(message(3));
    expect(h.client.missingSeqs('room:general')).toEqual([2]);
    await vi.advanceTimersByTimeAsync(1_499);
    expect(h.sent('resume').filter((frame) => frame.lastMessageId === 'm-general-1')).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.sent('resume').filter((frame) => frame.lastMessageId === 'm-general-1')).toEqual([
      {
        action: 'resume',
        room: 'general',
        lastTimestamp: message(1).timestamp,
        lastMessageId: 'm-general-1',
        limit: 100,
      },
    ]);
    await h.receive({
      type: 'history',
      room: 'general',
      messages: [message(1), message(2), message(3)],
      hasMore: false,
    });
    expect(h.client.missingSeqs('room:general')).toEqual([]);
    expect(
      h
        .thread('room:general')
        .timeline.list()
        .map((item) => item.seq),
    ).toEqual([1, 2, 3]);
  });

  it('sends no resume when the missing seq arrives within the grace period', async () => {
    const h = harness();
    await h.connect();
    const resumesAfterConnect = h.sent('resume').length;
    await h.receive(message(1));
    await h.receive(message(3));
    await vi.advanceTimersByTimeAsync(500);
    await h.receive(message(2));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(h.sent('resume')).toHaveLength(resumesAfterConnect);
  });

  it('gives up on a gap a resume could not fill (the messages expired)', async () => {
    const h = harness();
    await h.connect();
    await h.receive(message(1));
    await h.receive(message(3));
    await vi.advanceTimersByTimeAsync(1_500);
    await h.receive({ type: 'history', room: 'general', messages: [message(1), message(3)], hasMore: false });
    expect(h.client.missingSeqs('room:general')).toEqual([]);
    await h.receive(message(5));
    expect(h.client.missingSeqs('room:general')).toEqual([4]);
  });
});

describe('SequenceGaps', () => {
  it('tracks the contiguous run and what is missing above it', () => {
    const gaps = new SequenceGaps();
    gaps.observe('r', 10);
    gaps.observe('r', 9);
    expect(gaps.hasGap('r')).toBe(false);
    gaps.observe('r', 13);
    gaps.observe('r', 12);
    expect(gaps.missing('r')).toEqual([11]);
    gaps.observe('r', 11);
    expect(gaps.contiguous('r')).toBe(13);
    expect(gaps.hasGap('r')).toBe(false);
    gaps.observe('r', 16);
    gaps.skipGap('r');
    expect(gaps.contiguous('r')).toBe(16);
  });
});
