import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createPresenceReader } from '#aws/adapters/presence-reader';
import type { Subscription } from '#core/ports';
import { createSubscriptionStore } from '#db/subscriptions-store';
import { ONLINE_LIST_LIMIT } from '#protocol/server-frames';
import { fakeSubscriptions } from '../../../../helpers/fakes.js';

const now = 1_800_000_000;
const id = (index: number) => `u${String(index).padStart(4, '0')}`;
const sub = (connectionId: string, userId: string, expiresAt = now + 600): Subscription => ({
  topic: 'room#big',
  connectionId,
  userId,
  userName: `name-${userId}`,
  expiresAt,
});
/** `count` users with one connection each. */
const room = (count: number, from = 0) =>
  Array.from({ length: count }, (_, index) => sub(`c-${id(from + index)}`, id(from + index)));

describe('presence reader: the capped sample for welcome and joined', () => {
  it('counts a user with two connections once', async () => {
    const reader = createPresenceReader(fakeSubscriptions([sub('c1', 'alice'), sub('c2', 'alice'), sub('c3', 'bob')]));
    expect(await reader.sampleOnlineIn('big', now, ONLINE_LIST_LIMIT)).toEqual({
      users: [
        { userId: 'alice', userName: 'name-alice' },
        { userId: 'bob', userName: 'name-bob' },
      ],
      truncated: false,
    });
  });

  it('returns exactly 100 users whole, not truncated', async () => {
    const sample = await createPresenceReader(fakeSubscriptions(room(100))).sampleOnlineIn('big', now, 100);
    expect(sample.truncated).toBe(false);
    expect(sample.users).toHaveLength(100);
  });

  it('cuts 101 users to 100 and says so', async () => {
    const sample = await createPresenceReader(fakeSubscriptions(room(101))).sampleOnlineIn('big', now, 100);
    expect(sample.truncated).toBe(true);
    expect(sample.users).toHaveLength(100);
    expect(sample.users.map((user) => user.userId)).toEqual(
      [...sample.users.map((user) => user.userId)].sort((a, b) => a.localeCompare(b)),
    );
  });

  it('is not truncated when the 101st connection belongs to a user already listed', async () => {
    const sample = await createPresenceReader(fakeSubscriptions([...room(100), sub('c-extra', id(7))])).sampleOnlineIn(
      'big',
      now,
      100,
    );
    expect(sample).toMatchObject({ truncated: false });
    expect(sample.users).toHaveLength(100);
  });

  it('reads one page of a 1,000-member room, not the room', async () => {
    const subscriptions = fakeSubscriptions(room(1000));
    const sample = await createPresenceReader(subscriptions).sampleOnlineIn('big', now, 100);
    expect(sample).toMatchObject({ truncated: true });
    expect(subscriptions.pagedReads).toEqual({ pages: 1, items: 125 });
  });

  it('pages on past expired items and second connections until it has 101 users', async () => {
    const expired = Array.from({ length: 125 }, (_, index) => sub(`a-${index}`, `gone${index}`, now - 1));
    const twice = room(60).map((s) => ({ ...s, connectionId: `b-${s.connectionId}` }));
    const subscriptions = fakeSubscriptions([...expired, ...twice, ...room(60), ...room(500, 60)]);
    const sample = await createPresenceReader(subscriptions).sampleOnlineIn('big', now, 100);
    expect(sample).toMatchObject({ truncated: true });
    expect(sample.users.every((user) => !user.userId.startsWith('gone'))).toBe(true);
    // In sort-key order: page 1 is all expired; page 2 is 60 second connections and 65 users; page 3 passes 101.
    expect(subscriptions.pagedReads).toEqual({ pages: 3, items: 375 });
  });

  it('still lists everyone for REST and counts: onlineIn is not capped', async () => {
    const subscriptions = fakeSubscriptions([...room(1000), sub('c-second', id(3)), sub('c-old', 'ghost', now - 1)]);
    const everyone = await createPresenceReader(subscriptions).onlineIn('big', now);
    expect(everyone).toHaveLength(1000);
    expect(everyone[0]).toEqual({ userId: id(0), userName: `name-${id(0)}` });
  });
});

describe('presence reader over the Subscriptions store', () => {
  const dynamo = mockClient(DynamoDBDocumentClient);
  afterEach(() => dynamo.reset());
  const reader = () =>
    createPresenceReader(
      createSubscriptionStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), 'Subs'),
    );
  const page = (items: Subscription[], more: boolean) => ({
    Items: items,
    ...(more ? { LastEvaluatedKey: { topic: 'room#big', connectionId: items.at(-1)?.connectionId } } : {}),
  });

  it('sends one Query with a Limit a bit above the cap, and stops once it has enough users', async () => {
    dynamo
      .on(QueryCommand)
      .resolvesOnce(page(room(125), true))
      .resolves(page(room(125, 125), true));
    const sample = await reader().sampleOnlineIn('big', now, 100);
    expect(sample).toMatchObject({ truncated: true });
    expect(sample.users).toHaveLength(100);
    const calls = dynamo.commandCalls(QueryCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toMatchObject({
      TableName: 'Subs',
      KeyConditionExpression: 'topic = :topic',
      FilterExpression: 'expiresAt > :now',
      ExpressionAttributeValues: { ':topic': 'room#big', ':now': now },
      Limit: 125,
    });
  });

  it('follows LastEvaluatedKey while it is short of users', async () => {
    dynamo
      .on(QueryCommand)
      .resolvesOnce(page(room(50), true))
      .resolvesOnce(page(room(30, 50), true))
      .resolves(page([], false));
    const sample = await reader().sampleOnlineIn('big', now, 100);
    expect(sample).toEqual({ users: expect.any(Array), truncated: false });
    expect(sample.users).toHaveLength(80);
    const calls = dynamo.commandCalls(QueryCommand);
    expect(calls).toHaveLength(3);
    expect(calls[1]?.args[0].input.ExclusiveStartKey).toEqual({ topic: 'room#big', connectionId: `c-${id(49)}` });
  });

  it('reads every page for the full list', async () => {
    dynamo
      .on(QueryCommand)
      .resolvesOnce(page(room(700), true))
      .resolves(page(room(300, 700), false));
    expect(await reader().onlineIn('big', now)).toHaveLength(1000);
    expect(dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input.Limit)).toEqual([undefined, undefined]);
  });
});
