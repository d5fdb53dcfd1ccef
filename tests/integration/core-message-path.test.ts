import { GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { connectionExpiry } from '#core/domain/time';
import { ackFrameSchema, errorFrameSchema, roomMessageFrameSchema, welcomeFrameSchema } from '#protocol/server-frames';
import { useLocalStack } from '../helpers/local-stack.js';

// RateLimitPerSecond 1 (burst 20): the flood below must outrun the refill even when its 40
// invocations spread over several seconds of cold starts (each frame is its own invocation, as on AWS).
const local = useLocalStack({ parameters: { ConnectionPageSize: '3', PostBatchSize: '2', RateLimitPerSecond: '1' } });

const join = (query: Record<string, string>) => local.join(query);

async function storedMessageCount(): Promise<number> {
  const result = await local.stack.dynamoDb.client.send(
    new ScanCommand({
      TableName: local.stack.tableNames.MessagesTable,
      Select: 'COUNT',
      // Messages and their markers; not the rooms' seq counters or the users' read positions.
      FilterExpression: 'NOT begins_with(room, :seq) AND NOT begins_with(room, :read)',
      ExpressionAttributeValues: { ':seq': { S: 'seq#' }, ':read': { S: 'read#' } },
    }),
  );
  return result.Count ?? 0;
}

describe('the core message path on the local local.stack', () => {
  it('welcomes a connection with its identity, rooms and who is online', async () => {
    const alice = await join({ userId: 'welcome-alice', room: 'welcome-room' });
    const welcome = welcomeFrameSchema.parse(alice.frames.find((frame) => frame.type === 'welcome'));
    expect(welcome.user).toEqual({ userId: 'welcome-alice', userName: 'welcome-alice' });
    expect(welcome.rooms).toEqual(['welcome-room']);
    expect(welcome.online['welcome-room']).toContainEqual({ userId: 'welcome-alice', userName: 'welcome-alice' });
  });

  it('delivers a room message to every member of that room, and not to another room', async () => {
    const alice = await join({ userId: 'alice', room: 'lobby' });
    const bob = await join({ userId: 'bob', room: 'lobby' });
    const carol = await join({ userId: 'carol', room: 'elsewhere' });

    // Seed 002's frame, exactly as written.
    const ack = ackFrameSchema.parse(
      await alice.request({ action: 'sendMessage', room: 'lobby', user_id: 'alice', message: 'Hello, world!' }),
    );
    const expected = {
      action: 'message',
      room: 'lobby',
      user_id: 'alice',
      message: 'Hello, world!',
      messageId: ack.messageId,
    };
    const atBob = roomMessageFrameSchema.parse(await bob.waitFor((frame) => frame.messageId === ack.messageId));
    const atAlice = roomMessageFrameSchema.parse(
      await alice.waitFor((frame) => frame.type === 'message' && frame.messageId === ack.messageId),
    );
    expect(atBob).toMatchObject(expected);
    expect(atAlice).toMatchObject(expected);
    expect(new Date(atBob.timestamp).toISOString()).toBe(atBob.timestamp);

    await local.stack.idle();
    expect(carol.messages()).toEqual([]);
  });

  it('never lets a body override the connection identity', async () => {
    const mallory = await join({ userId: 'mallory', room: 'lobby' });
    const before = await storedMessageCount();
    const reply = errorFrameSchema.parse(
      await mallory.request({ action: 'sendMessage', room: 'lobby', user_id: 'alice', message: 'I am alice' }),
    );
    expect(reply.code).toBe('identity_mismatch');
    expect(await storedMessageCount()).toBe(before);
  });

  it('makes a retried send with the same messageId idempotent', async () => {
    const dana = await join({ userId: 'dana', room: 'retry-room' });
    const frame = { action: 'sendMessage', room: 'retry-room', message: 'once', messageId: 'retry-1' };
    const first = ackFrameSchema.parse(await dana.request(frame));
    const before = await storedMessageCount();
    const second = ackFrameSchema.parse(await dana.request(frame));
    expect(second).toMatchObject({ messageId: 'retry-1', timestamp: first.timestamp, duplicate: true });
    expect(await storedMessageCount()).toBe(before);
  });

  it('removes a connection that vanished without $disconnect on its 410, and still delivers to the rest', async () => {
    const erin = await join({ userId: 'erin', room: 'ghost-room' });
    const frank = await join({ userId: 'frank', room: 'ghost-room' });
    const ghost = 'GhostConnection0=';
    const expiresAt = { N: String(connectionExpiry(Date.now())) };
    await local.stack.dynamoDb.client.send(
      new PutItemCommand({
        TableName: local.stack.tableNames.ConnectionsTable,
        Item: {
          connectionId: { S: ghost },
          userId: { S: 'ghost' },
          userName: { S: 'ghost' },
          connectedAt: { N: String(Date.now() - 60_000) },
          connectedDate: { S: '2026-01-01' },
          expiresAt,
        },
      }),
    );
    await local.stack.dynamoDb.client.send(
      new PutItemCommand({
        TableName: local.stack.tableNames.SubscriptionsTable,
        Item: {
          topic: { S: 'room#ghost-room' },
          connectionId: { S: ghost },
          userId: { S: 'ghost' },
          userName: { S: 'ghost' },
          expiresAt,
        },
      }),
    );

    const ack = ackFrameSchema.parse(
      await erin.request({ action: 'sendMessage', room: 'ghost-room', message: 'anyone there?' }),
    );
    await frank.waitFor((frame) => frame.messageId === ack.messageId);
    await erin.waitFor((frame) => frame.type === 'message' && frame.messageId === ack.messageId);
    await local.stack.idle();

    const ghostRecord = await local.stack.dynamoDb.client.send(
      new GetItemCommand({ TableName: local.stack.tableNames.ConnectionsTable, Key: { connectionId: { S: ghost } } }),
    );
    expect(ghostRecord.Item).toBeUndefined();
    const erinRecord = await local.stack.dynamoDb.client.send(
      new GetItemCommand({
        TableName: local.stack.tableNames.ConnectionsTable,
        Key: { connectionId: { S: erin.connectionId } },
      }),
    );
    expect(erinRecord.Item?.userId?.S).toBe('erin');
  });

  it('delivers to every member of a room larger than one page of connections', async () => {
    // ConnectionPageSize is 3 and PostBatchSize 2 here: 8 members span 3 pages and 5 batches.
    const members = await Promise.all(
      Array.from({ length: 8 }, (_, index) => join({ userId: `member-${index}`, room: 'big-room' })),
    );
    const [sender] = members;
    const ack = ackFrameSchema.parse(
      await sender?.request({ action: 'sendMessage', room: 'big-room', message: 'to all eight' }),
    );
    await Promise.all(
      members.map((member) => member.waitFor((frame) => frame.type === 'message' && frame.messageId === ack.messageId)),
    );
    await local.stack.idle();
    for (const member of members) {
      expect(member.messages('big-room').filter((frame) => frame.messageId === ack.messageId)).toHaveLength(1);
    }
  });

  it.each([
    ['malformed JSON', '{"action": "sendMessage", ', 'invalid_json'],
    ['a non-object frame', '[1,2,3]', 'invalid_json'],
    ['an unknown action', { action: 'teleport', room: 'lobby' }, 'unknown_action'],
    ['a missing message', { action: 'sendMessage', room: 'lobby' }, 'validation_failed'],
    ['a mistyped message', { action: 'sendMessage', room: 'lobby', message: 42 }, 'validation_failed'],
    ['an empty message', { action: 'sendMessage', room: 'lobby', message: '   ' }, 'validation_failed'],
    ['an oversize message', { action: 'sendMessage', room: 'lobby', message: 'x'.repeat(4001) }, 'validation_failed'],
    ['an invalid room', { action: 'sendMessage', room: 'no spaces!', message: 'hi' }, 'validation_failed'],
    [
      'a frame over 16 KB',
      { action: 'sendMessage', room: 'lobby', message: 'x', padding: 'y'.repeat(17_000) },
      'payload_too_large',
    ],
  ])('answers %s with an error frame, stores nothing and keeps the connection', async (_name, frame, code) => {
    const client = await join({ userId: 'fuzzer', room: 'lobby' });
    const before = await storedMessageCount();
    const reply = errorFrameSchema.parse(await client.request(frame as Record<string, unknown>, 'error'));
    expect(reply.code).toBe(code);
    expect(await storedMessageCount()).toBe(before);
    expect((await client.request({ action: 'ping' }, 'pong')).type).toBe('pong');
    expect(client.closed).toBe(false);
  });

  it("closes a frame over API Gateway's 32 KB frame limit with 1009", async () => {
    const client = await join({ userId: 'big-frame', room: 'lobby' });
    client.send(JSON.stringify({ action: 'sendMessage', room: 'lobby', message: 'x'.repeat(40_000) }));
    await expect.poll(() => client.closeCode, { timeout: 10_000 }).toBe(1009);
  });
});

describe('the per-connection rate limit', () => {
  it('answers a flood past the limit with rate_limited, stores only what was allowed, and stays connected', async () => {
    const flooder = await join({ userId: 'flooder', room: 'flood-room' });
    const before = await storedMessageCount();
    for (let index = 0; index < 40; index++) {
      flooder.send({
        action: 'sendMessage',
        room: 'flood-room',
        message: `spam ${index}`,
        messageId: `flood-${index}`,
      });
    }
    const isReply = (frame: Record<string, unknown>) =>
      (frame.type === 'ack' || frame.type === 'error') && String(frame.messageId).startsWith('flood-');
    await expect.poll(() => flooder.frames.filter(isReply).length, { timeout: 30_000 }).toBe(40);
    const replies = flooder.frames.filter(isReply);
    const limited = replies.filter((reply) => reply.type === 'error' && reply.code === 'rate_limited');
    const accepted = replies.filter((reply) => reply.type === 'ack');
    // Burst 20 at 1/s: a few more may refill while the flood is in flight, never all 40.
    expect(accepted.length).toBeGreaterThanOrEqual(20);
    expect(limited.length).toBeGreaterThan(0);
    expect(accepted.length + limited.length).toBe(40);
    // Each accepted message is a message plus its idempotency marker.
    expect((await storedMessageCount()) - before).toBe(accepted.length * 2);
    expect(flooder.closed).toBe(false);
  });
});
