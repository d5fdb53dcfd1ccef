import { isUtf8 } from 'node:buffer';
import { createServer, type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { DEFAULT_ACCOUNT, DEFAULT_REGION } from '../aws-protocol.js';
import { ERROR_SHAPES, type LocalIam } from '../iam/authorizer.js';
import { listen } from '../listen.js';
import { AuthorizerConfigurationError, evaluatePolicyResult } from './authorizer-policy.js';
import {
  type ConnectionRegistry,
  type ConnectionsApiStats,
  type ConnectionsAuthorizer,
  handleConnectionsRequest,
  MAX_MESSAGE_BYTES,
} from './connections-api.js';
import { createFrameSizeGuard } from './frame-size-guard.js';
import {
  formatClfTime,
  type GatewayLogger,
  IntegrationTimeoutError,
  type InvokeFunction,
  invokeWithTimeout,
  isRecord,
  isUnauthorizedError,
  newApiId,
  newAwsStyleId,
  newTraceId,
  normalizeIp,
  silentLogger,
  TaskTracker,
} from './gateway-support.js';
import {
  chooseMessageRoute,
  compileRouteSelection,
  defaultCloseReason,
  disconnectHeaders,
  errorFrame,
  type HandshakeRequestParts,
  handshakeRequestParts,
  identitySourceValue,
  type WebSocketAuthorizerContext,
  type WebSocketAuthorizerEvent,
  type WebSocketConnectEvent,
  type WebSocketDisconnectEvent,
  type WebSocketMessageEvent,
  type WebSocketRequestContext,
} from './websocket-events.js';

/** API Gateway's limit for one WebSocket frame. */
export const MAX_FRAME_BYTES = 32 * 1024;

/** One route of the WebSocket API. */
export interface WebSocketRouteConfig {
  functionName: string;
  /** The route has a route response: the integration's `body` is sent back to the client. */
  twoWay: boolean;
}

/** A Lambda REQUEST authorizer on `$connect`. */
export interface WebSocketAuthorizerConfig {
  functionName: string;
  /** e.g. `['route.request.querystring.token']`; a missing source is a 401 without calling the authorizer. */
  identitySource: string[];
}

/** Options of {@link startLocalWebSocketGateway}. */
export interface LocalWebSocketGatewayOptions {
  /** Bind address; the @connections API answers only there too. Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  stage: string;
  apiId?: string;
  region?: string;
  accountId?: string;
  /** e.g. `$request.body.action`. */
  routeSelectionExpression: string;
  /** routeKey → route, including `$connect`, `$disconnect` and `$default` when the API has them. */
  routes: Record<string, WebSocketRouteConfig>;
  authorizer?: WebSocketAuthorizerConfig;
  invoke: InvokeFunction;
  /** Default 10 minutes, like API Gateway. */
  idleTimeoutMs?: number;
  /** Default 2 hours, like API Gateway. */
  maxConnectionMs?: number;
  /** Default 29 s, like API Gateway. */
  integrationTimeoutMs?: number;
  logger?: GatewayLogger;
  /**
   * When set, every @connections call needs `execute-api:ManageConnections` on
   * `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/@connections/ID` from the signing role.
   */
  iam?: LocalIam;
  /** Milliseconds a postToConnection takes before its frame is sent (the latency model's draw). */
  postDelayMs?: () => number;
}

/** Counters of a running gateway. */
export interface LocalWebSocketGatewayStats extends ConnectionsApiStats {
  openConnections: number;
  connectionsOpened: number;
  connectionsRejected: number;
  connectionsClosed: number;
  messagesReceived: number;
  framesSent: number;
  integrationErrors: number;
}

/** A running local WebSocket gateway. */
export interface LocalWebSocketGateway {
  /** `ws://host:port`; clients may also connect to `ws://host:port/{stage}`. */
  url: string;
  /** `http://host:port`, the @connections endpoint (with or without `/{stage}`). */
  managementUrl: string;
  port: number;
  /** Ids of the open connections (a connection whose `$connect` is still running is not open). */
  connectionIds(): string[];
  /** Closes every connection (1001, invoking `$disconnect` for each), waits for in-flight work, then stops. */
  close(): Promise<void>;
  stats(): LocalWebSocketGatewayStats;
}

interface Connection {
  readonly connectionId: string;
  /** connecting: `$connect` is running (posts get 410); gone: closed, and forgotten. */
  state: 'connecting' | 'open' | 'gone';
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  authorizer?: WebSocketAuthorizerContext;
  socket?: WebSocket;
  idleTimer?: NodeJS.Timeout;
  lifetimeTimer?: NodeJS.Timeout;
}

type ConnectDecision = { accepted: true; protocol?: string } | { accepted: false; statusCode: number; message: string };

/**
 * Starts a local stand-in for an API Gateway WebSocket API and its @connections management API, on
 * one port. It follows API Gateway's observable behaviour: the authorizer and `$connect` run before
 * the upgrade (a rejection means no connection ever exists), messages are routed by the route
 * selection expression and processed concurrently, API Gateway's error frames, the 32 KB frame and
 * 128 KB message limits (close 1009), binary frames refused (close 1003), idle and maximum-duration
 * closes (1001), and `$disconnect` invoked once per connection however it ends.
 *
 * Known differences: no @connections throttling (429) and no authorizer result caching; the idle
 * timer is reset by data messages from the client only (not pings, not posts); `disconnectReason`
 * texts for codes other than 1000/1001 are this gateway's own wording.
 */
export async function startLocalWebSocketGateway(
  options: LocalWebSocketGatewayOptions,
): Promise<LocalWebSocketGateway> {
  const host = options.host ?? '127.0.0.1';
  const apiId = options.apiId ?? newApiId();
  const region = options.region ?? DEFAULT_REGION;
  const accountId = options.accountId ?? DEFAULT_ACCOUNT;
  const idleTimeoutMs = options.idleTimeoutMs ?? 10 * 60 * 1000;
  const maxConnectionMs = options.maxConnectionMs ?? 2 * 60 * 60 * 1000;
  const integrationTimeoutMs = options.integrationTimeoutMs ?? 29_000;
  const logger = options.logger ?? silentLogger;
  const routes = options.routes;
  const routeKeys = new Set(Object.keys(routes));
  const selectCandidate = compileRouteSelection(options.routeSelectionExpression);
  const tasks = new TaskTracker(logger);
  // Lambda receives a serialized copy: a handler mutating its event must not change the next event.
  const invoke: InvokeFunction = (functionName, event) => options.invoke(functionName, structuredClone(event));

  const connections = new Map<string, Connection>();
  const sockets = new Set<Duplex>();
  const chosenProtocols = new WeakMap<IncomingMessage, string>();
  const counters = {
    connectionsOpened: 0,
    connectionsRejected: 0,
    connectionsClosed: 0,
    messagesReceived: 0,
    framesSent: 0,
    integrationErrors: 0,
  };
  const apiStats: ConnectionsApiStats = { postsAccepted: 0, postsGone: 0, gets: 0, deletes: 0 };
  let closing = false;
  let port = 0;
  let domainName = '';

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    // API Gateway only answers with a subprotocol when the $connect integration chose one.
    handleProtocols: (offered, req) => {
      const chosen = chosenProtocols.get(req);
      return chosen !== undefined && offered.has(chosen) ? chosen : false;
    },
  });

  const registry: ConnectionRegistry = {
    describe(connectionId) {
      const conn = connections.get(connectionId);
      if (conn?.state !== 'open') return undefined;
      return {
        connectedAt: conn.connectedAt,
        lastActiveAt: conn.lastActiveAt,
        sourceIp: conn.sourceIp,
        userAgent: conn.userAgent,
      };
    },
    post(connectionId, data) {
      const conn = connections.get(connectionId);
      if (conn?.state !== 'open') return Promise.resolve(false);
      const delayMs = options.postDelayMs?.() ?? 0;
      if (delayMs > 0) {
        return new Promise((wait) => setTimeout(wait, delayMs)).then(() => sendFrame(conn, data, !isUtf8(data)));
      }
      // Text unless the bytes cannot be text: what clients of API Gateway receive for UTF-8 data.
      return sendFrame(conn, data, !isUtf8(data));
    },
    disconnect(connectionId) {
      const conn = connections.get(connectionId);
      if (conn?.state !== 'open') return false;
      closeFromServer(conn, 1000, '');
      return true;
    },
  };

  const iam = options.iam;
  const managementOperations: Record<string, string> = {
    POST: 'PostToConnection',
    GET: 'GetConnection',
    DELETE: 'DeleteConnection',
  };
  const authorizeManagement: ConnectionsAuthorizer | undefined = iam
    ? (req, method, connectionId) => {
        const principal = iam.principalOf(req.headers, ERROR_SHAPES['execute-api']);
        iam.count(principal, `execute-api:${managementOperations[method] ?? method}`);
        const resource = `arn:aws:execute-api:${region}:${accountId}:${apiId}/${options.stage}/${method}/@connections/${connectionId}`;
        iam.authorize(principal, [{ action: 'execute-api:ManageConnections', resource }], ERROR_SHAPES['execute-api']);
      }
    : undefined;
  const server = createServer((req, res) => {
    tasks.run(
      'management API request',
      handleConnectionsRequest(req, res, options.stage, registry, apiStats, authorizeManagement),
    );
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    tasks.run('WebSocket handshake', handshake(req, socket, head));
  });

  port = (await listen(server, options.port, host)).port;
  domainName = `${host}:${port}`;
  logger.info(`local WebSocket gateway listening on ws://${domainName} (stage ${options.stage})`);

  function newConnectionId(): string {
    for (;;) {
      const id = newAwsStyleId();
      if (!connections.has(id)) return id;
    }
  }

  function requestContext(
    conn: Connection,
    routeKey: string,
    eventType: WebSocketRequestContext['eventType'],
  ): WebSocketRequestContext {
    const now = Date.now();
    const requestId = newAwsStyleId();
    const context: WebSocketRequestContext = {
      routeKey,
      eventType,
      extendedRequestId: requestId,
      requestTime: formatClfTime(now),
      messageDirection: 'IN',
      stage: options.stage,
      connectedAt: conn.connectedAt,
      requestTimeEpoch: now,
      identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
      requestId,
      domainName,
      connectionId: conn.connectionId,
      apiId,
    };
    if (conn.authorizer) context.authorizer = conn.authorizer;
    return context;
  }

  function isWebSocketPath(pathname: string): boolean {
    return pathname === '/' || pathname === `/${options.stage}` || pathname === `/${options.stage}/`;
  }

  async function handshake(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // A reset during the handshake must not crash the process; ws installs its own handler on upgrade.
    socket.on('error', (err) => logger.debug('handshake socket error', err));
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!isWebSocketPath(url.pathname)) {
      rejectHandshake(socket, 403, 'Forbidden');
      return;
    }
    if (closing) {
      rejectHandshake(socket, 503, 'Service Unavailable');
      return;
    }
    if (!looksLikeWebSocketHandshake(req)) {
      rejectHandshake(socket, 400, 'Bad Request');
      return;
    }

    const now = Date.now();
    const conn: Connection = {
      connectionId: newConnectionId(),
      state: 'connecting',
      connectedAt: now,
      lastActiveAt: now,
      sourceIp: normalizeIp(req.socket.remoteAddress),
      userAgent: req.headers['user-agent'] ?? '',
    };
    connections.set(conn.connectionId, conn);
    let clientLeft = false;
    const onEarlyClose = () => {
      clientLeft = true;
    };
    socket.once('close', onEarlyClose);

    const parts = handshakeRequestParts(req, url.searchParams, {
      sourceIp: conn.sourceIp,
      port,
      traceId: newTraceId(now),
    });
    const decision = await decideConnect(conn, parts);
    socket.off('close', onEarlyClose);

    if (!decision.accepted) {
      conn.state = 'gone';
      connections.delete(conn.connectionId);
      counters.connectionsRejected += 1;
      logger.info(`handshake rejected with ${decision.statusCode}`, { connectionId: conn.connectionId });
      rejectHandshake(socket, decision.statusCode, decision.message);
      return;
    }
    if (clientLeft || closing || socket.destroyed) {
      // $connect succeeded, so the backend knows this connection: it must hear about its end too.
      endConnection(conn, 1006, defaultCloseReason(1006));
      rejectHandshake(socket, 503, 'Service Unavailable');
      return;
    }
    if (decision.protocol !== undefined) chosenProtocols.set(req, decision.protocol);
    wss.handleUpgrade(req, socket, head, (ws) => openConnection(conn, ws, socket));
    // ws completes a valid upgrade synchronously; still connecting here means it refused the socket.
    if (conn.state === 'connecting') endConnection(conn, 1006, defaultCloseReason(1006));
  }

  async function decideConnect(conn: Connection, parts: HandshakeRequestParts): Promise<ConnectDecision> {
    if (options.authorizer) {
      const authorized = await authorize(conn, parts, options.authorizer);
      if (!authorized.accepted) return authorized;
    }
    const route = routes.$connect;
    if (!route) return { accepted: true };
    const event: WebSocketConnectEvent = {
      ...parts,
      requestContext: requestContext(conn, '$connect', 'CONNECT'),
      isBase64Encoded: false,
    };
    let result: unknown;
    try {
      result = await invokeWithTimeout(invoke, route.functionName, event, integrationTimeoutMs);
    } catch (err) {
      counters.integrationErrors += 1;
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

  async function authorize(
    conn: Connection,
    parts: HandshakeRequestParts,
    authorizer: WebSocketAuthorizerConfig,
  ): Promise<ConnectDecision> {
    const unauthorized: ConnectDecision = { accepted: false, statusCode: 401, message: 'Unauthorized' };
    if (authorizer.identitySource.some((source) => identitySourceValue(source, parts) === undefined)) {
      return unauthorized;
    }
    const methodArn = `arn:aws:execute-api:${region}:${accountId}:${apiId}/${options.stage}/$connect`;
    const event: WebSocketAuthorizerEvent = {
      type: 'REQUEST',
      methodArn,
      ...parts,
      stageVariables: {},
      requestContext: requestContext(conn, '$connect', 'CONNECT'),
    };
    const started = Date.now();
    try {
      const result = await invokeWithTimeout(invoke, authorizer.functionName, event, integrationTimeoutMs);
      const decision = evaluatePolicyResult(result, methodArn);
      if (!decision.allowed) return { accepted: false, statusCode: 403, message: 'Forbidden' };
      const context: WebSocketAuthorizerContext = {};
      for (const [key, value] of Object.entries(decision.context)) context[key] = String(value);
      context.principalId = decision.principalId;
      context.integrationLatency = Date.now() - started;
      conn.authorizer = context;
      return { accepted: true };
    } catch (err) {
      if (isUnauthorizedError(err)) return unauthorized;
      if (!(err instanceof AuthorizerConfigurationError)) counters.integrationErrors += 1;
      logger.error('authorizer failed', err);
      return { accepted: false, statusCode: 500, message: 'Internal server error' };
    }
  }

  function openConnection(conn: Connection, ws: WebSocket, socket: Duplex): void {
    conn.socket = ws;
    conn.state = 'open';
    counters.connectionsOpened += 1;
    logger.debug('connection open', { connectionId: conn.connectionId });
    socket.prependListener(
      'data',
      createFrameSizeGuard(MAX_FRAME_BYTES, () => closeFromServer(conn, 1009, 'Message too big')),
    );
    ws.on('message', (data, isBinary) => onClientMessage(conn, data, isBinary));
    ws.on('error', (err: Error & { code?: string }) => {
      logger.debug('WebSocket protocol error', { connectionId: conn.connectionId, error: err.message });
      // ws closes the socket itself after a receiver error; this records why, for $disconnect.
      const code =
        err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 1009 : err.code === 'WS_ERR_INVALID_UTF8' ? 1007 : 1002;
      endConnection(conn, code, defaultCloseReason(code) || err.message);
    });
    ws.on('close', (code, reason) => {
      const text = reason.toString('utf8');
      endConnection(conn, code, text || defaultCloseReason(code));
    });
    conn.idleTimer = setTimeout(() => closeFromServer(conn, 1001, 'Going away'), idleTimeoutMs);
    conn.idleTimer.unref();
    conn.lifetimeTimer = setTimeout(() => closeFromServer(conn, 1001, 'Going away'), maxConnectionMs);
    conn.lifetimeTimer.unref();
  }

  function onClientMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.state !== 'open') return;
    if (isBinary) {
      closeFromServer(conn, 1003, 'Binary frames are not supported');
      return;
    }
    conn.lastActiveAt = Date.now();
    conn.idleTimer?.refresh();
    counters.messagesReceived += 1;
    tasks.run('message route', routeMessage(conn, rawDataToString(data)));
  }

  async function routeMessage(conn: Connection, body: string): Promise<void> {
    const routeKey = chooseMessageRoute(selectCandidate(body), routeKeys);
    const route = routeKey === undefined ? undefined : routes[routeKey];
    if (routeKey === undefined || route === undefined) {
      await sendFrame(conn, errorFrame('Forbidden', conn.connectionId, newAwsStyleId()), false);
      return;
    }
    const event: WebSocketMessageEvent = {
      requestContext: { ...requestContext(conn, routeKey, 'MESSAGE'), messageId: newAwsStyleId() },
      body,
      isBase64Encoded: false,
    };
    let result: unknown;
    try {
      result = await invokeWithTimeout(invoke, route.functionName, event, integrationTimeoutMs);
    } catch (err) {
      counters.integrationErrors += 1;
      logger.error(`route ${routeKey} failed`, err);
      const message = err instanceof IntegrationTimeoutError ? 'Endpoint request timed out' : 'Internal server error';
      await sendFrame(conn, errorFrame(message, conn.connectionId, event.requestContext.requestId), false);
      return;
    }
    if (!route.twoWay || !isRecord(result) || result.body === undefined || result.body === null) return;
    const responseBody = typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
    await sendFrame(conn, responseBody, false);
  }

  function sendFrame(conn: Connection, data: string | Buffer, binary: boolean): Promise<boolean> {
    const ws = conn.socket;
    if (conn.state !== 'open' || !ws || ws.readyState !== ws.OPEN) return Promise.resolve(false);
    return new Promise((resolve) => {
      ws.send(data, { binary }, (err) => {
        if (err) {
          resolve(false);
          return;
        }
        counters.framesSent += 1;
        resolve(true);
      });
    });
  }

  /** Ends a connection from the gateway's side; `$disconnect` sees the code and reason sent to the client. */
  function closeFromServer(conn: Connection, code: number, reason: string): void {
    if (conn.state === 'gone') return;
    endConnection(conn, code, reason || defaultCloseReason(code));
    conn.socket?.close(code, reason);
  }

  /** Marks a connection gone (410 from now on) and invokes `$disconnect` once, however it ended. */
  function endConnection(conn: Connection, code: number, reason: string): void {
    if (conn.state === 'gone') return;
    conn.state = 'gone';
    connections.delete(conn.connectionId);
    clearTimeout(conn.idleTimer);
    clearTimeout(conn.lifetimeTimer);
    counters.connectionsClosed += 1;
    logger.debug('connection closed', { connectionId: conn.connectionId, code, reason });
    const route = routes.$disconnect;
    if (!route) return;
    const event: WebSocketDisconnectEvent = {
      ...disconnectHeaders(domainName),
      requestContext: {
        ...requestContext(conn, '$disconnect', 'DISCONNECT'),
        disconnectStatusCode: code,
        disconnectReason: reason,
      },
      isBase64Encoded: false,
    };
    tasks.run(
      '$disconnect',
      invokeWithTimeout(invoke, route.functionName, event, integrationTimeoutMs).catch((err: unknown) => {
        counters.integrationErrors += 1;
        logger.error('$disconnect integration failed', err);
      }),
    );
  }

  let closed: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    closing = true;
    for (const conn of [...connections.values()]) {
      if (conn.state === 'open') closeFromServer(conn, 1001, 'Going away');
    }
    await tasks.drain();
    for (const ws of wss.clients) ws.terminate();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    logger.info('local WebSocket gateway stopped');
  }

  return {
    url: `ws://${domainName}`,
    managementUrl: `http://${domainName}`,
    port,
    connectionIds: () => [...connections.values()].filter((c) => c.state === 'open').map((c) => c.connectionId),
    close: () => {
      closed ??= shutdown();
      return closed;
    },
    stats: () => ({
      ...counters,
      ...apiStats,
      openConnections: [...connections.values()].filter((c) => c.state === 'open').length,
    }),
  };
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

function rawDataToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
