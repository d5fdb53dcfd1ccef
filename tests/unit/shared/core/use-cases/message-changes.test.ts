import { describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, LimitExceededError, NotFoundError } from '#core/domain/errors';
import type { ChatMessage } from '#core/domain/message';
import { isEmoji } from '#core/domain/reactions';
import type { MessageChangeStore, MessageVersionRecord, ReactionOutcome } from '#core/ports';
import { changeReaction, editMessage, messageVersions, withMyReactions } from '#core/use-cases/message-changes';
import { fakeEvents, fakeRooms } from '../../../../helpers/fakes.js';

const alice = { userId: 'alice', userName: 'Alice' };
const bob = { userId: 'bob', userName: 'Bob' };

const roomMessage: ChatMessage = {
  room: 'general',
  sk: '2026-11-23T10:00:00.000Z#m-1',
  messageId: 'm-1',
  userId: 'alice',
  userName: 'Alice',
  content: 'helo',
  timestamp: '2026-11-23T10:00:00.000Z',
  kind: 'room',
};

const directMessage: ChatMessage = {
  ...roomMessage,
  room: 'dm#c-1',
  messageId: 'd-1',
  kind: 'direct',
  conversationId: 'c-1',
  recipientId: 'bob',
  status: 'sent',
};

/** One message in memory; `edit` fails `racing` times first, as when another edit wins. */
function world(message: ChatMessage, options: { racing?: number; reaction?: ReactionOutcome; topics?: string[] } = {}) {
  let current = { ...message };
  let racing = options.racing ?? 0;
  const versions: MessageVersionRecord[] = [];
  const changes: MessageChangeStore = {
    async edit(read, change) {
      if (racing-- > 0) return undefined;
      versions.push({
        version: versions.length + 1,
        previousText: read.content,
        editedBy: change.editedBy,
        editedAt: change.editedAt,
      });
      current = { ...current, content: change.text, editedAt: change.editedAt, editedBy: change.editedBy };
      return current;
    },
    versions: async () => versions,
    react: async () => options.reaction ?? { outcome: 'done', changed: true, counts: { '👍': 1 } },
    unreact: async () => ({ outcome: 'done', changed: false, counts: {} }),
    reactionsBy: async (_userId, _room, range) => new Map([['m-1', [`${range.fromSk}..${range.toSk}`]]]),
  };
  const events = fakeEvents();
  const previews: string[] = [];
  const deps = {
    conversations: {
      revisePreview: async (participants: string[], conversationId: string, messageId: string, content: string) => {
        previews.push(`${participants.join('+')} ${conversationId} ${messageId}: ${content}`);
      },
    },
    messages: { findById: async (id: string) => (id === current.messageId ? current : undefined) },
    changes,
    events,
    subscriptions: { topicsOf: async () => options.topics ?? ['room#general'] },
    rooms: fakeRooms(),
  };
  return { deps, events, versions, previews, current: () => current };
}

