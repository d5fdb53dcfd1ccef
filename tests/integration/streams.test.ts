import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { metricsUpdateFrameSchema } from '#protocol/server-frames';
import { type Frame, type TestClient, useLocalStack } from '../helpers/local-stack.js';

const local = useLocalStack();

const join = (query: Record<string, string>) => local.join(query);

const updatesOf = (client: TestClient) =>
  client.frames
    .filter((frame) => frame.type === 'METRICS_UPDATE')
    .flatMap((frame) => metricsUpdateFrameSchema.parse(frame).updates);

describe('seed 000: the echo processor on the Messages stream', () => {
  it('answers POST /message with the original and exactly one echo at a connected client', async () => {
    const listener = await join({ userId: 'listener', room: 'echo' });
    const response = await fetch(`${local.stack.urls.rest}/message`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'curl-client' },
      body: JSON.stringify({ message: 'Hello, real-time world!', sender: 'curl-client' }),
    });
    expect(response.status).toBe(201);
    const { messageId } = (await response.json()) as { messageId: string };
    await listener.waitFor((frame) => frame.messageId === messageId);
    await listener.waitFor((frame) => frame.messageId === `echo-${messageId}`);
    await local.stack.idle();
    const inRoom = listener.messages('echo');
    expect(inRoom.filter((frame) => frame.messageId === messageId)).toHaveLength(1);
    const echoes = inRoom.filter((frame) => frame.user_id === 'echo-bot');
    expect(echoes).toHaveLength(1);
    expect(echoes[0]).toMatchObject({ message: 'Echo: Hello, real-time world!', userName: 'echo-bot' });
  });

  it('answers GET / with the default message and its echo', async () => {
    const listener = await join({ userId: 'listener2', room: 'echo' });
    const response = await fetch(`${local.stack.urls.rest}/`, { headers: { 'x-user-id': 'curl-client' } });
    expect(response.status).toBe(201);
    const { messageId } = (await response.json()) as { messageId: string };
    await listener.waitFor((frame) => frame.messageId === `echo-${messageId}`);
  });

  it('never echoes an echo, and a replayed stream record writes no second echo', async () => {
    const listener = await join({ userId: 'listener3', room: 'echo' });
    const sent = await listener.request({ action: 'sendMessage', room: 'echo', message: 'once' });
    await listener.waitFor((frame) => frame.messageId === `echo-${sent.messageId}`);
    await local.stack.idle();
    // Replay the original's INSERT, as a stream retry would: the echo already exists. The record is
    // whole, as Lambda delivers it: the handler parses every record before it acts on one.
    const record = {
      eventID: 'replay-1',
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/MessagesTable/stream/2025-01-01T00:00:00.000',
      dynamodb: {
        Keys: { room: { S: 'echo' }, sk: { S: `${sent.timestamp}#${sent.messageId}` } },
        NewImage: {
          room: { S: 'echo' },
          sk: { S: `${sent.timestamp}#${sent.messageId}` },
          messageId: { S: String(sent.messageId) },
          user_id: { S: 'listener3' },
          userName: { S: 'listener3' },
          message: { S: 'once' },
          timestamp: { S: String(sent.timestamp) },
          kind: { S: 'room' },
          expiresAt: { N: String(Math.floor(Date.now() / 1000) + 3600) },
        },
        SequenceNumber: '1',
        SizeBytes: 200,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
    await local.stack.functions.invoke('MessagesStreamFunction', { Records: [record] });
    await local.stack.idle();
    const history = (await (
      await fetch(`${local.stack.urls.rest}/rooms/echo/messages?limit=100`, { headers: { 'x-user-id': 'x' } })
    ).json()) as {
      messages: Frame[];
    };
    expect(history.messages.filter((m) => m.messageId === `echo-${sent.messageId}`)).toHaveLength(1);
    expect(history.messages.some((m) => String(m.messageId).startsWith('echo-echo-'))).toBe(false);
  });
});

describe('seed 003: dashboard updates from the Metrics stream', () => {
  const table = () => local.stack.tableNames.MetricsTable;
  const key = { entity_id: { S: 'stream-001' }, timestamp: { S: '2024-11-04T12:34:56Z' } };

  it('sends INSERT, MODIFY and REMOVE to a subscriber of the entity type, and nothing to others', async () => {
    const dashboard = await join({ userId: 'ops', room: 'ops' });
    const bystander = await join({ userId: 'bystander', room: 'ops' });
    await dashboard.request({ action: 'subscribe', entity_type: 'stream' }, 'subscribed');
    await bystander.request({ action: 'subscribe', entity_type: 'camera' }, 'subscribed');

    await local.stack.dynamoDb.client.send(
      new PutItemCommand({
        TableName: table(),
        Item: { ...key, entity_type: { S: 'stream' }, metric_value: { N: '1234' } },
      }),
    );
    await local.stack.dynamoDb.client.send(
      new UpdateItemCommand({
        TableName: table(),
        Key: key,
        UpdateExpression: 'SET metric_value = :v',
        ExpressionAttributeValues: { ':v': { N: '1300' } },
      }),
    );
    await local.stack.dynamoDb.client.send(new DeleteItemCommand({ TableName: table(), Key: key }));

    await expect
      .poll(() => updatesOf(dashboard).map((u) => u.eventType), { timeout: 20_000 })
      .toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    expect(updatesOf(dashboard)[0]?.data).toEqual({
      entity_id: 'stream-001',
      entity_type: 'stream',
      metric_value: 1234,
      timestamp: '2024-11-04T12:34:56Z',
    });
    await local.stack.idle();
    expect(updatesOf(bystander)).toEqual([]);
  });

  it('sends a poison record to the on-failure destination and still delivers the rest of its batch', async () => {
    const dashboard = await join({ userId: 'ops2', room: 'ops' });
    await dashboard.request({ action: 'subscribe', entity_id: 'sensor-9' }, 'subscribed');
    const before = local.stack.streams.deadLetters().length;
    const put = (timestamp: string, value: Record<string, unknown>) =>
      local.stack.dynamoDb.client.send(
        new PutItemCommand({
          TableName: table(),
          Item: {
            entity_id: { S: 'sensor-9' },
            entity_type: { S: 'sensor' },
            timestamp: { S: timestamp },
            ...value,
          } as never,
        }),
      );
    await put('t1', { metric_value: { N: '1' } });
    await put('t2', { metric_value: { S: 'not a number' } });
    await put('t3', { metric_value: { N: '3' } });
    await expect
      .poll(() => updatesOf(dashboard).map((u) => u.data.timestamp), { timeout: 60_000 })
      .toEqual(expect.arrayContaining(['t1', 't3']));
    await expect.poll(() => local.stack.streams.deadLetters().length - before, { timeout: 60_000 }).toBe(1);
    expect(updatesOf(dashboard).some((u) => u.data.timestamp === 't2')).toBe(false);
  });
});
