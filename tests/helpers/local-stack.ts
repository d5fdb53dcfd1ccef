import { ApiGatewayManagementApiClient, DeleteConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { operatorCredentials } from '../../local/dynamodb.js';
import type { IamMode } from '../../local/iam/authorizer.js';
import { LOCAL_REGION, type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.js';
import { freePort } from './dynamodb-local.js';

/**
 * TEST_STACK_PARAMETERS="Key=Value Key2=Value2" overrides template parameters for every suite that
 * does not set them itself, e.g. to run the suites with DirectFanoutMaxMembers=0 (the state machine
 * for every message) as well as with the default.
 */
function parametersFromEnvironment(): Record<string, string> {
  const raw = process.env.TEST_STACK_PARAMETERS?.trim();
  if (!raw) return {};
  return Object.fromEntries(
    raw.split(/\s+/).map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`TEST_STACK_PARAMETERS: expected Key=Value, got ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/** Starts the whole local stack on free ports, for one test file. */
export async function startTestStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({
    restPort: 0,
    webSocketPort: 0,
    eventBridgePort: 0,
    stepFunctionsPort: 0,
    dynamoDbPort: await freePort(),
    // SWITCHBOARD_IAM=off runs a file without IAM enforcement, e.g. to measure what enforcement costs.
    ...(process.env.SWITCHBOARD_IAM ? { iam: process.env.SWITCHBOARD_IAM as IamMode } : {}),
    // Lambda's asynchronous retries come after about 1 and 2 minutes; here after 0.6 and 1.2 s.
    asyncRetryScale: 0.01,
    ...options,
    // Handlers log at ERROR in tests, so a failure's output shows what went wrong and little else.
    parameters: { LogLevel: 'ERROR', ...parametersFromEnvironment(), ...options.parameters },
  });
}

export type Frame = Record<string, unknown> & { type?: string };

/**
 * Drops a connection through the @connections API as the operator (a backend with
 * execute-api:ManageConnections would), and answers the HTTP status: 204, or 410 when it was gone.
 */
export async function deleteConnection(stack: LocalStack, connectionId: string): Promise<number> {
  const client = new ApiGatewayManagementApiClient({
    endpoint: stack.urls.management,
    region: LOCAL_REGION,
    credentials: operatorCredentials,
    maxAttempts: 1,
  });
  try {
    const answer = await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    return answer.$metadata.httpStatusCode ?? 0;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 410) return status;
    throw error;
  } finally {
    client.destroy();
  }
}

/** A real `ws` client that records every frame it receives and can wait for one. */
export class TestClient {
  readonly frames: Frame[] = [];
  private waiters: Array<{ predicate: (frame: Frame) => boolean; resolve: (frame: Frame) => void }> = [];
  closed = false;
  closeCode: number | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.predicate(frame)) return true;
        waiter.resolve(frame);
        return false;
      });
    });
    socket.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
    });
  }

  static connect(stack: LocalStack, query: Record<string, string>): Promise<TestClient> {
    const url = `${stack.urls.webSocket}/?${new URLSearchParams(query)}`;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const client = new TestClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`handshake refused: ${response.statusCode}`)),
      );
    });
  }

  /** Connects and waits for the welcome frame, so the connection is fully set up. */
  static async join(stack: LocalStack, query: Record<string, string>): Promise<TestClient> {
    const client = await TestClient.connect(stack, query);
    await client.waitFor((frame) => frame.type === 'welcome');
    return client;
  }

  get connectionId(): string {
    const welcome = this.frames.find((frame) => frame.type === 'welcome');
    return String(welcome?.connectionId);
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first frame (already received or future) that matches. */
  waitFor(predicate: (frame: Frame) => boolean, timeoutMs = 15_000): Promise<Frame> {
    const seen = this.frames.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`)),
        timeoutMs,
      );
      this.waiters.push({
        predicate,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      });
    });
  }

  /** Sends a frame and waits for the direct reply (ack, error or the action's result). */
  async request(frame: Record<string, unknown>, replyType?: string): Promise<Frame> {
    const before = this.frames.length;
    this.send(frame);
    return this.waitFor(
      (candidate) =>
        this.frames.indexOf(candidate) >= before &&
        (replyType ? candidate.type === replyType : ['ack', 'error'].includes(String(candidate.type))),
    );
  }

  messages(room?: string): Frame[] {
    return this.frames.filter((frame) => frame.type === 'message' && (room === undefined || frame.room === room));
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

export interface StackFixture {
  /** The running stack (set in beforeAll). */
  stack: LocalStack;
  /** Connects a client, waits for its welcome, and closes it after the file. */
  join(query: Record<string, string>): Promise<TestClient>;
  /** Closes a client opened some other way at the end of the file. */
  track(client: TestClient): TestClient;
  /** GET on the REST API as a given user (demo auth), parsed. */
  rest(path: string, userId?: string): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** One local stack for a test file, with the clients it opened closed at the end. */
export function useLocalStack(options: LocalStackOptions = {}): StackFixture {
  const clients: TestClient[] = [];
  const fixture: StackFixture = {
    stack: undefined as unknown as LocalStack,
    async join(query) {
      const client = await TestClient.join(fixture.stack, query);
      clients.push(client);
      return client;
    },
    track(client) {
      clients.push(client);
      return client;
    },
    async rest(path, userId = 'reader') {
      const response = await fetch(`${fixture.stack.urls.rest}${path}`, { headers: { 'x-user-id': userId } });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
  };
  beforeAll(async () => {
    fixture.stack = await startTestStack(options);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await fixture.stack?.close();
  });
  return fixture;
}
