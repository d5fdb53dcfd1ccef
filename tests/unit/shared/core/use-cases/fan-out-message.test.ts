import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '#core/domain/message';
import type { Delivery } from '#core/events/delivery';
import type { MessageStore, PostOutcome, Subscription } from '#core/ports';
import { type DirectPathDeps, fanOutMessage } from '#core/use-cases/fan-out-message';
import { postRoomMessage } from '#core/use-cases/post-room-message';
import { fakeEvents, fakeNotifier, fakeReadPositions, fakeSubscriptions } from '../../../../helpers/fakes.js';

const NOW = 1_800_000_000;
const frame = { type: 'message', messageId: 'm-1', room: 'lobby' };
const room = (topic = 'room#lobby'): Delivery => ({ topic, frame });

const subscription = (topic: string, connectionId: string, expiresAt = NOW + 600): Subscription => ({
  topic,
  connectionId,
  userId: `user-${connectionId}`,
  userName: connectionId,
  expiresAt,
});

function setup(options: {
  subscribers?: Subscription[];
  outcomes?: Record<string, PostOutcome>;
  maxMembers?: number;
  goneFails?: string[];
}) {
  const subscriptions = fakeSubscriptions(options.subscribers ?? []);
  const notifier = fakeNotifier(options.outcomes);
  const events = fakeEvents();
  const gone: string[] = [];
  const receipts: Array<{ room: string; sk: string }> = [];
  const direct: DirectPathDeps = {
    subscriptions,
    notifier,
    messages: {
      async advanceStatus(key) {
        receipts.push(key);
        return true;
      },
    },
    async onGone(connectionId) {
      if (options.goneFails?.includes(connectionId)) throw new Error('DynamoDB unavailable');
      gone.push(connectionId);
    },
    maxMembers: options.maxMembers ?? 3,
    concurrency: 2,
  };
  const posted = () => notifier.posts.map((post) => post.connectionId).sort();
  return { subscriptions, notifier, events, gone, receipts, direct, posted };
}

