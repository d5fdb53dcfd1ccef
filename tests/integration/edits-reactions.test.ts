import { describe, expect, it } from 'vitest';
import {
  ackFrameSchema,
  directMessageFrameSchema,
  editedFrameSchema,
  historyFrameSchema,
  reactionsFrameSchema,
  roomMessageFrameSchema,
} from '#protocol/server-frames';
import { type Frame, type TestClient, useLocalStack } from '../helpers/local-stack.js';

const local = useLocalStack();

/** Sends react/unreact and waits for this user's `reactions` frame about that emoji (reply or broadcast: the same). */
async function reactAs(client: TestClient, action: 'react' | 'unreact', messageId: string, emoji: string) {
  const before = client.frames.length;
  client.send({ action, messageId, emoji });
  const frame = await client.waitFor(
    (candidate) =>
      client.frames.indexOf(candidate) >= before &&
      (candidate.type === 'error' ||
        (candidate.type === 'reactions' && candidate.emoji === emoji && candidate.reacted === (action === 'react'))),
  );
  return reactionsFrameSchema.parse(frame);
}

const about = (type: string, messageId: string) => (frame: Frame) =>
  frame.type === type && frame.messageId === messageId;

type Stored = { messageId: string; editedAt?: string; reactions?: Record<string, number>; myReactions?: string[] };

async function roomHistory(room: string, userId: string): Promise<Array<Stored & { message: string }>> {
  const { status, body } = await local.rest(`/rooms/${room}/messages?limit=50`, userId);
  expect(status).toBe(200);
  return (body.messages as unknown[]).map((message) => roomMessageFrameSchema.parse(message));
}

async function conversationHistory(
  conversationId: string,
  userId: string,
): Promise<Array<Stored & { content: string }>> {
  const { status, body } = await local.rest(`/conversations/${conversationId}/messages?limit=50`, userId);
  expect(status).toBe(200);
  return (body.messages as unknown[]).map((data) => directMessageFrameSchema.parse({ type: 'message', data }).data);
}

describe('edits and reactions in a room', () => {
  const room = 'er-room';
  let messageId: string;

  it('an edit reaches the other member; the sender gets an ack with the edit time', async () => {
    const alice = await local.join({ userId: 'er-alice', room });
    const bob = await local.join({ userId: 'er-bob', room });
    const sent = ackFrameSchema.parse(await alice.request({ action: 'sendMessage', room, message: 'helo wrold' }));
    messageId = sent.messageId;
    await bob.waitFor((frame) => frame.type === 'message' && frame.messageId === messageId);

    const ack = ackFrameSchema.parse(await alice.request({ action: 'editMessage', messageId, message: 'hello world' }));
    expect(ack).toMatchObject({ messageId, room });
    expect(ack.timestamp > sent.timestamp).toBe(true);
    const edited = editedFrameSchema.parse(await bob.waitFor(about('edited', messageId)));
    expect(edited).toEqual({
      type: 'edited',
      messageId,
      room,
      message: 'hello world',
      editedAt: ack.timestamp,
      editedBy: 'er-alice',
    });
    // A second edit: two versions behind the current text.
    await alice.request({ action: 'editMessage', messageId, message: 'hello, world' });
    await bob.waitFor((frame) => about('edited', messageId)(frame) && frame.message === 'hello, world');
  });

  it('reactions reach the other member, count each user once per emoji, and can be taken back', async () => {
    const alice = await local.join({ userId: 'er-alice', room });
    const bob = await local.join({ userId: 'er-bob', room });

    const first = await reactAs(bob, 'react', messageId, '👍');
    expect(first).toEqual({
      type: 'reactions',
      messageId,
      room,
      counts: { '👍': 1 },
      userId: 'er-bob',
      emoji: '👍',
      reacted: true,
    });
    const seen = reactionsFrameSchema.parse(await alice.waitFor(about('reactions', messageId)));
    expect(seen.counts).toEqual({ '👍': 1 });

    // The same reaction again changes nothing.
    const again = await reactAs(bob, 'react', messageId, '👍');
    expect(again.counts).toEqual({ '👍': 1 });
    await reactAs(bob, 'react', messageId, '🎉');
    const both = await reactAs(alice, 'react', messageId, '👍');
    expect(both.counts).toEqual({ '👍': 2, '🎉': 1 });
    await bob.waitFor((frame) => about('reactions', messageId)(frame) && frame.userId === 'er-alice');

    await reactAs(bob, 'react', messageId, '👀');
    const back = await reactAs(bob, 'unreact', messageId, '👀');
    expect(back).toMatchObject({ reacted: false, counts: { '👍': 2, '🎉': 1 } });
    await alice.waitFor((frame) => about('reactions', messageId)(frame) && frame.reacted === false);
  });

  it('history after a reload shows the latest text, editedAt, the counts and the reader’s own reactions', async () => {
    const forBob = (await roomHistory(room, 'er-bob')).find((message) => message.messageId === messageId);
    expect(forBob).toMatchObject({
      message: 'hello, world',
      reactions: { '👍': 2, '🎉': 1 },
      myReactions: ['🎉', '👍'],
    });
    expect(forBob?.editedAt).toEqual(expect.any(String));
    const forAlice = (await roomHistory(room, 'er-alice')).find((message) => message.messageId === messageId);
    expect(forAlice?.myReactions).toEqual(['👍']);
    const forCarol = (await roomHistory(room, 'er-carol')).find((message) => message.messageId === messageId);
    expect(forCarol?.myReactions).toBeUndefined();
    expect(forCarol?.reactions).toEqual({ '👍': 2, '🎉': 1 });

    // resume (the socket's catch-up) says the same.
    const bob = await local.join({ userId: 'er-bob', room });
    const history = historyFrameSchema.parse(
      await bob.request({ action: 'resume', room, lastTimestamp: '2000-01-01T00:00:00.000Z' }, 'history'),
    );
    expect(history.messages.find((message) => message.messageId === messageId)).toMatchObject({
      message: 'hello, world',
      editedAt: forBob?.editedAt,
      reactions: { '👍': 2, '🎉': 1 },
      myReactions: ['🎉', '👍'],
    });
  });

  it('GET /messages/{messageId}/versions lists every text, oldest first', async () => {
    const { status, body } = await local.rest(`/messages/${messageId}/versions`, 'er-carol');
    expect(status).toBe(200);
    expect(body).toMatchObject({ messageId, room });
    const versions = body.versions as Array<{ version: number; text: string; userId: string; timestamp: string }>;
    expect(versions.map(({ version, text, userId }) => ({ version, text, userId }))).toEqual([
      { version: 0, text: 'helo wrold', userId: 'er-alice' },
      { version: 1, text: 'hello world', userId: 'er-alice' },
      { version: 2, text: 'hello, world', userId: 'er-alice' },
    ]);
    expect(versions[2]?.timestamp).toBe(
      (await roomHistory(room, 'er-carol')).find((message) => message.messageId === messageId)?.editedAt,
    );
    expect((await local.rest('/messages/no-such-message/versions', 'er-carol')).status).toBe(404);
  });
});

