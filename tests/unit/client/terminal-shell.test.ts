import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient, type ChatRest } from '#client-core/chat-client';
import type { DirectMessageFrame, RoomMessageFrame, WelcomeFrame } from '#protocol/server-frames';
import { painter } from '../../../client/ansi.js';
import type { ClientOptions } from '../../../client/cli-options.js';
import { TerminalShell } from '../../../client/terminal-shell.js';
import { FakeWebSocket } from '../../helpers/fake-websocket.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const ROOM = 'priv_3q2-7wEjRCqEzmFM8xkVfA';

const options: ClientOptions = {
  rooms: ['general'],
  user: 'alice',
  url: 'ws://127.0.0.1:3001',
  rest: 'http://127.0.0.1:3000',
  json: false,
  historyLimit: 20,
  reconnectBaseMs: 1_000,
  reconnectMaxMs: 1_000,
};

const message = (id: string, seconds: number, room = 'general', user = 'bob'): RoomMessageFrame => ({
  type: 'message',
  action: 'message',
  messageId: id,
  room,
  user_id: user,
  userName: user,
  message: `text ${id}`,
  timestamp: new Date(NOW.getTime() - 60_000 + seconds * 1000).toISOString(),
});

const welcome: WelcomeFrame = {
  type: 'welcome',
  connectionId: 'conn',
  user: { userId: 'alice', userName: 'alice' },
  rooms: ['general'],
  online: { general: [] },
  pending: 0,
};

/** Lets awaited callbacks, REST promises and queued microtasks run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

/**
 * A shell over a real ChatClient on a fake socket. `histories` holds each room's messages, oldest
 * first; REST pages answer newest first, as the API does, once `historyGate` resolves.
 */
