import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { WebSocketAuthorizerContext, WebSocketAuthorizerEvent, WebSocketEvent } from '#api/websocket/event';
import { AuthorizerConfigurationError, evaluatePolicyResult } from './authorizer-policy.js';
import { MAX_MESSAGE_BYTES } from './connections-api.js';
import {
  type GatewayLogger,
  IntegrationTimeoutError,
  type InvokeFunction,
  invokeWithTimeout,
  isRecord,
  isUnauthorizedError,
  newTraceId,
  normalizeIp,
} from './gateway-support.js';
import type { Connection, WebSocketConnections } from './websocket-connections.js';
import {
  defaultCloseReason,
  type HandshakeRequestParts,
  handshakeRequestParts,
  identitySourceValue,
  requestContext,
  type WebSocketApiEndpoint,
} from './websocket-events.js';
import type { WebSocketRouteConfig } from './websocket-routing.js';

/** A Lambda REQUEST authorizer on `$connect`. */
export interface WebSocketAuthorizerConfig {
  functionName: string;
  /** e.g. `['route.request.querystring.token']`; a missing source is a 401 without calling the authorizer. */
  identitySource: string[];
}

/** Options of {@link WebSocketHandshake}. */
export interface WebSocketHandshakeOptions {
  api: WebSocketApiEndpoint;
  region: string;
  accountId: string;
  /** The gateway's port, for the `X-Forwarded-Port` header. */
  port: number;
  authorizer?: WebSocketAuthorizerConfig;
  connectRoute?: WebSocketRouteConfig;
  connections: WebSocketConnections;
  invoke: InvokeFunction;
  integrationTimeoutMs: number;
  logger: GatewayLogger;
  /** True once the gateway is shutting down: new handshakes get 503. */
  isClosing: () => boolean;
  /** Called synchronously once `ws` has upgraded an accepted connection (`socket` is its raw stream). */
  onOpen: (conn: Connection, ws: WebSocket, socket: Duplex) => void;
}

type ConnectDecision = { accepted: true; protocol?: string } | { accepted: false; statusCode: number; message: string };

/**
 * The upgrade request, up to an open connection: the path and handshake headers are checked, the
 * authorizer and `$connect` run before the upgrade (a rejection means no connection ever exists, and
 * the client gets the HTTP status), and the subprotocol `$connect` chose is the one answered.
 */
export class WebSocketHandshake {
  readonly #options: WebSocketHandshakeOptions;
  readonly #chosenProtocols = new WeakMap<IncomingMessage, string>();
  readonly #wss: WebSocketServer;
  #rejected = 0;
  #integrationErrors = 0;

