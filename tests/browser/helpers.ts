import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { freePort } from '../../local/free-port.js';

export { freePort };

type Frame = Record<string, unknown>;

/** A plain WebSocket client standing in for another user, with every frame it received kept. */
export class SocketClient {
  readonly frames: Frame[] = [];
  readonly #socket: WebSocket;
  readonly #waiters = new Set<() => void>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const wake of this.#waiters) wake();
    });
  }

  static async connect(baseUrl: string, userId: string, rooms: string[]): Promise<SocketClient> {
    const query = new URLSearchParams({ userId, userName: userId, room: rooms.join(',') });
    const socket = new WebSocket(`${baseUrl}/?${query}`);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new SocketClient(socket);
  }

  /** Resolves with the first frame (already received or still to come) that matches. */
  waitFor(match: (frame: Frame) => boolean, timeoutMs = 20_000): Promise<Frame> {
    const found = this.frames.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no matching frame; received ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      const check = () => {
        const frame = this.frames.find(match);
        if (!frame) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(frame);
      };
      this.#waiters.add(check);
    });
  }

  /** Posts to a room and waits for the ack; an error frame fails the call. */
  async post(room: string, message: string): Promise<string> {
    const messageId = randomUUID();
    this.#socket.send(JSON.stringify({ action: 'sendMessage', room, message, messageId }));
    const reply = await this.waitFor(
      (frame) => (frame.type === 'ack' || frame.type === 'error') && frame.messageId === messageId,
    );
    if (reply.type === 'error') throw new Error(`post refused: ${JSON.stringify(reply)}`);
    return messageId;
  }

  close(): void {
    this.#socket.close();
  }
}
