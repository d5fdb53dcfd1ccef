import { isUtf8 } from 'node:buffer';
import type { WebSocket } from 'ws';
import type { WebSocketAuthorizerContext } from '#api/websocket/event';
import type { HopTimer } from '../latency/model.js';
import type { ConnectionRegistry } from './connections-api.js';
import { type GatewayLogger, newAwsStyleId } from './gateway-support.js';
import { type ConnectionFacts, defaultCloseReason } from './websocket-events.js';

/** One client connection, from its handshake until it is gone. Only the registry changes its state. */
export interface Connection extends ConnectionFacts {
  /** connecting: `$connect` is running (posts get 410); gone: closed, and forgotten. */
  readonly state: 'connecting' | 'open' | 'gone';
  readonly lastActiveAt: number;
  /** Set by the handshake once the authorizer allowed the connection, before `$connect` runs. */
  authorizer?: WebSocketAuthorizerContext;
}

interface LiveConnection extends Connection {
  state: Connection['state'];
  lastActiveAt: number;
  socket?: WebSocket;
  idleTimer?: NodeJS.Timeout;
  lifetimeTimer?: NodeJS.Timeout;
}

/** Options of {@link WebSocketConnections}. */
export interface WebSocketConnectionsOptions {
  idleTimeoutMs: number;
  maxConnectionMs: number;
  logger: GatewayLogger;
  /** Called once per connection that was open or accepted, however it ended (for `$disconnect`). */
  onEnd: (conn: Connection, code: number, reason: string) => void;
}

/**
 * The gateway's connections by id: their state, their idle and maximum-duration timers, sending to
 * them and closing them. It is also what the @connections API sees (only open connections).
 */
export class WebSocketConnections implements ConnectionRegistry {
  readonly #live = new Map<string, LiveConnection>();
  readonly #options: WebSocketConnectionsOptions;
  #opened = 0;
  #closed = 0;
  #framesSent = 0;

  constructor(options: WebSocketConnectionsOptions) {
    this.#options = options;
  }

  /** Registers a connection whose handshake has started (`connecting`: not visible to @connections yet). */
  begin(sourceIp: string, userAgent: string): Connection {
    const now = Date.now();
    const conn: LiveConnection = {
      connectionId: this.#newConnectionId(),
      state: 'connecting',
      connectedAt: now,
      lastActiveAt: now,
      sourceIp,
      userAgent,
    };
    this.#live.set(conn.connectionId, conn);
    return conn;
  }

  /** Forgets a connection whose handshake was refused: it never existed for the backend. */
  forget(conn: Connection): void {
    const live = this.#get(conn);
    if (!live) return;
    live.state = 'gone';
    this.#live.delete(live.connectionId);
  }

