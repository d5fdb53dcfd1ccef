import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '#core/domain/cursor';
import { ValidationError } from '#core/domain/errors';
import { identityFromAuthorizer, userNameSchema } from '#core/domain/identity';
import { contentSchema, isForwardStatus } from '#core/domain/message';
import { roomNameSchema } from '#core/domain/room';
import { hasLoneSurrogate } from '#core/domain/text';
import { statusDeliveries } from '#core/use-cases/announce-status';

describe('delivery status', () => {
  it.each([
    ['sent', 'delivered', true],
    ['sent', 'read', true],
    ['delivered', 'read', true],
    ['delivered', 'sent', false],
    ['read', 'delivered', false],
    ['read', 'read', false],
  ] as const)('%s → %s is forward: %s', (from, to, forward) => {
    expect(isForwardStatus(from, to)).toBe(forward);
  });
});

describe('text validation', () => {
  it('finds lone surrogates but accepts real pairs', () => {
    expect(hasLoneSurrogate('\ud800')).toBe(true);
    expect(hasLoneSurrogate('a\udc00b')).toBe(true);
    expect(hasLoneSurrogate('😀')).toBe(false);
    expect(contentSchema.safeParse('bad \ud83d').success).toBe(false);
    expect(contentSchema.safeParse('fine 😀').success).toBe(true);
  });

  it('refuses control characters in names and keeps room names URL-safe', () => {
    expect(userNameSchema.safeParse('Ann\u0007').success).toBe(false);
    expect(roomNameSchema.safeParse('room#1').success).toBe(false);
    expect(roomNameSchema.safeParse('general_2-b').success).toBe(true);
  });
});

describe('cursors', () => {
  it('round-trip and refuse garbage with a validation error', () => {
    const key = { room: 'general', sk: '2026#m1' };
    expect(decodeCursor(encodeCursor(key))).toEqual(key);
    expect(() => decodeCursor('%%%')).toThrow(ValidationError);
    expect(() => decodeCursor(Buffer.from('[1]').toString('base64url'))).toThrow(ValidationError);
  });
});

describe('identity from the authorizer context', () => {
  it('reads WebSocket and HTTP API (simple response) shapes', () => {
    expect(identityFromAuthorizer({ principalId: 'a', userId: 'a', userName: 'Ann' })).toEqual({
      userId: 'a',
      userName: 'Ann',
    });
    expect(identityFromAuthorizer({ lambda: { userId: 'b' } })).toEqual({ userId: 'b', userName: 'b' });
    expect(identityFromAuthorizer(undefined)).toBeUndefined();
    expect(identityFromAuthorizer({ userId: '' })).toBeUndefined();
  });
});

describe('status announcements', () => {
  const base = {
    room: 'dm#c1',
    sk: 't#m1',
    messageId: 'm1',
    userId: 'alice',
    userName: 'alice',
    content: 'hi',
    timestamp: 't',
    kind: 'direct' as const,
    conversationId: 'c1',
    recipientId: 'bob',
  };

  it('tells the sender when status moves', () => {
    expect(statusDeliveries({ ...base, status: 'sent' }, { ...base, status: 'read' })).toEqual([
      {
        topic: 'user#alice',
        frame: { type: 'status', data: { messageId: 'm1', conversationId: 'c1', status: 'read' } },
      },
    ]);
  });

  it('tells both sides about a deletion, and nobody about an unchanged status', () => {
    expect(
      statusDeliveries({ ...base, status: 'read' }, { ...base, status: 'read', isDeleted: true }).map((d) => d.topic),
    ).toEqual(['user#bob', 'user#alice']);
    expect(statusDeliveries({ ...base, status: 'read' }, { ...base, status: 'read' })).toEqual([]);
  });
});

describe('statuses before a move', () => {
  it('lists exactly the statuses a forward move may start from', async () => {
    const { statusesBefore } = await import('#core/domain/message');
    expect(statusesBefore('sent')).toEqual([]);
    expect(statusesBefore('delivered')).toEqual(['sent']);
    expect(statusesBefore('read')).toEqual(['sent', 'delivered']);
  });
});
