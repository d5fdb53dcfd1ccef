import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebSocketAuthorizerEvent, WebSocketEvent } from '#api/websocket/event';
import {
  type LocalWebSocketGateway,
  type LocalWebSocketGatewayOptions,
  startLocalWebSocketGateway,
} from '../../../../local/gateway/websocket-gateway.js';
import { connectClient, expectHandshakeRejected, type TestClient } from './ws-test-client.js';

type Handler = (event: unknown) => unknown;

/** Fake Lambda functions by name, recording every event they receive. */
function fakeLambdas(handlers: Record<string, Handler>) {
  const calls: Array<{ functionName: string; event: unknown }> = [];
  const invoke = async (functionName: string, event: unknown) => {
    calls.push({ functionName, event });
    const handler = handlers[functionName];
    if (!handler) throw new Error(`no function ${functionName}`);
    return handler(event);
  };
  const eventsOf = <T>(functionName: string) =>
    calls.filter((c) => c.functionName === functionName).map((c) => c.event as T);
  return { calls, invoke, eventsOf };
}

const ok = () => ({ statusCode: 200 });

const running: LocalWebSocketGateway[] = [];
const clients: TestClient[] = [];
const sdkClients: ApiGatewayManagementApiClient[] = [];

async function startGateway(
  overrides: Partial<LocalWebSocketGatewayOptions> & Pick<LocalWebSocketGatewayOptions, 'invoke'>,
): Promise<LocalWebSocketGateway> {
  const gateway = await startLocalWebSocketGateway({
    port: 0,
    stage: 'prod',
    apiId: 'abcdef1234',
    routeSelectionExpression: '$request.body.action',
    routes: {
      $connect: { functionName: 'connect', twoWay: false },
      $disconnect: { functionName: 'disconnect', twoWay: false },
      $default: { functionName: 'default', twoWay: false },
      sendMessage: { functionName: 'sendMessage', twoWay: false },
      echo: { functionName: 'echo', twoWay: true },
    },
    ...overrides,
  });
  running.push(gateway);
  return gateway;
}

async function connect(url: string, options?: Parameters<typeof connectClient>[1]): Promise<TestClient> {
  const client = await connectClient(url, options);
  clients.push(client);
  return client;
}

function managementClient(endpoint: string): ApiGatewayManagementApiClient {
  const client = new ApiGatewayManagementApiClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  sdkClients.push(client);
  return client;
}

async function errorNameOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as Error).name;
  }
  return 'no error';
}

const CLF_TIME = /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/;
const AWS_ID = /^[A-Za-z0-9]{15}=$/;

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  for (const client of sdkClients.splice(0)) client.destroy();
  await Promise.all(running.splice(0).map((gateway) => gateway.close()));
});