  /** Makes an upgraded connection open and starts its timers; its socket's close or error ends it. */
  open(conn: Connection, ws: WebSocket): void {
    const live = this.#get(conn);
    if (!live) return;
    live.socket = ws;
    live.state = 'open';
    this.#opened += 1;
    this.#options.logger.debug('connection open', { connectionId: live.connectionId });
    ws.on('error', (err: Error & { code?: string }) => {
      this.#options.logger.debug('WebSocket protocol error', { connectionId: live.connectionId, error: err.message });
      // ws closes the socket itself after a receiver error; this records why, for $disconnect.
      const code =
        err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 1009 : err.code === 'WS_ERR_INVALID_UTF8' ? 1007 : 1002;
      this.end(live, code, defaultCloseReason(code) || err.message);
    });
    ws.on('close', (code, reason) => {
      const text = reason.toString('utf8');
      this.end(live, code, text || defaultCloseReason(code));
    });
    const goAway = () => this.close(live, 1001, 'Going away');
    live.idleTimer = setTimeout(goAway, this.#options.idleTimeoutMs);
    live.idleTimer.unref();
    live.lifetimeTimer = setTimeout(goAway, this.#options.maxConnectionMs);
    live.lifetimeTimer.unref();
  }

  /** Records data from the client: it resets the idle timer (posts and pings do not). */
  touch(conn: Connection): void {
    const live = this.#get(conn);
    if (!live) return;
    live.lastActiveAt = Date.now();
    live.idleTimer?.refresh();
  }

  /** Sends one frame; false when the connection is not open (any more) or the send failed. */
  send(conn: Connection, data: string | Buffer, binary: boolean): Promise<boolean> {
    const ws = this.#get(conn)?.socket;
    if (conn.state !== 'open' || !ws || ws.readyState !== ws.OPEN) return Promise.resolve(false);
    return new Promise((resolve) => {
      ws.send(data, { binary }, (err) => {
        if (err) {
          resolve(false);
          return;
        }
        this.#framesSent += 1;
        resolve(true);
      });
    });
  }

  /** Ends a connection from the gateway's side; `$disconnect` sees the code and reason sent to the client. */
  close(conn: Connection, code: number, reason: string): void {
    const live = this.#get(conn);
    if (!live) return;
    this.end(live, code, reason || defaultCloseReason(code));
    live.socket?.close(code, reason);
  }

  /** Marks a connection gone (410 from now on) and reports its end once, however it ended. */
  end(conn: Connection, code: number, reason: string): void {
    const live = this.#get(conn);
    if (!live) return;
    live.state = 'gone';
    this.#live.delete(live.connectionId);
    clearTimeout(live.idleTimer);
    clearTimeout(live.lifetimeTimer);
    this.#closed += 1;
    this.#options.logger.debug('connection closed', { connectionId: live.connectionId, code, reason });
    this.#options.onEnd(live, code, reason);
  }

  /** Closes every open connection with the same code and reason. */
  closeAll(code: number, reason: string): void {
    for (const conn of [...this.#live.values()]) {
      if (conn.state === 'open') this.close(conn, code, reason);
    }
  }

  /** Ids of the open connections (a connection whose `$connect` is still running is not open). */
  openIds(): string[] {
    return [...this.#live.values()].filter((c) => c.state === 'open').map((c) => c.connectionId);
  }

  stats(): { openConnections: number; connectionsOpened: number; connectionsClosed: number; framesSent: number } {
    return {
      openConnections: this.openIds().length,
      connectionsOpened: this.#opened,
      connectionsClosed: this.#closed,
      framesSent: this.#framesSent,
    };
  }

  describe(connectionId: string): ReturnType<ConnectionRegistry['describe']> {
    const conn = this.#openById(connectionId);
    if (!conn) return undefined;
    return {
      connectedAt: conn.connectedAt,
      lastActiveAt: conn.lastActiveAt,
      sourceIp: conn.sourceIp,
      userAgent: conn.userAgent,
    };
  }

  post(connectionId: string, data: Buffer, hop?: HopTimer): Promise<boolean> {
    const conn = this.#openById(connectionId);
    if (!conn) return Promise.resolve(false);
    const delayMs = hop?.dueMs() ?? 0;
    if (delayMs > 0) {
      return new Promise((wait) => setTimeout(wait, delayMs)).then(() => this.send(conn, data, !isUtf8(data)));
    }
    // Text unless the bytes cannot be text: what clients of API Gateway receive for UTF-8 data.
    return this.send(conn, data, !isUtf8(data));
  }

  disconnect(connectionId: string): boolean {
    const conn = this.#openById(connectionId);
    if (!conn) return false;
    this.close(conn, 1000, '');
    return true;
  }

  #openById(connectionId: string): LiveConnection | undefined {
    const conn = this.#live.get(connectionId);
    return conn?.state === 'open' ? conn : undefined;
  }

  /** The registry's own record of a connection that is not gone; a stale reference finds nothing. */
  #get(conn: Connection): LiveConnection | undefined {
    if (conn.state === 'gone') return undefined;
    const live = this.#live.get(conn.connectionId);
    return live === conn ? live : undefined;
  }

  #newConnectionId(): string {
    for (;;) {
      const id = newAwsStyleId();
      if (!this.#live.has(id)) return id;
    }
  }
}
