import { describe, expect, it } from 'vitest';
import { type ChatMessage, derivedConversationId, directPartition } from '#core/domain/message';
import type { ConversationStore, MessageStore } from '#core/ports';
import { sendDirectMessage } from '#core/use-cases/direct-messages';
import { fakeEvents } from '../../../../helpers/fakes.js';

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
      },
    );
    expect(messages.appended).toEqual([{ room: directPartition('older-id'), knownLastSeq: undefined }]);
  });
});