describe('local WebSocket gateway: $connect', () => {
  it('invokes $connect with the documented event shape before the connection opens', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });

    const client = await connect(`${gateway.url}/prod?token=abc&room=a&room=b`, {
      headers: { 'X-Custom': 'hello', 'User-Agent': 'switchboard-test' },
    });

    const [event] = lambdas.eventsOf<WebSocketEvent>('connect');
    expect(event).toBeDefined();
    if (!event) return;
    expect(event.isBase64Encoded).toBe(false);
    expect(event.headers?.['X-Custom']).toBe('hello');
    expect(event.headers?.['X-Forwarded-For']).toBe('127.0.0.1');
    expect(event.multiValueHeaders?.['X-Custom']).toEqual(['hello']);
    expect(event.queryStringParameters).toEqual({ token: 'abc', room: 'b' });
    expect(event.multiValueQueryStringParameters).toEqual({ token: ['abc'], room: ['a', 'b'] });
    const ctx = event.requestContext;
    expect(ctx).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      messageDirection: 'IN',
      stage: 'prod',
      apiId: 'abcdef1234',
      domainName: `127.0.0.1:${gateway.port}`,
      identity: { sourceIp: '127.0.0.1', userAgent: 'switchboard-test' },
    });
    expect(ctx.connectionId).toMatch(AWS_ID);
    expect(ctx.requestId).toMatch(AWS_ID);
    expect(ctx.extendedRequestId).toBe(ctx.requestId);
    expect(ctx.requestTime).toMatch(CLF_TIME);
    expect(typeof ctx.connectedAt).toBe('number');
    expect(ctx.requestTimeEpoch).toBeGreaterThanOrEqual(ctx.connectedAt);
    expect(ctx.authorizer).toBeUndefined();
    expect(gateway.connectionIds()).toEqual([ctx.connectionId]);
    expect(client.socket.readyState).toBe(client.socket.OPEN);
  });

  it('gives each connection its own id', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    await connect(gateway.url);
    await connect(gateway.url);
    const ids = gateway.connectionIds();
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });

  it('rejects the handshake with the status $connect returned, and the connection never exists', async () => {
    const lambdas = fakeLambdas({ connect: () => ({ statusCode: 403, body: 'nope' }), disconnect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const sdk = managementClient(gateway.managementUrl);

    expect(await expectHandshakeRejected(gateway.url)).toBe(403);

    const [event] = lambdas.eventsOf<WebSocketEvent>('connect');
    const connectionId = event?.requestContext.connectionId ?? '';
    expect(gateway.connectionIds()).toEqual([]);
    expect(await errorNameOf(sdk.send(new GetConnectionCommand({ ConnectionId: connectionId })))).toBe('GoneException');
    expect(lambdas.eventsOf('disconnect')).toEqual([]);
    expect(gateway.stats().connectionsRejected).toBe(1);
  });

  it('rejects the handshake with 502 when $connect throws', async () => {
    const lambdas = fakeLambdas({
      connect: () => {
        throw new Error('boom');
      },
      disconnect: ok,
    });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    expect(await expectHandshakeRejected(gateway.url)).toBe(502);
    expect(gateway.connectionIds()).toEqual([]);
    expect(lambdas.eventsOf('disconnect')).toEqual([]);
  });

  it('answers 410 GoneException to a post made from inside $connect', async () => {
    let gateway: LocalWebSocketGateway | undefined;
    let postOutcome = '';
    const lambdas = fakeLambdas({
      connect: async (event) => {
        const { connectionId } = (event as WebSocketEvent).requestContext;
        const sdk = managementClient(gateway?.managementUrl ?? '');
        postOutcome = await errorNameOf(
          sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'hi' })),
        );
        return { statusCode: 200 };
      },
      disconnect: ok,
    });
    gateway = await startGateway({ invoke: lambdas.invoke });
    await connect(gateway.url);
    expect(postOutcome).toBe('GoneException');
  });

  it('selects the subprotocol $connect returns in Sec-WebSocket-Protocol', async () => {
    const lambdas = fakeLambdas({
      connect: () => ({ statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'switchboard.v1' } }),
      disconnect: ok,
    });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const client = await connect(gateway.url, { protocols: ['other', 'switchboard.v1'] });
    expect(client.socket.protocol).toBe('switchboard.v1');
  });

  it('refuses upgrades on paths other than / and /{stage}, including @connections', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    expect(await expectHandshakeRejected(`${gateway.url}/prod/@connections/abc`)).toBe(403);
    expect(await expectHandshakeRejected(`${gateway.url}/@connections/abc`)).toBe(403);
    expect(await expectHandshakeRejected(`${gateway.url}/staging`)).toBe(403);
    expect(lambdas.eventsOf('connect')).toEqual([]);
  });
});

