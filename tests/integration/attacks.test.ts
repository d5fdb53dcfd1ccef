import { connect as connectTcp } from 'node:net';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { type AttributeValue, GetItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ackFrameSchema, errorFrameSchema } from '#protocol/server-frames';
import { type LocalTokenIssuer, startTokenIssuer } from '../../local/auth/token-issuer.js';
import { type CfnTemplate, loadCfnTemplate } from '../../local/cfn/template-loader.js';
import { type LocalStack, repoRoot } from '../../local/stack.js';
import { type Frame, startTestStack, TestClient } from '../helpers/local-stack.js';

/**
 * The attacker's suite: the local stack with AuthMode cognito, trusting only the local token
 * issuer. Every attack asserts the exact refusal AND that nothing was stored.
 */

let stack: LocalStack;
let issuer: LocalTokenIssuer;
const clients: TestClient[] = [];

const SECRET = 'the launch code is 0000';
const OWN_API_POST_CONNECTIONS =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a template literal.
  'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApiId}/${Stage}/POST/@connections/*';
const OTHER_POOL = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_SomeoneElse';

beforeAll(async () => {
  issuer = await startTokenIssuer({ port: 0 });
  stack = await startTestStack({
    // RateLimitPerSecond 1 (burst 20): the flood must outrun the refill even when its 40 invocations
    // spread over the seconds the functions' environments take to cold-start.
    parameters: { AuthMode: 'cognito', RateLimitPerSecond: '1' },
    tokenIssuer: { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: issuer.audience },
  });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await stack?.close();
  await issuer?.close();
});

/** Connects with a valid token for `userId` and waits for the welcome frame. */
async function connectAs(userId: string, room = 'atk-lobby'): Promise<TestClient> {
  const client = await TestClient.join(stack, { token: issuer.mint({ sub: userId }), room });
  clients.push(client);
  return client;
}

/** What a refused handshake answered: the HTTP status and body, before any upgrade. */
function attemptHandshake(query: Record<string, string>): Promise<{ status: number; body: string }> {
  const url = `${stack.urls.webSocket}/?${new URLSearchParams(query)}`;
  return new Promise((resolvePromise, reject) => {
    const socket = new WebSocket(url);
    socket.on('error', reject);
    socket.once('open', () => {
      socket.terminate();
      reject(new Error('the handshake was accepted'));
    });
    socket.once('unexpected-response', (request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => {
        resolvePromise({ status: response.statusCode ?? 0, body });
        request.destroy();
      });
    });
  });
}

async function rest(path: string, token?: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${stack.urls.rest}${path}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, text: await response.text() };
}

type Item = Record<string, AttributeValue>;

