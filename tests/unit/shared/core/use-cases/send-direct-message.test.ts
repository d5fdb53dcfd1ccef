import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '#core/domain/errors';
import { type ChatMessage, derivedConversationId, directPartition } from '#core/domain/message';
import type { ConversationStore, MessageStore } from '#core/ports';
import { sendDirectMessage } from '#core/use-cases/direct-messages';
import { fakeEvents, fakeReadPositions } from '../../../../helpers/fakes.js';

const alice = { userId: 'alice', userName: 'Alice' };

/** A store that records which partitions' counters were read and what append was handed. */
function recordingMessages(lastSeqs: Record<string, number>) {
  const reads: string[] = [];
  const appended: Array<{ room: string; knownLastSeq: number | undefined }> = [];
  const store: Pick<MessageStore, 'append' | 'lastSeq'> = {
    async lastSeq(partition) {
      reads.push(partition);
      return lastSeqs[partition] ?? 0;
    },
    async append(message: ChatMessage, _expiresAt: number, knownLastSeq?: number) {
      appended.push({ room: message.room, knownLastSeq });
      return { message: { ...message, seq: (knownLastSeq ?? 0) + 1 }, duplicate: false };
    },
  };
  return { store, reads, appended };
}

function conversationsResolvingTo(conversationId: string): ConversationStore {
  return {
    resolve: async () => conversationId,
    recordMessage: async () => {},
  } as unknown as ConversationStore;
}

describe('sendDirectMessage', () => {
  it("reads the pair's conversation counter beside the conversation lookup and hands it to the store", async () => {
    const derived = derivedConversationId('alice', 'bob');
    const messages = recordingMessages({ [directPartition(derived)]: 7 });
    const ack = await sendDirectMessage(
      { identity: alice, recipientId: 'bob', content: 'hi' },
      {
        messages: messages.store as MessageStore,
        conversations: conversationsResolvingTo(derived),
        events: fakeEvents(),
        retentionDays: 30,
        readPositions: fakeReadPositions(),
      },
    );
    expect(messages.reads).toEqual([directPartition(derived)]);
    expect(messages.appended).toEqual([{ room: directPartition(derived), knownLastSeq: 7 }]);
    expect(ack.seq).toBe(8);
  });

  it('does not hand over a guess when the conversation turns out to have another id', async () => {
    const messages = recordingMessages({});
    await sendDirectMessage(
      { identity: alice, recipientId: 'bob', content: 'hi' },
      {
        messages: messages.store as MessageStore,
        conversations: conversationsResolvingTo('older-id'),
        events: fakeEvents(),
        retentionDays: 30,
        readPositions: fakeReadPositions(),
      },
    );
    expect(messages.appended).toEqual([{ room: directPartition('older-id'), knownLastSeq: undefined }]);
  });

  it('looks the conversation up beside the rate budget, and neither creates it nor stores when refused', async () => {
    const messages = recordingMessages({});
    let created = false;
    const conversations = {
      // A pair with no conversation yet: resolve must wait for the admission before creating it.
      resolve: async (
        _sender: unknown,
        _recipient: unknown,
        _requestedId: unknown,
        options?: { beforeCreate?: () => Promise<void> },
      ) => {
        await options?.beforeCreate?.();
        created = true;
        return 'new-id';
      },
      recordMessage: async () => {},
    } as unknown as ConversationStore;
    let refuse: (error: Error) => void = () => {};
    const admission = new Promise<void>((_resolve, reject) => {
      refuse = reject;
    });
    const sent = sendDirectMessage(
      { identity: alice, recipientId: 'bob', content: 'hi', admitted: () => admission },
      {
        messages: messages.store as MessageStore,
        conversations,
        events: fakeEvents(),
        retentionDays: 30,
        readPositions: fakeReadPositions(),
      },
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(messages.reads).toHaveLength(1);
    refuse(new RateLimitedError('too many frames'));
    await expect(sent).rejects.toBeInstanceOf(RateLimitedError);
    expect(created).toBe(false);
    expect(messages.appended).toEqual([]);
  });
});