describe('local WebSocket gateway: authorizer', () => {
  const authorizer = { functionName: 'authorize', identitySource: ['route.request.querystring.token'] };

  function policy(effect: 'Allow' | 'Deny', resource: string) {
    return {
      principalId: 'user-1',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
      },
      context: { userId: 'u1', count: 3, admin: true },
    };
  }

  it('passes the stringified context to $connect and every later route of the connection', async () => {
    const lambdas = fakeLambdas({
      authorize: (event) => policy('Allow', (event as WebSocketAuthorizerEvent).methodArn),
      connect: ok,
      disconnect: ok,
      sendMessage: ok,
    });
    const gateway = await startGateway({ invoke: lambdas.invoke, authorizer });
    const client = await connect(`${gateway.url}/prod?token=secret`);
    client.socket.send(JSON.stringify({ action: 'sendMessage' }));
    await vi.waitFor(() => expect(lambdas.eventsOf('sendMessage')).toHaveLength(1));

    const [authEvent] = lambdas.eventsOf<WebSocketAuthorizerEvent>('authorize');
    expect(authEvent).toMatchObject({
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:us-east-1:000000000000:abcdef1234/prod/$connect',
      queryStringParameters: { token: 'secret' },
      stageVariables: {},
      requestContext: { routeKey: '$connect', eventType: 'CONNECT', stage: 'prod' },
    });
    const expected = { userId: 'u1', count: '3', admin: 'true', principalId: 'user-1' };
    const [connectEvent] = lambdas.eventsOf<WebSocketEvent>('connect');
    expect(connectEvent?.requestContext.authorizer).toMatchObject(expected);
    expect(typeof connectEvent?.requestContext.authorizer?.integrationLatency).toBe('number');
    const [messageEvent] = lambdas.eventsOf<WebSocketEvent>('sendMessage');
    expect(messageEvent?.requestContext.authorizer).toMatchObject(expected);
  });

  it('answers 403 to a Deny policy without invoking $connect', async () => {
    const lambdas = fakeLambdas({
      authorize: (event) => policy('Deny', (event as WebSocketAuthorizerEvent).methodArn),
      connect: ok,
    });
    const gateway = await startGateway({ invoke: lambdas.invoke, authorizer });
    expect(await expectHandshakeRejected(`${gateway.url}?token=secret`)).toBe(403);
    expect(lambdas.eventsOf('connect')).toEqual([]);
    expect(gateway.connectionIds()).toEqual([]);
  });

  it('answers 403 when the Allow policy does not cover $connect', async () => {
    const lambdas = fakeLambdas({ authorize: () => policy('Allow', 'arn:aws:execute-api:*:*:other/*'), connect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke, authorizer });
    expect(await expectHandshakeRejected(`${gateway.url}?token=secret`)).toBe(403);
  });

  it('answers 401 without invoking the authorizer when the identity source is missing', async () => {
    const lambdas = fakeLambdas({ authorize: () => policy('Allow', '*'), connect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke, authorizer });
    expect(await expectHandshakeRejected(gateway.url)).toBe(401);
    expect(lambdas.calls).toEqual([]);
  });

  it('answers 401 when the authorizer throws Unauthorized', async () => {
    const lambdas = fakeLambdas({
      authorize: () => {
        throw new Error('Unauthorized');
      },
      connect: ok,
    });
    const gateway = await startGateway({ invoke: lambdas.invoke, authorizer });
    expect(await expectHandshakeRejected(`${gateway.url}?token=bad`)).toBe(401);
    expect(lambdas.eventsOf('connect')).toEqual([]);
  });
});

describe('local WebSocket gateway: messages', () => {
  it('routes by $request.body.action and falls back to $default for non-JSON and unknown actions', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok, default: ok, sendMessage: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const client = await connect(gateway.url);

    const sent = JSON.stringify({ action: 'sendMessage', text: 'hi' });
    client.socket.send(sent);
    client.socket.send('not json');
    client.socket.send(JSON.stringify({ action: 'nope' }));
    client.socket.send(JSON.stringify({ action: '$connect' }));
    await vi.waitFor(() => expect(lambdas.eventsOf('default')).toHaveLength(3));

    const [message] = lambdas.eventsOf<WebSocketEvent>('sendMessage');
    expect(message?.body).toBe(sent);
    expect(message?.isBase64Encoded).toBe(false);
    expect(message?.requestContext).toMatchObject({
      routeKey: 'sendMessage',
      eventType: 'MESSAGE',
      messageDirection: 'IN',
      stage: 'prod',
      connectionId: gateway.connectionIds()[0],
    });
    expect(message?.requestContext.messageId).toMatch(AWS_ID);
    const defaults = lambdas.eventsOf<WebSocketEvent>('default');
    expect(defaults.map((e) => e.requestContext.routeKey)).toEqual(['$default', '$default', '$default']);
    expect(defaults.map((e) => e.body).sort()).toEqual(
      ['not json', JSON.stringify({ action: 'nope' }), JSON.stringify({ action: '$connect' })].sort(),
    );
  });

  it('sends the body of a two-way route back, and nothing for a one-way route', async () => {
    const lambdas = fakeLambdas({
      connect: ok,
      disconnect: ok,
      sendMessage: () => ({ statusCode: 200, body: 'one-way body must not be sent' }),
      echo: (event) => ({ statusCode: 200, body: `echo:${(event as WebSocketEvent).body}` }),
    });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const client = await connect(gateway.url);
    client.socket.send(JSON.stringify({ action: 'sendMessage' }));
    await vi.waitFor(() => expect(lambdas.eventsOf('sendMessage')).toHaveLength(1));
    client.socket.send(JSON.stringify({ action: 'echo' }));
    expect(await client.nextMessage()).toBe(`echo:${JSON.stringify({ action: 'echo' })}`);
  });

  it("sends API Gateway's Forbidden frame when no route matches and there is no $default", async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok });
    const gateway = await startGateway({
      invoke: lambdas.invoke,
      routes: { $connect: { functionName: 'connect', twoWay: false } },
    });
    const client = await connect(gateway.url);
    client.socket.send(JSON.stringify({ action: 'unknown' }));
    const frame = JSON.parse(await client.nextMessage());
    expect(frame).toEqual({
      message: 'Forbidden',
      connectionId: gateway.connectionIds()[0],
      requestId: expect.any(String),
    });
  });

  it("sends API Gateway's Internal server error frame when the integration throws", async () => {
    const lambdas = fakeLambdas({
      connect: ok,
      disconnect: ok,
      sendMessage: () => {
        throw new Error('handler crashed');
      },
    });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const client = await connect(gateway.url);
    client.socket.send(JSON.stringify({ action: 'sendMessage' }));
    const frame = JSON.parse(await client.nextMessage());
    const [event] = lambdas.eventsOf<WebSocketEvent>('sendMessage');
    expect(frame).toEqual({
      message: 'Internal server error',
      connectionId: gateway.connectionIds()[0],
      requestId: event?.requestContext.requestId,
    });
    expect(client.socket.readyState).toBe(client.socket.OPEN);
  });

  it('processes messages of one connection concurrently', async () => {
    let started = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let bothStarted: () => void = () => {};
    const bothHaveStarted = new Promise<void>((resolve) => {
      bothStarted = resolve;
    });
    const lambdas = fakeLambdas({
      connect: ok,
      disconnect: ok,
      echo: async (event) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        started += 1;
        if (started === 2) bothStarted();
        // A gateway that serialised messages would never start the second one; don't hang forever then.
        await Promise.race([bothHaveStarted, new Promise((resolve) => setTimeout(resolve, 2000))]);
        inFlight -= 1;
        return {
          statusCode: 200,
          body: `done ${(JSON.parse(String((event as WebSocketEvent).body)) as { n: number }).n}`,
        };
      },
    });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const client = await connect(gateway.url);
    client.socket.send(JSON.stringify({ action: 'echo', n: 1 }));
    client.socket.send(JSON.stringify({ action: 'echo', n: 2 }));
    const replies = [await client.nextMessage(), await client.nextMessage()];
    expect(replies.sort()).toEqual(['done 1', 'done 2']);
    expect(maxInFlight).toBe(2);
  });
});