describe('fanOutMessage', () => {
  it('posts a small room to each live connection once and publishes nothing', async () => {
    const t = setup({
      subscribers: [
        subscription('room#lobby', 'c1'),
        subscription('room#lobby', 'c2'),
        subscription('room#lobby', 'expired', NOW - 1),
        subscription('room#other', 'x1'),
      ],
    });
    const result = await fanOutMessage(
      'MessagePosted',
      [room()],
      { duplicate: false, nowSeconds: NOW },
      { events: t.events, direct: t.direct },
    );
    expect(t.posted()).toEqual(['c1', 'c2']);
    expect(t.notifier.posts.every((post) => post.frame === frame)).toBe(true);
    expect(t.events.published).toEqual([]);
    expect(result).toEqual({ direct: 1, handedOn: 0 });
    // One page, bounded by maxMembers + 1.
    expect(t.subscriptions.pagedReads.pages).toBe(1);
  });

  it('sends a room above the threshold the long way after reading one small page, posting nothing', async () => {
    const t = setup({
      maxMembers: 2,
      subscribers: ['c1', 'c2', 'c3', 'c4', 'c5'].map((id) => subscription('room#lobby', id)),
    });
    const result = await fanOutMessage(
      'MessagePosted',
      [room()],
      { duplicate: false, nowSeconds: NOW },
      { events: t.events, direct: t.direct },
    );
    expect(t.notifier.posts).toEqual([]);
    expect(t.events.deliveries).toEqual([room()]);
    expect(result).toEqual({ direct: 0, handedOn: 1 });
    expect(t.subscriptions.pagedReads).toEqual({ pages: 1, items: 3 });
  });

  it.each([
    ['no direct path configured', undefined],
    ['DirectFanoutMaxMembers 0', 0],
  ])('with %s, publishes every delivery for the state machine', async (_name, maxMembers) => {
    const t = setup({ subscribers: [subscription('room#lobby', 'c1')], maxMembers: maxMembers ?? 3 });
    const deps = maxMembers === undefined ? { events: t.events } : { events: t.events, direct: t.direct };
    await fanOutMessage('MessagePosted', [room()], { duplicate: false, nowSeconds: NOW }, deps);
    expect(t.notifier.posts).toEqual([]);
    expect(t.subscriptions.pagedReads.pages).toBe(0);
    expect(t.events.deliveries).toEqual([room()]);
  });

  it('sends a retried send (duplicate) the long way: the first attempt may have died between posts', async () => {
    const t = setup({ subscribers: [subscription('room#lobby', 'c1')] });
    await fanOutMessage(
      'MessagePosted',
      [room()],
      { duplicate: true, nowSeconds: NOW },
      { events: t.events, direct: t.direct },
    );
    expect(t.notifier.posts).toEqual([]);
    expect(t.events.deliveries).toEqual([room()]);
  });

  it('drops a connection that answered 410 and hands nothing on for it', async () => {
    const t = setup({
      subscribers: ['c1', 'c2', 'c3'].map((id) => subscription('room#lobby', id)),
      outcomes: { c2: 'gone' },
    });
    await fanOutMessage(
      'MessagePosted',
      [room()],
      { duplicate: false, nowSeconds: NOW },
      { events: t.events, direct: t.direct },
    );
    expect(t.posted()).toEqual(['c1', 'c2', 'c3']);
    expect(t.gone).toEqual(['c2']);
    expect(t.events.published).toEqual([]);
  });

  it('hands on exactly the connections that still failed after retries, with the frame and receipt', async () => {
    const receipt = { room: 'dm#conv', sk: 'sk-1' };
    const t = setup({
      subscribers: ['b1', 'b2', 'b3'].map((id) => subscription('user#bob', id)),
      outcomes: { b1: 'failed', b3: 'failed' },
    });
    const result = await fanOutMessage(
      'MessagePosted',
      [{ topic: 'user#bob', frame, receipt }],
      { duplicate: false, nowSeconds: NOW },
      { events: t.events, direct: t.direct },
    );
    expect(t.posted()).toEqual(['b1', 'b2', 'b3']);
    expect(t.events.deliveries).toEqual([
      { topic: 'user#bob', frame, receipt, connectionIds: expect.arrayContaining(['b1', 'b3']) },
    ]);
    expect(t.events.deliveries[0]?.connectionIds).toHaveLength(2);
    // b2 received it, so the direct path itself marked the message delivered.
    expect(t.receipts).toEqual([receipt]);
    expect(result).toEqual({ direct: 1, handedOn: 1 });
  });

  it('hands on a gone connection whose cleanup failed, and still posts to the rest of the room', async () => {
    const t = setup({
      subscribers: ['c1', 'c2', 'c3'].map((id) => subscription('room#lobby', id)),
      outcomes: { c1: 'gone' },
      goneFails: ['c1'],
    });
    t.direct.concurrency = 1;
    await fanOutMessage(
      'MessagePosted',
      [room()],
      { duplicate: false, nowSeconds: NOW },
      { events: t.events, direct: t.direct },
    );
    expect(t.posted()).toEqual(['c1', 'c2', 'c3']);
    expect(t.events.deliveries).toEqual([{ ...room(), connectionIds: ['c1'] }]);
  });

  it('hands the whole delivery on when the subscribers cannot be read', async () => {
    const t = setup({});
    t.direct.subscriptions = {
      async liveSubscribersUpTo() {
        throw new Error('ProvisionedThroughputExceededException');
      },
    };
    await fanOutMessage(
      'MessagePosted',
      [room()],
      { duplicate: false, nowSeconds: NOW },
      { events: t.events, direct: t.direct },
    );
    expect(t.notifier.posts).toEqual([]);
    expect(t.events.deliveries).toEqual([room()]);
  });

  it('posts nothing and marks nothing delivered to an offline recipient: the pending index has it', async () => {
    const receipt = { room: 'dm#conv', sk: 'sk-1' };
    const t = setup({ subscribers: [subscription('user#alice', 'a1')] });
    await fanOutMessage(
      'MessagePosted',
      [
        { topic: 'user#bob', frame, receipt },
        { topic: 'user#alice', frame },
      ],
      { duplicate: false, nowSeconds: NOW },
      { events: t.events, direct: t.direct },
    );
    expect(t.posted()).toEqual(['a1']);
    expect(t.receipts).toEqual([]);
    expect(t.events.published).toEqual([]);
  });

  it('hands the delivered connections on with the receipt when marking it delivered failed', async () => {
    const receipt = { room: 'dm#conv', sk: 'sk-1' };
    const t = setup({ subscribers: [subscription('user#bob', 'b1')] });
    t.direct.messages = {
      async advanceStatus() {
        throw new Error('InternalServerError');
      },
    };
    await fanOutMessage(
      'MessagePosted',
      [{ topic: 'user#bob', frame, receipt }],
      { duplicate: false, nowSeconds: NOW },
      { events: t.events, direct: t.direct },
    );
    expect(t.events.deliveries).toEqual([{ topic: 'user#bob', frame, receipt, connectionIds: ['b1'] }]);
  });

  it('throws when handing on fails, so the sender gets no ack and resends', async () => {
    const t = setup({ subscribers: [subscription('room#lobby', 'c1')], outcomes: { c1: 'failed' } });
    t.events.distribute = async () => {
      throw new Error('PutEvents failed');
    };
    await expect(
      fanOutMessage(
        'MessagePosted',
        [room()],
        { duplicate: false, nowSeconds: NOW },
        { events: t.events, direct: t.direct },
      ),
    ).rejects.toThrow('PutEvents failed');
  });
});

describe('postRoomMessage with the direct path', () => {
  function memoryMessages(): Pick<MessageStore, 'append'> {
    const stored: ChatMessage[] = [];
    return {
      async append(message) {
        const existing = stored.find((m) => m.messageId === message.messageId);
        if (existing) return { message: existing, duplicate: true };
        stored.push(message);
        return { message, duplicate: false };
      },
    };
  }

  it('posts a first send directly and sends its retry the long way', async () => {
    const t = setup({ subscribers: ['c1', 'c2'].map((id) => subscription('room#lobby', id, 4_000_000_000)) });
    const deps = {
      messages: memoryMessages() as unknown as MessageStore,
      events: t.events,
      direct: t.direct,
      retentionDays: 30,
      readPositions: fakeReadPositions(),
    };
    const identity = { userId: 'alice', userName: 'Alice' };
    const first = await postRoomMessage({ identity, room: 'lobby', content: 'hi', messageId: 'm-9' }, deps);
    expect(first.duplicate).toBeUndefined();
    expect(t.posted()).toEqual(['c1', 'c2']);
    expect(t.notifier.posts[0]?.frame).toMatchObject({ type: 'message', messageId: 'm-9', room: 'lobby' });
    expect(t.events.published).toEqual([]);

    const retry = await postRoomMessage({ identity, room: 'lobby', content: 'hi', messageId: 'm-9' }, deps);
    expect(retry.duplicate).toBe(true);
    expect(t.notifier.posts).toHaveLength(2);
    expect(t.events.deliveries).toEqual([
      { topic: 'room#lobby', frame: expect.objectContaining({ messageId: 'm-9' }) },
    ]);
  });
});
