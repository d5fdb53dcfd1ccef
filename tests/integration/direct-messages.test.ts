import { describe, expect, it } from 'vitest';
import { ackFrameSchema, directMessageFrameSchema, errorFrameSchema } from '#protocol/server-frames';
import { TestClient, useLocalStack } from '../helpers/local-stack.js';

const local = useLocalStack();

const join = (userId: string) => local.join({ userId, room: `lobby-${userId}` });

async function rest(path: string, userId: string) {
  const response = await fetch(`${local.stack.urls.rest}${path}`, { headers: { 'x-user-id': userId } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

type DirectData = { messageId: string; status: string; content: string; isDeleted?: boolean } & Record<string, unknown>;

async function historyOf(conversationId: string, userId: string): Promise<DirectData[]> {
  const { body } = await rest(`/conversations/${conversationId}/messages?limit=100`, userId);
  return body.messages as DirectData[];
}

const isDirect = (messageId: string) => (frame: Record<string, unknown>) =>
  frame.type === 'message' && (frame.data as { messageId?: string } | undefined)?.messageId === messageId;

describe('direct messages (seed 004)', () => {
  it("delivers seed 004's frame, as written, to the online recipient and marks it delivered", async () => {
    const alice = await join('dm-alice');
    const bob = await join('dm-bob');
    const frame = {
      action: 'sendMessage',
      messageId: 'seed-004-1',
      conversationId: 'conv-1',
      senderId: 'dm-alice',
      senderName: 'Alice A.',
      recipientId: 'dm-bob',
      content: 'Hello!',
      timestamp: '2025-10-21T10:30:00Z',
    };
    const ack = ackFrameSchema.parse(await alice.request(frame));
    expect(ack).toMatchObject({ messageId: 'seed-004-1', conversationId: 'conv-1' });

    const received = directMessageFrameSchema.parse(await bob.waitFor(isDirect('seed-004-1')));
    expect(received.data).toMatchObject({
      messageId: 'seed-004-1',
      conversationId: 'conv-1',
      senderId: 'dm-alice',
      senderName: 'dm-alice',
      content: 'Hello!',
      status: 'delivered',
    });
    // The sender hears that it was delivered (through the Messages stream).
    const status = await alice.waitFor(
      (f) => f.type === 'status' && (f.data as { messageId: string }).messageId === 'seed-004-1',
    );
    expect(status.data).toMatchObject({ conversationId: 'conv-1', status: 'delivered' });
    await local.stack.idle();
    expect((await historyOf('conv-1', 'dm-alice'))[0]?.status).toBe('delivered');
  });

  it('keeps the pair in one conversation whoever writes and whatever id they send', async () => {
    const bob = await join('dm-bob');
    const ack = ackFrameSchema.parse(
      await bob.request({
        action: 'sendMessage',
        recipientId: 'dm-alice',
        content: 'Hi back!',
        conversationId: 'some-other-id',
      }),
    );
    expect(ack.conversationId).toBe('conv-1');
  });

  it('stores messages for an offline recipient and delivers them, in order, at the next connect', async () => {
    const sender = await join('off-sender');
    const ids: string[] = [];
    for (const content of ['first', 'second', 'third']) {
      const ack = ackFrameSchema.parse(
        await sender.request({ action: 'sendMessage', recipientId: 'off-recipient', content }),
      );
      ids.push(ack.messageId);
    }
    await local.stack.idle();
    const conversationId = String(
      (await sender.request({ action: 'sendMessage', recipientId: 'off-recipient', content: 'fourth' })).conversationId,
    );
    await local.stack.idle();
    const pending = await historyOf(conversationId, 'off-sender');
    expect(pending.every((message) => message.status === 'sent')).toBe(true);

    const recipient = await TestClient.connect(local.stack, { userId: 'off-recipient' });
    local.track(recipient);
    const welcome = await recipient.waitFor((f) => f.type === 'welcome');
    expect(welcome.pending).toBe(4);
    await recipient.waitFor((f) => f.type === 'message' && (f.data as { content?: string })?.content === 'fourth');
    const contents = recipient.frames
      .filter((f) => f.type === 'message')
      .map((f) => (f.data as { content: string }).content);
    expect(contents).toEqual(['first', 'second', 'third', 'fourth']);
    await local.stack.idle();
    expect((await historyOf(conversationId, 'off-sender')).map((m) => m.status)).toEqual([
      'delivered',
      'delivered',
      'delivered',
      'delivered',
    ]);

    // A second connection later gets nothing again: they are no longer pending.
    const again = await TestClient.join(local.stack, { userId: 'off-recipient' });
    local.track(again);
    expect((again.frames.find((f) => f.type === 'welcome') as { pending: number }).pending).toBe(0);
  });

  it("reaches every device of the recipient and the sender's other devices, once each", async () => {
    const phone = await join('multi-a');
    const laptop = await join('multi-a');
    const bobPhone = await join('multi-b');
    const bobLaptop = await join('multi-b');
    const ack = ackFrameSchema.parse(
      await phone.request({ action: 'sendMessage', recipientId: 'multi-b', content: 'everywhere' }),
    );
    for (const device of [bobPhone, bobLaptop, laptop]) await device.waitFor(isDirect(ack.messageId));
    await local.stack.idle();
    for (const device of [bobPhone, bobLaptop, laptop, phone]) {
      expect(device.frames.filter(isDirect(ack.messageId))).toHaveLength(1);
    }
  });

  it('rejects a spoofed senderId and stores nothing', async () => {
    const mallory = await join('dm-mallory');
    const reply = errorFrameSchema.parse(
      await mallory.request({
        action: 'sendMessage',
        senderId: 'dm-alice',
        recipientId: 'dm-bob',
        content: 'from alice, honest',
        messageId: 'spoof-1',
      }),
    );
    expect(reply.code).toBe('identity_mismatch');
    expect((await historyOf('conv-1', 'dm-alice')).some((m) => m.messageId === 'spoof-1')).toBe(false);
  });

  it('refuses a third user reading a conversation, over REST and over WebSocket', async () => {
    const outsider = await join('dm-outsider');
    const { status, body } = await rest('/conversations/conv-1/messages', 'dm-outsider');
    expect(status).toBe(403);
    expect(body.error).toBe('forbidden');
    const reply = errorFrameSchema.parse(
      await outsider.request({ action: 'conversationHistory', conversationId: 'conv-1' }, 'error'),
    );
    expect(reply.code).toBe('forbidden');
    const posting = errorFrameSchema.parse(
      await outsider.request({
        action: 'sendMessage',
        recipientId: 'dm-bob',
        content: 'let me in',
        conversationId: 'conv-1',
      }),
    );
    expect(posting.code).toBe('forbidden');
  });

  it('moves status forward only: read stays read, and the sender hears each step', async () => {
    const sender = await join('rcpt-a');
    const reader = await join('rcpt-b');
    const ack = ackFrameSchema.parse(
      await sender.request({ action: 'sendMessage', recipientId: 'rcpt-b', content: 'read me' }),
    );
    await reader.waitFor(isDirect(ack.messageId));
    const read = await reader.request(
      { action: 'markRead', conversationId: ack.conversationId, upToMessageId: ack.messageId },
      'read',
    );
    expect(read.count).toBe(1);
    await sender.waitFor((f) => f.type === 'status' && (f.data as { status: string }).status === 'read');
    // Reading again, or a late delivery receipt, changes nothing.
    const again = await reader.request(
      { action: 'markRead', conversationId: ack.conversationId, messageIds: [ack.messageId] },
      'read',
    );
    expect(again.count).toBe(0);
    const message = await local.stack.functions.invoke('PostToConnectionsFunction', {
      frame: { type: 'probe' },
      connectionIds: [],
      receipt: { room: `dm#${ack.conversationId}`, sk: `${ack.timestamp}#${ack.messageId}` },
    });
    expect(message).toMatchObject({ delivered: 0 });
    await local.stack.idle();
    expect((await historyOf(String(ack.conversationId), 'rcpt-a'))[0]?.status).toBe('read');
    const { body } = await rest('/conversations', 'rcpt-b');
    const summary = (
      body.conversations as Array<{ conversationId: string; unreadCount: number; lastMessage: { content: string } }>
    ).find((c) => c.conversationId === ack.conversationId);
    expect(summary).toMatchObject({ unreadCount: 0, lastMessage: { content: 'read me' } });
  });

  it('stores and delivers replies with the quote taken from the original', async () => {
    const a = await join('reply-a');
    const b = await join('reply-b');
    const original = ackFrameSchema.parse(
      await a.request({ action: 'sendMessage', recipientId: 'reply-b', content: 'the original' }),
    );
    const reply = ackFrameSchema.parse(
      await b.request({
        action: 'sendMessage',
        recipientId: 'reply-a',
        content: 'my answer',
        replyToMessageId: original.messageId,
        replyToContent: 'forged quote',
        replyToSenderName: 'someone else',
      }),
    );
    const received = directMessageFrameSchema.parse(await a.waitFor(isDirect(reply.messageId)));
    expect(received.data).toMatchObject({
      replyToMessageId: original.messageId,
      replyToContent: 'the original',
      replyToSenderName: 'reply-a',
    });
  });

  it('lets only the sender delete, removes the content, and tells the other side', async () => {
    const a = await join('del-a');
    const b = await join('del-b');
    const ack = ackFrameSchema.parse(await a.request({ action: 'sendMessage', recipientId: 'del-b', content: 'oops' }));
    await b.waitFor(isDirect(ack.messageId));
    const refused = errorFrameSchema.parse(
      await b.request({ action: 'deleteMessage', messageId: ack.messageId }, 'error'),
    );
    expect(refused.code).toBe('forbidden');
    expect((await a.request({ action: 'deleteMessage', messageId: ack.messageId }, 'deleted')).messageId).toBe(
      ack.messageId,
    );
    await b.waitFor((f) => f.type === 'deleted' && (f.data as { messageId: string }).messageId === ack.messageId);
    await local.stack.idle();
    const [stored] = await historyOf(String(ack.conversationId), 'del-b');
    expect(stored).toMatchObject({ messageId: ack.messageId, isDeleted: true, content: '' });
    // Nor does the conversation list keep the text as a preview.
    for (const userId of ['del-a', 'del-b']) {
      const { body } = await rest('/conversations', userId);
      const [summary] = body.conversations as Array<{ lastMessage: { content: string; isDeleted?: boolean } }>;
      expect(summary?.lastMessage).toMatchObject({ content: '', isDeleted: true });
    }
  });
});