describe('local WebSocket gateway: limits', () => {
  it('closes with 1009 when a single frame is over 32 KB', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok, default: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const client = await connect(gateway.url);
    client.socket.send('x'.repeat(40_000));
    expect((await client.closed).code).toBe(1009);
    await vi.waitFor(() => expect(lambdas.eventsOf('disconnect')).toHaveLength(1));
    const [event] = lambdas.eventsOf<WebSocketEvent>('disconnect');
    expect(event?.requestContext.disconnectStatusCode).toBe(1009);
    expect(lambdas.eventsOf('default')).toEqual([]);
  });

  it('accepts a 100 KB message sent as 32 KB frames', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok, default: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const client = await connect(gateway.url);
    const frame = 'y'.repeat(25_000);
    for (let i = 0; i < 4; i += 1) client.socket.send(frame, { fin: i === 3 });
    await vi.waitFor(() => expect(lambdas.eventsOf('default')).toHaveLength(1));
    expect(lambdas.eventsOf<WebSocketEvent>('default')[0]?.body).toHaveLength(100_000);
  });

  it('closes with 1009 when a fragmented message is over 128 KB', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok, default: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const client = await connect(gateway.url);
    const frame = 'z'.repeat(30_000);
    for (let i = 0; i < 5; i += 1) client.socket.send(frame, { fin: i === 4 });
    expect((await client.closed).code).toBe(1009);
    expect(lambdas.eventsOf('default')).toEqual([]);
  });

  it('closes with 1003 on a binary frame', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok, default: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const client = await connect(gateway.url);
    client.socket.send(Buffer.from([1, 2, 3]));
    expect((await client.closed).code).toBe(1003);
    expect(lambdas.eventsOf('default')).toEqual([]);
  });

  it('closes an idle connection with 1001 Going away and invokes $disconnect', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke, idleTimeoutMs: 150 });
    const client = await connect(gateway.url);
    const connectionId = gateway.connectionIds()[0];
    expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' });
    await vi.waitFor(() => expect(lambdas.eventsOf('disconnect')).toHaveLength(1));
    const [event] = lambdas.eventsOf<WebSocketEvent>('disconnect');
    expect(event?.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      connectionId,
      disconnectStatusCode: 1001,
      disconnectReason: 'Going away',
    });
    expect(gateway.connectionIds()).toEqual([]);
  });

  it('closes a connection at the maximum duration even when it is busy', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok, default: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke, maxConnectionMs: 300 });
    const client = await connect(gateway.url);
    const keepBusy = setInterval(() => client.socket.send('ping'), 50);
    try {
      expect((await client.closed).code).toBe(1001);
    } finally {
      clearInterval(keepBusy);
    }
  });
});

