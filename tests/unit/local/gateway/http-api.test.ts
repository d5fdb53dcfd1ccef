import { afterEach, describe, expect, it } from 'vitest';
import {
  type HttpApiAuthorizerEvent,
  type HttpApiEvent,
  type LocalHttpApi,
  type LocalHttpApiOptions,
  startLocalHttpApi,
} from '../../../../local/gateway/http-api.js';

type Handler = (event: unknown) => unknown;

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

const running: LocalHttpApi[] = [];

async function startApi(
  overrides: Partial<LocalHttpApiOptions> & Pick<LocalHttpApiOptions, 'invoke'>,
): Promise<LocalHttpApi> {
  const api = await startLocalHttpApi({
    port: 0,
    apiId: 'httpapi123',
    routes: [
      { method: 'GET', path: '/rooms/{room}/messages', functionName: 'history', authorized: false },
      { method: 'GET', path: '/rooms/lobby/messages', functionName: 'lobby', authorized: false },
      { method: 'POST', path: '/rooms/{room}/messages', functionName: 'post', authorized: false },
      { method: 'ANY', path: '/{proxy+}', functionName: 'proxy', authorized: false },
    ],
    ...overrides,
  });
  running.push(api);
  return api;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((api) => api.close()));
});

describe('local HTTP API: events and routing', () => {
  it('sends a payload format 2.0 event with path parameters, query, headers and cookies', async () => {
    const lambdas = fakeLambdas({ history: () => ({ items: [1, 2] }) });
    const api = await startApi({ invoke: lambdas.invoke });

    const response = await fetch(`${api.url}/rooms/general/messages?limit=10&limit=20&from=x%20y`, {
      headers: { 'X-Trace': 'abc', Cookie: 'a=1; b=2', 'User-Agent': 'history-test' },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('apigw-requestid')).toMatch(/^[A-Za-z0-9]{15}=$/);
    expect(await response.json()).toEqual({ items: [1, 2] });
    const [event] = lambdas.eventsOf<HttpApiEvent>('history');
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /rooms/{room}/messages',
      rawPath: '/rooms/general/messages',
      rawQueryString: 'limit=10&limit=20&from=x%20y',
      cookies: ['a=1', 'b=2'],
      queryStringParameters: { limit: '10,20', from: 'x y' },
      pathParameters: { room: 'general' },
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'httpapi123',
        domainName: `127.0.0.1:${api.port}`,
        http: {
          method: 'GET',
          path: '/rooms/general/messages',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'history-test',
        },
        routeKey: 'GET /rooms/{room}/messages',
        stage: '$default',
      },
    });
    expect(event?.headers['x-trace']).toBe('abc');
    expect(event?.headers.cookie).toBeUndefined();
    expect(event?.body).toBeUndefined();
    expect(event?.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(typeof event?.requestContext.timeEpoch).toBe('number');
    expect(event?.requestContext.authorizer).toBeUndefined();
  });

  it('prefers the most specific route, with the greedy proxy last', async () => {
    const lambdas = fakeLambdas({ history: () => 'history', lobby: () => 'lobby', proxy: () => 'proxy' });
    const api = await startApi({ invoke: lambdas.invoke });

    expect(await (await fetch(`${api.url}/rooms/lobby/messages`)).text()).toBe('lobby');
    expect(await (await fetch(`${api.url}/rooms/other/messages`)).text()).toBe('history');
    expect(await (await fetch(`${api.url}/anything/else`, { method: 'DELETE' })).text()).toBe('proxy');
    const [proxyEvent] = lambdas.eventsOf<HttpApiEvent>('proxy');
    expect(proxyEvent?.routeKey).toBe('ANY /{proxy+}');
    expect(proxyEvent?.pathParameters).toEqual({ proxy: 'anything/else' });
  });

  it('answers 404 Not Found when no route matches', async () => {
    const lambdas = fakeLambdas({});
    const api = await startApi({
      invoke: lambdas.invoke,
      routes: [{ method: 'GET', path: '/rooms/{room}/messages', functionName: 'history', authorized: false }],
    });
    const response = await fetch(`${api.url}/rooms/general`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'Not Found' });
    const wrongMethod = await fetch(`${api.url}/rooms/general/messages`, { method: 'POST', body: '{}' });
    expect(wrongMethod.status).toBe(404);
    expect(lambdas.calls).toEqual([]);
  });

  it('passes the body and maps a structured response (status, headers, cookies)', async () => {
    const lambdas = fakeLambdas({
      post: () => ({
        statusCode: 201,
        headers: { 'Content-Type': 'application/json', 'X-Result': 'stored' },
        cookies: ['session=1; HttpOnly'],
        body: '{"ok":true}',
      }),
    });
    const api = await startApi({ invoke: lambdas.invoke });
    const response = await fetch(`${api.url}/rooms/general/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":"hi"}',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-result')).toBe('stored');
    expect(response.headers.get('set-cookie')).toBe('session=1; HttpOnly');
    expect(await response.json()).toEqual({ ok: true });
    const [event] = lambdas.eventsOf<HttpApiEvent>('post');
    expect(event?.body).toBe('{"text":"hi"}');
    expect(event?.isBase64Encoded).toBe(false);
  });

  it('base64-encodes a binary body', async () => {
    const lambdas = fakeLambdas({ post: () => ({ statusCode: 204 }) });
    const api = await startApi({ invoke: lambdas.invoke });
    const bytes = Buffer.from([0xff, 0x00, 0xfe]);
    const response = await fetch(`${api.url}/rooms/general/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(response.status).toBe(204);
    const [event] = lambdas.eventsOf<HttpApiEvent>('post');
    expect(event?.isBase64Encoded).toBe(true);
    expect(event?.body).toBe(bytes.toString('base64'));
  });

  it('answers 500 Internal Server Error when the function throws or returns a malformed response', async () => {
    const lambdas = fakeLambdas({
      history: () => {
        throw new Error('boom');
      },
      post: () => ({ statusCode: 'two hundred' }),
    });
    const api = await startApi({ invoke: lambdas.invoke });
    const thrown = await fetch(`${api.url}/rooms/general/messages`);
    expect(thrown.status).toBe(500);
    expect(await thrown.json()).toEqual({ message: 'Internal Server Error' });
    const malformed = await fetch(`${api.url}/rooms/general/messages`, { method: 'POST', body: 'x' });
    expect(malformed.status).toBe(500);
    expect(api.stats().integrationErrors).toBe(2);
  });
});

