import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackFrameSchema, errorFrameSchema, historyFrameSchema } from '#protocol/server-frames';
import {
  type InvokeTarget,
  invokeTarget,
  invokeTargets,
  missingSampleEvents,
  openConnectionFor,
  parseSampleEventManifest,
  readSampleEvent,
  sampleEventsDir,
  unknownManifestEntries,
} from '../../local/sample-events.js';
import type { LocalStack } from '../../local/stack.js';
import { startTestStack } from '../helpers/local-stack.js';

// Read while collecting, so that every (function, event file) pair is a test of its own.
const manifest = parseSampleEventManifest(readFileSync(resolve(sampleEventsDir, 'manifest.json'), 'utf8'));
const entries = Object.entries(manifest).flatMap(([logicalId, files]) => files.map((file) => ({ logicalId, file })));

type Json = Record<string, unknown>;

function record(value: unknown, what: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what} is not an object`);
  return value as Json;
}

const at = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>(
    (current, key) => (current && typeof current === 'object' ? (current as Json)[key] : undefined),
    value,
  );

let stack: LocalStack;
let targets: InvokeTarget[];

function targetOf(logicalId: string): InvokeTarget {
  const target = targets.find((candidate) => candidate.logicalId === logicalId);
  if (!target) throw new Error(`${logicalId} is in events/manifest.json but not in the templates`);
  return target;
}

/** The call's result, and how many times each other function ran because of it. */
async function invokeTracked(
  logicalId: string,
  event: unknown,
): Promise<{ result: unknown; downstream: Record<string, number> }> {
  // As `npm run invoke` does: a message event's connection went through $connect first.
  await openConnectionFor(stack, event);
  const target = targetOf(logicalId);
  const before = stack.functions.invocations();
  const result = await invokeTarget(stack, target, event);
  // What the call published or started finishes before the next sample runs.
  await stack.idle();
  const downstream: Record<string, number> = {};
  for (const [name, count] of Object.entries(stack.functions.invocations())) {
    const own = target.kind === 'function' && target.fn.name === name ? 1 : 0;
    if (count - (before[name] ?? 0) - own > 0) downstream[name] = count - (before[name] ?? 0) - own;
  }
  return { result, downstream };
}

const invoke = async (logicalId: string, event: unknown) => (await invokeTracked(logicalId, event)).result;

async function connectionItem(connectionId: string) {
  const { Item } = await stack.dynamoDb.client.send(
    new GetItemCommand({ TableName: stack.tableNames.ConnectionsTable, Key: { connectionId: { S: connectionId } } }),
  );
  return Item;
}

/** The reply frame each WebSocket route sends back; `$default` only ever gets frames with no route. */
const replyTypeByRoute: Record<string, string> = {
  sendMessage: 'ack',
  joinRoom: 'joined',
  leaveRoom: 'left',
  ping: 'pong',
  listRooms: 'rooms',
  resume: 'history',
  subscribe: 'subscribed',
  unsubscribe: 'unsubscribed',
  $default: 'error',
};

/**
 * What a sane result looks like for each function, given its event. A function without an entry
 * fails its test, so a new function cannot slip in with an unchecked sample.
 */
const expectations: Record<
  string,
  (event: Json, result: unknown, downstream: Record<string, number>) => Promise<void> | void
> = {
  AuthorizerFunction(event, result) {
    const claimed = at(event, 'queryStringParameters', 'userId') ?? at(event, 'headers', 'x-user-id');
    const context = { userId: claimed, userName: claimed };
    if ('methodArn' in event) {
      expect(result).toEqual({
        principalId: claimed,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
        },
        context,
      });
    } else {
      expect(result).toEqual({ isAuthorized: true, context });
    }
  },

  ConnectFunction(_event, result, downstream) {
    expect(result).toEqual({ statusCode: 200 });
    // Its record expired at once (the sample connected in 2025, and DynamoDB Local sweeps TTL), so
    // the proof that it recorded and announced the connection is ConnectionOpened reaching SessionStart.
    expect(downstream).toMatchObject({ SessionStartFunction: 1 });
  },

  async DisconnectFunction(event, result) {
    // The connection opened (now) just before, so finding no record means $disconnect removed it.
    expect(result).toEqual({ statusCode: 200 });
    expect(await connectionItem(String(at(event, 'requestContext', 'connectionId')))).toBeUndefined();
  },

  WebSocketActionsFunction(event, result) {
    const reply = record(result, 'the reply');
    expect(reply.statusCode).toBe(200);
    const frame = record(JSON.parse(String(reply.body)), 'the reply frame');
    const routeKey = String(at(event, 'requestContext', 'routeKey'));
    expect(replyTypeByRoute, `add the reply type of route ${routeKey}`).toHaveProperty([routeKey]);
    expect(frame.type, JSON.stringify(frame)).toBe(replyTypeByRoute[routeKey]);
    if (routeKey === '$default') expect(errorFrameSchema.parse(frame).code).toBe('unknown_action');
    if (routeKey === 'sendMessage') {
      const sent = JSON.parse(String(event.body)) as Json;
      const ack = ackFrameSchema.parse(frame);
      // Seed 002 names a room; seed 004 a recipient, and the ack names the conversation instead.
      if ('recipientId' in sent) expect(ack.conversationId).toBe(sent.conversationId);
      else expect(ack.room).toBe(sent.room);
    }
  },

  RestApiFunction(event, result) {
    const response = record(result, 'the response');
    // Seed 000's two endpoints each store a message.
    const created = ['GET /', 'POST /message'].includes(String(event.routeKey));
    expect(response.statusCode, String(response.body)).toBe(created ? 201 : 200);
    expect(at(response, 'headers', 'content-type')).toBe('application/json');
    record(JSON.parse(String(response.body)), 'the response body');
  },

  PostToConnectionsFunction(event, result) {
    // The sample's connections are not open here (or on AWS): 410, handled as gone, never thrown.
    const connections = new Set(event.connectionIds as string[]);
    expect(result).toEqual({ delivered: 0, gone: connections.size, failed: 0 });
  },

  SessionStartFunction(_event, result) {
    // No such socket: the welcome frame gets 410, so there is nothing to deliver the pending messages to.
    expect(result).toEqual({ welcomed: false, pendingDelivered: 0 });
  },

  async MessagesStreamFunction(event, result) {
    expect(result).toEqual({ batchItemFailures: [] });
    const images = (event.Records as Json[]).map((item) => at(item, 'dynamodb', 'NewImage') as Json);
    const original = images.find((image) => at(image, 'room', 'S') === 'echo' && at(image, 'sk', 'S') !== 'msgid');
    if (!original) throw new Error('the sample has no message in room echo');
    const { Items = [] } = await stack.dynamoDb.client.send(
      new QueryCommand({
        TableName: stack.tableNames.MessagesTable,
        KeyConditionExpression: 'room = :room',
        ExpressionAttributeValues: { ':room': { S: 'echo' } },
      }),
    );
    const echo = Items.find((item) => item.messageId?.S === `echo-${at(original, 'messageId', 'S')}`);
    expect(echo?.message?.S).toBe(`Echo: ${at(original, 'message', 'S')}`);
    expect(echo?.user_id?.S).toBe('echo-bot');
  },

  MetricsStreamFunction(_event, result) {
    expect(result).toEqual({ batchItemFailures: [] });
  },

  MessageDistributionStateMachine(event, result) {
    const topics = (at(event, 'detail', 'deliveries') as Json[]).map((delivery) => delivery.topic);
    const deliveries = at(result, 'deliveries') as Json[];
    expect(deliveries.map((delivery) => delivery.topic)).toEqual(topics);
    for (const delivery of deliveries) expect(delivery.queryFailed).toBeUndefined();
  },
};

beforeAll(async () => {
  stack = await startTestStack();
  targets = invokeTargets(stack.model);
});

afterAll(async () => {
  await stack?.close();
});

describe('the sample events cover the templates', () => {
  it('has a sample event for every function and state machine in the templates', () => {
    expect(missingSampleEvents(targets, manifest)).toEqual([]);
  });

  it('would name a function whose sample event is missing', () => {
    const { ConnectFunction: _dropped, ...withoutConnect } = manifest;
    expect(missingSampleEvents(targets, withoutConnect)).toEqual(['ConnectFunction']);
  });

  it('names nothing that is not in the templates', () => {
    expect(unknownManifestEntries(targets, manifest)).toEqual([]);
  });

  it('lists every event file in events/, and only files that exist', () => {
    const onDisk = readdirSync(sampleEventsDir)
      .filter((file) => file.endsWith('.json') && file !== 'manifest.json')
      .sort();
    expect([...new Set(entries.map((entry) => entry.file))].sort()).toEqual(onDisk);
  });

  it('documents each one in events/README.md with its command', () => {
    const readme = readFileSync(resolve(sampleEventsDir, 'README.md'), 'utf8');
    for (const { logicalId, file } of entries) {
      const target = targetOf(logicalId);
      const command =
        target.kind === 'function'
          ? `sam local invoke ${target.path} -e events/${file}`
          : `npm run -s invoke -- ${target.path} events/${file}`;
      expect(readme, `events/README.md lacks: ${command}`).toContain(command);
    }
  });
});

describe('every function runs with its sample events on the local stack', () => {
  it.each(entries)('$logicalId with $file', async ({ logicalId, file }) => {
    const check = expectations[logicalId];
    if (!check) throw new Error(`no expectation for ${logicalId}: add one to this test`);
    const event = record(await readSampleEvent(file), file);
    const { result, downstream } = await invokeTracked(logicalId, event);
    await check(event, result, downstream);
  });

  it('composes: the history request sees the message the sendMessage sample stored', async () => {
    const sent = record(
      await invoke('WebSocketActionsFunction', await readSampleEvent('websocket-send-message.json')),
      'reply',
    );
    const ack = ackFrameSchema.parse(JSON.parse(String(sent.body)));
    const response = record(
      await invoke('RestApiFunction', await readSampleEvent('http-room-history.json')),
      'response',
    );
    const body = record(JSON.parse(String(response.body)), 'history');
    const messages = historyFrameSchema.shape.messages.parse(body.messages);
    expect(messages.map((message) => message.messageId)).toContain(ack.messageId);
  });
});
