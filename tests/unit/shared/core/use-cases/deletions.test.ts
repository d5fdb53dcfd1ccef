import { describe, expect, it } from 'vitest';
import type { DeletionRecord } from '#core/domain/audit';
import { ForbiddenError, NotFoundError } from '#core/domain/errors';
import type { ChatMessage } from '#core/domain/message';
import type { ModerationAuditStore, RoomRoles } from '#core/ports';
import { deleteMessage, MAX_AUDIT_PAGE, roomAuditTrail } from '#core/use-cases/deletions';

/** Messages and audit records in memory: the transaction's both-or-neither is one synchronous step. */
function memoryStore(initial: ChatMessage[]) {
  const messages = new Map(initial.map((message) => [message.messageId, { ...message }]));
  const records: DeletionRecord[] = [];
  const redacted: string[] = [];
  const audit: ModerationAuditStore = {
    async deleteWithRecord(message, record) {
      const stored = messages.get(message.messageId);
      if (!stored || stored.isDeleted || stored.userId !== message.userId) return false;
      stored.isDeleted = true;
      stored.content = '';
      records.push(record);
      return true;
    },
    async deletions(room, { limit }) {
      const mine = records.filter((record) => record.room === room).reverse();
      return { deletions: mine.slice(0, limit) };
    },
  };
  return {
    messages,
    records,
    redacted,
    deps: (roles: RoomRoles) => ({
      messages: { findById: async (id: string) => messages.get(id) },
      conversations: {
        redactPreview: async (_participants: string[], _conversationId: string, messageId: string) => {
          redacted.push(messageId);
        },
      },
      audit,
      roles,
    }),
  };
}

/** A fake RoomRoles: roles by `room/userId`. */
const rolesOf = (table: Record<string, 'owner' | 'moderator' | 'member'>): RoomRoles => ({
  roleIn: async (room, userId) => table[`${room}/${userId}`],
});

const roomMessage = (messageId: string, userId: string): ChatMessage => ({
  room: 'general',
  sk: `2026-12-03T10:00:00.000Z#${messageId}`,
  messageId,
  userId,
  userName: userId,
  content: 'hello',
  timestamp: '2026-12-03T10:00:00.000Z',
  kind: 'room',
});

const directMessage: ChatMessage = {
  ...roomMessage('dm-1', 'carol'),
  room: 'dm#c-1',
  kind: 'direct',
  conversationId: 'c-1',
  recipientId: 'dave',
};

const roles = rolesOf({ 'general/olga': 'owner', 'general/mo': 'moderator', 'general/mel': 'member' });
const now = new Date('2026-12-03T11:00:00.000Z');