async function scan(table: string, filter?: { attribute: string; value: string }): Promise<Item[]> {
  const items: Item[] = [];
  let ExclusiveStartKey: Item | undefined;
  do {
    const page = await stack.dynamoDb.client.send(
      new ScanCommand({
        TableName: stack.tableNames[table],
        ExclusiveStartKey,
        ...(filter
          ? {
              FilterExpression: '#a = :v',
              ExpressionAttributeNames: { '#a': filter.attribute },
              ExpressionAttributeValues: { ':v': { S: filter.value } },
            }
          : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** Every item in one Messages partition: a room, or `dm#<conversationId>`. */
async function partition(room: string): Promise<Item[]> {
  const page = await stack.dynamoDb.client.send(
    new QueryCommand({
      TableName: stack.tableNames.MessagesTable,
      KeyConditionExpression: 'room = :room',
      ExpressionAttributeValues: { ':room': { S: room } },
      ConsistentRead: true,
    }),
  );
  return page.Items ?? [];
}

const messageCount = async () => (await scan('MessagesTable')).length;

async function connectionRecord(connectionId: string): Promise<Item | undefined> {
  const { Item } = await stack.dynamoDb.client.send(
    new GetItemCommand({ TableName: stack.tableNames.ConnectionsTable, Key: { connectionId: { S: connectionId } } }),
  );
  return Item;
}

function invocationsOf(logicalId: string): number {
  const fn = stack.functions.functions.find((candidate) => candidate.logicalId === logicalId);
  if (!fn) throw new Error(`no function ${logicalId}`);
  return stack.functions.invocations()[fn.name] ?? 0;
}

const errorCode = async (client: TestClient, frame: Record<string, unknown> | string) =>
  errorFrameSchema.parse(await client.request(frame as Record<string, unknown>, 'error')).code;

const mentionsSecret = (frames: Frame[]) => frames.some((frame) => JSON.stringify(frame).includes(SECRET));

describe('the handshake refuses anyone without a valid token', () => {
  it.each([
    ['no token', 'atk-anon', () => ({})],
    ['an empty token', 'atk-empty', () => ({ token: '' })],
    ['an expired token', 'atk-expired', () => ({ token: issuer.mint({ sub: 'atk-expired', expiresInSeconds: -60 }) })],
    [
      'a token signed by another key',
      'atk-forged',
      () => ({ token: issuer.mintWithForeignKey({ sub: 'atk-forged' }) }),
    ],
    [
      'a token for another user pool',
      'atk-other-pool',
      () => ({ token: issuer.mint({ sub: 'atk-other-pool', issuer: OTHER_POOL }) }),
    ],
    [
      'a token for another app client',
      'atk-other-client',
      () => ({ token: issuer.mint({ sub: 'atk-other-client', audience: 'another-client' }) }),
    ],
    ['an unsigned (alg none) token', 'atk-unsigned', () => ({ token: unsigned(issuer.mint({ sub: 'atk-unsigned' })) })],
    [
      'a good token with its subject rewritten',
      'atk-admin',
      () => ({ token: withClaims(issuer.mint({ sub: 'atk-someone' }), { sub: 'atk-admin' }) }),
    ],
    ["a userId in the query instead of a token (demo mode's way in)", 'atk-demo', () => ({ userId: 'atk-demo' })],
  ])('answers %s with 401 and records no connection', async (_name, subject, query) => {
    const connectsBefore = invocationsOf('ConnectFunction');
    const rejectedBefore = stack.webSocket.stats().connectionsRejected;
    const outcome = await attemptHandshake(query());
    expect(outcome.status).toBe(401);
    expect(JSON.parse(outcome.body)).toEqual({ message: 'Unauthorized' });
    expect(stack.webSocket.stats().connectionsRejected).toBe(rejectedBefore + 1);
    // $connect never ran, so nothing can have been written for this handshake.
    expect(invocationsOf('ConnectFunction')).toBe(connectsBefore);
    expect(await scan('ConnectionsTable', { attribute: 'userId', value: subject })).toEqual([]);
    expect(await scan('SubscriptionsTable', { attribute: 'userId', value: subject })).toEqual([]);
  });

  it('accepts the same user with a valid token (the control)', async () => {
    const client = await connectAs('atk-control');
    const record = await connectionRecord(client.connectionId);
    expect(record?.userId?.S).toBe('atk-control');
  });
});

describe('the REST API refuses anyone without a valid token', () => {
  it.each([
    ['no token', () => undefined],
    ['an expired token', () => issuer.mint({ sub: 'atk-alice', expiresInSeconds: -60 })],
    ['a token signed by another key', () => issuer.mintWithForeignKey({ sub: 'atk-alice' })],
    ['a token for another user pool', () => issuer.mint({ sub: 'atk-alice', issuer: OTHER_POOL })],
    ['garbage', () => 'not-a-jwt'],
  ])('answers %s with 403 and returns nothing', async (_name, token) => {
    for (const path of ['/rooms', '/rooms/atk-lobby/messages', '/conversations', '/users/atk-alice/messages']) {
      const response = await rest(path, token());
      expect(response.status).toBe(403);
      expect(JSON.parse(response.text)).toEqual({ message: 'Forbidden' });
    }
  });

  it('cannot post through the seed endpoints without a token', async () => {
    const before = await messageCount();
    const response = await fetch(`${stack.urls.rest}/message`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'anonymous post' }),
    });
    expect(response.status).toBe(403);
    expect(await messageCount()).toBe(before);
  });
});

describe('identity comes from the token, never from the frame', () => {
  it('refuses a room message that claims another user_id, and stores nothing', async () => {
    const mallory = await connectAs('atk-mallory');
    const before = await partition('atk-lobby');
    expect(
      await errorCode(mallory, {
        action: 'sendMessage',
        room: 'atk-lobby',
        user_id: 'atk-alice',
        message: 'I am alice',
      }),
    ).toBe('identity_mismatch');
    expect(await partition('atk-lobby')).toHaveLength(before.length);
  });

  it('refuses a direct message that claims another senderId, and creates no conversation', async () => {
    const mallory = await connectAs('atk-spoofer');
    const before = await messageCount();
    expect(
      await errorCode(mallory, {
        action: 'sendMessage',
        recipientId: 'atk-carol',
        senderId: 'atk-alice',
        senderName: 'Alice',
        content: 'hi carol, alice here',
      }),
    ).toBe('identity_mismatch');
    expect(await messageCount()).toBe(before);
    expect(await scan('ConversationsTable', { attribute: 'userId', value: 'atk-carol' })).toEqual([]);
  });
});

describe("someone else's conversation stays private", () => {
  let alice: TestClient;
  let bob: TestClient;
  let mallory: TestClient;
  let conversationId: string;

  beforeAll(async () => {
    alice = await connectAs('atk-alice');
    bob = await connectAs('atk-bob');
    mallory = await connectAs('atk-eve');
    const ack = ackFrameSchema.parse(
      await alice.request({ action: 'sendMessage', recipientId: 'atk-bob', content: SECRET, messageId: 'secret-1' }),
    );
    conversationId = String(ack.conversationId);
    await bob.waitFor((frame) => JSON.stringify(frame).includes(SECRET));
    await stack.idle();
  });

  it('lets the participants read it (the control)', async () => {
    const response = await rest(`/conversations/${conversationId}/messages`, issuer.mint({ sub: 'atk-bob' }));
    expect(response.status).toBe(200);
    expect(response.text).toContain(SECRET);
  });

  it('refuses its history over REST to anyone else: 403 forbidden, no content', async () => {
    const response = await rest(`/conversations/${conversationId}/messages`, issuer.mint({ sub: 'atk-eve' }));
    expect(response.status).toBe(403);
    expect(JSON.parse(response.text)).toMatchObject({ error: 'forbidden' });
    expect(response.text).not.toContain(SECRET);
  });

  it('refuses its history over the WebSocket to anyone else', async () => {
    expect(await errorCode(mallory, { action: 'conversationHistory', conversationId })).toBe('forbidden');
    expect(mentionsSecret(mallory.frames)).toBe(false);
  });

  it("keeps it out of the sender's public message listing and out of room reads", async () => {
    const listing = await rest('/users/atk-alice/messages', issuer.mint({ sub: 'atk-eve' }));
    expect(listing.status).toBe(200);
    expect(listing.text).not.toContain(SECRET);
    // The conversation's partition is `dm#<id>`; room names cannot contain `#`.
    const roomRead = await rest(
      `/rooms/${encodeURIComponent(`dm#${conversationId}`)}/messages`,
      issuer.mint({ sub: 'atk-eve' }),
    );
    expect(roomRead.status).toBe(400);
    expect(roomRead.text).not.toContain(SECRET);
    for (const frame of [
      { action: 'resume', room: `dm#${conversationId}`, lastTimestamp: '2000-01-01T00:00:00Z' },
      { action: 'joinRoom', room: `dm#${conversationId}` },
    ]) {
      expect(await errorCode(mallory, frame)).toBe('validation_failed');
    }
    expect(mentionsSecret(mallory.frames)).toBe(false);
  });

  it('refuses a message posted into it by an outsider, and stores nothing', async () => {
    const before = await partition(`dm#${conversationId}`);
    expect(
      await errorCode(mallory, {
        action: 'sendMessage',
        recipientId: 'atk-alice',
        conversationId,
        content: 'let me in',
      }),
    ).toBe('forbidden');
    expect(await partition(`dm#${conversationId}`)).toHaveLength(before.length);
    expect(await scan('ConversationsTable', { attribute: 'userId', value: 'atk-eve' })).toEqual([]);
  });

  it("keeps an outsider's message in the outsider's own conversation when naming this one", async () => {
    const before = await partition(`dm#${conversationId}`);
    // Eve first talks to Bob, then names Alice and Bob's conversation while writing to Bob again.
    const own = ackFrameSchema.parse(
      await mallory.request({ action: 'sendMessage', recipientId: 'atk-bob', content: 'hi' }),
    );
    const redirected = ackFrameSchema.parse(
      await mallory.request({ action: 'sendMessage', recipientId: 'atk-bob', conversationId, content: 'sneaky' }),
    );
    expect(own.conversationId).not.toBe(conversationId);
    expect(redirected.conversationId).toBe(own.conversationId);
    await stack.idle();
    expect(await partition(`dm#${conversationId}`)).toHaveLength(before.length);
  });

  it('refuses marking it read for an outsider, and changes nothing', async () => {
    const [message] = (await partition(`dm#${conversationId}`)).filter((item) => item.messageId?.S === 'secret-1');
    const summaryBefore = await conversationSummary('atk-bob', conversationId);
    expect(await errorCode(mallory, { action: 'markRead', conversationId, upToMessageId: 'secret-1' })).toBe(
      'forbidden',
    );
    expect(await errorCode(mallory, { action: 'markRead', conversationId, messageIds: ['secret-1'] })).toBe(
      'forbidden',
    );
    const [after] = (await partition(`dm#${conversationId}`)).filter((item) => item.messageId?.S === 'secret-1');
    expect(after?.status).toEqual(message?.status);
    expect(after?.status?.S).not.toBe('read');
    expect(await conversationSummary('atk-bob', conversationId)).toEqual(summaryBefore);
  });

  it("refuses deleting someone else's message, even to the other participant", async () => {
    expect(await errorCode(mallory, { action: 'deleteMessage', messageId: 'secret-1' })).toBe('forbidden');
    expect(await errorCode(bob, { action: 'deleteMessage', messageId: 'secret-1' })).toBe('forbidden');
    const [item] = (await partition(`dm#${conversationId}`)).filter((entry) => entry.messageId?.S === 'secret-1');
    expect(item?.isDeleted).toBeUndefined();
    expect(item?.message?.S).toBe(SECRET);
  });

  it('never delivered any of it to the outsider', async () => {
    await stack.idle();
    expect(mentionsSecret(mallory.frames)).toBe(false);
  });
});

describe('hostile frames are refused, store nothing and keep the connection', () => {
  const nested = (depth: number) =>
    `{"action":"sendMessage","room":"atk-lobby","message":"x","n":${'['.repeat(depth)}${']'.repeat(depth)}}`;

  it.each([
    { name: 'malformed JSON', body: '{"action":"sendMessage","room":', code: 'invalid_json' },
    { name: 'JSON nested 50 deep', body: nested(50), code: 'validation_failed' },
    { name: 'JSON nested 7000 deep (inside 16 KB)', body: nested(7000), code: 'validation_failed' },
    {
      name: 'a 20 KB frame',
      body: JSON.stringify({ action: 'sendMessage', room: 'atk-lobby', message: 'x', pad: 'y'.repeat(20_000) }),
      code: 'payload_too_large',
    },
    {
      name: 'a lone surrogate in a room message',
      body: '{"action":"sendMessage","room":"atk-lobby","message":"\\ud800"}',
      code: 'validation_failed',
    },
    {
      name: 'a lone surrogate in a direct message',
      body: '{"action":"sendMessage","recipientId":"atk-bob","content":"hi \\udfff"}',
      code: 'validation_failed',
    },
    { name: 'a prototype-polluting action', body: '{"action":"__proto__","room":"atk-lobby"}', code: 'unknown_action' },
    { name: 'an action inherited from Object', body: '{"action":"constructor"}', code: 'unknown_action' },
  ])('answers $name with $code', async ({ body, code }) => {
    const client = await connectAs('atk-fuzzer');
    const before = await messageCount();
    expect(await errorCode(client, body)).toBe(code);
    expect(await messageCount()).toBe(before);
    expect((await client.request({ action: 'ping' }, 'pong')).type).toBe('pong');
    expect(client.closed).toBe(false);
  });

  it.each([
    {
      name: 'a frame over 32 KB',
      send: (socket: WebSocket) =>
        socket.send(JSON.stringify({ action: 'sendMessage', room: 'atk-lobby', message: 'x'.repeat(40_000) })),
      closeCode: 1009,
    },
    {
      name: 'a text frame that is not UTF-8',
      send: (socket: WebSocket) =>
        socket.send(Buffer.from('{"action":"sendMessage","room":"atk-lobby","message":"\xff\xfe"}', 'latin1'), {
          binary: false,
        }),
      closeCode: 1007,
    },
    {
      name: 'a binary frame',
      send: (socket: WebSocket) =>
        socket.send(Buffer.from('{"action":"sendMessage","room":"atk-lobby","message":"bin"}'), { binary: true }),
      closeCode: 1003,
    },
  ])('closes on $name with $closeCode, stores nothing and forgets the connection', async ({ send, closeCode }) => {
    const client = await connectAs('atk-closer');
    expect(await connectionRecord(client.connectionId)).toBeDefined();
    const before = await messageCount();
    send(client.socket);
    await expect.poll(() => client.closeCode, { timeout: 10_000 }).toBe(closeCode);
    await stack.idle();
    expect(await messageCount()).toBe(before);
    await expect.poll(() => connectionRecord(client.connectionId), { timeout: 10_000 }).toBeUndefined();
  });
});

describe('a flood', () => {
  it('gets rate_limited past the budget, only allowed messages are stored, and the connection stays', async () => {
    const flooder = await connectAs('atk-flooder', 'atk-flood');
    const before = await partition('atk-flood');
    for (let index = 0; index < 40; index++) {
      flooder.send({
        action: 'sendMessage',
        room: 'atk-flood',
        message: `spam ${index}`,
        messageId: `atk-flood-${index}`,
      });
    }
    const isReply = (frame: Frame) =>
      (frame.type === 'ack' || frame.type === 'error') && String(frame.messageId).startsWith('atk-flood-');
    await expect.poll(() => flooder.frames.filter(isReply).length, { timeout: 30_000 }).toBe(40);
    const replies = flooder.frames.filter(isReply);
    const accepted = replies.filter((reply) => reply.type === 'ack');
    const limited = replies.filter((reply) => reply.type === 'error' && reply.code === 'rate_limited');
    expect(limited.length).toBeGreaterThan(0);
    expect(accepted.length + limited.length).toBe(40);
    const stored = (await partition('atk-flood')).length - before.length;
    expect(stored).toBe(accepted.length);
    const storedIds = new Set((await partition('atk-flood')).map((item) => item.messageId?.S));
    for (const reply of limited) expect(storedIds.has(String(reply.messageId))).toBe(false);
    expect(flooder.closed).toBe(false);
  });
});

describe('the @connections management API is out of clients’ reach', () => {
  it('cannot be driven through the socket: management-shaped frames get an error frame and nothing else', async () => {
    const victim = await connectAs('atk-victim');
    const attacker = await connectAs('atk-puppeteer');
    const target = victim.connectionId;
    const attempts: Array<[Record<string, unknown> | string, string]> = [
      [{ action: 'postToConnection', connectionId: target, data: 'pwned' }, 'unknown_action'],
      [{ action: '@connections', method: 'POST', connectionId: target, data: 'pwned' }, 'unknown_action'],
      [{ action: 'deleteConnection', connectionId: target }, 'unknown_action'],
      [{ action: '$disconnect', connectionId: target }, 'unknown_action'],
      [{ action: '$connect', userId: 'atk-victim' }, 'unknown_action'],
      [`POST /@connections/${target} HTTP/1.1\r\nContent-Length: 5\r\n\r\npwned`, 'invalid_json'],
    ];
    for (const [frame, code] of attempts) expect(await errorCode(attacker, frame)).toBe(code);
    await stack.idle();
    expect(victim.frames.some((frame) => JSON.stringify(frame).includes('pwned'))).toBe(false);
    expect(victim.closed).toBe(false);
    expect((await connectionRecord(target))?.userId?.S).toBe('atk-victim');
    expect(stack.webSocket.connectionIds()).toContain(target);
  });

  it('listens on loopback only, so nothing off this machine reaches it (nor the REST API)', async () => {
    for (const url of [stack.urls.webSocket, stack.urls.management, stack.urls.rest, issuer.url]) {
      expect(new URL(url).hostname).toBe('127.0.0.1');
    }
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address !== undefined && !address.internal && !address.address.startsWith('fe80:'))
      .map((address) => address?.address as string);
    if (external.length === 0) {
      console.log('no non-loopback interface on this machine: the off-machine connection check has nothing to try');
    }
    const ports = [stack.webSocket.port, Number(new URL(stack.urls.rest).port), Number(new URL(issuer.url).port)];
    for (const host of external) {
      for (const port of ports) {
        expect(await tcpOutcome(host, port), `${host}:${port}`).toBe('ECONNREFUSED');
      }
    }
    // The control: the same ports do answer on loopback.
    for (const port of ports) expect(await tcpOutcome('127.0.0.1', port)).toBe('connected');
  });

  it('in AWS, only fan-out functions hold execute-api:ManageConnections, on their own API’s POST @connections', async () => {
    const [root, api, workflows] = await Promise.all(
      ['template.yaml', 'api/template.yaml', 'workflows/template.yaml'].map((file) =>
        loadCfnTemplate(resolve(repoRoot, file)),
      ),
    );
    if (!root || !api || !workflows) throw new Error('templates did not load');
    const grants = [...manageConnectionGrants(api, 'api'), ...manageConnectionGrants(workflows, 'workflows')];
    expect(grants.map((grant) => grant.holder).sort()).toEqual([
      // sendMessage's direct path: see the exception below.
      'api.WebSocketActionsFunction',
      'workflows.MetricsStreamFunction',
      'workflows.PostToConnectionsFunction',
      'workflows.SessionStartFunction',
    ]);
    for (const grant of grants) {
      expect(grant.type, grant.holder).toBe('AWS::Serverless::Function');
      // Inside the api template the API is the WebSocketApi resource itself.
      const ownApi = grant.holder.startsWith('api.')
        ? // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a template literal.
          OWN_API_POST_CONNECTIONS.replace('${WebSocketApiId}', '${WebSocketApi}')
        : OWN_API_POST_CONNECTIONS;
      expect(grant.resources, grant.holder).toEqual([{ 'Fn::Sub': ownApi }]);
      if (grant.holder.startsWith('api.')) continue;
      // No API invokes a holder: its triggers are EventBridge rules, streams or the state machine.
      const events = Object.values(
        (workflows.Resources[grant.holder.split('.')[1] ?? '']?.Properties?.Events ?? {}) as Record<
          string,
          { Type: string }
        >,
      );
      for (const event of events) expect(['EventBridgeRule', 'DynamoDB', 'SQS']).toContain(event.Type);
    }
    // WebSocketApiId is the stack's own API, not a parameter an operator could point elsewhere.
    expect(root.Resources.Workflows?.Properties?.Parameters).toMatchObject({
      WebSocketApiId: { 'Fn::GetAtt': ['Api', 'Outputs.WebSocketApiId'] },
    });
    expect(api.Outputs?.WebSocketApiId?.Value).toEqual({ Ref: 'WebSocketApi' });

    // Every function an API invokes is a client's reach: none of them may hold the permission, except
    // WebSocketActionsFunction for sendMessage's direct path. It posts only the message it just stored,
    // only to connections it read from Subscriptions for the message's own topics (the room, or the DM's
    // two user topics): the connections the state machine would post to, never an id from a frame.
    const apiFunctions = Object.entries(api.Resources)
      .filter(([id, resource]) => resource.Type === 'AWS::Serverless::Function' && id !== 'WebSocketActionsFunction')
      .map(([logicalId]) => `api.${logicalId}`);
    expect(apiFunctions.length).toBeGreaterThan(0);
    for (const fn of apiFunctions) expect(grants.map((grant) => grant.holder)).not.toContain(fn);

    // The only unauthenticated routes: the HTTP health check; the WebSocket authorizes $connect.
    const openHttpRoutes = Object.values(api.Resources.RestApiFunction?.Properties?.Events ?? {})
      .map((event) => event as { Properties: { Method: string; Path: string; Auth?: { Authorizer?: string } } })
      .filter((event) => event.Properties.Auth?.Authorizer === 'NONE')
      .map((event) => `${event.Properties.Method} ${event.Properties.Path}`);
    expect(openHttpRoutes).toEqual(['GET /health']);
    expect(api.Resources.ConnectRoute?.Properties).toMatchObject({
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: 'WebSocketAuthorizer' },
    });
  });
});

// ------------------------------------------------------------------------------------------ helpers

/** The `alg: none` attack: the same claims, a header that says unsigned, no signature. */
function unsigned(token: string): string {
  const [, payload] = token.split('.');
  return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
}

/** A validly signed token with some claims rewritten after signing. */
function withClaims(token: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  const original = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  const rewritten = Buffer.from(JSON.stringify({ ...original, ...claims })).toString('base64url');
  return `${header}.${rewritten}.${signature}`;
}

async function conversationSummary(userId: string, conversationId: string): Promise<Item | undefined> {
  const items = await scan('ConversationsTable', { attribute: 'userId', value: userId });
  return items.find((item) => item.conversationId?.S === conversationId && item.sk?.S?.startsWith('conv#'));
}

function tcpOutcome(host: string, port: number): Promise<string> {
  return new Promise((resolvePromise) => {
    const socket = connectTcp({ host, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolvePromise('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolvePromise(error.code ?? error.message));
  });
}

interface Grant {
  holder: string;
  type: string;
  resources: unknown[];
}

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** Allow statements granting ManageConnections (or a wildcard covering it), by the resource that holds them. */
function manageConnectionGrants(template: CfnTemplate, name: string): Grant[] {
  const grants: Grant[] = [];
  const covers = (action: unknown) =>
    typeof action === 'string' &&
    ['*', 'execute-api:*', 'execute-api:ManageConnections', 'execute-api:Manage*'].includes(action);
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    const documents: unknown[] = [];
    if (resource.Type === 'AWS::Serverless::Function' || resource.Type === 'AWS::Serverless::StateMachine') {
      for (const policy of asArray(props.Policies)) {
        // Managed policies by name would hide what they grant: none that touches API Gateway.
        if (typeof policy === 'string') expect(policy).not.toMatch(/APIGateway|Administrator|PowerUser/i);
        else documents.push(policy);
      }
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of asArray(props.Policies))
        documents.push((policy as { PolicyDocument?: unknown }).PolicyDocument);
      // AmazonAPIGatewayPushToCloudWatchLogs (API Gateway's own logging role) grants CloudWatch Logs writes only.
      for (const arn of asArray(props.ManagedPolicyArns))
        expect(JSON.stringify(arn)).not.toMatch(/APIGateway(?!PushToCloudWatchLogs)|Administrator/i);
    }
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      documents.push(props.PolicyDocument);
    }
    for (const document of documents) {
      for (const statement of asArray((document as { Statement?: unknown } | undefined)?.Statement)) {
        const { Effect, Action, Resource } = statement as { Effect?: string; Action?: unknown; Resource?: unknown };
        if (Effect === 'Allow' && asArray(Action).some(covers)) {
          grants.push({ holder: `${name}.${logicalId}`, type: resource.Type, resources: asArray(Resource) });
        }
      }
    }
  }
  return grants;
}

describe('typing and read positions', () => {
  const readPosition = async (userId: string, room: string) =>
    (
      await stack.dynamoDb.client.send(
        new GetItemCommand({
          TableName: stack.tableNames.MessagesTable,
          Key: { room: { S: `read#${userId}` }, sk: { S: room } },
          ConsistentRead: true,
        }),
      )
    ).Item;

  it('a typing flood is throttled to one fan-out per 3 s, answered with nothing, and stores nothing', async () => {
    const flooder = await connectAs('atk-typist', 'atk-typing');
    const victim = await connectAs('atk-typing-victim', 'atk-typing');
    const before = await partition('atk-typing');
    const started = Date.now();
    for (let index = 0; index < 40; index++) flooder.send({ action: 'typing', room: 'atk-typing' });
    await victim.waitFor((frame) => frame.type === 'typing');
    await stack.idle();
    const elapsed = Date.now() - started;
    const received = victim.frames.filter((frame) => frame.type === 'typing');
    // One per started 3 s window at most, however long the flood took to be processed.
    expect(received.length).toBeGreaterThanOrEqual(1);
    expect(received.length).toBeLessThanOrEqual(Math.ceil(elapsed / 3000) + 1);
    // Throttled and over-budget typing frames are dropped silently: no error frame, no ack.
    expect(flooder.frames.filter((frame) => frame.type === 'error' || frame.type === 'ack')).toEqual([]);
    expect(await partition('atk-typing')).toHaveLength(before.length);
    expect(await partition('seq#atk-typing')).toEqual([]);
    expect(flooder.closed).toBe(false);
  });

  it('refuses typing and markRead in a room the connection is not in, and changes nothing', async () => {
    const outsider = await connectAs('atk-outsider', 'atk-elsewhere');
    const member = await connectAs('atk-insider', 'atk-private');
    expect(await errorCode(outsider, { action: 'typing', room: 'atk-private' })).toBe('forbidden');
    expect(await errorCode(outsider, { action: 'markRead', room: 'atk-private', upToSeq: 5 })).toBe('forbidden');
    expect(await errorCode(outsider, { action: 'typing', conversationId: 'atk-not-mine' })).toBe('forbidden');
    await stack.idle();
    expect(member.frames.filter((frame) => frame.type === 'typing')).toEqual([]);
    expect(await readPosition('atk-outsider', 'atk-private')).toBeUndefined();
  });

  it('never makes a token connection a guest: a body user_id is refused, not taken', async () => {
    const alice = await connectAs('atk-not-a-guest', 'atk-guests');
    expect((await connectionRecord(alice.connectionId))?.guest).toBeUndefined();
    expect(
      await errorCode(alice, { action: 'sendMessage', room: 'atk-guests', user_id: 'atk-someone', message: 'hi' }),
    ).toBe('identity_mismatch');
    expect((await connectionRecord(alice.connectionId))?.userId?.S).toBe('atk-not-a-guest');
  });
});

describe('edits and reactions are only for those who may make them', () => {
  const EMOJIS = [...'😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗🤩🤔🤨😐😑'];
  let alice: TestClient;
  let mallory: TestClient;
  let roomMessageId: string;

  /** The message item as stored, and the side items (versions, someone's reactions) an attack could leave. */
  const storedMessage = async (room: string, messageId: string) =>
    (await partition(room)).find((item) => item.messageId?.S === messageId);
  const versionItems = (messageId: string) => partition(`versions#${messageId}`);
  const reactionItems = (userId: string, room: string) => partition(`reactions#${userId}#${room}`);

  beforeAll(async () => {
    alice = await connectAs('atk-editor', 'atk-edits');
    mallory = await connectAs('atk-mallory', 'atk-edits');
    const ack = ackFrameSchema.parse(
      await alice.request({ action: 'sendMessage', room: 'atk-edits', message: 'the meeting is at noon' }),
    );
    roomMessageId = ack.messageId;
  });

  it("refuses editing someone else's message, and stores nothing", async () => {
    const error = errorFrameSchema.parse(
      await mallory.request(
        { action: 'editMessage', messageId: roomMessageId, message: 'the meeting is cancelled' },
        'error',
      ),
    );
    expect(error).toMatchObject({ code: 'forbidden', message: 'only the sender can edit a message' });
    expect((await storedMessage('atk-edits', roomMessageId))?.message?.S).toBe('the meeting is at noon');
    expect(await versionItems(roomMessageId)).toEqual([]);
    await stack.idle();
    expect(alice.frames.some((frame) => frame.type === 'edited')).toBe(false);
  });

  it('refuses an oversize edit, and stores nothing', async () => {
    const error = errorFrameSchema.parse(
      await alice.request({ action: 'editMessage', messageId: roomMessageId, message: 'x'.repeat(4001) }, 'error'),
    );
    expect(error.code).toBe('validation_failed');
    expect(error.issues).toEqual([{ path: 'message', message: 'message must be at most 4000 characters' }]);
    expect((await storedMessage('atk-edits', roomMessageId))?.message?.S).toBe('the meeting is at noon');
    expect(await versionItems(roomMessageId)).toEqual([]);
  });

  it('refuses editing a deleted message or an unknown one, and stores nothing', async () => {
    const ack = ackFrameSchema.parse(
      await alice.request({ action: 'sendMessage', room: 'atk-edits', message: 'oops' }),
    );
    await alice.request({ action: 'deleteMessage', messageId: ack.messageId }, 'deleted');
    expect(await errorCode(alice, { action: 'editMessage', messageId: ack.messageId, message: 'revived' })).toBe(
      'conflict',
    );
    expect((await storedMessage('atk-edits', ack.messageId))?.message?.S).toBe('');
    expect(await versionItems(ack.messageId)).toEqual([]);
    expect(await errorCode(alice, { action: 'editMessage', messageId: 'no-such-id', message: 'hi' })).toBe('not_found');
    expect(await errorCode(alice, { action: 'react', messageId: ack.messageId, emoji: '👍' })).toBe('conflict');
    expect(await reactionItems('atk-editor', 'atk-edits')).toEqual([]);
  });

  it('refuses reacting to a message in a room the reactor is not in, and stores nothing', async () => {
    const outsider = await connectAs('atk-outsider', 'atk-elsewhere');
    const error = errorFrameSchema.parse(
      await outsider.request({ action: 'react', messageId: roomMessageId, emoji: '💩' }, 'error'),
    );
    expect(error).toMatchObject({ code: 'forbidden', message: 'join the room to react to its messages' });
    expect((await storedMessage('atk-edits', roomMessageId))?.reactions).toBeUndefined();
    expect(await reactionItems('atk-outsider', 'atk-edits')).toEqual([]);
    await stack.idle();
    expect(alice.frames.some((frame) => frame.type === 'reactions')).toBe(false);
  });

  it('refuses what is not one emoji', async () => {
    for (const emoji of ['a', '👍👍', '1', '<script>', '👍 ', '', '🏳️‍🌈'.repeat(3)]) {
      expect(await errorCode(mallory, { action: 'react', messageId: roomMessageId, emoji }), emoji).toBe(
        'validation_failed',
      );
    }
    expect(await reactionItems('atk-mallory', 'atk-edits')).toEqual([]);
  });

  it('caps an emoji flood: 10 per user on a message, 20 different on a message, with a clear error', async () => {
    const flooders = [
      mallory,
      await connectAs('atk-flood-2', 'atk-edits'),
      await connectAs('atk-flood-3', 'atk-edits'),
    ];
    const replies = async (client: TestClient, emojis: string[]) => {
      const frames: Frame[] = [];
      for (const emoji of emojis) {
        const before = client.frames.length;
        client.send({ action: 'react', messageId: roomMessageId, emoji });
        frames.push(
          await client.waitFor(
            (frame) =>
              client.frames.indexOf(frame) >= before &&
              (frame.type === 'error' || (frame.type === 'reactions' && frame.emoji === emoji)),
          ),
        );
      }
      return frames;
    };
    // One user: the eleventh emoji on one message is refused.
    const first = await replies(flooders[0] as TestClient, EMOJIS.slice(0, 11));
    expect(first.slice(0, 10).every((frame) => frame.type === 'reactions')).toBe(true);
    expect(first[10]).toMatchObject({
      type: 'error',
      code: 'limit_exceeded',
      message: 'you can have at most 10 reactions on one message',
    });
    // Others bring the message to 20 different emojis; the twenty-first is refused, repeats still count.
    await replies(flooders[1] as TestClient, EMOJIS.slice(10, 20));
    const [refused, repeat] = await replies(flooders[2] as TestClient, [EMOJIS[20] as string, EMOJIS[0] as string]);
    expect(refused).toMatchObject({
      type: 'error',
      code: 'limit_exceeded',
      message: 'a message can carry at most 20 different emojis',
    });
    expect(repeat).toMatchObject({ type: 'reactions', reacted: true });

    const counts = (await storedMessage('atk-edits', roomMessageId))?.reactions?.M ?? {};
    expect(Object.keys(counts).sort()).toEqual(EMOJIS.slice(0, 20).sort());
    expect(counts[EMOJIS[0] as string]).toEqual({ N: '2' });
    const [malloryItem] = await reactionItems('atk-mallory', 'atk-edits');
    expect(malloryItem?.emojis?.SS).toHaveLength(10);
    const [thirdItem] = await reactionItems('atk-flood-3', 'atk-edits');
    expect(thirdItem?.emojis?.SS).toEqual([EMOJIS[0]]);
  });

  it("keeps a direct message's edits, reactions and versions to its two parties", async () => {
    const bob = await connectAs('atk-dm-bob');
    const ack = ackFrameSchema.parse(
      await alice.request({ action: 'sendMessage', recipientId: 'atk-dm-bob', content: SECRET }),
    );
    await bob.waitFor((frame) => JSON.stringify(frame).includes(SECRET));
    const room = `dm#${ack.conversationId}`;
    expect(await errorCode(mallory, { action: 'react', messageId: ack.messageId, emoji: '👀' })).toBe('forbidden');
    expect(await errorCode(mallory, { action: 'editMessage', messageId: ack.messageId, message: 'x' })).toBe(
      'forbidden',
    );
    expect(await errorCode(bob, { action: 'editMessage', messageId: ack.messageId, message: 'x' })).toBe('forbidden');
    expect((await storedMessage(room, ack.messageId))?.reactions).toBeUndefined();
    expect(await reactionItems('atk-mallory', room)).toEqual([]);
    expect(await versionItems(ack.messageId)).toEqual([]);

    const outsider = await rest(`/messages/${ack.messageId}/versions`, issuer.mint({ sub: 'atk-mallory' }));
    expect(outsider.status).toBe(403);
    expect(outsider.text).not.toContain(SECRET);
    expect((await rest(`/messages/${ack.messageId}/versions`, issuer.mint({ sub: 'atk-dm-bob' }))).status).toBe(200);
    const anonymous = await rest(`/messages/${ack.messageId}/versions`);
    expect(anonymous.status).toBe(403);
    expect(JSON.parse(anonymous.text)).toEqual({ message: 'Forbidden' });
    await stack.idle();
    expect(mentionsSecret(mallory.frames)).toBe(false);
  });
});

describe('a private room stays closed to outsiders with valid tokens', () => {
  const refusal = async (client: TestClient, frame: Record<string, unknown>) => {
    const { code, message } = errorFrameSchema.parse(await client.request(frame, 'error'));
    return { code, message };
  };
  const NOT_FOUND = { code: 'not_found', message: 'room not found' };
  const subscribersOf = async (room: string) =>
    (
      (
        await stack.dynamoDb.client.send(
          new QueryCommand({
            TableName: stack.tableNames.SubscriptionsTable,
            KeyConditionExpression: 'topic = :topic',
            ExpressionAttributeValues: { ':topic': { S: `room#${room}` } },
            ConsistentRead: true,
          }),
        )
      ).Items ?? []
    ).map((item) => item.userId?.S);

  it('refuses an outsider reading, joining or posting (even as the owner), stores nothing, and keeps the connection', async () => {
    const alice = await connectAs('atk-pv-alice');
    const created = await alice.request({ action: 'createRoom', visibility: 'private', title: 'plans' }, 'roomCreated');
    const room = String(created.room);
    await alice.request({ action: 'joinRoom', room }, 'joined');
    ackFrameSchema.parse(await alice.request({ action: 'sendMessage', room, message: SECRET }));
    const before = await partition(room);

    const mallory = await TestClient.join(stack, {
      token: issuer.mint({ sub: 'atk-pv-mallory' }),
      room: `atk-lobby,${room}`,
    });
    clients.push(mallory);
    expect(mallory.frames.find((frame) => frame.type === 'welcome')?.rooms).toEqual(['atk-lobby']);
    expect(await refusal(mallory, { action: 'joinRoom', room })).toEqual(NOT_FOUND);
    expect(await refusal(mallory, { action: 'sendMessage', room, message: 'let me in' })).toEqual(NOT_FOUND);
    expect(
      await errorCode(mallory, { action: 'sendMessage', room, message: 'as alice', user_id: 'atk-pv-alice' }),
    ).toBe('identity_mismatch');
    expect(await refusal(mallory, { action: 'resume', room, lastTimestamp: '2020-01-01T00:00:00.000Z' })).toEqual(
      NOT_FOUND,
    );
    expect(await refusal(mallory, { action: 'inviteMember', room, userId: 'atk-pv-mallory' })).toEqual(NOT_FOUND);
    expect(await refusal(mallory, { action: 'setRole', room, userId: 'atk-pv-mallory', role: 'owner' })).toEqual(
      NOT_FOUND,
    );
    const token = issuer.mint({ sub: 'atk-pv-mallory' });
    for (const path of [`/rooms/${room}/messages`, `/rooms/${room}/presence`, `/rooms/${room}/unread`]) {
      const answer = await rest(path, token);
      expect({ path, status: answer.status, body: JSON.parse(answer.text) }).toEqual({
        path,
        status: 404,
        body: { error: 'not_found', message: 'room not found' },
      });
    }
    expect(await partition(room)).toHaveLength(before.length);
    expect(await subscribersOf(room)).toEqual(['atk-pv-alice']);
    expect((await mallory.request({ action: 'ping' }, 'pong')).type).toBe('pong');
    await stack.idle();
    expect(mentionsSecret(mallory.frames)).toBe(false);
  });

  it('keeps a banned member out when they reconnect, and a member cannot raise their own role', async () => {
    const alice = await connectAs('atk-rb-alice');
    const room = String((await alice.request({ action: 'createRoom', visibility: 'private' }, 'roomCreated')).room);
    await alice.request({ action: 'inviteMember', room, userId: 'atk-rb-bob' }, 'roomMember');
    await alice.request({ action: 'inviteMember', room, userId: 'atk-rb-carol' }, 'roomMember');

    const bob = await connectAs('atk-rb-bob', room);
    expect(await refusal(bob, { action: 'setRole', room, userId: 'atk-rb-bob', role: 'owner' })).toEqual({
      code: 'forbidden',
      message: 'nobody can change their own role',
    });
    expect(await refusal(bob, { action: 'banMember', room, userId: 'atk-rb-alice' })).toEqual({
      code: 'forbidden',
      message: 'only owners and moderators can remove users',
    });

    const carol = await connectAs('atk-rb-carol', room);
    await alice.request({ action: 'banMember', room, userId: 'atk-rb-carol', durationSeconds: 600 }, 'roomMember');
    await carol.waitFor((frame) => frame.type === 'removed');
    await carol.close();
    const back = await TestClient.join(stack, { token: issuer.mint({ sub: 'atk-rb-carol' }), room });
    clients.push(back);
    expect(back.frames.find((frame) => frame.type === 'welcome')?.rooms).toEqual([]);
    expect(await refusal(back, { action: 'joinRoom', room })).toEqual(NOT_FOUND);
    expect(await refusal(back, { action: 'sendMessage', room, message: 'back again' })).toEqual(NOT_FOUND);
    expect((await subscribersOf(room)).sort()).toEqual(['atk-rb-bob']);
    expect((await back.request({ action: 'ping' }, 'pong')).type).toBe('pong');
  });
});
