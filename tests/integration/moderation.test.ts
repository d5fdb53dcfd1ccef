import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsForRole, functionRoleName } from '../../local/iam/credentials.js';
import { LOCAL_REGION, type LocalStack } from '../../local/stack.js';
import { type FaultProxy, type ProxiedRequest, startFaultProxy } from '../helpers/fault-proxy.js';
import { type Frame, startTestStack, TestClient } from '../helpers/local-stack.js';

// One stack with the example hook (word list "spam, scam", at most one link, refusing), reached by the
// API functions through a fault proxy in front of the local Lambda Invoke API, so a test can hold a
// review past ModerationTimeoutMs or answer for the hook. The timeout is generous so a cold start of
// the hook never trips it: the timeout cases hold the Invoke instead of racing a clock.
let stack: LocalStack;
let lambdaProxy: FaultProxy;
const clients: TestClient[] = [];

const isInvoke = (request: Pick<ProxiedRequest, 'method' | 'path'>) =>
  request.method === 'POST' && request.path.includes('/invocations');

beforeAll(async () => {
  lambdaProxy = await startFaultProxy();
  stack = await startTestStack({
    parameters: {
      ModerationFunction: 'example',
      ModerationBlockedWords: 'spam,scam',
      ModerationMaxLinks: '1',
      ModerationTimeoutMs: '5000',
      ModerationFailMode: 'closed',
    },
    endpoints: { lambda: lambdaProxy.url },
  });
  lambdaProxy.setUpstream(stack.urls.lambda);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await stack?.close();
  await lambdaProxy?.close();
});

async function join(query: Record<string, string>): Promise<TestClient> {
  const client = await TestClient.join(stack, query);
  clients.push(client);
  return client;
}

function functionNamed(logicalId: string): string {
  const fn = stack.model.functions.find((candidate) => candidate.logicalId === logicalId);
  if (!fn) throw new Error(`no ${logicalId} in the templates`);
  return fn.name;
}

/** Replaces the template-declared variables of a function (Lambda's UpdateFunctionConfiguration). */
function configure(logicalId: string, environment: Record<string, string>): void {
  stack.functions.updateFunctionConfiguration(functionNamed(logicalId), { environment });
}