describe('edits and reactions in a direct conversation', () => {
  let conversationId: string;
  let messageId: string;

  it('an edit and a reaction reach the other party', async () => {
    const alice = await local.join({ userId: 'erd-alice', room: 'erd-lobby-a' });
    const bob = await local.join({ userId: 'erd-bob', room: 'erd-lobby-b' });
    const sent = ackFrameSchema.parse(
      await alice.request({ action: 'sendMessage', recipientId: 'erd-bob', content: 'see you at 5' }),
    );
    conversationId = String(sent.conversationId);
    messageId = sent.messageId;
    await bob.waitFor((frame) => frame.type === 'message' && JSON.stringify(frame).includes(messageId));

    const ack = ackFrameSchema.parse(
      await alice.request({ action: 'editMessage', messageId, message: 'see you at 6' }),
    );
    expect(ack).toMatchObject({ messageId, conversationId });
    expect(editedFrameSchema.parse(await bob.waitFor(about('edited', messageId)))).toMatchObject({
      conversationId,
      message: 'see you at 6',
      editedBy: 'erd-alice',
    });

    const reply = await reactAs(bob, 'react', messageId, '❤️');
    expect(reply).toMatchObject({ conversationId, counts: { '❤️': 1 }, userId: 'erd-bob', reacted: true });
    expect(reactionsFrameSchema.parse(await alice.waitFor(about('reactions', messageId)))).toMatchObject({
      conversationId,
      counts: { '❤️': 1 },
    });
  });

  it('history shows the edit and the reactions to each party; the versions only to them', async () => {
    const forBob = (await conversationHistory(conversationId, 'erd-bob')).find((m) => m.messageId === messageId);
    expect(forBob).toMatchObject({ content: 'see you at 6', reactions: { '❤️': 1 }, myReactions: ['❤️'] });
    expect(forBob?.editedAt).toEqual(expect.any(String));
    const summaries = await local.rest('/conversations', 'erd-bob');
    expect(summaries.body.conversations).toEqual([
      expect.objectContaining({ conversationId, lastMessage: expect.objectContaining({ content: 'see you at 6' }) }),
    ]);
    const forAlice = (await conversationHistory(conversationId, 'erd-alice')).find((m) => m.messageId === messageId);
    expect(forAlice?.myReactions).toBeUndefined();

    const alice = await local.join({ userId: 'erd-alice', room: 'erd-lobby-a' });
    const overSocket = await alice.request({ action: 'conversationHistory', conversationId }, 'conversationHistory');
    expect((overSocket.messages as Stored[]).find((m) => m.messageId === messageId)).toMatchObject({
      reactions: { '❤️': 1 },
      editedAt: forBob?.editedAt,
    });

    const versions = await local.rest(`/messages/${messageId}/versions`, 'erd-bob');
    expect(versions.status).toBe(200);
    expect((versions.body.versions as Array<{ text: string }>).map((version) => version.text)).toEqual([
      'see you at 5',
      'see you at 6',
    ]);
    const outsider = await local.rest(`/messages/${messageId}/versions`, 'erd-eve');
    expect(outsider.status).toBe(403);
    expect(JSON.stringify(outsider.body)).not.toContain('see you');
  });
});
