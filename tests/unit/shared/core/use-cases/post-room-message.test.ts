import { describe, expect, it } from 'vitest';
import { IdentityMismatchError, RateLimitedError } from '#core/domain/errors';
import type { ChatMessage } from '#core/domain/message';
import type { MessageStore } from '#core/ports';
import { postRoomMessage, sendRoomMessage } from '#core/use-cases/post-room-message';
import { fakeEvents, fakeReadPositions, fakeRooms } from '../../../../helpers/fakes.js';

function memoryMessages(): Pick<MessageStore, 'append' | 'lastSeq'> & {
  stored: ChatMessage[];
  knownLastSeqs: Array<number | undefined>;
} {
  const stored: ChatMessage[] = [];
  const knownLastSeqs: Array<number | undefined> = [];
  return {
    stored,
    knownLastSeqs,
    async lastSeq() {
      return stored.length;
    },
    async append(message, _expiresAt, knownLastSeq) {
      knownLastSeqs.push(knownLastSeq);
      const existing = stored.find((m) => m.messageId === message.messageId);
      if (existing) return { message: existing, duplicate: true };
      stored.push(message);
      return { message, duplicate: false };
    },
  };
}

const alice = { userId: 'alice', userName: 'Alice' };

describe('postRoomMessage', () => {
  it("stores the message, publishes seed 002's frame to the room topic and acknowledges", async () => {
    const messages = memoryMessages();
    const events = fakeEvents();
    const now = new Date('2026-11-23T10:00:00.000Z');
    const ack = await postRoomMessage(
      { identity: alice, room: 'general', content: 'Hello, world!', claimedUserId: 'alice', now },
      { messages: messages as unknown as MessageStore, events, retentionDays: 30, readPositions: fakeReadPositions() },
    );
    expect(ack).toMatchObject({ type: 'ack', room: 'general', timestamp: now.toISOString() });
    expect(messages.stored[0]?.sk).toBe(`${now.toISOString()}#${ack.messageId}`);
    expect(events.deliveries).toEqual([
      {
        topic: 'room#general',
        frame: {
          type: 'message',
          action: 'message',
          messageId: ack.messageId,
          room: 'general',
          user_id: 'alice',
          userName: 'Alice',
          message: 'Hello, world!',
          timestamp: now.toISOString(),
        },
      },
    ]);
  });

  it('keeps two messages in the same millisecond apart', async () => {
    const messages = memoryMessages();
    const deps = {
      messages: messages as unknown as MessageStore,
      events: fakeEvents(),
      retentionDays: 30,
      readPositions: fakeReadPositions(),
    };
    const now = new Date();
    await postRoomMessage({ identity: alice, room: 'general', content: 'one', now }, deps);
    await postRoomMessage({ identity: alice, room: 'general', content: 'two', now }, deps);
    expect(new Set(messages.stored.map((m) => m.sk)).size).toBe(2);
  });

  it('refuses a body that claims another identity, storing and publishing nothing', async () => {
    const messages = memoryMessages();
    const events = fakeEvents();
    await expect(
      postRoomMessage(
        { identity: alice, room: 'general', content: 'hi', claimedUserId: 'bob' },
        {
          messages: messages as unknown as MessageStore,
          events,
          retentionDays: 30,
          readPositions: fakeReadPositions(),
        },
      ),
    ).rejects.toBeInstanceOf(IdentityMismatchError);
    expect(messages.stored).toEqual([]);
    expect(events.published).toEqual([]);
  });

  it('answers a retry with the original and publishes it again, so a lost publish is recovered', async () => {
    const messages = memoryMessages();
    const events = fakeEvents();
    const deps = {
      messages: messages as unknown as MessageStore,
      events,
      retentionDays: 30,
      readPositions: fakeReadPositions(),
    };
    const first = await postRoomMessage({ identity: alice, room: 'general', content: 'hi', messageId: 'm-1' }, deps);
    const retry = await postRoomMessage({ identity: alice, room: 'general', content: 'hi', messageId: 'm-1' }, deps);
    expect(retry).toEqual({ ...first, duplicate: true });
    expect(messages.stored).toHaveLength(1);
    expect(events.deliveries).toHaveLength(2);
  });
});

describe('sendRoomMessage', () => {
  const deps = (messages: ReturnType<typeof memoryMessages>, extra: object = {}) => ({
    messages: messages as unknown as MessageStore,
    events: fakeEvents(),
    retentionDays: 30,
    readPositions: fakeReadPositions(),
    rooms: fakeRooms(),
    ...extra,
  });

  it("reads the room's counter beside the access check and hands it to the store", async () => {
    const messages = memoryMessages();
    await sendRoomMessage({ identity: alice, room: 'general', content: 'one' }, deps(messages));
    await sendRoomMessage({ identity: alice, room: 'general', content: 'two' }, deps(messages));
    expect(messages.knownLastSeqs).toEqual([0, 1]);
  });

  it('stores nothing for a private room the sender is not in, whatever the counter read found', async () => {
    const messages = memoryMessages();
    await expect(
      sendRoomMessage({ identity: alice, room: 'priv_AAAAAAAAAAAAAAAAAAAAAA', content: 'hi' }, deps(messages)),
    ).rejects.toThrow('room not found');
    expect(messages.stored).toEqual([]);
  });

  it('with a moderation hook, leaves the counter to the store: the review may take long enough to stale it', async () => {
    const messages = memoryMessages();
    const moderation = {
      reviewer: {
        review: async (request: { Content: string }) => ({ result: 'allow' as const, content: request.Content }),
      },
      failMode: 'closed' as const,
    };
    await sendRoomMessage({ identity: alice, room: 'general', content: 'one' }, deps(messages, { moderation }));
    expect(messages.knownLastSeqs).toEqual([undefined]);
    expect(messages.stored).toHaveLength(1);
  });

  it('reads beside the rate budget and stores nothing when it refuses the frame', async () => {
    const messages = memoryMessages();
    let counterReads = 0;
    const lastSeq = messages.lastSeq;
    messages.lastSeq = async (partition) => {
      counterReads++;
      return lastSeq(partition);
    };
    let refuse: (error: Error) => void = () => {};
    const admission = new Promise<void>((_resolve, reject) => {
      refuse = reject;
    });
    const sent = sendRoomMessage(
      { identity: alice, room: 'general', content: 'one', admitted: () => admission },
      deps(messages),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(counterReads).toBe(1);
    refuse(new RateLimitedError('too many frames'));
    await expect(sent).rejects.toBeInstanceOf(RateLimitedError);
    expect(messages.stored).toEqual([]);
    expect(messages.knownLastSeqs).toEqual([]);
  });

  it('asks the moderation hook only about an admitted frame', async () => {
    const messages = memoryMessages();
    const reviewed: string[] = [];
    const moderation = {
      reviewer: {
        review: async (request: { Content: string }) => {
          reviewed.push(request.Content);
          return { result: 'allow' as const, content: request.Content };
        },
      },
      failMode: 'closed' as const,
    };
    await expect(
      sendRoomMessage(
        {
          identity: alice,
          room: 'general',
          content: 'one',
          admitted: () => Promise.reject(new RateLimitedError('too many frames')),
        },
        deps(messages, { moderation }),
      ),
    ).rejects.toBeInstanceOf(RateLimitedError);
    expect(reviewed).toEqual([]);
    expect(messages.stored).toEqual([]);
  });
});