async function roomHistory(room: string): Promise<string[]> {
  const response = await fetch(`${stack.urls.rest}/rooms/${room}/messages?limit=50`, {
    headers: { 'x-user-id': 'reader' },
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { messages: Array<{ message: string }> };
  return body.messages.map((message) => message.message);
}

/** A clean message after the one under test: once it arrives, anything sent before it would have too. */
async function sendMarker(sender: TestClient, receiver: TestClient, room: string, text: string): Promise<void> {
  const ack = await sender.request({ action: 'sendMessage', room, message: text });
  expect(ack.type).toBe('ack');
  await receiver.waitFor((frame) => frame.type === 'message' && frame.message === text);
}

const messageTexts = (client: TestClient, room: string) => client.messages(room).map((frame) => frame.message);

describe('the moderation hook on sendMessage', () => {
  it('a denied message is never stored or delivered, and the sender gets the reason', async () => {
    const room = 'mod-deny';
    const alice = await join({ userId: 'mod-alice', room });
    const bob = await join({ userId: 'mod-bob', room });
    const invokesBefore = lambdaProxy.log().filter(isInvoke).length;

    const reply = await alice.request({ action: 'sendMessage', room, message: 'cheap SPAM here', messageId: 'mod-1' });
    expect(reply).toEqual({
      type: 'error',
      code: 'message_rejected',
      message: 'the message contains a word this chat does not allow',
      messageId: 'mod-1',
    });
    const links = await alice.request({ action: 'sendMessage', room, message: 'https://a.example https://b.example' });
    expect(links).toMatchObject({ code: 'message_rejected', message: 'too many links (2); at most 1 per message' });

    await sendMarker(alice, bob, room, 'a clean message');
    expect(messageTexts(bob, room)).toEqual(['a clean message']);
    expect(messageTexts(alice, room)).toEqual(['a clean message']);
    expect(await roomHistory(room)).toEqual(['a clean message']);
    // Every send went through the hook, over the Invoke API.
    expect(lambdaProxy.log().filter(isInvoke).length - invokesBefore).toBe(3);
  });

  it('a modified message is stored and delivered with the new text', async () => {
    const room = 'mod-mask';
    configure('ModerationExampleFunction', { BLOCKED_WORDS_ACTION: 'mask' });
    try {
      const alice = await join({ userId: 'mod-alice2', room });
      const bob = await join({ userId: 'mod-bob2', room });
      const ack = await alice.request({ action: 'sendMessage', room, message: 'no scam, no Spam' });
      expect(ack.type).toBe('ack');
      const seen = await bob.waitFor((frame) => frame.type === 'message' && frame.messageId === ack.messageId);
      expect(seen.message).toBe('no ****, no ****');
      expect(await roomHistory(room)).toEqual(['no ****, no ****']);
    } finally {
      configure('ModerationExampleFunction', {});
    }
  });

  it('reviews direct messages: a denied one creates no conversation and reaches nobody', async () => {
    const alice = await join({ userId: 'mod-dm-alice' });
    const bob = await join({ userId: 'mod-dm-bob' });
    const reply = await alice.request({ action: 'sendMessage', recipientId: 'mod-dm-bob', content: 'scam offer' });
    expect(reply).toMatchObject({ type: 'error', code: 'message_rejected' });
    const list = await fetch(`${stack.urls.rest}/conversations`, { headers: { 'x-user-id': 'mod-dm-bob' } });
    expect(((await list.json()) as { conversations: unknown[] }).conversations).toEqual([]);

    const ok = await alice.request({ action: 'sendMessage', recipientId: 'mod-dm-bob', content: 'hello bob' });
    expect(ok.type).toBe('ack');
    await bob.waitFor((frame) => frame.type === 'message');
    expect(bob.frames.filter((frame) => frame.type === 'message')).toHaveLength(1);
  });

  it('reviews an edit: a denied edit keeps the stored text and tells nobody', async () => {
    const room = 'mod-edit';
    const alice = await join({ userId: 'mod-edit-alice', room });
    const bob = await join({ userId: 'mod-edit-bob', room });
    const ack = await alice.request({ action: 'sendMessage', room, message: 'first draft' });
    const messageId = String(ack.messageId);
    await bob.waitFor((frame) => frame.type === 'message' && frame.messageId === messageId);

    const refused = await alice.request({ action: 'editMessage', messageId, message: 'now with spam' });
    expect(refused).toMatchObject({ type: 'error', code: 'message_rejected' });
    await sendMarker(alice, bob, room, 'after the edit');
    expect(bob.frames.some((frame) => frame.type === 'edited')).toBe(false);
    expect(await roomHistory(room)).toEqual(['after the edit', 'first draft']);
  });

  it("reviews seed 000's POST /message as well: a denied post gets 422 with the reason and stores nothing", async () => {
    const post = (message: string) =>
      fetch(`${stack.urls.rest}/message`, {
        method: 'POST',
        headers: { 'x-user-id': 'mod-rest', 'content-type': 'application/json' },
        body: JSON.stringify({ message }),
      });
    const refused = await post('spam from REST');
    expect(refused.status).toBe(422);
    expect(await refused.json()).toEqual({
      error: 'message_rejected',
      message: 'the message contains a word this chat does not allow',
    });
    expect((await post('fine from REST')).status).toBeLessThan(300);
    const echo = await roomHistory('echo');
    expect(echo).toContain('fine from REST');
    expect(echo).not.toContain('spam from REST');
  });

  it('a retried send of a stored message does not ask the hook again', async () => {
    const room = 'mod-retry';
    const alice = await join({ userId: 'mod-retry-alice', room });
    const first = await alice.request({ action: 'sendMessage', room, message: 'once', messageId: 'mod-retry-1' });
    expect(first.type).toBe('ack');
    // Were the hook asked again, the hold would keep it past the timeout and fail closed.
    const hold = lambdaProxy.holdNext(1, isInvoke);
    try {
      const again = await alice.request({ action: 'sendMessage', room, message: 'once', messageId: 'mod-retry-1' });
      expect(again).toMatchObject({ type: 'ack', messageId: 'mod-retry-1', duplicate: true });
      expect(hold.held).toBe(0);
    } finally {
      hold.release();
    }
  });
});

describe('when the hook fails', () => {
  async function pair(room: string): Promise<[TestClient, TestClient]> {
    return [await join({ userId: `${room}-a`, room }), await join({ userId: `${room}-b`, room })];
  }

  it('fail closed: a review that times out refuses the message with a clear error and stores nothing', async () => {
    const room = 'mod-timeout-closed';
    const [alice, bob] = await pair(room);
    const hold = lambdaProxy.holdNext(1, isInvoke);
    try {
      const reply = await alice.request({ action: 'sendMessage', room, message: 'hello', messageId: 'mod-to-1' });
      expect(reply).toEqual({
        type: 'error',
        code: 'moderation_unavailable',
        message: 'message review is unavailable, so nothing was sent; try again later',
        messageId: 'mod-to-1',
      });
      expect(hold.held).toBe(1);
    } finally {
      hold.release();
    }
    await sendMarker(alice, bob, room, 'later');
    expect(messageTexts(bob, room)).toEqual(['later']);
    expect(await roomHistory(room)).toEqual(['later']);
  });

  it.each([
    ['an unknown result', { status: 200, body: { ReviewResult: 'MAYBE' } }],
    ['a body that is not JSON', { status: 200, body: 'ALLOW' }],
    ['modified text over the size limit', { status: 200, body: { ReviewResult: 'ALLOW', Content: 'x'.repeat(4001) } }],
    [
      'a function error',
      {
        status: 200,
        body: { errorType: 'Error', errorMessage: 'boom' },
        headers: { 'x-amz-function-error': 'Unhandled' },
      },
    ],
  ])('fail closed: %s counts as a failed review', async (_name, fault) => {
    const room = 'mod-bad-answer';
    const alice = await join({ userId: 'mod-bad-alice', room });
    const rule = lambdaProxy.failNext(1, { ...fault, match: isInvoke });
    const reply = await alice.request({ action: 'sendMessage', room, message: 'hello there' });
    expect(rule.served).toBe(1);
    expect(reply).toMatchObject({ type: 'error', code: 'moderation_unavailable' });
    expect(await roomHistory(room)).toEqual([]);
  });

  it('fail open: a review that times out lets the message through unchanged', async () => {
    const room = 'mod-timeout-open';
    configure('WebSocketActionsFunction', { MODERATION_FAIL_MODE: 'open' });
    const hold = lambdaProxy.holdNext(1, isInvoke);
    try {
      const [alice, bob] = await pair(room);
      const ack = await alice.request({ action: 'sendMessage', room, message: 'spam gets through' });
      expect(ack.type).toBe('ack');
      expect(hold.held).toBe(1);
      const seen = await bob.waitFor((frame: Frame) => frame.type === 'message' && frame.messageId === ack.messageId);
      expect(seen.message).toBe('spam gets through');
    } finally {
      hold.release();
      configure('WebSocketActionsFunction', {});
    }
  });
});

describe('the local Lambda Invoke API', () => {
  const clientAs = (logicalId: string) =>
    new LambdaClient({
      endpoint: stack.urls.lambda,
      region: LOCAL_REGION,
      credentials: credentialsForRole(functionRoleName(functionNamed(logicalId))),
      maxAttempts: 1,
    });

  it('invokes the hook as a role that holds lambda:InvokeFunction on it', async () => {
    const client = clientAs('WebSocketActionsFunction');
    try {
      const answer = await client.send(
        new InvokeCommand({
          FunctionName: functionNamed('ModerationExampleFunction'),
          Payload: new TextEncoder().encode(JSON.stringify({ Content: 'spam', MessageId: 'x' })),
        }),
      );
      expect(answer.StatusCode).toBe(200);
      expect(answer.FunctionError).toBeUndefined();
      expect(JSON.parse(new TextDecoder().decode(answer.Payload))).toMatchObject({ ReviewResult: 'DENY' });

      const failed = await client.send(
        new InvokeCommand({
          FunctionName: functionNamed('ModerationExampleFunction'),
          Payload: new TextEncoder().encode('{}'),
        }),
      );
      expect(failed.FunctionError).toBe('Unhandled');
      expect(JSON.parse(new TextDecoder().decode(failed.Payload))).toMatchObject({ errorType: 'TypeError' });
    } finally {
      client.destroy();
    }
  });

  it("refuses a role without the grant with AccessDeniedException, and an unknown function (once allowed) with Lambda's 404", async () => {
    const connect = clientAs('ConnectFunction');
    try {
      await expect(
        connect.send(new InvokeCommand({ FunctionName: functionNamed('ModerationExampleFunction') })),
      ).rejects.toMatchObject({
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
        message: expect.stringContaining('lambda:InvokeFunction'),
      });
    } finally {
      connect.destroy();
    }
    const operator = new LambdaClient({
      endpoint: stack.urls.lambda,
      region: LOCAL_REGION,
      credentials: credentialsForRole('local-operator'),
      maxAttempts: 1,
    });
    try {
      await expect(operator.send(new InvokeCommand({ FunctionName: 'no-such-function' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
        $metadata: { httpStatusCode: 404 },
      });
    } finally {
      operator.destroy();
    }
  });
});

describe('deletions and the audit trail', () => {
  /** The room's audit items as stored, read as the operator straight from DynamoDB Local. */
  async function auditItems(room: string): Promise<Array<Record<string, unknown>>> {
    const page = await stack.dynamoDb.client.send(
      new QueryCommand({
        TableName: stack.tableNames.MessagesTable,
        KeyConditionExpression: 'room = :partition',
        ExpressionAttributeValues: { ':partition': { S: `audit#${room}` } },
      }),
    );
    return (page.Items ?? []).map((item) => unmarshall(item));
  }

  it("records the sender's own delete with the message in one transaction; a user with no role may not delete it", async () => {
    const room = 'mod-del';
    const alice = await join({ userId: 'mod-del-alice', room });
    const bob = await join({ userId: 'mod-del-bob', room });
    const ack = await alice.request({ action: 'sendMessage', room, message: 'delete me' });
    const messageId = String(ack.messageId);
    await bob.waitFor((frame) => frame.type === 'message' && frame.messageId === messageId);

    // bob has no role in this room: refused, and nothing is recorded.
    expect(await bob.request({ action: 'deleteMessage', messageId }, 'error')).toMatchObject({ code: 'forbidden' });
    expect(await auditItems(room)).toEqual([]);

    expect(await alice.request({ action: 'deleteMessage', messageId }, 'deleted')).toEqual({
      type: 'deleted',
      messageId,
      room,
    });
    const [record, ...rest] = await auditItems(room);
    expect(rest).toEqual([]);
    expect(record).toMatchObject({
      messageId,
      senderId: 'mod-del-alice',
      deletedBy: 'mod-del-alice',
      role: 'sender',
      auditOf: room,
    });
    // The trail keeps no text, and stays out of the indexes and the stream's message filters.
    expect(Object.keys(record ?? {}).sort()).toEqual(
      ['auditOf', 'deletedAt', 'deletedBy', 'deletedByName', 'messageId', 'role', 'room', 'senderId', 'sk'].sort(),
    );
    expect(await roomHistory(room)).toEqual(['']);

    // A repeat delete answers the same and records nothing new.
    await alice.request({ action: 'deleteMessage', messageId }, 'deleted');
    expect(await auditItems(room)).toHaveLength(1);
  });

  it('answers the audit trail with 404 over REST and not_found over the socket to someone with no role', async () => {
    const response = await fetch(`${stack.urls.rest}/rooms/mod-del/audit`, {
      headers: { 'x-user-id': 'mod-del-alice' },
    });
    expect(response.status).toBe(404);
    const alice = await join({ userId: 'mod-audit-alice' });
    expect(await alice.request({ action: 'auditTrail', room: 'mod-del' }, 'error')).toMatchObject({
      code: 'not_found',
    });
  });

  it("a private room's moderator deletes a member's message; the trail is theirs and the owner's, not a member's", async () => {
    const alice = await join({ userId: 'mod-own-alice' });
    const created = await alice.request({ action: 'createRoom', visibility: 'private', title: 'Mods' }, 'roomCreated');
    const room = String(created.room);
    for (const userId of ['mod-own-bob', 'mod-own-carol']) {
      await alice.request({ action: 'inviteMember', room, userId }, 'roomMember');
    }
    await alice.request({ action: 'setRole', room, userId: 'mod-own-carol', role: 'moderator' }, 'roomMember');
    const bob = await join({ userId: 'mod-own-bob', room });
    const carol = await join({ userId: 'mod-own-carol', room });
    const ack = await bob.request({ action: 'sendMessage', room, message: 'off topic' });
    const messageId = String(ack.messageId);
    const carolAck = await carol.request({ action: 'sendMessage', room, message: 'please stay on topic' });
    await bob.waitFor((frame) => frame.type === 'message' && frame.messageId === carolAck.messageId);

    // A member may not delete a moderator's message.
    expect(
      await bob.request({ action: 'deleteMessage', messageId: String(carolAck.messageId) }, 'error'),
    ).toMatchObject({
      code: 'forbidden',
    });
    expect(await carol.request({ action: 'deleteMessage', messageId }, 'deleted')).toEqual({
      type: 'deleted',
      messageId,
      room,
    });
    const [record, ...rest] = await auditItems(room);
    expect(rest).toEqual([]);
    expect(record).toMatchObject({ messageId, senderId: 'mod-own-bob', deletedBy: 'mod-own-carol', role: 'moderator' });

    const audit = async (userId: string) =>
      fetch(`${stack.urls.rest}/rooms/${room}/audit`, { headers: { 'x-user-id': userId } });
    for (const userId of ['mod-own-alice', 'mod-own-carol']) {
      const response = await audit(userId);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { deletions: Array<{ messageId: string; deletedBy: string }> };
      expect(body.deletions.map((entry) => [entry.messageId, entry.deletedBy])).toEqual([[messageId, 'mod-own-carol']]);
    }
    expect((await audit('mod-own-bob')).status).toBe(403);
    expect((await audit('mod-own-mallory')).status).toBe(404);
  });
});
