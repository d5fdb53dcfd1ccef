import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectionsPoster, MAX_ATTEMPTS, PostToConnectionError } from '#aws/clients/connections-poster';

// A stub @connections endpoint: each request gets the next planned answer (200 once the plan is used up).
type Planned = { status: number; errorType?: string } | 'drop';
let server: Server;
let endpoint: string;
let plan: Planned[] = [];
const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];

beforeAll(async () => {
  process.env.AWS_REGION = 'eu-west-1';
  process.env.AWS_ACCESS_KEY_ID = 'AKIDPOSTERTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const next = plan.shift() ?? { status: 200 };
      if (next === 'drop') {
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (next.errorType) headers['x-amzn-errortype'] = next.errorType;
      res.writeHead(next.status, headers);
      res.end(next.status === 200 ? '' : JSON.stringify({ message: next.errorType }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  plan = [];
  seen.length = 0;
});

const failure = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PostToConnectionError);
  return error as PostToConnectionError;
};

describe('connectionsPoster', () => {
  it("POSTs the data to the stage's @connections path, SigV4-signed for execute-api with the SDK's credentials and region", async () => {
    await connectionsPoster(endpoint).post('Ab+c/d=', '{"type":"pong"}');
    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/prod/@connections/Ab%2Bc%2Fd%3D');
    expect(request?.body).toBe('{"type":"pong"}');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDPOSTERTEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(request?.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it('throws GoneException on 410 without retrying: the connection is gone', async () => {
    plan = [{ status: 410, errorType: 'GoneException' }];
    const error = await failure(connectionsPoster(endpoint).post('c1', '{}'));
    expect(error).toMatchObject({ name: 'GoneException', status: 410, attempts: 1 });
    expect(seen).toHaveLength(1);
  });

  it('retries a 429 and delivers on the next attempt', async () => {
    plan = [{ status: 429, errorType: 'LimitExceededException' }];
    await connectionsPoster(endpoint).post('c1', '{}');
    expect(seen).toHaveLength(2);
  });

  it(`gives up on a 5xx after ${MAX_ATTEMPTS} attempts, naming API Gateway's error type`, async () => {
    plan = Array.from({ length: MAX_ATTEMPTS }, () => ({
      status: 500,
      errorType: 'InternalServerErrorException:http://internal.amazon.com/coral/',
    }));
    const error = await failure(connectionsPoster(endpoint).post('c1', '{}'));
    expect(error).toMatchObject({ name: 'InternalServerErrorException', status: 500, attempts: MAX_ATTEMPTS });
    expect(seen).toHaveLength(MAX_ATTEMPTS);
  });

  it('does not retry a refusal that cannot change (403, 413)', async () => {
    plan = [{ status: 403, errorType: 'ForbiddenException' }];
    expect(await failure(connectionsPoster(endpoint).post('c1', '{}'))).toMatchObject({
      name: 'ForbiddenException',
      attempts: 1,
    });
    plan = [{ status: 413, errorType: 'PayloadTooLargeException' }];
    expect(await failure(connectionsPoster(endpoint).post('c1', '{}'))).toMatchObject({
      name: 'PayloadTooLargeException',
      attempts: 1,
    });
  });

  it('retries a connection dropped without an answer', async () => {
    plan = ['drop'];
    await connectionsPoster(endpoint).post('c1', '{}');
    expect(seen).toHaveLength(2);
  });

  it('builds one poster per endpoint and reuses it', () => {
    expect(connectionsPoster(endpoint)).toBe(connectionsPoster(endpoint));
    expect(connectionsPoster(`${endpoint}2`)).not.toBe(connectionsPoster(endpoint));
  });
});
