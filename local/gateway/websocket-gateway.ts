import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { DEFAULT_ACCOUNT, DEFAULT_REGION } from '../aws-protocol.js';
import { ERROR_SHAPES, type LocalIam } from '../iam/authorizer.js';
import type { HopTimer } from '../latency/model.js';
import { listen } from '../listen.js';
import { type ConnectionsApiStats, type ConnectionsAuthorizer, handleConnectionsRequest } from './connections-api.js';
import { type GatewayLogger, type InvokeFunction, newApiId, silentLogger, TaskTracker } from './gateway-support.js';
import { WebSocketConnections } from './websocket-connections.js';
import { type WebSocketAuthorizerConfig, WebSocketHandshake } from './websocket-handshake.js';
import { type WebSocketRouteConfig, WebSocketRouting } from './websocket-routing.js';

export type { WebSocketAuthorizerConfig } from './websocket-handshake.js';
export { MAX_FRAME_BYTES, type WebSocketRouteConfig } from './websocket-routing.js';

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
  /**
   * Starts the latency model's postToConnection hop when a post arrives: its frame is sent once the
   * hop's draw is over, the gateway's own handling included.
   */
  postHop?: () => HopTimer;
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
  const region = options.region ?? DEFAULT_REGION;
  const accountId = options.accountId ?? DEFAULT_ACCOUNT;
  const integrationTimeoutMs = options.integrationTimeoutMs ?? 29_000;
  const logger = options.logger ?? silentLogger;
  const tasks = new TaskTracker(logger);
  // Lambda receives a serialized copy: a handler mutating its event must not change the next event.
  const invoke: InvokeFunction = (functionName, event) => options.invoke(functionName, structuredClone(event));
  const sockets = new Set<Duplex>();
  const apiStats: ConnectionsApiStats = { postsAccepted: 0, postsGone: 0, gets: 0, deletes: 0 };
  let closing = false;

  const server = createServer();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Bound first: the events name the host and port clients connect to. Nothing is served until the
  // listeners below are attached, in the same tick.
  const { port } = await listen(server, options.port, host);
  const api = { apiId: options.apiId ?? newApiId(), stage: options.stage, domainName: `${host}:${port}` };

  const connections = new WebSocketConnections({
    idleTimeoutMs: options.idleTimeoutMs ?? 10 * 60 * 1000,
    maxConnectionMs: options.maxConnectionMs ?? 2 * 60 * 60 * 1000,
    logger,
    onEnd: (conn, code, reason) => routing.disconnected(conn, code, reason),
  });
  const routing = new WebSocketRouting({
    api,
    routeSelectionExpression: options.routeSelectionExpression,
    routes: options.routes,
    connections,
    invoke,
    integrationTimeoutMs,
    tasks,
    logger,
  });
  const handshake = new WebSocketHandshake({
    api,
    region,
    accountId,
    port,
    authorizer: options.authorizer,
    connectRoute: options.routes.$connect,
    connections,
    invoke,
    integrationTimeoutMs,
    logger,
    isClosing: () => closing,
    onOpen: (conn, ws, socket) => {
      connections.open(conn, ws);
      routing.attach(conn, ws, socket);
    },
  });
  const authorizeManagement = options.iam
    ? managementAuthorizer(options.iam, `arn:aws:execute-api:${region}:${accountId}:${api.apiId}/${api.stage}`)
    : undefined;

  server.on('request', (req, res) => {
    tasks.run(
      'management API request',
      handleConnectionsRequest(req, res, options.stage, connections, apiStats, authorizeManagement, options.postHop),
    );
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    tasks.run('WebSocket handshake', handshake.handle(req, socket, head));
  });
  logger.info(`local WebSocket gateway listening on ws://${api.domainName} (stage ${options.stage})`);

  let closed: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    closing = true;
    connections.closeAll(1001, 'Going away');
    await tasks.drain();
    await handshake.stop();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    logger.info('local WebSocket gateway stopped');
  }

  return {
    url: `ws://${api.domainName}`,
    managementUrl: `http://${api.domainName}`,
    port,
    connectionIds: () => connections.openIds(),
    close: () => {
      closed ??= shutdown();
      return closed;
    },
    stats: () => {
      const accepted = handshake.stats();
      const routed = routing.stats();
      return {
        ...connections.stats(),
        connectionsRejected: accepted.connectionsRejected,
        messagesReceived: routed.messagesReceived,
        integrationErrors: accepted.integrationErrors + routed.integrationErrors,
        ...apiStats,
      };
    },
  };
}

const MANAGEMENT_OPERATIONS: Record<string, string> = {
  POST: 'PostToConnection',
  GET: 'GetConnection',
  DELETE: 'DeleteConnection',
};

/**
 * Every @connections call needs `execute-api:ManageConnections` on
 * `{stageArn}/{METHOD}/@connections/{id}` from the signing role, as in AWS.
 */
function managementAuthorizer(iam: LocalIam, stageArn: string): ConnectionsAuthorizer {
  return (req, method, connectionId) => {
    const principal = iam.principalOf(req.headers, ERROR_SHAPES['execute-api']);
    iam.count(principal, `execute-api:${MANAGEMENT_OPERATIONS[method] ?? method}`);
    const resource = `${stageArn}/${method}/@connections/${connectionId}`;
    iam.authorize(principal, [{ action: 'execute-api:ManageConnections', resource }], ERROR_SHAPES['execute-api']);
  };
}
