import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { WebSocketEvent } from '#api/websocket/event';
import { createFrameSizeGuard } from './frame-size-guard.js';
import {
  type GatewayLogger,
  IntegrationTimeoutError,
  type InvokeFunction,
  invokeWithTimeout,
  isRecord,
  newAwsStyleId,
  type TaskTracker,
} from './gateway-support.js';
import type { Connection, WebSocketConnections } from './websocket-connections.js';
import {
  chooseMessageRoute,
  compileRouteSelection,
  disconnectHeaders,
  errorFrame,
  requestContext,
  type WebSocketApiEndpoint,
} from './websocket-events.js';

/** API Gateway's limit for one WebSocket frame. */
export const MAX_FRAME_BYTES = 32 * 1024;

/** One route of the WebSocket API. */
export interface WebSocketRouteConfig {
  functionName: string;
  /** The route has a route response: the integration's `body` is sent back to the client. */
  twoWay: boolean;
}

/** Options of {@link WebSocketRouting}. */
export interface WebSocketRoutingOptions {
  api: WebSocketApiEndpoint;
  /** e.g. `$request.body.action`. */
  routeSelectionExpression: string;
  /** routeKey → route; `$connect` is the handshake's, the others are used here. */
  routes: Record<string, WebSocketRouteConfig>;
  connections: WebSocketConnections;
  invoke: InvokeFunction;
  integrationTimeoutMs: number;
  tasks: TaskTracker;
  logger: GatewayLogger;
}

/**
 * What happens on an open connection: each client message is checked (32 KB frames, text only),
 * routed by the route selection expression (else `$default`, else a Forbidden error frame) and
 * handed to its Lambda function, concurrently; a two-way route's `body` goes back to the client.
 * When the connection ends, `$disconnect` is invoked.
 */
export class WebSocketRouting {
  readonly #options: WebSocketRoutingOptions;
  readonly #routeKeys: ReadonlySet<string>;
  readonly #selectCandidate: (body: string) => string | undefined;
  #messagesReceived = 0;
  #integrationErrors = 0;

  constructor(options: WebSocketRoutingOptions) {
    this.#options = options;
    this.#routeKeys = new Set(Object.keys(options.routes));
    this.#selectCandidate = compileRouteSelection(options.routeSelectionExpression);
  }

  /** Starts routing the messages of a connection right after its upgrade (`socket` is its raw stream). */
  attach(conn: Connection, ws: WebSocket, socket: Duplex): void {
    const { connections } = this.#options;
    socket.prependListener(
      'data',
      createFrameSizeGuard(MAX_FRAME_BYTES, () => connections.close(conn, 1009, 'Message too big')),
    );
    ws.on('message', (data, isBinary) => this.#onClientMessage(conn, data, isBinary));
  }

  /** Invokes `$disconnect`, when the API has it, for a connection that has ended. */
  disconnected(conn: Connection, code: number, reason: string): void {
    const route = this.#options.routes.$disconnect;
    if (!route) return;
    const { api, invoke, integrationTimeoutMs, logger } = this.#options;
    const event: WebSocketEvent = {
      ...disconnectHeaders(api.domainName),
      requestContext: {
        ...requestContext(api, conn, '$disconnect', 'DISCONNECT'),
        disconnectStatusCode: code,
        disconnectReason: reason,
      },
      isBase64Encoded: false,
    };
    this.#options.tasks.run(
      '$disconnect',
      invokeWithTimeout(invoke, route.functionName, event, integrationTimeoutMs).catch((err: unknown) => {
        this.#integrationErrors += 1;
        logger.error('$disconnect integration failed', err);
      }),
    );
  }

  stats(): { messagesReceived: number; integrationErrors: number } {
    return { messagesReceived: this.#messagesReceived, integrationErrors: this.#integrationErrors };
  }

  #onClientMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.state !== 'open') return;
    const { connections } = this.#options;
    if (isBinary) {
      connections.close(conn, 1003, 'Binary frames are not supported');
      return;
    }
    connections.touch(conn);
    this.#messagesReceived += 1;
    this.#options.tasks.run('message route', this.#routeMessage(conn, rawDataToString(data)));
  }

  async #routeMessage(conn: Connection, body: string): Promise<void> {
    const { api, routes, connections, invoke, integrationTimeoutMs, logger } = this.#options;
    const routeKey = chooseMessageRoute(this.#selectCandidate(body), this.#routeKeys);
    const route = routeKey === undefined ? undefined : routes[routeKey];
    if (routeKey === undefined || route === undefined) {
      await connections.send(conn, errorFrame('Forbidden', conn.connectionId, newAwsStyleId()), false);
      return;
    }
    const event: WebSocketEvent = {
      requestContext: { ...requestContext(api, conn, routeKey, 'MESSAGE'), messageId: newAwsStyleId() },
      body,
      isBase64Encoded: false,
    };
    let result: unknown;
    try {
      result = await invokeWithTimeout(invoke, route.functionName, event, integrationTimeoutMs);
    } catch (err) {
      this.#integrationErrors += 1;
      logger.error(`route ${routeKey} failed`, err);
      const message = err instanceof IntegrationTimeoutError ? 'Endpoint request timed out' : 'Internal server error';
      await connections.send(conn, errorFrame(message, conn.connectionId, event.requestContext.requestId), false);
      return;
    }
    if (!route.twoWay || !isRecord(result) || result.body === undefined || result.body === null) return;
    const responseBody = typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
    await connections.send(conn, responseBody, false);
  }
}

function rawDataToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