describe('editMessage', () => {
  it('stores the new text, tells the room and acknowledges with the edit time', async () => {
    const w = world(roomMessage);
    const now = new Date('2026-11-23T10:05:00.000Z');
    const ack = await editMessage({ identity: alice, messageId: 'm-1', text: 'hello', now }, w.deps);
    expect(ack).toEqual({ type: 'ack', messageId: 'm-1', room: 'general', timestamp: now.toISOString() });
    expect(w.events.deliveries).toEqual([
      {
        topic: 'room#general',
        frame: {
          type: 'edited',
          messageId: 'm-1',
          room: 'general',
          message: 'hello',
          editedAt: now.toISOString(),
          editedBy: 'alice',
        },
      },
    ]);
  });

  it('tells both parties of a direct message', async () => {
    const w = world(directMessage);
    await editMessage({ identity: alice, messageId: 'd-1', text: 'hello' }, w.deps);
    expect(w.events.deliveries.map((delivery) => delivery.topic)).toEqual(['user#alice', 'user#bob']);
    expect(w.events.deliveries[0]?.frame).toMatchObject({ conversationId: 'c-1' });
    expect(w.previews).toEqual(['alice+bob c-1 d-1: hello']);
  });

  it('re-reads and retries when another edit won the race, then gives up with a conflict', async () => {
    const retried = world(roomMessage, { racing: 2 });
    await editMessage({ identity: alice, messageId: 'm-1', text: 'hello' }, retried.deps);
    expect(retried.versions).toHaveLength(1);
    const stuck = world(roomMessage, { racing: 3 });
    await expect(editMessage({ identity: alice, messageId: 'm-1', text: 'hello' }, stuck.deps)).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(stuck.events.deliveries).toEqual([]);
  });

  it("refuses someone else's, a deleted or an unknown message; the same text stores nothing", async () => {
    await expect(
      editMessage({ identity: bob, messageId: 'm-1', text: 'x' }, world(roomMessage).deps),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      editMessage({ identity: alice, messageId: 'm-1', text: 'x' }, world({ ...roomMessage, isDeleted: true }).deps),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      editMessage({ identity: alice, messageId: 'nope', text: 'x' }, world(roomMessage).deps),
    ).rejects.toBeInstanceOf(NotFoundError);
    const same = world(roomMessage);
    await editMessage({ identity: alice, messageId: 'm-1', text: 'helo' }, same.deps);
    expect(same.versions).toEqual([]);
    expect(same.events.deliveries).toEqual([]);
  });
});

