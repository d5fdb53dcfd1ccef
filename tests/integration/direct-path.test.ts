import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackFrameSchema } from '#protocol/server-frames';
import type { LocalStack } from '../../local/stack.js';
import { freePort } from '../helpers/dynamodb-local.js';
import {
  connectionIdOf,
  dynamoDbInternalError,
  dynamoDbOperation,
  type FaultProxy,
  managementApiError,
  postToConnection,
  startFaultProxy,
} from '../helpers/fault-proxy.js';
import { type Frame, startTestStack, TestClient } from '../helpers/local-stack.js';
import * as tables from '../helpers/stack-tables.js';

// sendMessage's direct path (shared/src/core/use-cases/fan-out-message.ts): rooms and conversations
// with at most DirectFanoutMaxMembers live connections are posted to by WebSocketActionsFunction
// itself. The handlers reach DynamoDB, the @connections API and EventBridge through fault proxies,
// set up as in faults.test.ts, so each post and each PutEvents is visible and can be made to fail.
const MAX_MEMBERS = 3;
let stack: LocalStack;
let dynamoDbProxy: FaultProxy;
let managementProxy: FaultProxy;
let eventBridgeProxy: FaultProxy;
const clients: TestClient[] = [];

async function join(userId: string, room: string): Promise<TestClient> {
  const client = await TestClient.join(stack, { userId, room });
  clients.push(client);
  return client;
}

const messageIdOf = (frame: Frame) =>
  frame.messageId ?? (frame.data as { messageId?: unknown } | undefined)?.messageId ?? undefined;
const isMessage = (messageId: string) => (frame: Frame) => frame.type === 'message' && messageIdOf(frame) === messageId;
const copiesAt = (client: TestClient, messageId: string) => client.frames.filter(isMessage(messageId)).length;

/** @connections calls to this connection since `from` (an index into the proxy log), with their statuses. */
const postsTo = (connectionId: string, from: number) =>
  managementProxy
    .log()
    .slice(from)
    .filter((entry) => entry.method === 'POST' && connectionIdOf(entry.path) === connectionId);

/** Every @connections POST's target and body, oldest first (recorded by a rule that never fires). */
const postBodies: Array<{ connectionId: string | undefined; body: string }> = [];
/** POST attempts carrying this message's frame to this connection, since `from` (an index into postBodies). */
const framesPostedTo = (connectionId: string, messageId: string, from = 0) =>
  postBodies
    .slice(from)
    .filter(
      (post) =>
        post.connectionId === connectionId &&
        post.body.includes('"type":"message"') &&
        post.body.includes(`"${messageId}"`),
    ).length;

/** PutEvents calls that carried this message for the state machine (MessagePosted). */
const handedOn: Array<{ body: string }> = [];
const messagePostedEvents = (messageId: string) =>
  handedOn.filter((request) => request.body.includes('MessagePosted') && request.body.includes(messageId));

// The table helpers, bound to this file's stack.
const storedCopies = (room: string, messageId: string) => tables.storedCopies(stack, room, messageId);
const deliveryFailuresFor = (messageId: string) => tables.deliveryFailuresFor(stack, messageId);
const connectionRecord = (connectionId: string) => tables.connectionRecord(stack, connectionId);
const plantGhost = (connectionId: string, room: string) =>
  tables.plantGhost(stack, connectionId, room, { userId: `ghost-${connectionId}` });

/** Members of a room, joined and settled: their presence fan-outs are over. */
async function room(name: string, size: number): Promise<TestClient[]> {
  const members: TestClient[] = [];
  for (let index = 0; index < size; index++) members.push(await join(`${name}-${index}`, name));
  await stack.idle();
  return members;
}

/** What happened while `send` ran, once everything it started has finished. */
async function observe(send: () => Promise<unknown>) {
  const marks = { posts: managementProxy.log().length, executions: stack.stepFunctions.executions().length };
  await send();
  await stack.idle();
  return {
    posts: marks.posts,
    executions: () => stack.stepFunctions.executions().slice(marks.executions),
  };
}