describe('local HTTP API: CORS', () => {
  const cors = {
    allowOrigins: ['http://localhost:5173'],
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['authorization', 'content-type'],
    maxAge: 300,
  };

  it('answers a preflight itself, without invoking any function', async () => {
    const lambdas = fakeLambdas({});
    const api = await startApi({ invoke: lambdas.invoke, cors });
    const response = await fetch(`${api.url}/rooms/general/messages`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET,POST');
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    expect(response.headers.get('access-control-max-age')).toBe('300');
    expect(lambdas.calls).toEqual([]);
  });

  it('gives an origin outside the configuration no CORS headers', async () => {
    const lambdas = fakeLambdas({});
    const api = await startApi({ invoke: lambdas.invoke, cors });
    const response = await fetch(`${api.url}/rooms/general/messages`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("adds its CORS headers to integration responses and drops the backend's", async () => {
    const lambdas = fakeLambdas({
      history: () => ({ statusCode: 200, headers: { 'Access-Control-Allow-Origin': '*' }, body: '[]' }),
    });
    const api = await startApi({ invoke: lambdas.invoke, cors });
    const response = await fetch(`${api.url}/rooms/general/messages`, { headers: { Origin: 'http://localhost:5173' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    const other = await fetch(`${api.url}/rooms/general/messages`, { headers: { Origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('local HTTP API: Lambda authorizer', () => {
  const authorizer = { functionName: 'authorize', identitySource: ['$request.header.Authorization'] };
  const routes = [
    { method: 'GET', path: '/rooms/{room}/messages', functionName: 'history', authorized: true },
    { method: 'GET', path: '/health', functionName: 'health', authorized: false },
  ];

  it('puts the simple response context in requestContext.authorizer.lambda', async () => {
    const lambdas = fakeLambdas({
      authorize: () => ({ isAuthorized: true, context: { userId: 'u1', userName: 'Ada' } }),
      history: () => [],
    });
    const api = await startApi({ invoke: lambdas.invoke, routes, authorizer });
    const response = await fetch(`${api.url}/rooms/general/messages`, { headers: { Authorization: 'Bearer t0k' } });
    expect(response.status).toBe(200);

    const [authEvent] = lambdas.eventsOf<HttpApiAuthorizerEvent>('authorize');
    expect(authEvent).toMatchObject({
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:us-east-1:000000000000:httpapi123/$default/GET/rooms/general/messages',
      identitySource: ['Bearer t0k'],
      routeKey: 'GET /rooms/{room}/messages',
      rawPath: '/rooms/general/messages',
      headers: { authorization: 'Bearer t0k' },
      pathParameters: { room: 'general' },
      requestContext: { stage: '$default', routeKey: 'GET /rooms/{room}/messages' },
    });
    const [event] = lambdas.eventsOf<HttpApiEvent>('history');
    expect(event?.requestContext.authorizer).toEqual({ lambda: { userId: 'u1', userName: 'Ada' } });
  });

  it('answers 401 without invoking the authorizer when the identity source is missing', async () => {
    const lambdas = fakeLambdas({ authorize: () => ({ isAuthorized: true }), history: () => [] });
    const api = await startApi({ invoke: lambdas.invoke, routes, authorizer });
    const response = await fetch(`${api.url}/rooms/general/messages`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: 'Unauthorized' });
    expect(lambdas.calls).toEqual([]);
  });

  it('answers 403 Forbidden when the authorizer says isAuthorized: false', async () => {
    const lambdas = fakeLambdas({ authorize: () => ({ isAuthorized: false }), history: () => [] });
    const api = await startApi({ invoke: lambdas.invoke, routes, authorizer });
    const response = await fetch(`${api.url}/rooms/general/messages`, { headers: { Authorization: 'Bearer bad' } });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Forbidden' });
    expect(lambdas.eventsOf('history')).toEqual([]);
  });

  it('answers 401 when the authorizer throws Unauthorized, and 500 when it fails otherwise', async () => {
    let failure = new Error('Unauthorized');
    const lambdas = fakeLambdas({
      authorize: () => {
        throw failure;
      },
      history: () => [],
    });
    const api = await startApi({ invoke: lambdas.invoke, routes, authorizer });
    const headers = { Authorization: 'Bearer x' };
    expect((await fetch(`${api.url}/rooms/general/messages`, { headers })).status).toBe(401);
    failure = new Error('database down');
    expect((await fetch(`${api.url}/rooms/general/messages`, { headers })).status).toBe(500);
  });

  it('does not run the authorizer on routes that are not authorized', async () => {
    const lambdas = fakeLambdas({ authorize: () => ({ isAuthorized: false }), health: () => ({ ok: true }) });
    const api = await startApi({ invoke: lambdas.invoke, routes, authorizer });
    const response = await fetch(`${api.url}/health`);
    expect(response.status).toBe(200);
    expect(lambdas.eventsOf('authorize')).toEqual([]);
  });
});
