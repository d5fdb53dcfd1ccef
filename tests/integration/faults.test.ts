import { resolve } from 'node:path';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Timeline } from '#client-core/timeline';
import { ackFrameSchema, historyFrameSchema } from '#protocol/server-frames';
import type { LocalStack } from '../../local/stack.js';
import { loadCfnTemplate, REPO_ROOT, TEMPLATE_FILES } from '../helpers/cfn-template.js';
import { freePort } from '../helpers/dynamodb-local.js';
import {
  connectionIdOf,
  dynamoDbInternalError,
  dynamoDbOperation,
  dynamoDbThrottling,
  type FaultProxy,
  type FaultSpec,
  managementApiError,
  postToConnection,
  startFaultProxy,
} from '../helpers/fault-proxy.js';
import { type Frame, startTestStack, TestClient } from '../helpers/local-stack.js';
import * as tables from '../helpers/stack-tables.js';

// One stack whose handlers reach DynamoDB Local and the @connections API only through fault
// proxies, given to the stack as the functions' endpoints: DynamoDB's upstream port is chosen
// before the stack starts it, and the management proxy learns its upstream (the gateway's
// @connections URL) once the stack is up, before any client connects.
let stack: LocalStack;
let dynamoDbProxy: FaultProxy;
let managementProxy: FaultProxy;
const clients: TestClient[] = [];

async function join(userId: string, room: string): Promise<TestClient> {
  const client = await TestClient.join(stack, { userId, room });
  clients.push(client);
  return client;
}

const isMessage = (messageId: string) => (frame: Frame) => frame.type === 'message' && frame.messageId === messageId;
const copiesAt = (client: TestClient, messageId: string) => client.frames.filter(isMessage(messageId)).length;

// The table helpers, bound to this file's stack.
const storedCopies = (room: string, messageId: string) => tables.storedCopies(stack, room, messageId);
const deliveryFailuresFor = (messageId: string) => tables.deliveryFailuresFor(stack, messageId);
const connectionRecord = (connectionId: string) => tables.connectionRecord(stack, connectionId);
const subscriptionRecord = (room: string, connectionId: string) => tables.subscriptionRecord(stack, room, connectionId);
const plantGhost = (connectionId: string, room: string) => tables.plantGhost(stack, connectionId, room, {});

/**
 * Runs `body` with sendMessage's direct path off, as a configuration update would (Lambda starts new
 * environments with it), for the cases that are about the state machine's fan-out task;
 * tests/integration/direct-path.test.ts has their direct-path counterparts.
 */
async function viaStateMachine(body: () => Promise<void>): Promise<void> {
  const actions = 'WebSocketActionsFunction';
  stack.functions.updateFunctionConfiguration(actions, { environment: { DIRECT_FANOUT_MAX_MEMBERS: '0' } });
  try {
    await body();
  } finally {
    stack.functions.updateFunctionConfiguration(actions, { environment: {} });
  }
}

beforeAll(async () => {
  const dynamoDbPort = await freePort();
  dynamoDbProxy = await startFaultProxy({ upstream: `http://127.0.0.1:${dynamoDbPort}` });
  managementProxy = await startFaultProxy();
  stack = await startTestStack({
    dynamoDbPort,
    endpoints: { dynamoDb: dynamoDbProxy.url, managementApi: managementProxy.url },
  });
  managementProxy.setUpstream(stack.urls.management);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await stack?.close();
  await dynamoDbProxy?.close();
  await managementProxy?.close();
});

