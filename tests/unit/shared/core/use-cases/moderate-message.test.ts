import { describe, expect, it } from 'vitest';
import { MessageRejectedError, ModerationUnavailableError } from '#core/domain/errors';
import type { ChatMessage } from '#core/domain/message';
import { type ReviewDecision, ReviewFailedError, type ReviewRequest } from '#core/domain/moderation';
import type { MessageReviewer, MessageStore } from '#core/ports';
import type { ModerationDeps } from '#core/use-cases/moderate-message';
import { postRoomMessage } from '#core/use-cases/post-room-message';
import { fakeEvents, fakeReadPositions } from '../../../../helpers/fakes.js';

/** A hook that answers from a script, recording every request it saw. */
function scriptedReviewer(answer: (request: ReviewRequest) => ReviewDecision | ReviewFailedError) {
  const requests: ReviewRequest[] = [];
  const reviewer: MessageReviewer = {
    async review(request) {
      requests.push(request);
      const result = answer(request);
      if (result instanceof ReviewFailedError) throw result;
      return result;
    },
  };
  return { reviewer, requests };
}

function memoryMessages(): Pick<MessageStore, 'append' | 'findById'> & { stored: ChatMessage[] } {
  const stored: ChatMessage[] = [];
  return {
    stored,
    async append(message) {
      const existing = stored.find((m) => m.messageId === message.messageId);
      if (existing) return { message: existing, duplicate: true };
      stored.push(message);
      return { message, duplicate: false };
    },
    async findById(messageId) {
      return stored.find((m) => m.messageId === messageId);
    },
  };
}

const alice = { userId: 'alice', userName: 'Alice' };

function setup(answer: Parameters<typeof scriptedReviewer>[0], failMode: ModerationDeps['failMode'] = 'closed') {
  const messages = memoryMessages();
  const events = fakeEvents();
  const hook = scriptedReviewer(answer);
  const failures: Array<{ reason: string; outcome: string }> = [];
  const deps = {
    messages: messages as unknown as MessageStore,
    events,
    retentionDays: 30,
    readPositions: fakeReadPositions(),
    moderation: {
      reviewer: hook.reviewer,
      failMode,
      onReviewFailed: (error: ReviewFailedError, outcome: 'allowed' | 'refused') =>
        failures.push({ reason: error.reason, outcome }),
    },
  };
  return { messages, events, hook, failures, deps };
}

describe('postRoomMessage with a moderation hook', () => {
  it('sends the hook the message in the IVS-like shape before storing it', async () => {
    const { hook, messages, deps } = setup((request) => ({ result: 'allow', content: request.Content }));
    const ack = await postRoomMessage({ identity: alice, room: 'general', content: 'hi', messageId: 'm-1' }, deps);
    expect(hook.requests).toEqual([
      {
        Content: 'hi',
        MessageId: 'm-1',
        Action: 'send',
        Kind: 'room',
        Room: 'general',
        Sender: { UserId: 'alice', UserName: 'Alice' },
      },
    ]);
    expect(ack.messageId).toBe('m-1');
    expect(messages.stored.map((m) => m.content)).toEqual(['hi']);
  });

  it('stores and delivers nothing when the hook denies, and the sender gets its reason', async () => {
    const { messages, events, deps } = setup(() => ({ result: 'deny', reason: 'no spam please' }));
    const sent = postRoomMessage({ identity: alice, room: 'general', content: 'buy now' }, deps);
    await expect(sent).rejects.toThrow(MessageRejectedError);
    await expect(sent).rejects.toThrow('no spam please');
    expect(messages.stored).toEqual([]);
    expect(events.deliveries).toEqual([]);
  });

  it('stores and delivers the new text when the hook modifies it', async () => {
    const { messages, events, deps } = setup(() => ({ result: 'allow', content: 'h*** there' }));
    await postRoomMessage({ identity: alice, room: 'general', content: 'heck there' }, deps);
    expect(messages.stored.map((m) => m.content)).toEqual(['h*** there']);
    expect(events.deliveries[0]?.frame).toMatchObject({ message: 'h*** there' });
  });

  it('fail closed: a failed review refuses the message with moderation_unavailable and stores nothing', async () => {
    const { messages, failures, deps } = setup(() => new ReviewFailedError('timeout', 'no answer within 1000 ms'));
    const sent = postRoomMessage({ identity: alice, room: 'general', content: 'hello' }, deps);
    await expect(sent).rejects.toThrow(ModerationUnavailableError);
    expect(messages.stored).toEqual([]);
    expect(failures).toEqual([{ reason: 'timeout', outcome: 'refused' }]);
  });

  it('fail open: a failed review lets the original text through and says so', async () => {
    const { messages, failures, deps } = setup(() => new ReviewFailedError('invalid_response', 'not JSON'), 'open');
    await postRoomMessage({ identity: alice, room: 'general', content: 'hello' }, deps);
    expect(messages.stored.map((m) => m.content)).toEqual(['hello']);
    expect(failures).toEqual([{ reason: 'invalid_response', outcome: 'allowed' }]);
  });

  it('does not ask the hook again for a retried send whose original is stored', async () => {
    let calls = 0;
    const { messages, deps } = setup((request) => {
      calls++;
      // The second answer would refuse: a resend must not change what was already delivered.
      return calls === 1 ? { result: 'allow', content: `${request.Content}!` } : new ReviewFailedError('timeout', 'x');
    });
    const first = await postRoomMessage({ identity: alice, room: 'general', content: 'hi', messageId: 'm-2' }, deps);
    const again = await postRoomMessage({ identity: alice, room: 'general', content: 'hi', messageId: 'm-2' }, deps);
    expect(calls).toBe(1);
    expect(again).toMatchObject({ messageId: first.messageId, duplicate: true });
    expect(messages.stored.map((m) => m.content)).toEqual(['hi!']);
  });

  it('asks the hook again for a resend of a refused message (nothing was stored)', async () => {
    let calls = 0;
    const { messages, deps } = setup(() => {
      calls++;
      return calls === 1 ? { result: 'deny', reason: 'not now' } : { result: 'allow', content: 'hi' };
    });
    const input = { identity: alice, room: 'general', content: 'hi', messageId: 'm-3' };
    await expect(postRoomMessage(input, deps)).rejects.toThrow('not now');
    await postRoomMessage(input, deps);
    expect(calls).toBe(2);
    expect(messages.stored.map((m) => m.messageId)).toEqual(['m-3']);
  });

  it('lets an error that is not a failed review through unchanged (a bug, not a fail-mode case)', async () => {
    const { deps } = setup(() => {
      throw new TypeError('bug');
    }, 'open');
    await expect(postRoomMessage({ identity: alice, room: 'general', content: 'hi' }, deps)).rejects.toThrow(TypeError);
  });
});