  constructor(options: WebSocketHandshakeOptions) {
    this.#options = options;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
      // API Gateway only answers with a subprotocol when the $connect integration chose one.
      handleProtocols: (offered, req) => {
        const chosen = this.#chosenProtocols.get(req);
        return chosen !== undefined && offered.has(chosen) ? chosen : false;
      },
    });
  }

  /** Handles one `upgrade` event of the gateway's HTTP server. */
  async handle(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { connections, logger, isClosing } = this.#options;
    // A reset during the handshake must not crash the process; ws installs its own handler on upgrade.
    socket.on('error', (err) => logger.debug('handshake socket error', err));
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!this.#isWebSocketPath(url.pathname)) {
      rejectHandshake(socket, 403, 'Forbidden');
      return;
    }
    if (isClosing()) {
      rejectHandshake(socket, 503, 'Service Unavailable');
      return;
    }
    if (!looksLikeWebSocketHandshake(req)) {
      rejectHandshake(socket, 400, 'Bad Request');
      return;
    }

    const conn = connections.begin(normalizeIp(req.socket.remoteAddress), req.headers['user-agent'] ?? '');
    let clientLeft = false;
    const onEarlyClose = () => {
      clientLeft = true;
    };
    socket.once('close', onEarlyClose);

    const parts = handshakeRequestParts(req, url.searchParams, {
      sourceIp: conn.sourceIp,
      port: this.#options.port,
      traceId: newTraceId(conn.connectedAt),
    });
    const decision = await this.#decideConnect(conn, parts);
    socket.off('close', onEarlyClose);

    if (!decision.accepted) {
      connections.forget(conn);
      this.#rejected += 1;
      logger.info(`handshake rejected with ${decision.statusCode}`, { connectionId: conn.connectionId });
      rejectHandshake(socket, decision.statusCode, decision.message);
      return;
    }
    if (clientLeft || isClosing() || socket.destroyed) {
      // $connect succeeded, so the backend knows this connection: it must hear about its end too.
      connections.end(conn, 1006, defaultCloseReason(1006));
      rejectHandshake(socket, 503, 'Service Unavailable');
      return;
    }
    if (decision.protocol !== undefined) this.#chosenProtocols.set(req, decision.protocol);
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#options.onOpen(conn, ws, socket));
    // ws completes a valid upgrade synchronously; still connecting here means it refused the socket.
    if (conn.state === 'connecting') connections.end(conn, 1006, defaultCloseReason(1006));
  }

  /** Drops every upgraded socket still there and stops accepting upgrades. */
  async stop(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  stats(): { connectionsRejected: number; integrationErrors: number } {
    return { connectionsRejected: this.#rejected, integrationErrors: this.#integrationErrors };
  }

  #isWebSocketPath(pathname: string): boolean {
    const { stage } = this.#options.api;
    return pathname === '/' || pathname === `/${stage}` || pathname === `/${stage}/`;
  }

  async #decideConnect(conn: Connection, parts: HandshakeRequestParts): Promise<ConnectDecision> {
    const { api, authorizer, connectRoute, invoke, integrationTimeoutMs, logger } = this.#options;
    if (authorizer) {
      const authorized = await this.#authorize(conn, parts, authorizer);
      if (!authorized.accepted) return authorized;
    }
    if (!connectRoute) return { accepted: true };
    const event: WebSocketEvent = {
      ...parts,
      requestContext: requestContext(api, conn, '$connect', 'CONNECT'),
      isBase64Encoded: false,
    };
    let result: unknown;
    try {
      result = await invokeWithTimeout(invoke, connectRoute.functionName, event, integrationTimeoutMs);
    } catch (err) {
      this.#integrationErrors += 1;
      logger.error('$connect integration failed', err);
      return err instanceof IntegrationTimeoutError
        ? { accepted: false, statusCode: 504, message: 'Endpoint request timed out' }
        : { accepted: false, statusCode: 502, message: 'Internal server error' };
    }
    if (isRecord(result) && typeof result.statusCode === 'number') {
      const statusCode = result.statusCode;
      if (statusCode < 200 || statusCode > 299) {
        return {
          accepted: false,
          statusCode: statusCode >= 400 && statusCode <= 599 ? statusCode : 502,
          message: STATUS_CODES[statusCode] ?? 'Error',
        };
      }
    }
    return { accepted: true, protocol: chosenSubprotocol(result) };
  }

  async #authorize(
    conn: Connection,
    parts: HandshakeRequestParts,
    authorizer: WebSocketAuthorizerConfig,
  ): Promise<ConnectDecision> {
    const { api, region, accountId, invoke, integrationTimeoutMs, logger } = this.#options;
    const unauthorized: ConnectDecision = { accepted: false, statusCode: 401, message: 'Unauthorized' };
    if (authorizer.identitySource.some((source) => identitySourceValue(source, parts) === undefined)) {
      return unauthorized;
    }
    const methodArn = `arn:aws:execute-api:${region}:${accountId}:${api.apiId}/${api.stage}/$connect`;
    const event: WebSocketAuthorizerEvent = {
      type: 'REQUEST',
      methodArn,
      ...parts,
      stageVariables: {},
      requestContext: requestContext(api, conn, '$connect', 'CONNECT'),
    };
    const started = Date.now();
    try {
      const result = await invokeWithTimeout(invoke, authorizer.functionName, event, integrationTimeoutMs);
      const decision = evaluatePolicyResult(result, methodArn);
      if (!decision.allowed) return { accepted: false, statusCode: 403, message: 'Forbidden' };
      const context: Record<string, string> = {};
      for (const [key, value] of Object.entries(decision.context)) context[key] = String(value);
      conn.authorizer = {
        ...context,
        principalId: decision.principalId,
        integrationLatency: Date.now() - started,
      } satisfies WebSocketAuthorizerContext;
      return { accepted: true };
    } catch (err) {
      if (isUnauthorizedError(err)) return unauthorized;
      if (!(err instanceof AuthorizerConfigurationError)) this.#integrationErrors += 1;
      logger.error('authorizer failed', err);
      return { accepted: false, statusCode: 500, message: 'Internal server error' };
    }
  }
}

function looksLikeWebSocketHandshake(req: IncomingMessage): boolean {
  const key = req.headers['sec-websocket-key'];
  const version = req.headers['sec-websocket-version'];
  return (
    req.method === 'GET' &&
    req.headers.upgrade?.toLowerCase() === 'websocket' &&
    typeof key === 'string' &&
    /^[+/0-9A-Za-z]{22}==$/.test(key) &&
    (version === '13' || version === '8')
  );
}

/** A subprotocol the `$connect` integration selected via a `Sec-WebSocket-Protocol` response header. */
function chosenSubprotocol(result: unknown): string | undefined {
  if (!isRecord(result) || !isRecord(result.headers)) return undefined;
  for (const [name, value] of Object.entries(result.headers)) {
    if (name.toLowerCase() === 'sec-websocket-protocol' && typeof value === 'string') return value;
  }
  return undefined;
}

function rejectHandshake(socket: Duplex, statusCode: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
