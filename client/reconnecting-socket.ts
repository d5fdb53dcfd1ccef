import WebSocket from 'ws';
import { type BackoffOptions, reconnectDelay } from './backoff.js';

/** The server refused the handshake for who we are (401/403): retrying cannot help. */
export class HandshakeRefusedError extends Error {
  override name = 'HandshakeRefusedError';
  constructor(readonly statusCode: number) {
    super(`the server refused the connection (${statusCode}); check --user or --token`);
  }
}

export interface ReconnectingSocketOptions extends BackoffOptions {
  /** Asked before every attempt, so a reconnect carries the rooms joined since. */
  url(): string;
  onOpen(reconnected: boolean): void;
  onMessage(text: string): void;
  onDisconnect(info: { code: number; reason: string; retryInMs: number }): void;
  onFatal(error: Error): void;
  random?: () => number;
}

/**
 * A WebSocket that comes back: after any close it waits with exponential backoff and jitter and
 * connects again, until `close()`. Only a refused handshake (401/403) is final.
 */
export class ReconnectingSocket {
  private socket: WebSocket | undefined;
  private attempt = 0;
  private everOpened = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private closed: Promise<void> = Promise.resolve();

  constructor(private readonly options: ReconnectingSocketOptions) {}

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = new WebSocket(this.options.url());
    this.socket = socket;
    let refused: number | undefined;
    let markClosed: () => void = () => {};
    this.closed = new Promise((resolve) => {
      markClosed = resolve;
    });

    socket.on('open', () => {
      this.attempt = 0;
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.options.onOpen(reconnected);
    });
    socket.on('message', (data: WebSocket.RawData) => {
      this.options.onMessage(
        Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'),
      );
    });
    socket.on('unexpected-response', (request, response) => {
      refused = response.statusCode;
      response.resume();
      request.destroy();
    });
    // 'close' follows every failure (refused, reset, unreachable); the error itself adds nothing.
    socket.on('error', () => {});
    socket.on('close', (code: number, reason: Buffer) => {
      markClosed();
      if (this.stopped) return;
      if (refused === 401 || refused === 403) {
        this.stopped = true;
        this.options.onFatal(new HandshakeRefusedError(refused));
        return;
      }
      const retryInMs = reconnectDelay(this.attempt++, this.options, this.options.random);
      this.options.onDisconnect({
        code,
        reason: reason.toString('utf8') || (refused ? `HTTP ${refused}` : ''),
        retryInMs,
      });
      this.timer = setTimeout(() => this.connect(), retryInMs);
    });
  }

  /** Sends now if connected; false otherwise (the caller decides whether to queue). */
  send(text: string): boolean {
    if (!this.isOpen || !this.socket) return false;
    this.socket.send(text);
    return true;
  }

  /** Stops reconnecting and closes the socket normally (1000). */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      const forced = setTimeout(() => socket.terminate(), 2_000);
      socket.close(1000, 'bye');
      await this.closed;
      clearTimeout(forced);
    }
  }
}
