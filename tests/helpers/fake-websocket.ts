import type { WebSocketLike } from '#client-core/reconnecting-socket';

type Listener = (event: never) => void;

/**
 * A WebSocket the test drives: every `new` is recorded in `FakeWebSocket.all`, and the test decides
 * when it opens, what it receives and when it closes.
 */
export class FakeWebSocket implements WebSocketLike {
  static all: FakeWebSocket[] = [];
  readyState = 0;
  readonly sent: string[] = [];
  closedWith: { code?: number; reason?: string } | undefined;
  readonly #listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {
    FakeWebSocket.all.push(this);
  }

  static reset(): void {
    FakeWebSocket.all = [];
  }

  static get latest(): FakeWebSocket {
    const socket = FakeWebSocket.all.at(-1);
    if (!socket) throw new Error('no socket was created');
    return socket;
  }

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(data);
  }

  /** The frames sent, parsed. */
  frames(): Array<Record<string, unknown>> {
    return this.sent.map((text) => JSON.parse(text) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { ...(code !== undefined ? { code } : {}), ...(reason !== undefined ? { reason } : {}) };
    this.serverClose(code ?? 1005, reason ?? '');
  }

  open(): void {
    this.readyState = 1;
    this.#emit('open', {});
  }

  receive(frame: object | string): void {
    this.#emit('message', { data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  /** The connection ends from the far side (or never opened, when called before open()). */
  serverClose(code = 1006, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.#emit('close', { code, reason });
  }

  #emit(type: string, event: object): void {
    for (const listener of this.#listeners.get(type) ?? []) (listener as (event: object) => void)(event);
  }
}