describe('faults between the handlers and AWS', () => {
  it('routes the handlers through both fault proxies', async () => {
    const before = { dynamoDb: dynamoDbProxy.log().length, management: managementProxy.log().length };
    const alice = await join('route-alice', 'route-room');
    const ack = ackFrameSchema.parse(
      await alice.request({ action: 'sendMessage', room: 'route-room', message: 'via proxies', messageId: 'route-1' }),
    );
    await alice.waitFor(isMessage(ack.messageId));
    await stack.idle();

    const dynamoDbSeen = dynamoDbProxy.log().slice(before.dynamoDb);
    expect(dynamoDbSeen).toContainEqual(
      expect.objectContaining({ target: 'DynamoDB_20120810.TransactWriteItems', outcome: 'passed', status: 200 }),
    );
    const posts = managementProxy
      .log()
      .slice(before.management)
      .filter((entry) => entry.method === 'POST' && connectionIdOf(entry.path) === alice.connectionId);
    // The welcome and the message, at least (presence frames may add more).
    expect(posts.length).toBeGreaterThanOrEqual(2);
    expect(posts.every((entry) => entry.outcome === 'passed' && entry.status === 200)).toBe(true);
  });

  it.each<[string, number, (match: FaultSpec['match']) => FaultSpec]>([
    ['throttled twice', 2, dynamoDbThrottling],
    ['failed with 500 twice', 2, dynamoDbInternalError],
    // The write took effect but its answer was lost: the SDK's retry meets the idempotency marker.
    ['applied but its response lost', 1, (match) => ({ ...dynamoDbInternalError(match), afterForward: true })],
  ])('stores and delivers a message once when its write is %s', async (name, faults, fault) => {
    const tag = name.replace(/\W+/g, '-');
    const room = `write-${tag}`;
    const messageId = `write-${tag}`;
    const members = [await join(`w1-${tag}`, room), await join(`w2-${tag}`, room), await join(`w3-${tag}`, room)];
    const [sender] = members;
    const rule = dynamoDbProxy.failNext(faults, fault(dynamoDbOperation('TransactWriteItems', messageId)));

    const reply = await sender?.request({ action: 'sendMessage', room, message: 'despite faults', messageId });
    const ack = ackFrameSchema.parse(reply);
    expect(ack.messageId).toBe(messageId);
    expect(rule.served).toBe(faults);

    await Promise.all(members.map((member) => member.waitFor(isMessage(messageId))));
    await stack.idle();
    expect(await storedCopies(room, messageId)).toBe(1);
    for (const member of members) expect(copiesAt(member, messageId)).toBe(1);
  });

  it('drops only the connection whose post answered 410, and still delivers to the rest', async () => {
    const room = 'gone-room';
    const ghost = 'GhostFaultConn0=';
    const [erin, frank, gina] = [
      await join('gone-erin', room),
      await join('gone-frank', room),
      await join('gone-gina', room),
    ];
    if (!erin || !frank || !gina) throw new Error('members missing');
    await plantGhost(ghost, room);
    // A real member, but opened "a minute ago": the proxy answers 410 for it as API Gateway would
    // for a connection that died without $disconnect.
    await stack.dynamoDb.client.send(
      new UpdateItemCommand({
        TableName: stack.tableNames.ConnectionsTable,
        Key: { connectionId: { S: gina.connectionId } },
        UpdateExpression: 'SET connectedAt = :then',
        ExpressionAttributeValues: { ':then': { N: String(Date.now() - 60_000) } },
      }),
    );
    const messageId = 'gone-1';
    const gone = managementProxy.failNext(
      1,
      managementApiError(410, 'GoneException', postToConnection(gina.connectionId, messageId)),
    );

    await erin.request({ action: 'sendMessage', room, message: 'who is still here?', messageId });
    await Promise.all([erin, frank].map((member) => member.waitFor(isMessage(messageId))));
    await stack.idle();

    expect(gone.served).toBe(1);
    // The gateway itself answered 410 for the ghost, through the proxy.
    const postsToGhost = managementProxy.log().filter((entry) => connectionIdOf(entry.path) === ghost);
    expect(postsToGhost).toContainEqual(expect.objectContaining({ method: 'POST', status: 410, outcome: 'passed' }));
    expect(await connectionRecord(ghost)).toBeUndefined();
    expect(await subscriptionRecord(room, ghost)).toBeUndefined();
    expect(await connectionRecord(gina.connectionId)).toBeUndefined();
    expect(await subscriptionRecord(room, gina.connectionId)).toBeUndefined();
    for (const member of [erin, frank]) {
      expect(await connectionRecord(member.connectionId)).toBeDefined();
      expect(await subscriptionRecord(room, member.connectionId)).toBeDefined();
      expect(copiesAt(member, messageId)).toBe(1);
    }
    expect(copiesAt(gina, messageId)).toBe(0);
    // The room heard that gina left.
    await frank.waitFor((frame) => frame.type === 'presence' && JSON.stringify(frame).includes('gone-gina'));
  });

  it('keeps a connection that answered 410 while still inside its connecting grace', async () => {
    const room = 'grace-room';
    const [hank, iris] = [await join('grace-hank', room), await join('grace-iris', room)];
    if (!hank || !iris) throw new Error('members missing');
    const messageId = 'grace-1';
    const gone = managementProxy.failNext(
      1,
      managementApiError(410, 'GoneException', postToConnection(iris.connectionId, messageId)),
    );
    await hank.request({ action: 'sendMessage', room, message: 'are you connecting?', messageId });
    await hank.waitFor(isMessage(messageId));
    await stack.idle();
    expect(gone.served).toBe(1);
    expect(await connectionRecord(iris.connectionId)).toBeDefined();
    expect(await subscriptionRecord(room, iris.connectionId)).toBeDefined();
  });

  it('delivers after a 429 once the SDK retried, and records no failure', async () => {
    const room = 'throttle-room';
    const [jack, kate] = [await join('throttle-jack', room), await join('throttle-kate', room)];
    if (!jack || !kate) throw new Error('members missing');
    const messageId = 'throttle-1';
    const throttled = managementProxy.failNext(
      1,
      managementApiError(429, 'LimitExceededException', postToConnection(kate.connectionId, messageId)),
    );
    await jack.request({ action: 'sendMessage', room, message: 'slow down', messageId });
    await kate.waitFor(isMessage(messageId));
    await stack.idle();

    expect(throttled.served).toBe(1);
    const postsToKate = managementProxy
      .log()
      .filter((entry) => entry.method === 'POST' && connectionIdOf(entry.path) === kate.connectionId);
    expect(postsToKate).toContainEqual(expect.objectContaining({ outcome: 'faulted', status: 429 }));
    expect(copiesAt(kate, messageId)).toBe(1);
    expect(copiesAt(jack, messageId)).toBe(1);
    expect(await deliveryFailuresFor(messageId)).toEqual([]);
  });

  it('records a connection that kept failing with 500, delivers to the others, and the execution succeeds', async () => {
    const room = 'broken-room';
    const members = [await join('broken-lena', room), await join('broken-mike', room), await join('broken-nora', room)];
    const [lena, mike, nora] = members;
    if (!lena || !mike || !nora) throw new Error('members missing');
    const messageId = 'broken-1';
    const broken = managementProxy.failNext(
      Number.POSITIVE_INFINITY,
      managementApiError(500, 'InternalServerErrorException', postToConnection(nora.connectionId, messageId)),
    );
    const executionsBefore = stack.stepFunctions.executions().length;

    await viaStateMachine(async () => {
      await lena.request({ action: 'sendMessage', room, message: 'nora cannot hear this', messageId });
      await Promise.all([lena, mike].map((member) => member.waitFor(isMessage(messageId))));
      await stack.idle();
    });
    broken.cancel();

    // Every attempt the Management API client makes (maxAttempts 3) met the fault.
    expect(broken.served).toBe(3);
    expect(copiesAt(lena, messageId)).toBe(1);
    expect(copiesAt(mike, messageId)).toBe(1);
    expect(copiesAt(nora, messageId)).toBe(0);
    const failures = await deliveryFailuresFor(messageId);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.connectionIds?.L?.map((value) => value.S)).toEqual([nora.connectionId]);
    // A 500 is not a 410: nora's connection stays.
    expect(await connectionRecord(nora.connectionId)).toBeDefined();

    const executions = stack.stepFunctions.executions().slice(executionsBefore);
    expect(executions.length).toBeGreaterThan(0);
    expect(executions.map((execution) => execution.status)).toEqual(executions.map(() => 'SUCCEEDED'));
  });
});

