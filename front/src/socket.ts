import { type BackoffOptions, backoffDelay, defaultBackoff } from './backoff.js';
import { type ClientFrame, parseServerFrame, type ServerFrame } from './protocol.js';

export type ConnectionState =
  | { state: 'connecting'; attempt: number }
  | { state: 'open' }
  | { state: 'waiting'; attempt: number; delayMs: number }
  | { state: 'offline' }
  | { state: 'stopped' };

export interface ReconnectingSocketOptions {
  /** Built before every attempt, so a refreshed token and the current room list are used. */
  url: () => Promise<string>;
  onFrame: (frame: ServerFrame) => void;
  onState: (state: ConnectionState) => void;
  /** Called on every successful open, first and re-connects alike: the place to catch up. */
  onOpen: (reconnect: boolean) => void;
  /** Called when an attempt never opened (a refused handshake looks like this to a browser). */
  onFailedAttempt?: (attempt: number) => Promise<void> | void;
  backoff?: BackoffOptions;
  /** API Gateway drops a connection idle for 10 minutes; a ping well inside that keeps it. */
  heartbeatMs?: number;
  /** A ping unanswered this long means the socket is dead even if the browser has not noticed. */
  pongTimeoutMs?: number;
}

/**
 * A WebSocket that reconnects with exponential backoff and jitter, waits for the network while the
 * browser is offline, and detects silent deaths with an answered ping.
 */
export class ReconnectingSocket {
  readonly #options: ReconnectingSocketOptions;
  #socket: WebSocket | undefined;
  #attempt = 0;
  #opened = false;
  #everOpened = false;
  #stopped = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #pongTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ReconnectingSocketOptions) {
    this.#options = options;
    window.addEventListener('online', this.#onOnline);
    window.addEventListener('offline', this.#onOffline);
  }

  get isOpen(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.#stopped = false;
    void this.#connect();
  }

  /** Sends now, or returns false so the caller keeps the frame for after the reconnect. */
  send(frame: ClientFrame): boolean {
    if (!this.#socket || this.#socket.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  /** Sends a ping now; the connection is recycled if nothing answers. */
  probe(): void {
    if (!this.send({ action: 'ping' })) return;
    clearTimeout(this.#pongTimer);
    this.#pongTimer = setTimeout(() => this.#socket?.close(4000, 'no pong'), this.#options.pongTimeoutMs ?? 10_000);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#stopHeartbeat();
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener('offline', this.#onOffline);
    this.#socket?.close(1000, 'signed out');
    this.#socket = undefined;
    this.#options.onState({ state: 'stopped' });
  }

  async #connect(): Promise<void> {
    clearTimeout(this.#retryTimer);
    if (this.#stopped) return;
    if (!navigator.onLine) {
      // Retrying without a network only burns the backoff; the 'online' event restarts us.
      this.#options.onState({ state: 'offline' });
      return;
    }
    this.#options.onState({ state: 'connecting', attempt: this.#attempt });
    let url: string;
    try {
      url = await this.#options.url();
    } catch {
      this.#scheduleRetry();
      return;
    }
    if (this.#stopped) return;
    const socket = new WebSocket(url);
    this.#socket = socket;
    this.#opened = false;
    socket.addEventListener('open', () => {
      if (socket !== this.#socket) return;
      this.#opened = true;
      const reconnect = this.#everOpened;
      this.#everOpened = true;
      this.#options.onState({ state: 'open' });
      this.#startHeartbeat();
      this.#options.onOpen(reconnect);
    });
    socket.addEventListener('message', (event) => {
      if (socket !== this.#socket || typeof event.data !== 'string') return;
      // Any frame proves the connection works end to end: the backoff starts over.
      this.#attempt = 0;
      clearTimeout(this.#pongTimer);
      const frame = parseServerFrame(event.data);
      if (frame) this.#options.onFrame(frame);
    });
    socket.addEventListener('close', () => {
      if (socket !== this.#socket) return;
      this.#socket = undefined;
      this.#stopHeartbeat();
      if (this.#stopped) return;
      const failedAttempt = !this.#opened;
      void (async () => {
        if (failedAttempt) await this.#options.onFailedAttempt?.(this.#attempt);
        this.#scheduleRetry();
      })();
    });
  }

  #scheduleRetry(): void {
    if (this.#stopped) return;
    if (!navigator.onLine) {
      this.#options.onState({ state: 'offline' });
      return;
    }
    const delayMs = backoffDelay(this.#attempt, this.#options.backoff ?? defaultBackoff);
    this.#attempt += 1;
    this.#options.onState({ state: 'waiting', attempt: this.#attempt, delayMs });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#connect(), delayMs);
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    this.#heartbeatTimer = setInterval(() => this.probe(), this.#options.heartbeatMs ?? 4 * 60_000);
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeatTimer);
    clearTimeout(this.#pongTimer);
  }

  readonly #onOnline = () => {
    if (this.#stopped) return;
    if (this.#socket) {
      // The socket may have died while the network was away without the browser noticing.
      this.probe();
      return;
    }
    this.#attempt = 0;
    void this.#connect();
  };

  readonly #onOffline = () => {
    if (this.#stopped || this.#socket) return;
    clearTimeout(this.#retryTimer);
    this.#options.onState({ state: 'offline' });
  };
}
