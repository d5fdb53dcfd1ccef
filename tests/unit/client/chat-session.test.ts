import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RoomMessageFrame } from '#protocol/server-frames';
import { painter } from '../../../client/ansi.js';
import { ChatSession } from '../../../client/chat-session.js';
import type { ClientOptions } from '../../../client/cli-options.js';
import type { RoomHistory } from '../../../client/history.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');

const options: ClientOptions = {
  rooms: ['general'],
  user: 'alice',
  url: 'ws://127.0.0.1:3001',
  rest: 'http://127.0.0.1:3000',
  json: false,
  historyLimit: 20,
  reconnectBaseMs: 500,
  reconnectMaxMs: 30_000,
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

function harness(overrides: Partial<ClientOptions> = {}, histories: Record<string, RoomHistory> = {}) {
  let open = false;
  let ids = 0;
  const sent: Array<Record<string, unknown>> = [];
  const printed: string[] = [];
  const statuses: string[] = [];
  const quits: number[] = [];
  const session = new ChatSession({
    options: { ...options, ...overrides },
    send: (text) => {
      if (open) sent.push(JSON.parse(text) as Record<string, unknown>);
      return open;
    },
    output: { print: (line) => printed.push(line), status: (line) => statuses.push(line) },
    format: { paint: painter(false), clock: (iso) => iso.slice(11, 19) },
    fetchHistory: async (room) => histories[room] ?? { room, messages: [], hasMore: false },
    quit: (code) => quits.push(code),
    newMessageId: () => `mine-${++ids}`,
    now: () => NOW,
  });
  return {
    session,
    sent,
    printed,
    statuses,
    quits,
    connect(reconnected = false) {
      open = true;
      session.onOpen(reconnected);
    },
    drop() {
      open = false;
      session.onDisconnect({ code: 1006, reason: '', retryInMs: 1_500 });
    },
    receive: (frame: object) => session.onMessage(JSON.stringify(frame)),
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ChatSession', () => {
  it('prints history oldest first, then live frames held meanwhile, each message once', async () => {
    const h = harness(
      {},
      { general: { room: 'general', messages: [message('m-1', 1), message('m-2', 2)], hasMore: false } },
    );
    h.connect();
    h.receive(message('m-2', 2));
    h.receive(message('m-3', 3));
    expect(h.printed).toEqual([]);

    await h.session.showStartupHistory();
    expect(h.printed.filter((line) => line.includes('#general bob'))).toEqual([
      '11:59:01 #general bob: text m-1',
      '11:59:02 #general bob: text m-2',
      '11:59:03 #general bob: text m-3',
    ]);
  });

  it('sends lines typed before the connection opened once it opens, in order, once', async () => {
    const h = harness();
    h.session.input('first');
    h.session.input('/rooms');
    h.session.input('second');
    h.connect();
    expect(h.sent).toEqual([
      { action: 'sendMessage', room: 'general', message: 'first', messageId: 'mine-1' },
      { action: 'listRooms' },
      { action: 'sendMessage', room: 'general', message: 'second', messageId: 'mine-2' },
    ]);
  });

  it('after a reconnect, resumes each room from the last message seen and re-sends unacked messages', async () => {
    const h = harness({ rooms: ['general', 'quiet'] });
    h.connect();
    await h.session.showStartupHistory();
    h.receive(message('m-7', 7));
    h.receive(message('m-5', 5));
    h.session.input('acked');
    h.session.input('lost in the drop');
    h.receive({ type: 'ack', messageId: 'mine-1', timestamp: NOW.toISOString() });
    h.drop();
    h.session.input('typed while away');
    h.sent.length = 0;

    h.connect(true);
    expect(h.sent).toEqual([
      { action: 'resume', room: 'general', lastTimestamp: message('m-7', 7).timestamp, lastMessageId: 'm-7' },
      // Nothing seen in #quiet: from a minute before it was joined; repeats are dropped by messageId.
      { action: 'resume', room: 'quiet', lastTimestamp: '2026-03-01T11:59:00.000Z' },
      { action: 'sendMessage', room: 'general', message: 'lost in the drop', messageId: 'mine-2' },
      { action: 'sendMessage', room: 'general', message: 'typed while away', messageId: 'mine-3' },
    ]);
    expect(h.statuses.some((line) => line.includes('reconnecting in 1.5 s'))).toBe(true);
  });

  it('shows what a resume returns without repeating what was shown, and pages on when there is more', async () => {
    const h = harness();
    h.connect();
    await h.session.showStartupHistory();
    h.receive(message('m-1', 1));
    h.sent.length = 0;

    const cursor = `${message('m-2', 2).timestamp}#m-2`;
    h.receive({
      type: 'history',
      room: 'general',
      messages: [message('m-1', 1), message('m-2', 2)],
      hasMore: true,
      cursor,
    });
    expect(h.printed.filter((line) => line.includes('text m-'))).toEqual([
      '11:59:01 #general bob: text m-1',
      '11:59:02 #general bob: text m-2',
    ]);
    expect(h.sent).toEqual([{ action: 'resume', room: 'general', cursor }]);
  });

  it('handles the commands', async () => {
    const h = harness();
    h.connect();
    h.session.input('/join random');
    h.session.input('to random');
    h.session.input('/leave');
    h.session.input('/ping');
    h.session.input('/join bad room!');
    h.session.input('/dance');
    h.session.input('/quit');
    expect(h.sent).toEqual([
      { action: 'joinRoom', room: 'random' },
      { action: 'sendMessage', room: 'random', message: 'to random', messageId: 'mine-1' },
      { action: 'leaveRoom', room: 'random' },
      { action: 'ping' },
    ]);
    expect(h.statuses.some((line) => line.includes('invalid room'))).toBe(true);
    expect(h.statuses.some((line) => line.includes('unknown command /dance'))).toBe(true);
    expect(h.quits).toEqual([0]);
  });

  it('follows joined and left frames for the room typed lines go to', async () => {
    const h = harness();
    h.connect();
    await h.session.showStartupHistory();
    h.receive({ type: 'joined', room: 'random', online: [] });
    expect(h.session.currentRoom).toBe('random');
    h.receive({ type: 'left', room: 'random' });
    expect(h.session.currentRoom).toBe('general');
    expect(h.session.connectRooms()).toEqual(['general']);
  });

  it('in --json mode prints every frame as it came and sends JSON lines as they are', async () => {
    const h = harness({ json: true }, { general: { room: 'general', messages: [message('m-1', 1)], hasMore: false } });
    h.connect();
    await h.session.showStartupHistory();
    h.receive(message('m-1', 1));
    h.session.onMessage('not json');
    h.session.input('{"action":"sendMessage","room":"general","message":"raw","messageId":"x-1"}');
    h.session.input('[1,2]');

    expect(h.printed.map((line) => JSON.parse(line))).toEqual([
      { type: 'history', room: 'general', messages: [message('m-1', 1)], hasMore: false },
      message('m-1', 1),
      { type: 'raw', data: 'not json' },
    ]);
    expect(h.sent).toEqual([{ action: 'sendMessage', room: 'general', message: 'raw', messageId: 'x-1' }]);
    expect(h.statuses.some((line) => line.includes('JSON object'))).toBe(true);
  });

  it('retries a send refused for a passing reason, and gives up on one refused for good', async () => {
    vi.useFakeTimers();
    const h = harness();
    h.connect();
    await h.session.showStartupHistory();
    h.session.input('busy');
    h.session.input('too long');
    h.sent.length = 0;
    h.receive({ type: 'error', code: 'rate_limited', message: 'slow down', messageId: 'mine-1' });
    h.receive({ type: 'error', code: 'validation_failed', message: 'no', messageId: 'mine-2' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.sent).toEqual([{ action: 'sendMessage', room: 'general', message: 'busy', messageId: 'mine-1' }]);
    expect(h.session.pendingSends).toBe(1);
    h.session.dispose();
  });

  it('on end of input, waits for outstanding acks before quitting', async () => {
    const h = harness();
    h.connect();
    await h.session.showStartupHistory();
    h.session.input('last words');
    const ended = h.session.endOfInput(5_000);
    expect(h.quits).toEqual([]);
    h.receive({ type: 'ack', messageId: 'mine-1', timestamp: NOW.toISOString() });
    await ended;
    expect(h.quits).toEqual([0]);
  });
});