describe('a fan-out task crashing mid-batch', () => {
  // With POST_CONCURRENCY 1, deliverBatch posts one connection at a time, in the order the
  // Subscriptions Query returned them: by connectionId. A ghost whose id sorts right after the
  // second member answers 410; dropping it starts with a GetItem that here fails all the SDK's
  // attempts, so the invocation throws after posting to the first two members and before the last
  // two. The Task's Retry on States.TaskFailed re-runs the whole batch once DynamoDB answers again.
  it('re-runs the whole batch: nothing lost, and each member shows the message once after dedup by messageId', async () => {
    const room = 'crash-room';
    const members = [
      await join('crash-olga', room),
      await join('crash-paul', room),
      await join('crash-quin', room),
      await join('crash-rita', room),
    ];
    // The joins' presence fan-outs are over before the ghost appears: only this message posts to it.
    await stack.idle();
    const ordered = [...members].sort((a, b) => (a.connectionId < b.connectionId ? -1 : 1));
    const [first, second, third, fourth] = ordered;
    const [sender] = members;
    if (!first || !second || !third || !fourth || !sender) throw new Error('members missing');
    const beforeCrash = [first, second];
    const afterCrash = [third, fourth];
    const ghost = `${second.connectionId}0`;
    expect([...ordered.map((member) => member.connectionId), ghost].sort()).toEqual([
      first.connectionId,
      second.connectionId,
      ghost,
      third.connectionId,
      fourth.connectionId,
    ]);
    await plantGhost(ghost, room);
    const messageId = 'crash-1';
    // Every attempt the DynamoDB client makes (maxAttempts 5) to read the ghost's record, once.
    const crash = dynamoDbProxy.failNext(5, dynamoDbInternalError(dynamoDbOperation('GetItem', ghost)));
    const postsBefore = managementProxy.log().length;
    const executionsBefore = stack.stepFunctions.executions().length;
    const postToConnections = 'PostToConnectionsFunction';
    stack.functions.updateFunctionConfiguration(postToConnections, { environment: { POST_CONCURRENCY: '1' } });
    try {
      await viaStateMachine(async () => {
        await sender.request({ action: 'sendMessage', room, message: 'said once, posted twice', messageId });
        await Promise.all(members.map((member) => member.waitFor(isMessage(messageId))));
        await stack.idle();
      });
    } finally {
      stack.functions.updateFunctionConfiguration(postToConnections, { environment: {} });
      crash.cancel();
    }

    // The first attempt crashed at the ghost: dropping it failed for good, the members before it
    // had their copy and the ones after it had none until the retry, which posted to all of them.
    expect(crash.served).toBe(5);
    const postsToGhost = managementProxy
      .log()
      .slice(postsBefore)
      .filter((entry) => entry.method === 'POST' && connectionIdOf(entry.path) === ghost);
    expect(postsToGhost.map((entry) => entry.status)).toEqual([410, 410]);
    for (const member of beforeCrash) expect(copiesAt(member, messageId)).toBe(2);
    for (const member of afterCrash) expect(copiesAt(member, messageId)).toBe(1);

    // What a client shows: the chat client core's timeline, deduplicated by messageId.
    for (const member of members) {
      const timeline = new Timeline();
      for (const frame of member.messages(room)) {
        const id = String(frame.messageId);
        timeline.upsert({
          id,
          timestamp: String(frame.timestamp),
          senderId: '',
          senderName: '',
          text: id,
          mine: false,
          delivery: 'sent',
        });
      }
      expect(timeline.list().filter((item) => item.id === messageId)).toHaveLength(1);
    }

    const executions = stack.stepFunctions.executions().slice(executionsBefore);
    expect(executions.length).toBeGreaterThan(0);
    expect(executions.map((execution) => execution.status)).toEqual(executions.map(() => 'SUCCEEDED'));
    expect(await deliveryFailuresFor(messageId)).toEqual([]);
    expect(await storedCopies(room, messageId)).toBe(1);
    // The retry dropped the ghost once DynamoDB answered; the members stay.
    expect(await connectionRecord(ghost)).toBeUndefined();
    expect(await subscriptionRecord(room, ghost)).toBeUndefined();
    for (const member of members) expect(await subscriptionRecord(room, member.connectionId)).toBeDefined();
  });
});

