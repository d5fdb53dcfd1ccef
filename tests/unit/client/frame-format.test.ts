import { describe, expect, it } from 'vitest';
import { presenceFrame, type RoomMessageFrame } from '#protocol/server-frames';
import { painter } from '../../../client/ansi.js';
import { type FormatContext, formatFrame, localClock } from '../../../client/frame-format.js';

const context: FormatContext = { paint: painter(false), clock: (iso) => iso.slice(11, 19) };

const message: RoomMessageFrame = {
  type: 'message',
  action: 'message',
  messageId: 'm-1',
  room: 'general',
  user_id: 'bob',
  userName: 'Bob',
  message: 'hello',
  timestamp: '2026-03-01T09:08:07.000Z',
};

describe('formatFrame', () => {
  it('shows a room message with its time, room, sender and text', () => {
    expect(formatFrame(message, context)).toEqual(['09:08:07 #general Bob: hello']);
  });

  it('colours the sender by id when colour is on', () => {
    const [line] = formatFrame(message, { ...context, paint: painter(true) });
    expect(line).toContain(painter(true).sender('bob', 'Bob'));
  });

  it.each([
    ['joined', '09:08:07 * Bob joined #general'],
    ['left', '09:08:07 * Bob left #general'],
    ['online', '09:08:07 * Bob came online in #general'],
    ['offline', '09:08:07 * Bob went offline in #general'],
  ] as const)('shows presence %s', (event, expected) => {
    const frame = presenceFrame(event, 'general', { userId: 'bob', userName: 'Bob' }, message.timestamp);
    expect(formatFrame(frame, context)).toEqual([expected]);
  });

  it('shows a typing line for a room and for a direct conversation, and nothing for a read position', () => {
    const typing = { type: 'typing', userId: 'bob', userName: 'Bob', expiresInMs: 5000 };
    expect(formatFrame({ ...typing, room: 'general' }, context)).toEqual(['Bob is typing… in #general']);
    expect(formatFrame({ ...typing, conversationId: 'c1' }, context)).toEqual(['Bob is typing… (DM)']);
    expect(formatFrame({ type: 'read', room: 'general', readSeq: 3, unread: 0 }, context)).toEqual([]);
  });

  it('shows errors with their code and issues', () => {
    const frame = {
      type: 'error',
      code: 'validation_failed',
      message: 'invalid sendMessage frame',
      issues: [{ path: 'message', message: 'message must not be empty' }],
    };
    expect(formatFrame(frame, context)).toEqual([
      '! validation_failed: invalid sendMessage frame (message: message must not be empty)',
    ]);
  });

  it('summarises the welcome frame', () => {
    const frame = {
      type: 'welcome',
      connectionId: 'c-1',
      user: { userId: 'alice', userName: 'Alice' },
      rooms: ['general'],
      online: {
        general: [
          { userId: 'alice', userName: 'Alice' },
          { userId: 'bob', userName: 'Bob' },
        ],
      },
      pending: 2,
    };
    expect(formatFrame(frame, context)).toEqual([
      'connected as Alice (alice) · rooms: #general',
      '  online in #general: Alice, Bob',
      '  2 direct message(s) were waiting for you',
    ]);
  });

  it('says when an online list was cut instead of passing it off as the whole room', () => {
    const users = [
      { userId: 'alice', userName: 'Alice' },
      { userId: 'bob', userName: 'Bob' },
    ];
    const welcome = {
      type: 'welcome',
      connectionId: 'c-1',
      user: users[0],
      rooms: ['big', 'small'],
      online: { big: users, small: users },
      onlineTruncated: { big: true },
      pending: 0,
    };
    expect(formatFrame(welcome, context)).toEqual([
      'connected as Alice (alice) · rooms: #big, #small',
      '  online in #big (2+): Alice, Bob and more; /rooms counts them',
      '  online in #small: Alice, Bob',
    ]);
    expect(formatFrame({ type: 'joined', room: 'big', online: users, onlineTruncated: true }, context)).toEqual([
      'joined #big · online (2+): Alice, Bob and more; /rooms counts them',
    ]);
  });

  it('shows direct messages, rooms, joins and leaves', () => {
    const direct = {
      type: 'message',
      data: {
        messageId: 'd-1',
        conversationId: 'c',
        senderId: 'bob',
        senderName: 'Bob',
        recipientId: 'alice',
        content: 'psst',
        timestamp: message.timestamp,
        status: 'sent',
      },
    };
    expect(formatFrame(direct, context)).toEqual(['09:08:07 DM Bob → alice: psst']);
    expect(formatFrame({ type: 'rooms', rooms: [{ room: 'general', members: 3 }] }, context)).toEqual([
      'rooms: #general (3)',
    ]);
    expect(formatFrame({ type: 'joined', room: 'random', online: [] }, context)).toEqual([
      'joined #random · online: nobody',
    ]);
    expect(formatFrame({ type: 'left', room: 'random' }, context)).toEqual(['left #random']);
  });

  it('prints nothing for acks and the JSON of frames it does not know', () => {
    expect(formatFrame({ type: 'ack', messageId: 'm-1', timestamp: message.timestamp }, context)).toEqual([]);
    expect(formatFrame({ type: 'METRICS_UPDATE', updates: [] }, context)).toEqual([
      '{"type":"METRICS_UPDATE","updates":[]}',
    ]);
  });

  it("does not let a message's text drive the terminal", () => {
    const [line] = formatFrame({ ...message, message: '\x1b[31mred' }, context);
    expect(line).not.toContain('\x1b');
  });
});

describe('localClock', () => {
  const now = new Date(2026, 2, 1, 18, 0, 0);
  const clock = localClock(() => now);

  it("shows today's times as HH:MM:SS in local time", () => {
    expect(clock(new Date(2026, 2, 1, 9, 8, 7).toISOString())).toBe('09:08:07');
  });

  it('adds the date to older times', () => {
    expect(clock(new Date(2026, 1, 27, 23, 59, 1).toISOString())).toBe('2026-02-27 23:59:01');
  });

  it('copes with a bad timestamp', () => {
    expect(clock('yesterday')).toBe('--:--:--');
  });
});