describe('local WebSocket gateway: $disconnect and close()', () => {
  it('invokes $disconnect once with the client close code, and the id is gone at once', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const sdk = managementClient(gateway.managementUrl);
    const client = await connect(gateway.url);
    const connectionId = gateway.connectionIds()[0] ?? '';
    client.socket.close(1000);
    await client.closed;

    expect(await errorNameOf(sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'x' })))).toBe(
      'GoneException',
    );
    await vi.waitFor(() => expect(lambdas.eventsOf('disconnect')).toHaveLength(1));
    const [event] = lambdas.eventsOf<WebSocketEvent>('disconnect');
    expect(event?.isBase64Encoded).toBe(false);
    expect(event?.headers?.Host).toBe(`127.0.0.1:${gateway.port}`);
    expect(event?.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      connectionId,
      disconnectStatusCode: 1000,
      disconnectReason: 'Connection Closed Normally',
    });
  });

  it('close() closes every connection with 1001 and invokes $disconnect for each', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const first = await connect(gateway.url);
    const second = await connect(gateway.url);
    const ids = gateway.connectionIds();

    await gateway.close();

    expect((await first.closed).code).toBe(1001);
    expect((await second.closed).code).toBe(1001);
    const disconnected = lambdas.eventsOf<WebSocketEvent>('disconnect').map((e) => e.requestContext.connectionId);
    expect(disconnected.sort()).toEqual([...ids].sort());
  });
});

describe('local WebSocket gateway: @connections API through the unmodified SDK', () => {
  it('posts, gets and deletes a connection', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const sdk = managementClient(gateway.managementUrl);
    const client = await connect(gateway.url, { headers: { 'User-Agent': 'agent/1.0' } });
    const connectionId = gateway.connectionIds()[0] ?? '';

    await sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: '{"hello":"world"}' }));
    expect(await client.nextMessage()).toBe('{"hello":"world"}');

    const info = await sdk.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(info.LastActiveAt).toBeInstanceOf(Date);
    expect(info.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'agent/1.0' });

    await sdk.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect((await client.closed).code).toBe(1000);
    await vi.waitFor(() => expect(lambdas.eventsOf('disconnect')).toHaveLength(1));
    const [event] = lambdas.eventsOf<WebSocketEvent>('disconnect');
    expect(event?.requestContext.disconnectStatusCode).toBe(1000);
    expect(await errorNameOf(sdk.send(new GetConnectionCommand({ ConnectionId: connectionId })))).toBe('GoneException');
    expect(gateway.stats()).toMatchObject({ postsAccepted: 1, gets: 2, deletes: 1 });
  });

  it('works with an endpoint that includes the stage', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const sdk = managementClient(`${gateway.managementUrl}/prod`);
    const client = await connect(`${gateway.url}/prod`);
    const connectionId = gateway.connectionIds()[0] ?? '';
    await sdk.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: new TextEncoder().encode('bytes') }),
    );
    expect(await client.nextMessage()).toBe('bytes');
  });

  it('raises GoneException for an unknown connection id', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const sdk = managementClient(gateway.managementUrl);
    const ConnectionId = 'AAAAAAAAAAAAAAA=';
    expect(await errorNameOf(sdk.send(new PostToConnectionCommand({ ConnectionId, Data: 'x' })))).toBe('GoneException');
    expect(await errorNameOf(sdk.send(new GetConnectionCommand({ ConnectionId })))).toBe('GoneException');
    expect(await errorNameOf(sdk.send(new DeleteConnectionCommand({ ConnectionId })))).toBe('GoneException');
    expect(gateway.stats().postsGone).toBe(1);
  });

  it('raises PayloadTooLargeException for a post over 128 KB', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const sdk = managementClient(gateway.managementUrl);
    await connect(gateway.url);
    const connectionId = gateway.connectionIds()[0] ?? '';
    const data = 'p'.repeat(128 * 1024 + 1);
    expect(await errorNameOf(sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data })))).toBe(
      'PayloadTooLargeException',
    );
  });

  it('answers plain HTTP requests outside @connections with 403', async () => {
    const lambdas = fakeLambdas({ connect: ok, disconnect: ok });
    const gateway = await startGateway({ invoke: lambdas.invoke });
    const response = await fetch(`${gateway.managementUrl}/prod`);
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
    expect(await response.json()).toEqual({ message: 'Forbidden' });
  });
});