describe('a slow write and a reconnecting reader', () => {
  // A message's sort key is stamped when its handler starts, but it becomes visible when its write
  // commits. A write slowed by the SDK's retries (throttling, 5xx) can commit after a message
  // stamped later by another sender; a reader cut in between resumes after that later message and
  // never sees the slow one: its fan-out met a closed socket, and its key is before the cursor.
  it('lets a reader that resumes after the last message it saw catch up on one that committed late', async () => {
    const room = 'late-room';
    const reader = await join('late-reader', room);
    const slow = await join('late-slow', room);
    const fast = await join('late-fast', room);
    const slowId = 'late-slow-1';
    const fastId = 'late-fast-1';

    const hold = dynamoDbProxy.holdNext(1, dynamoDbOperation('TransactWriteItems', slowId));
    const slowReply = slow.request({
      action: 'sendMessage',
      room,
      message: 'stamped first, stored last',
      messageId: slowId,
    });
    // Its write has reached "DynamoDB", so its timestamp is taken.
    await hold.caught();
    const fastAck = ackFrameSchema.parse(
      await fast.request({ action: 'sendMessage', room, message: 'stamped second', messageId: fastId }),
    );
    await reader.waitFor(isMessage(fastId));

    // The reader's socket drops; the gateway's $disconnect removes its subscription.
    reader.socket.terminate();
    await expect.poll(() => subscriptionRecord(room, reader.connectionId), { timeout: 10_000 }).toBeUndefined();

    hold.release();
    const slowAck = ackFrameSchema.parse(await slowReply);
    expect(`${slowAck.timestamp}#${slowId}` < `${fastAck.timestamp}#${fastId}`).toBe(true);
    await slow.waitFor(isMessage(slowId));
    await stack.idle();

    // Back, with the last message it saw, as the protocol says.
    const back = await join('late-reader', room);
    const catchUp = historyFrameSchema.parse(
      await back.request(
        { action: 'resume', room, lastTimestamp: fastAck.timestamp, lastMessageId: fastId },
        'history',
      ),
    );
    await stack.idle();
    const seen = new Set(
      [...reader.messages(room), ...back.messages(room), ...catchUp.messages].map((message) => message.messageId),
    );
    expect(await storedCopies(room, slowId)).toBe(1);
    expect([...seen].sort()).toEqual([fastId, slowId].sort());
  });
});