beforeAll(async () => {
  const dynamoDbPort = await freePort();
  dynamoDbProxy = await startFaultProxy({ upstream: `http://127.0.0.1:${dynamoDbPort}` });
  managementProxy = await startFaultProxy();
  eventBridgeProxy = await startFaultProxy();
  stack = await startTestStack({
    dynamoDbPort,
    // The functions reach DynamoDB, @connections and EventBridge through the proxies from their first call.
    endpoints: { dynamoDb: dynamoDbProxy.url, managementApi: managementProxy.url, eventBridge: eventBridgeProxy.url },
    parameters: { DirectFanoutMaxMembers: String(MAX_MEMBERS) },
  });
  // No handler has run yet, so no client exists: the ones they build go through the proxies.
  managementProxy.setUpstream(stack.urls.management);
  managementProxy.failNext(Number.POSITIVE_INFINITY, {
    status: 500,
    match: (request) => {
      if (request.method === 'POST')
        postBodies.push({ connectionId: connectionIdOf(request.path), body: request.body });
      return false;
    },
  });
  eventBridgeProxy.setUpstream(stack.urls.eventBridge);
  // Records every PutEvents body (a never-firing rule whose match sees each request).
  eventBridgeProxy.failNext(Number.POSITIVE_INFINITY, {
    status: 500,
    match: (request) => {
      if (request.target === 'AWSEvents.PutEvents') handedOn.push({ body: request.body });
      return false;
    },
  });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await stack?.close();
  await Promise.all([dynamoDbProxy?.close(), managementProxy?.close(), eventBridgeProxy?.close()]);
});

describe('the direct path, happy', () => {
  it('posts a 2-member room once to each member, without EventBridge or the state machine', async () => {
    const members = await room('direct-pair', 2);
    const [alice, bob] = members;
    if (!alice || !bob) throw new Error('members missing');
    const messageId = 'direct-pair-1';

    const seen = await observe(async () => {
      ackFrameSchema.parse(
        await alice.request({ action: 'sendMessage', room: 'direct-pair', message: 'hi', messageId }),
      );
      await Promise.all(members.map((member) => member.waitFor(isMessage(messageId))));
    });

    for (const member of members) {
      expect(copiesAt(member, messageId)).toBe(1);
      expect(framesPostedTo(member.connectionId, messageId)).toBe(1);
    }
    expect(seen.executions()).toEqual([]);
    expect(messagePostedEvents(messageId)).toEqual([]);
  });

  it('posts a direct message once to the recipient and to each of the sender’s connections, and marks it delivered', async () => {
    const phone = await join('direct-dm-alice', 'direct-dm-lobby-a');
    const laptop = await join('direct-dm-alice', 'direct-dm-lobby-a');
    const bob = await join('direct-dm-bob', 'direct-dm-lobby-b');
    await stack.idle();
    const messageId = 'direct-dm-1';

    await observe(async () => {
      const ack = await phone.request({
        action: 'sendMessage',
        recipientId: 'direct-dm-bob',
        content: 'just us',
        messageId,
      });
      expect(ack).toMatchObject({ type: 'ack', messageId });
      await Promise.all([phone, laptop, bob].map((client) => client.waitFor(isMessage(messageId))));
    });

    for (const client of [phone, laptop, bob]) {
      expect(copiesAt(client, messageId)).toBe(1);
      expect(framesPostedTo(client.connectionId, messageId)).toBe(1);
    }
    const received = bob.frames.find(isMessage(messageId));
    expect(received?.data).toMatchObject({ senderId: 'direct-dm-alice', status: 'delivered' });
    expect(messagePostedEvents(messageId)).toEqual([]);
    // The stored message moved to delivered, so the sender hears it through the Messages stream.
    await phone.waitFor((frame) => {
      const data = frame.data as { messageId?: string; status?: string } | undefined;
      return frame.type === 'status' && data?.messageId === messageId && data.status === 'delivered';
    });
  });

  it(`sends a room above ${MAX_MEMBERS} live connections through the state machine, still once each`, async () => {
    const members = await room('direct-big', MAX_MEMBERS + 1);
    const [sender] = members;
    if (!sender) throw new Error('members missing');
    const messageId = 'direct-big-1';

    const seen = await observe(async () => {
      await sender.request({ action: 'sendMessage', room: 'direct-big', message: 'to many', messageId });
      await Promise.all(members.map((member) => member.waitFor(isMessage(messageId))));
    });

    for (const member of members) {
      expect(copiesAt(member, messageId)).toBe(1);
      expect(framesPostedTo(member.connectionId, messageId)).toBe(1);
    }
    expect(messagePostedEvents(messageId)).toHaveLength(1);
    const executions = seen.executions();
    expect(executions.length).toBeGreaterThan(0);
    expect(executions.map((execution) => execution.status)).toEqual(executions.map(() => 'SUCCEEDED'));
  });
});

