import type { PingFrame } from '#protocol/client-frames';
import { type BackoffOptions, defaultBackoff, reconnectDelay } from './backoff.js';

/** What both the browser's WebSocket and the `ws` package offer; all the socket needs. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
}

/** `WebSocket` in a browser, `ws`'s `WebSocket` (or a subclass) in Node. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** WebSocket.OPEN, the same number in every implementation. */
const OPEN = 1;

export type ConnectionState =
  | { state: 'connecting'; attempt: number }
  | { state: 'open' }
  /** Waiting `delayMs` before the next attempt; `code`/`reason` are the close that caused it, if any. */
  | { state: 'waiting'; attempt: number; delayMs: number; code?: number; reason?: string }
  | { state: 'offline' }
  | { state: 'stopped' };

export interface ReconnectingSocketOptions {
  WebSocket: WebSocketConstructor;
  /** Built before every attempt, so a refreshed token and the current room list are used. */
  url: () => string | Promise<string>;
  /** Every text frame, unparsed: the caller decides what is a frame. */
  onMessage: (text: string) => void;
  onState?: (state: ConnectionState) => void;
  /** Called on every successful open, first and re-connects alike: the place to catch up. */
  onOpen: (reconnect: boolean) => void;
  /**
   * Called when an attempt never opened (a refused handshake looks like this). Answer 'stop' when
   * retrying cannot help (the server refused who we are).
   */
  onFailedAttempt?: (attempt: number) => Promise<'retry' | 'stop' | undefined> | 'retry' | 'stop' | undefined;
  backoff?: BackoffOptions;
  random?: () => number;
  /** Whether the device has a network at all (navigator.onLine in a browser); always, by default. */
  isNetworkUp?: () => boolean;
  /** API Gateway drops a connection idle for 10 minutes; a ping well inside that keeps it. */
  heartbeatMs?: number;
  /** A ping unanswered this long means the socket is dead even if the runtime has not noticed. */
  pongTimeoutMs?: number;
}

const PING: PingFrame = { action: 'ping' };

/**
 * A WebSocket that reconnects with exponential backoff and jitter, waits while the network is down,
 * and detects silent deaths with an answered ping. Browser and terminal both run on it: it takes the
 * WebSocket constructor and touches no DOM or Node API.
 */
export class ReconnectingSocket {
  readonly #options: ReconnectingSocketOptions;
  #socket: WebSocketLike | undefined;
  #attempt = 0;
  #opened = false;
  #everOpened = false;
  #stopped = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  #pongTimer: ReturnType<typeof setTimeout> | undefined;
  #closed: Promise<void> = Promise.resolve();

  constructor(options: ReconnectingSocketOptions) {
    this.#options = options;
  }

  get isOpen(): boolean {
    return this.#socket?.readyState === OPEN;
  }

  start(): void {
    this.#stopped = false;
    void this.#connect();
  }

  /** Sends now, or returns false so the caller keeps the frame for after the reconnect. */
  send(frame: object | string): boolean {
    if (!this.#socket || this.#socket.readyState !== OPEN) return false;
    this.#socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    return true;
  }

  /** Sends a ping now; the connection is recycled if nothing answers. */
  probe(): void {
    if (!this.send(PING)) return;
    clearTimeout(this.#pongTimer);
    this.#pongTimer = setTimeout(() => this.#socket?.close(4000, 'no pong'), this.#options.pongTimeoutMs ?? 10_000);
  }

  /** The network came back or went away (the browser's online/offline events). */
  networkChanged(up: boolean): void {
    if (this.#stopped) return;
    if (up) {
      if (this.#socket) {
        // The socket may have died while the network was away without the runtime noticing.
        this.probe();
        return;
      }
      this.#attempt = 0;
      void this.#connect();
    } else if (!this.#socket) {
      clearTimeout(this.#retryTimer);
      this.#setState({ state: 'offline' });
    }
  }

  /** Stops reconnecting and closes normally (1000); resolves once closed, or after two seconds. */
  async stop(reason = 'bye'): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#stopHeartbeat();
    const socket = this.#socket;
    const closed = this.#closed;
    this.#socket = undefined;
    this.#setState({ state: 'stopped' });
    if (!socket) return;
    socket.close(1000, reason);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
  }

  #setState(state: ConnectionState): void {
    this.#options.onState?.(state);
  }

  #networkUp(): boolean {
    return this.#options.isNetworkUp?.() ?? true;
  }

  async #connect(): Promise<void> {
    clearTimeout(this.#retryTimer);
    if (this.#stopped) return;
    if (!this.#networkUp()) {
      // Retrying without a network only burns the backoff; networkChanged(true) restarts us.
      this.#setState({ state: 'offline' });
      return;
    }
    this.#setState({ state: 'connecting', attempt: this.#attempt });
    let url: string;
    try {
      url = await this.#options.url();
    } catch {
      this.#scheduleRetry();
      return;
    }
    if (this.#stopped) return;
    const socket = new this.#options.WebSocket(url);
    this.#socket = socket;
    this.#opened = false;
    let markClosed: () => void = () => {};
    this.#closed = new Promise((resolve) => {
      markClosed = resolve;
    });
    socket.addEventListener('open', () => {
      if (socket !== this.#socket) return;
      this.#opened = true;
      const reconnect = this.#everOpened;
      this.#everOpened = true;
      this.#setState({ state: 'open' });
      this.#startHeartbeat();
      this.#options.onOpen(reconnect);
    });
    socket.addEventListener('message', (event) => {
      if (socket !== this.#socket || typeof event.data !== 'string') return;
      // Any frame proves the connection works end to end: the backoff starts over.
      this.#attempt = 0;
      clearTimeout(this.#pongTimer);
      this.#options.onMessage(event.data);
    });
    // 'close' follows every failure (refused, reset, unreachable); the error event adds nothing.
    socket.addEventListener('error', () => {});
    socket.addEventListener('close', (event) => {
      markClosed();
      if (socket !== this.#socket) return;
      this.#socket = undefined;
      this.#stopHeartbeat();
      if (this.#stopped) return;
      const failedAttempt = !this.#opened;
      void (async () => {
        if (failedAttempt && (await this.#options.onFailedAttempt?.(this.#attempt)) === 'stop') {
          this.#stopped = true;
          this.#setState({ state: 'stopped' });
          return;
        }
        this.#scheduleRetry({ code: event.code, reason: event.reason });
      })();
    });
  }

  #scheduleRetry(closed?: { code: number; reason: string }): void {
    if (this.#stopped) return;
    if (!this.#networkUp()) {
      this.#setState({ state: 'offline' });
      return;
    }
    const delayMs = reconnectDelay(this.#attempt, this.#options.backoff ?? defaultBackoff, this.#options.random);
    this.#attempt += 1;
    this.#setState({ state: 'waiting', attempt: this.#attempt, delayMs, ...closed });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#connect(), delayMs);
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    const beat = () => {
      this.probe();
      this.#heartbeatTimer = setTimeout(beat, this.#options.heartbeatMs ?? 4 * 60_000);
    };
    this.#heartbeatTimer = setTimeout(beat, this.#options.heartbeatMs ?? 4 * 60_000);
  }

  #stopHeartbeat(): void {
    clearTimeout(this.#heartbeatTimer);
    clearTimeout(this.#pongTimer);
  }
}