describe('EventBridge target failures', () => {
  it('gives every rule target in the templates a RetryPolicy and a DeadLetterConfig, and the local bus honours them', async () => {
    const template = await loadCfnTemplate(resolve(REPO_ROOT, TEMPLATE_FILES.workflows));
    const ruleEvents: Array<{ name: string; properties: Record<string, unknown> }> = [];
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      const events = (resource.Properties?.Events ?? {}) as Record<string, { Type?: string; Properties?: object }>;
      for (const [eventName, event] of Object.entries(events)) {
        if (event.Type === 'EventBridgeRule') {
          ruleEvents.push({
            name: `${logicalId}.${eventName}`,
            properties: (event.Properties ?? {}) as Record<string, unknown>,
          });
        }
      }
      if (resource.Type === 'AWS::Events::Rule') {
        for (const [index, target] of ((resource.Properties?.Targets ?? []) as object[]).entries()) {
          ruleEvents.push({ name: `${logicalId}.Targets[${index}]`, properties: target as Record<string, unknown> });
        }
      }
    }
    expect(ruleEvents.map((rule) => rule.name)).toEqual(
      expect.arrayContaining([
        'MessageDistributionStateMachine.DeliverableEvents',
        'SessionStartFunction.ConnectionOpened',
      ]),
    );
    for (const rule of ruleEvents) {
      expect(rule.properties, rule.name).toHaveProperty('RetryPolicy.MaximumRetryAttempts');
      expect(rule.properties, rule.name).toHaveProperty('RetryPolicy.MaximumEventAgeInSeconds');
      expect(rule.properties, rule.name).toHaveProperty('DeadLetterConfig.Arn');
    }

    const targets = stack.model.rules.flatMap((rule) => rule.targets);
    expect(targets.length).toBeGreaterThanOrEqual(ruleEvents.length);
    for (const target of targets) {
      expect(target.retryPolicy, target.id).toBeDefined();
      expect(target.deadLetterArn, target.id).toMatch(/^arn:aws:sqs:/);
    }
  });

  it('has Lambda retry an asynchronous invocation that failed transiently, so the session still starts', async () => {
    const userId = 'eb-retry-user';
    const before = stack.eventBridge.stats();
    const lambdaBefore = stack.functions.stats();
    // SessionStartFunction reads the user's pending direct messages first; failing all five of its
    // SDK attempts makes the invocation throw. EventBridge invokes it asynchronously, so Lambda
    // retries it (after its scaled-down minute), not EventBridge.
    const pendingQuery = dynamoDbOperation('Query', userId);
    const rule = dynamoDbProxy.failNext(
      5,
      dynamoDbInternalError((request) => pendingQuery(request) && request.body.includes('pending-index')),
    );
    const client = await join(userId, 'eb-retry-room');
    await stack.idle();

    expect(rule.served).toBe(5);
    expect(client.frames.filter((frame) => frame.type === 'welcome')).toHaveLength(1);
    const after = stack.eventBridge.stats();
    expect(stack.functions.stats().asyncRetries).toBeGreaterThan(lambdaBefore.asyncRetries);
    // Lambda accepted the event at once: the rule target had nothing to retry or dead-letter.
    expect(after.retried).toBe(before.retried);
    expect(after.deadLettered).toBe(before.deadLettered);
  });

  // Not covered end to end: the state machine target. The local EventBridge starts executions
  // through an SFN client that local/stack.ts builds on `stack.urls.stepFunctions` itself, so no
  // proxy can be placed in front of StartExecution without changing production code; the retry
  // and dead-letter paths for that target are the same code the Lambda-target case above runs,
  // and are unit-tested in the local EventBridge's own tests.
});