describe('deleteMessage', () => {
  it('lets the sender delete their message and records it as a sender deletion', async () => {
    const store = memoryStore([roomMessage('m-1', 'alice')]);
    const frame = await deleteMessage(
      { identity: { userId: 'alice', userName: 'Alice' }, messageId: 'm-1', now },
      store.deps(roles),
    );
    expect(frame).toEqual({ type: 'deleted', messageId: 'm-1', room: 'general' });
    expect(store.records).toEqual([
      {
        room: 'general',
        messageId: 'm-1',
        senderId: 'alice',
        deletedBy: 'alice',
        deletedByName: 'Alice',
        role: 'sender',
        deletedAt: now.toISOString(),
      },
    ]);
  });

  it.each([
    ['owner', 'olga'],
    ['moderator', 'mo'],
  ] as const)("lets the room's %s delete someone else's message, recording the role", async (role, userId) => {
    const store = memoryStore([roomMessage('m-2', 'alice')]);
    await deleteMessage({ identity: { userId, userName: userId }, messageId: 'm-2', now }, store.deps(roles));
    expect(store.messages.get('m-2')?.isDeleted).toBe(true);
    expect(store.records).toEqual([expect.objectContaining({ senderId: 'alice', deletedBy: userId, role })]);
  });

  it('refuses a member, a stranger and a moderator of another room, deleting and recording nothing', async () => {
    const store = memoryStore([roomMessage('m-3', 'alice')]);
    const others = rolesOf({ 'general/mel': 'member', 'other/mo2': 'moderator' });
    for (const userId of ['mel', 'stranger', 'mo2']) {
      await expect(
        deleteMessage({ identity: { userId, userName: userId }, messageId: 'm-3' }, store.deps(others)),
      ).rejects.toThrow(ForbiddenError);
    }
    expect(store.messages.get('m-3')?.isDeleted).toBeUndefined();
    expect(store.records).toEqual([]);
  });

  it('keeps direct messages sender-only, whatever roles exist', async () => {
    const store = memoryStore([directMessage]);
    const everywhere = rolesOf({ 'dm#c-1/dave': 'owner' });
    await expect(
      deleteMessage({ identity: { userId: 'dave', userName: 'Dave' }, messageId: 'dm-1' }, store.deps(everywhere)),
    ).rejects.toThrow(ForbiddenError);
    const frame = await deleteMessage(
      { identity: { userId: 'carol', userName: 'Carol' }, messageId: 'dm-1' },
      store.deps(everywhere),
    );
    expect(frame).toEqual({ type: 'deleted', messageId: 'dm-1', conversationId: 'c-1' });
    expect(store.redacted).toEqual(['dm-1']);
    expect(store.records).toEqual([expect.objectContaining({ room: 'dm#c-1', role: 'sender' })]);
  });

  it('answers a repeat delete the same way without a second record', async () => {
    const store = memoryStore([roomMessage('m-4', 'alice')]);
    const input = { identity: { userId: 'mo', userName: 'Mo' }, messageId: 'm-4' };
    const first = await deleteMessage(input, store.deps(roles));
    const again = await deleteMessage(input, store.deps(roles));
    expect(again).toEqual(first);
    expect(store.records).toHaveLength(1);
  });

  it('answers 404 for a message that does not exist', async () => {
    const store = memoryStore([]);
    await expect(
      deleteMessage({ identity: { userId: 'mo', userName: 'Mo' }, messageId: 'nope' }, store.deps(roles)),
    ).rejects.toThrow(NotFoundError);
  });
});

describe('roomAuditTrail', () => {
  it('shows owners and moderators the deletions, newest first', async () => {
    const store = memoryStore([roomMessage('a', 'alice'), roomMessage('b', 'bob')]);
    await deleteMessage({ identity: { userId: 'alice', userName: 'Alice' }, messageId: 'a' }, store.deps(roles));
    await deleteMessage({ identity: { userId: 'mo', userName: 'Mo' }, messageId: 'b' }, store.deps(roles));
    for (const userId of ['olga', 'mo']) {
      const page = await roomAuditTrail(
        { identity: { userId, userName: userId }, room: 'general', limit: 10 },
        store.deps(roles),
      );
      expect(page.deletions.map((record) => [record.messageId, record.role])).toEqual([
        ['b', 'moderator'],
        ['a', 'sender'],
      ]);
    }
  });

  it('answers a member 403 and someone with no role 404', async () => {
    const store = memoryStore([]);
    await expect(
      roomAuditTrail({ identity: { userId: 'mel', userName: 'Mel' }, room: 'general', limit: 10 }, store.deps(roles)),
    ).rejects.toThrow(ForbiddenError);
    await expect(
      roomAuditTrail({ identity: { userId: 'x', userName: 'X' }, room: 'general', limit: 10 }, store.deps(roles)),
    ).rejects.toThrow(NotFoundError);
  });

  it('caps the page size', async () => {
    let asked = 0;
    const audit = {
      deletions: async (_room: string, options: { limit: number }) => {
        asked = options.limit;
        return { deletions: [] };
      },
    };
    await roomAuditTrail(
      { identity: { userId: 'olga', userName: 'Olga' }, room: 'general', limit: 1000 },
      {
        audit,
        roles,
      },
    );
    expect(asked).toBe(MAX_AUDIT_PAGE);
  });
});