describe('changeReaction', () => {
  const input = { identity: bob, connectionId: 'c', messageId: 'm-1', emoji: '👍', reacted: true };

  it('sends the counts to the room when something changed, and replies with them either way', async () => {
    const w = world(roomMessage);
    const frame = await changeReaction(input, w.deps);
    expect(frame).toEqual({
      type: 'reactions',
      messageId: 'm-1',
      room: 'general',
      counts: { '👍': 1 },
      userId: 'bob',
      emoji: '👍',
      reacted: true,
    });
    expect(w.events.deliveries).toEqual([{ topic: 'room#general', frame }]);
    const unchanged = world(roomMessage);
    await changeReaction({ ...input, reacted: false }, unchanged.deps);
    expect(unchanged.events.deliveries).toEqual([]);
  });

  it('refuses a room the connection is not in, and a DM the user is not a party of', async () => {
    await expect(changeReaction(input, world(roomMessage, { topics: ['room#other'] }).deps)).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    await expect(
      changeReaction(
        { ...input, messageId: 'd-1', identity: { userId: 'eve', userName: 'Eve' } },
        world(directMessage).deps,
      ),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await changeReaction({ ...input, messageId: 'd-1' }, world(directMessage, { topics: [] }).deps);
  });

  it('turns the store’s refusals into clear errors', async () => {
    for (const [outcome, error] of [
      ['too_many_emojis', LimitExceededError],
      ['too_many_for_user', LimitExceededError],
      ['gone', ConflictError],
    ] as const) {
      await expect(changeReaction(input, world(roomMessage, { reaction: { outcome } }).deps)).rejects.toBeInstanceOf(
        error,
      );
    }
  });
});

describe('messageVersions', () => {
  it('lists the original and every edit, oldest first, each with its author and time', async () => {
    const w = world(roomMessage);
    await editMessage(
      { identity: alice, messageId: 'm-1', text: 'hello', now: new Date('2026-11-23T10:01:00.000Z') },
      w.deps,
    );
    await editMessage(
      { identity: alice, messageId: 'm-1', text: 'hello!', now: new Date('2026-11-23T10:02:00.000Z') },
      w.deps,
    );
    const { versions } = await messageVersions({ identity: bob, messageId: 'm-1' }, w.deps);
    expect(versions).toEqual([
      { version: 0, text: 'helo', userId: 'alice', timestamp: '2026-11-23T10:00:00.000Z' },
      { version: 1, text: 'hello', userId: 'alice', timestamp: '2026-11-23T10:01:00.000Z' },
      { version: 2, text: 'hello!', userId: 'alice', timestamp: '2026-11-23T10:02:00.000Z' },
    ]);
  });

  it("keeps a direct message's versions to its parties, and a deleted message's to nobody", async () => {
    await expect(
      messageVersions({ identity: { userId: 'eve', userName: 'Eve' }, messageId: 'd-1' }, world(directMessage).deps),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      messageVersions({ identity: alice, messageId: 'm-1' }, world({ ...roomMessage, isDeleted: true }).deps),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('withMyReactions', () => {
  it("reads the reader's reactions over the page's sort-key range and adds them to their messages", async () => {
    const page = [
      { messageId: 'm-2', timestamp: '2026-11-23T10:09:00.000Z' },
      { messageId: 'm-1', timestamp: '2026-11-23T10:00:00.000Z' },
    ];
    const result = await withMyReactions('bob', 'general', page, world(roomMessage).deps);
    expect(result).toEqual([
      page[0],
      { ...page[1], myReactions: ['2026-11-23T10:00:00.000Z#m-1..2026-11-23T10:09:00.000Z#m-2'] },
    ]);
    expect(await withMyReactions('bob', 'general', [], world(roomMessage).deps)).toEqual([]);
  });
});

describe('isEmoji', () => {
  it.each(['👍', '👍🏽', '👨‍👩‍👧', '🇫🇷', '1️⃣', '❤️', '🏳️‍🌈'])('accepts %s', (emoji) => {
    expect(isEmoji(emoji)).toBe(true);
  });
  it.each(['', 'a', '1', '#', '👍👍', '👍 ', 'ok👍', '\u200d', '🏳️‍🌈🏳️‍🌈🏳️‍🌈'])('refuses %j', (text) => {
    expect(isEmoji(text)).toBe(false);
  });
});

describe('editMessage with a moderation hook', () => {
  const hook = (
    answer: (text: string) => { result: 'allow'; content: string } | { result: 'deny'; reason: string },
  ) => {
    const seen: string[] = [];
    return {
      seen,
      moderation: {
        failMode: 'closed' as const,
        reviewer: {
          review: async (request: { Content: string; Action: string; Kind: string }) => {
            seen.push(`${request.Action} ${request.Kind}: ${request.Content}`);
            return answer(request.Content);
          },
        },
      },
    };
  };

  it('stores and sends the text the hook returns, and shows it in a DM preview', async () => {
    const w = world(directMessage);
    const h = hook((text) => ({ result: 'allow', content: text.toUpperCase() }));
    await editMessage({ identity: alice, messageId: 'd-1', text: 'hello' }, { ...w.deps, moderation: h.moderation });
    expect(h.seen).toEqual(['edit direct: hello']);
    expect(w.current().content).toBe('HELLO');
    expect(w.previews).toEqual(['alice+bob c-1 d-1: HELLO']);
  });

  it('refuses a denied edit, storing and sending nothing', async () => {
    const w = world(roomMessage);
    const h = hook(() => ({ result: 'deny', reason: 'not that' }));
    await expect(
      editMessage({ identity: alice, messageId: 'm-1', text: 'bad' }, { ...w.deps, moderation: h.moderation }),
    ).rejects.toThrow('not that');
    expect(w.versions).toEqual([]);
    expect(w.events.deliveries).toEqual([]);
  });

  it('asks once even when a racing edit makes it retry, and not at all for the same text', async () => {
    const w = world(roomMessage, { racing: 1 });
    const h = hook((text) => ({ result: 'allow', content: text }));
    await editMessage({ identity: alice, messageId: 'm-1', text: 'hello' }, { ...w.deps, moderation: h.moderation });
    await editMessage({ identity: alice, messageId: 'm-1', text: 'hello' }, { ...w.deps, moderation: h.moderation });
    expect(h.seen).toEqual(['edit room: hello']);
    expect(w.versions).toHaveLength(1);
  });
});