function harness(
  overrides: Partial<ClientOptions> = {},
  histories: Record<string, RoomMessageFrame[]> = {},
  historyGate: Promise<void> = Promise.resolve(),
) {
  const settings = { ...options, ...overrides };
  const rest: ChatRest = {
    roomHistory: async (room) => {
      await historyGate;
      return { room, messages: [...(histories[room] ?? [])].reverse() };
    },
    roomPresence: async (room) => ({ room, online: [] }),
    conversations: async () => ({ conversations: [] }),
    conversationHistory: async (conversationId) => ({ conversationId, messages: [] }),
  };
  const store = new Map<string, string>();
  let ids = 0;
  const client = new ChatClient({
    me: { userId: 'alice', userName: 'alice' },
    rooms: settings.rooms,
    rest,
    storage: { getItem: (key) => store.get(key) ?? null, setItem: (key, value) => store.set(key, value) },
    WebSocket: FakeWebSocket,
    webSocketUrl: (rooms) => `ws://test/?room=${rooms.join(',')}`,
    newMessageId: () => `mine-${++ids}`,
    now: () => NOW,
    backoff: { baseMs: settings.reconnectBaseMs, maxMs: settings.reconnectMaxMs },
  });
  const printed: string[] = [];
  const statuses: string[] = [];
  const quits: number[] = [];
  const shell = new TerminalShell({
    client,
    options: settings,
    output: { print: (line) => printed.push(line), status: (line) => statuses.push(line) },
    format: { paint: painter(false), clock: (iso) => iso.slice(11, 19) },
    quit: (code) => quits.push(code),
  });
  client.start();
  return {
    client,
    shell,
    printed,
    statuses,
    quits,
    /** Opens the current (or, after a drop, the next) connection and greets it. */
    async connect() {
      await vi.advanceTimersByTimeAsync(1_000);
      FakeWebSocket.latest.open();
      FakeWebSocket.latest.receive(welcome);
      await settle();
    },
    async drop() {
      FakeWebSocket.latest.serverClose(1006);
      await settle();
    },
    async receive(frame: object | string) {
      FakeWebSocket.latest.receive(frame);
      await settle();
    },
    /** Frames sent on the latest connection, without the client's own catch-up. */
    sent: () => FakeWebSocket.latest.frames().filter((frame) => frame.action !== 'resume'),
    messageLines: () => printed.filter((line) => line.includes('text ')),
  };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('TerminalShell', () => {
  it('prints history oldest first, then what arrived live meanwhile, each message once', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const h = harness({}, { general: [message('m-1', 1), message('m-2', 2)] }, gate);
    await h.connect();
    await h.receive(message('m-2', 2));
    await h.receive(message('m-3', 3));
    const shown = h.shell.showStartupHistory();
    await settle();
    expect(h.printed).toEqual([]);

    release();
    await shown;
    expect(h.printed[0]).toBe('── #general: last 1 message(s) ──');
    expect(h.messageLines()).toEqual([
      '11:59:01 #general bob: text m-1',
      '11:59:02 #general bob: text m-2',
      '11:59:03 #general bob: text m-3',
    ]);
    expect(h.printed).toContain('connected as alice (alice) · rooms: #general');
    // A repeat (fan-out is at-least-once) prints nothing.
    await h.receive(message('m-3', 3));
    expect(h.messageLines()).toHaveLength(3);
  });

  it('runs lines typed before the first connection once it opens, in order, once', async () => {
    const h = harness();
    h.shell.input('first');
    h.shell.input('/rooms');
    h.shell.input('second');
    await h.shell.showStartupHistory();
    await h.connect();
    expect(h.sent()).toEqual([
      { action: 'sendMessage', room: 'general', message: 'first', messageId: 'mine-1' },
      { action: 'listRooms' },
      { action: 'sendMessage', room: 'general', message: 'second', messageId: 'mine-2' },
    ]);
    expect(h.statuses).toContain('connected');
  });

  it('says when it lost the connection, and after reconnecting resumes and re-sends what was not acknowledged', async () => {
    const h = harness({}, { general: [message('m-1', 1)] });
    await h.connect();
    await h.shell.showStartupHistory();
    await h.receive(message('m-7', 7));
    h.shell.input('lost in the drop');
    await h.drop();
    expect(h.statuses.at(-1)).toMatch(/^disconnected \(1006\); reconnecting in \d\.\d s$/);

    await h.connect();
    expect(h.statuses.at(-1)).toBe('reconnected; catching up');
    expect(FakeWebSocket.latest.frames()).toEqual(
      expect.arrayContaining([
        { action: 'sendMessage', room: 'general', message: 'lost in the drop', messageId: 'mine-1' },
        expect.objectContaining({ action: 'resume', room: 'general', lastMessageId: 'm-7' }),
      ]),
    );
    // What the resume returns is printed once, without what was shown already.
    await h.receive({
      type: 'history',
      room: 'general',
      messages: [message('m-7', 7), message('m-8', 8)],
      hasMore: false,
    });
    expect(h.messageLines().filter((line) => line.includes('m-7') || line.includes('m-8'))).toEqual([
      '11:59:07 #general bob: text m-7',
      '11:59:08 #general bob: text m-8',
    ]);
  });

  it('room administration commands send their frames for the room in view, and `removed` drops the room', async () => {
    const h = harness({}, { [ROOM]: [] });
    await h.connect();
    await h.shell.showStartupHistory();
    h.shell.input('/create-private Launch plans');
    h.shell.input('/create-room book-club Book club');
    await h.receive({ type: 'roomCreated', room: ROOM, visibility: 'private', title: 'Launch plans', role: 'owner' });
    expect(h.printed).toContain(`created private room #${ROOM} "Launch plans"; joining`);
    // The client core enters a room it created by itself; the `joined` answer puts it in view.
    await h.receive({ type: 'joined', room: ROOM, online: [] });
    expect(h.shell.prompt).toBe(`#${ROOM}> `);
    h.shell.input('/invite bob');
    h.shell.input('/kick bob');
    h.shell.input('/ban bob 30');
    h.shell.input('/ban bob');
    h.shell.input('/unban bob general');
    h.shell.input('/role bob moderator');
    h.shell.input('/members');
    h.shell.input('/quit-room');
    h.shell.input('/delete-room');
    h.shell.input('/role bob boss');
    h.shell.input('/ban bob soon');
    expect(h.sent().filter((frame) => frame.action !== 'joinRoom')).toEqual([
      { action: 'createRoom', visibility: 'private', title: 'Launch plans' },
      { action: 'createRoom', visibility: 'public', room: 'book-club', title: 'Book club' },
      // The core asks for the member list itself on entering a room it created.
      { action: 'listMembers', room: ROOM },
      { action: 'inviteMember', room: ROOM, userId: 'bob' },
      { action: 'kickMember', room: ROOM, userId: 'bob' },
      { action: 'banMember', room: ROOM, userId: 'bob', durationSeconds: 1800 },
      { action: 'banMember', room: ROOM, userId: 'bob' },
      { action: 'unbanMember', room: 'general', userId: 'bob' },
      { action: 'setRole', room: ROOM, userId: 'bob', role: 'moderator' },
      { action: 'listMembers', room: ROOM },
      { action: 'quitRoom', room: ROOM },
      { action: 'deleteRoom', room: ROOM },
    ]);
    expect(h.statuses).toEqual(
      expect.arrayContaining([
        expect.stringContaining('/role <user> <owner|moderator|member>'),
        expect.stringContaining('minutes must be a whole number'),
      ]),
    );
    await h.receive({
      type: 'members',
      room: ROOM,
      members: [{ userId: 'alice', role: 'owner', since: '2026-12-03T00:00:00.000Z' }],
    });
    expect(h.printed).toContain(`#${ROOM} members: alice (owner)`);
    await h.receive({ type: 'removed', room: ROOM, reason: 'kicked' });
    expect(h.printed).toContain(`removed from #${ROOM}: kicked`);
    expect(h.shell.prompt).toBe('#general> ');
  });

  it('handles the commands: /join, /leave, /rooms, /ping, /help, bad input, /quit', async () => {
    const h = harness({}, { random: [message('r-1', 1, 'random')] });
    await h.connect();
    await h.shell.showStartupHistory();
    h.shell.input('/join random');
    expect(h.sent()).toEqual([{ action: 'joinRoom', room: 'random' }]);
    expect(h.shell.prompt).toBe('#general> ');

    await h.receive({ type: 'joined', room: 'random', online: [{ userId: 'bob', userName: 'bob' }] });
    expect(h.shell.prompt).toBe('#random> ');
    expect(h.printed).toEqual(
      expect.arrayContaining(['joined #random · online: bob', '── #random: last 1 message(s) ──']),
    );
    expect(h.messageLines()).toEqual(['11:59:01 #random bob: text r-1']);

    h.shell.input('to random');
    h.shell.input('/leave');
    h.shell.input('/rooms');
    h.shell.input('/ping');
    expect(h.sent().slice(1)).toEqual([
      { action: 'sendMessage', room: 'random', message: 'to random', messageId: 'mine-1' },
      { action: 'leaveRoom', room: 'random' },
      { action: 'listRooms' },
      { action: 'ping' },
    ]);
    await h.receive({ type: 'left', room: 'random' });
    expect(h.shell.prompt).toBe('#general> ');
    await h.receive({ type: 'pong' });
    await h.receive({ type: 'pong' }); // a keepalive's: not asked for, not shown
    expect(h.printed.filter((line) => line === 'pong')).toHaveLength(1);

    h.shell.input('/leave');
    h.shell.input('/join bad room!');
    h.shell.input('/dance');
    h.shell.input('/help');
    expect(h.statuses).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^! last_room: /),
        expect.stringContaining('invalid room'),
        expect.stringContaining('unknown command /dance'),
        expect.stringMatching(/^Commands:/),
      ]),
    );
    h.shell.input('/quit');
    expect(h.quits).toEqual([0]);
  });

  it('prints a room’s history block once, though rooms past the URL’s limit are joined again after connecting', async () => {
    const rooms = Array.from({ length: 11 }, (_, index) => `r${index}`);
    const h = harness({ rooms }, { r10: [message('late-1', 1, 'r10')] });
    await h.shell.showStartupHistory();
    await h.connect();
    expect(h.sent()).toEqual([{ action: 'joinRoom', room: 'r10' }]);
    await h.receive({ type: 'joined', room: 'r10', online: [] });
    expect(h.printed.filter((line) => line.startsWith('── #r10'))).toHaveLength(1);
    expect(h.messageLines()).toEqual(['11:59:01 #r10 bob: text late-1']);
  });

  it('prints a direct message with who wrote it to whom', async () => {
    const h = harness();
    await h.connect();
    await h.shell.showStartupHistory();
    const frame: DirectMessageFrame = {
      type: 'message',
      data: {
        messageId: 'd-1',
        conversationId: 'c1',
        senderId: 'bob',
        senderName: 'bob',
        recipientId: 'alice',
        content: 'psst',
        timestamp: NOW.toISOString(),
        status: 'sent',
      },
    };
    await h.receive(frame);
    await h.receive(frame);
    expect(h.printed.filter((line) => line.includes('DM'))).toEqual(['12:00:00 DM bob → alice: psst']);
  });

  it('with --json prints every frame as it came and the start-up history as one frame, and sends JSON lines as they are', async () => {
    const h = harness({ json: true }, { general: [message('m-1', 1)] });
    await h.connect();
    await h.shell.showStartupHistory();
    await h.receive(message('m-1', 1));
    await h.receive('not json');
    h.shell.input('{"action":"sendMessage","room":"general","message":"raw","messageId":"x-1"}');
    h.shell.input('[1,2]');

    expect(h.printed.map((line) => JSON.parse(line))).toEqual([
      { type: 'history', room: 'general', messages: [message('m-1', 1)], hasMore: false },
      welcome,
      message('m-1', 1),
      { type: 'raw', data: 'not json' },
    ]);
    expect(h.sent()).toEqual([{ action: 'sendMessage', room: 'general', message: 'raw', messageId: 'x-1' }]);
    expect(h.statuses.some((line) => line.includes('JSON object'))).toBe(true);
  });

  it('leaves a refused message failed until /retry sends it again with its messageId', async () => {
    const h = harness();
    await h.connect();
    await h.shell.showStartupHistory();
    h.shell.input('busy');
    await h.receive({ type: 'error', code: 'rate_limited', message: 'slow down', messageId: 'mine-1' });
    expect(h.printed.slice(-2)).toEqual(['! rate_limited: slow down', '  not sent; /retry sends it again']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.sent().filter((frame) => frame.action === 'sendMessage')).toHaveLength(1);

    h.shell.input('/retry');
    expect(h.sent().filter((frame) => frame.action === 'sendMessage')).toEqual([
      { action: 'sendMessage', room: 'general', message: 'busy', messageId: 'mine-1' },
      { action: 'sendMessage', room: 'general', message: 'busy', messageId: 'mine-1' },
    ]);
    await h.receive({ type: 'ack', messageId: 'mine-1', timestamp: NOW.toISOString() });
    h.shell.input('/retry');
    expect(h.statuses.at(-1)).toBe('nothing to retry');
  });

  it('on end of input, waits for outstanding acks before quitting', async () => {
    const h = harness();
    await h.connect();
    await h.shell.showStartupHistory();
    h.shell.input('last words');
    const ended = h.shell.endOfInput(5_000);
    await vi.advanceTimersByTimeAsync(200);
    expect(h.quits).toEqual([]);
    await h.receive({ type: 'ack', messageId: 'mine-1', timestamp: NOW.toISOString() });
    await vi.advanceTimersByTimeAsync(100);
    await ended;
    expect(h.quits).toEqual([0]);
  });

  it('/edit edits your last message and /react toggles an emoji on the last message; both print as they come back', async () => {
    const h = harness();
    await h.connect();
    await h.shell.showStartupHistory();
    h.shell.input('/edit too early');
    expect(h.statuses.at(-1)).toBe('nothing of yours to edit here yet');
    h.shell.input('typo');
    await h.receive({ type: 'ack', messageId: 'mine-1', room: 'general', timestamp: NOW.toISOString() });
    await h.receive(message('m2', 70));
    h.shell.input('/edit fixed');
    expect(h.sent().filter((frame) => frame.action === 'editMessage')).toEqual([
      { action: 'editMessage', messageId: 'mine-1', message: 'fixed' },
    ]);
    await h.receive({
      type: 'edited',
      messageId: 'mine-1',
      room: 'general',
      message: 'fixed',
      editedAt: NOW.toISOString(),
      editedBy: 'alice',
    });
    expect(h.printed.at(-1)).toBe('12:00:00 #general alice edited: fixed');

    h.shell.input('/react 👍');
    expect(h.sent().filter((frame) => frame.action === 'react')).toEqual([
      { action: 'react', messageId: 'm2', emoji: '👍' },
    ]);
    const counts = {
      type: 'reactions',
      messageId: 'm2',
      room: 'general',
      counts: { '👍': 1 },
      userId: 'alice',
      emoji: '👍',
    };
    await h.receive({ ...counts, reacted: true });
    expect(h.printed.at(-1)).toBe('* alice reacted 👍 in #general · 👍 1');
    h.shell.input('/react 👍');
    expect(h.sent().filter((frame) => frame.action === 'unreact')).toEqual([
      { action: 'unreact', messageId: 'm2', emoji: '👍' },
    ]);
    h.shell.input('/react');
    expect(h.statuses.at(-1)).toBe('usage: /react <emoji> (again to take it back)');
  });
});