describe('the direct path, faults', () => {
  it('drops a connection that answered 410 and delivers once to the rest', async () => {
    const members = await room('direct-gone', 2);
    const [erin] = members;
    if (!erin) throw new Error('members missing');
    const ghost = 'DirectGhostConn0=';
    await plantGhost(ghost, 'direct-gone');
    const messageId = 'direct-gone-1';

    const seen = await observe(async () => {
      await erin.request({ action: 'sendMessage', room: 'direct-gone', message: 'anyone?', messageId });
      await Promise.all(members.map((member) => member.waitFor(isMessage(messageId))));
    });

    // The gateway itself answered 410 for the ghost, once: nothing handed it on.
    expect(postsTo(ghost, seen.posts).map((entry) => entry.status)).toEqual([410]);
    expect(await connectionRecord(ghost)).toBeUndefined();
    for (const member of members) {
      expect(copiesAt(member, messageId)).toBe(1);
      expect(framesPostedTo(member.connectionId, messageId)).toBe(1);
      expect(await connectionRecord(member.connectionId)).toBeDefined();
    }
    expect(messagePostedEvents(messageId)).toEqual([]);
  });

  it('delivers after a 429 once the SDK retried, and hands nothing on', async () => {
    const members = await room('direct-throttle', 2);
    const [jack, kate] = members;
    if (!jack || !kate) throw new Error('members missing');
    const messageId = 'direct-throttle-1';
    const throttled = managementProxy.failNext(
      1,
      managementApiError(429, 'LimitExceededException', postToConnection(kate.connectionId, messageId)),
    );

    const seen = await observe(async () => {
      await jack.request({ action: 'sendMessage', room: 'direct-throttle', message: 'slow down', messageId });
      await Promise.all(members.map((member) => member.waitFor(isMessage(messageId))));
    });

    expect(throttled.served).toBe(1);
    expect(postsTo(kate.connectionId, seen.posts).map((entry) => entry.status)).toEqual([429, 200]);
    for (const member of members) expect(copiesAt(member, messageId)).toBe(1);
    expect(messagePostedEvents(messageId)).toEqual([]);
    expect(seen.executions()).toEqual([]);
    expect(await deliveryFailuresFor(messageId)).toEqual([]);
  });

  it('hands a connection that kept failing with 500 to the state machine, which records it; the rest get it once', async () => {
    const members = await room('direct-broken', 3);
    const [lena, mike, nora] = members;
    if (!lena || !mike || !nora) throw new Error('members missing');
    const messageId = 'direct-broken-1';
    const broken = managementProxy.failNext(
      Number.POSITIVE_INFINITY,
      managementApiError(500, 'InternalServerErrorException', postToConnection(nora.connectionId, messageId)),
    );

    const seen = await observe(async () => {
      await lena.request({ action: 'sendMessage', room: 'direct-broken', message: 'nora cannot hear', messageId });
      await Promise.all([lena, mike].map((member) => member.waitFor(isMessage(messageId))));
    });
    broken.cancel();

    // Three attempts on the direct path, three more by the state machine's task: then it is recorded.
    expect(broken.served).toBe(6);
    const events = messagePostedEvents(messageId);
    expect(events).toHaveLength(1);
    expect(events[0]?.body).toContain(nora.connectionId);
    for (const member of [lena, mike]) {
      expect(copiesAt(member, messageId)).toBe(1);
      expect(framesPostedTo(member.connectionId, messageId)).toBe(1);
    }
    expect(copiesAt(nora, messageId)).toBe(0);
    const failures = await deliveryFailuresFor(messageId);
    expect(failures.map((failure) => failure.connectionIds?.L?.map((value) => value.S))).toEqual([[nora.connectionId]]);
    expect(await connectionRecord(nora.connectionId)).toBeDefined();
    const executions = seen.executions();
    expect(executions.map((execution) => execution.status)).toEqual(executions.map(() => 'SUCCEEDED'));
  });

  it('hands on what a failure halfway through the room left unconfirmed, so every member gets it once', async () => {
    // Two members and the ghost: within the threshold, so the direct path takes it.
    const members = await room('direct-crash', 2);
    const [sender] = members;
    if (!sender) throw new Error('members missing');
    const ghost = `${members[0]?.connectionId}0`;
    await plantGhost(ghost, 'direct-crash');
    const messageId = 'direct-crash-1';
    // Dropping the ghost starts with a GetItem; every attempt the SDK makes (maxAttempts 5) fails once.
    const crash = dynamoDbProxy.failNext(5, dynamoDbInternalError(dynamoDbOperation('GetItem', ghost)));

    const seen = await observe(async () => {
      await sender.request({ action: 'sendMessage', room: 'direct-crash', message: 'through it all', messageId });
      await Promise.all(members.map((member) => member.waitFor(isMessage(messageId))));
    });

    expect(crash.served).toBe(5);
    // Only the ghost was handed on; the state machine's task met its 410 again and dropped it.
    const events = messagePostedEvents(messageId);
    expect(events).toHaveLength(1);
    expect(events[0]?.body).toContain(ghost);
    expect(postsTo(ghost, seen.posts).map((entry) => entry.status)).toEqual([410, 410]);
    expect(await connectionRecord(ghost)).toBeUndefined();
    for (const member of members) {
      expect(copiesAt(member, messageId)).toBe(1);
      expect(framesPostedTo(member.connectionId, messageId)).toBe(1);
    }
    expect(await storedCopies('direct-crash', messageId)).toBe(1);
  });

  it('recovers from the function dying between posts: the resend goes the long way, each member shows it once', async () => {
    const members = await room('direct-dies', 2);
    const [sender] = members;
    if (!sender) throw new Error('members missing');
    const ghost = `${members[0]?.connectionId}0`;
    await plantGhost(ghost, 'direct-dies');
    const messageId = 'direct-dies-1';
    // The ghost's cleanup fails, and so does every PutEvents attempt (maxAttempts 5) that would hand it
    // on: the invocation ends in an error after posting to the members, as if it had died there.
    const cleanup = dynamoDbProxy.failNext(5, dynamoDbInternalError(dynamoDbOperation('GetItem', ghost)));
    const handOn = eventBridgeProxy.failNext(5, {
      status: 500,
      headers: { 'x-amzn-errortype': 'InternalException' },
      body: { __type: 'InternalException', message: 'injected' },
      match: (request) => request.target === 'AWSEvents.PutEvents' && request.body.includes(messageId),
    });
    const frame = { action: 'sendMessage', room: 'direct-dies', message: 'said once', messageId };

    const seen = await observe(async () => {
      const failed = await sender.request(frame);
      expect(failed).toMatchObject({ type: 'error', code: 'internal_error', messageId });
      // What the client core does with an unacknowledged send: resend it with the same messageId.
      const retried = ackFrameSchema.parse(await sender.request(frame));
      expect(retried).toMatchObject({ messageId, duplicate: true });
      await Promise.all(members.map((member) => member.waitFor(isMessage(messageId))));
    });

    expect(cleanup.served).toBe(5);
    expect(handOn.served).toBe(5);
    // The resend went through the state machine: the whole room again, the ghost dropped this time.
    expect(seen.executions().length).toBeGreaterThan(0);
    expect(await connectionRecord(ghost)).toBeUndefined();
    for (const member of members) {
      // Posted by the first attempt and again by the state machine; what the client shows is one.
      expect(framesPostedTo(member.connectionId, messageId)).toBe(2);
      const dedup = new Set<string>();
      const shown = member.frames.filter(isMessage(messageId)).filter((frame) => {
        const id = String(messageIdOf(frame));
        return !dedup.has(id) && Boolean(dedup.add(id));
      });
      expect(shown).toHaveLength(1);
    }
    expect(await storedCopies('direct-dies', messageId)).toBe(1);
  });
});

describe('an update that turns the direct path off', () => {
  it('sends even a 2-member room through the state machine with DirectFanoutMaxMembers=0', async () => {
    const members = await room('direct-off', 2);
    const [alice] = members;
    if (!alice) throw new Error('members missing');
    const messageId = 'direct-off-1';
    // A configuration update, as a new deployment's would be: Lambda starts new environments with it.
    stack.functions.updateFunctionConfiguration('WebSocketActionsFunction', {
      environment: { DIRECT_FANOUT_MAX_MEMBERS: '0' },
    });
    try {
      const seen = await observe(async () => {
        await alice.request({ action: 'sendMessage', room: 'direct-off', message: 'the long way', messageId });
        await Promise.all(members.map((member) => member.waitFor(isMessage(messageId))));
      });
      expect(messagePostedEvents(messageId)).toHaveLength(1);
      expect(seen.executions().length).toBeGreaterThan(0);
      for (const member of members) expect(copiesAt(member, messageId)).toBe(1);
    } finally {
      stack.functions.updateFunctionConfiguration('WebSocketActionsFunction', { environment: {} });
    }
  });
});
