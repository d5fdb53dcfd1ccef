import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/** One benchmark connection. `index` is its position in the pool. */
export interface BenchSocket {
  readonly index: number;
  readonly ws: WebSocket;
  connectionId: string | undefined;
  closed: boolean;
}

/** A message in flight: who got it, when, and whether it is complete. */
export interface Flight {
  readonly id: string;
  readonly sentAt: number;
  readonly expected: number;
  readonly receivedBy: Set<number>;
  duplicates: number;
  ackAt?: number;
  completedAt?: number;
  /** The error code when the service refused the message (it will never arrive). */
  error?: string;
  /** When given, a receipt at any other socket is counted as misrouted. */
  readonly members?: ReadonlySet<number>;
  readonly done: Promise<void>;
  /** Settles with the sender's ack or error frame: the service has finished with the message. */
  readonly answered: Promise<void>;
}

interface MutableFlight extends Flight {
  resolve: () => void;
  answer: () => void;
}

/** What the pool saw, since creation or the last {@link ClientPool.resetCounters}. */
export interface PoolCounters {
  deliveries: number;
  duplicates: number;
  /** Frames for a message this pool never sent, or that was already retired and was complete. */
  unexpected: number;
  errors: number;
  /** Receipts at a socket that is not a member of the message's room. */
  misrouted: number;
}

export interface ClientPoolOptions {
  /** The URL socket `index` connects to. */
  urlFor: (index: number) => string;
  /** Called for every first receipt of a tracked message at a member, with its latency in ms. */
  onDelivery?: (latencyMs: number) => void;
}

/** Sees every frame after the welcome, e.g. to wait for presence or replies. */
export type FrameListener = (socket: BenchSocket, frame: Record<string, unknown>) => void;

/**
 * The same client harness for Switchboard and the baseline: real `ws` sockets that wait for a
 * welcome frame, send `sendMessage` frames and time the first receipt of each message at every
 * member, dropping repeats by messageId as real clients must (Express fan-out is at-least-once).
 */
export class ClientPool {
  readonly sockets: BenchSocket[] = [];
  /** Per-member receipt latencies, in ms, while {@link recording} is on. */
  latencies: number[] = [];
  /** Send-to-ack latencies, in ms, while {@link recording} is on. */
  ackLatencies: number[] = [];
  recording = true;
  readonly listeners = new Set<FrameListener>();
  counters: PoolCounters = { deliveries: 0, duplicates: 0, unexpected: 0, errors: 0, misrouted: 0 };
  private readonly flights = new Map<string, MutableFlight>();
  /** Ids of complete flights that were forgotten: a later frame for one is a duplicate. */
  private readonly retiredPrefix = new Map<string, number>();

  constructor(private readonly options: ClientPoolOptions) {}

  /** Opens `count` more sockets, at most `concurrency` handshakes at a time, each waiting for its welcome. */
  async connect(count: number, concurrency = 16, timeoutMs = 60_000): Promise<void> {
    const first = this.sockets.length;
    let next = first;
    const worker = async () => {
      while (next < first + count) {
        const index = next++;
        this.sockets[index] = await this.open(index, timeoutMs);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  }

  private open(index: number, timeoutMs: number): Promise<BenchSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.options.urlFor(index), { perMessageDeflate: false });
      const socket: BenchSocket = { index, ws, connectionId: undefined, closed: false };
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`socket ${index}: no welcome within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.on('message', (data) => {
        const frame = parse(data);
        if (!frame) return;
        if (frame.type === 'welcome' && socket.connectionId === undefined) {
          socket.connectionId = String(frame.connectionId);
          clearTimeout(timer);
          resolve(socket);
          return;
        }
        this.onFrame(socket, frame);
      });
      ws.on('close', () => {
        socket.closed = true;
      });
      ws.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`socket ${index}: ${error.message}`));
      });
      ws.once('unexpected-response', (_request, response) => {
        clearTimeout(timer);
        reject(new Error(`socket ${index}: handshake refused with ${response.statusCode}`));
      });
    });
  }

  private onFrame(socket: BenchSocket, frame: Record<string, unknown>): void {
    for (const listener of this.listeners) listener(socket, frame);
    // Room frames carry messageId at the top; direct messages (and their acks' frames) inside `data`.
    const data = frame.data !== null && typeof frame.data === 'object' ? (frame.data as Record<string, unknown>) : {};
    const id =
      typeof frame.messageId === 'string'
        ? frame.messageId
        : frame.type === 'message' && typeof data.messageId === 'string'
          ? data.messageId
          : undefined;
    if (id === undefined) return;
    const flight = this.flights.get(id);
    if (frame.type === 'ack') {
      if (flight && flight.ackAt === undefined) {
        flight.ackAt = performance.now();
        if (this.recording) this.ackLatencies.push(flight.ackAt - flight.sentAt);
        flight.answer();
      }
      return;
    }
    if (frame.type === 'error') {
      this.counters.errors++;
      if (flight) {
        flight.error = String(frame.code);
        flight.resolve();
        flight.answer();
      }
      return;
    }
    if (frame.type !== 'message') return;
    if (!flight) {
      if (this.isRetired(id)) this.counters.duplicates++;
      else this.counters.unexpected++;
      return;
    }
    if (flight.members && !flight.members.has(socket.index)) {
      this.counters.misrouted++;
      return;
    }
    if (flight.receivedBy.has(socket.index)) {
      flight.duplicates++;
      this.counters.duplicates++;
      return;
    }
    flight.receivedBy.add(socket.index);
    this.counters.deliveries++;
    const latency = performance.now() - flight.sentAt;
    if (this.recording) this.latencies.push(latency);
    this.options.onDelivery?.(latency);
    if (flight.receivedBy.size === flight.expected) {
      flight.completedAt = performance.now();
      flight.resolve();
    }
  }

  /**
   * Sends a room message from `sender` and tracks it until `expected` members have it.
   * `id` must be unique in this pool; use `<prefix>-<sequence>` so {@link retire} can work.
   */
  send(
    sender: BenchSocket,
    room: string,
    id: string,
    expected: number,
    text = 'benchmark message',
    members?: ReadonlySet<number>,
  ): Flight {
    return this.track(id, expected, members, () =>
      sender.ws.send(JSON.stringify({ action: 'sendMessage', room, message: text, messageId: id })),
    );
  }

  /**
   * Sends a direct message from `sender` to `recipientId` and tracks it until `expected` sockets have it
   * (the recipient's connections and the sender's own, which get the message too).
   */
  sendDirect(
    sender: BenchSocket,
    recipientId: string,
    id: string,
    expected: number,
    text = 'benchmark message',
  ): Flight {
    return this.track(id, expected, undefined, () =>
      sender.ws.send(JSON.stringify({ action: 'sendMessage', recipientId, content: text, messageId: id })),
    );
  }

  private track(id: string, expected: number, members: ReadonlySet<number> | undefined, send: () => void): Flight {
    let resolve = () => {};
    const done = new Promise<void>((settle) => {
      resolve = settle;
    });
    let answer = () => {};
    const answered = new Promise<void>((settle) => {
      answer = settle;
    });
    const flight: MutableFlight = {
      id,
      sentAt: performance.now(),
      expected,
      receivedBy: new Set(),
      duplicates: 0,
      done,
      resolve,
      answered,
      answer,
      ...(members ? { members } : {}),
    };
    this.flights.set(id, flight);
    send();
    return flight;
  }

  /**
   * Resolves once `predicate` has matched `count` frames (from now on), or rejects after `timeoutMs`.
   */
  waitForFrames(
    predicate: (socket: BenchSocket, frame: Record<string, unknown>) => boolean,
    count: number,
    timeoutMs: number,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      let seen = 0;
      const listener: FrameListener = (socket, frame) => {
        if (!predicate(socket, frame)) return;
        seen++;
        if (seen >= count) finish();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`saw ${seen} of ${count} expected frames within ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve();
      };
      this.listeners.add(listener);
      if (count <= 0) finish();
    });
  }

  /**
   * Waits for a flight; false when it did not complete within `timeoutMs`. With `untilAnswered`, also
   * for the sender's ack (or error): "one message in flight" then means the service is done with it,
   * so the next send does not land beside the previous invocation's tail and start a second
   * environment (on the direct path the receipts arrive before sendMessage returns its ack).
   */
  async settle(flight: Flight, timeoutMs: number, { untilAnswered = false } = {}): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = untilAnswered ? Promise.all([flight.done, flight.answered]) : flight.done;
    const completed = await Promise.race([finished.then(() => true), timedOut]);
    clearTimeout(timer);
    return completed && flight.error === undefined;
  }

  flight(id: string): Flight | undefined {
    return this.flights.get(id);
  }

  allFlights(): Flight[] {
    return [...this.flights.values()];
  }

  /**
   * Forgets complete flights with ids `<prefix>-<n>` for n below `below`, remembering only the
   * watermark, so a long soak does not grow with every message. Returns the incomplete ones kept.
   */
  retire(prefix: string, below: number): number {
    let kept = 0;
    for (const [id, flight] of this.flights) {
      const sequence = sequenceOf(id, prefix);
      if (sequence === undefined || sequence >= below) continue;
      if (flight.completedAt === undefined && flight.error === undefined) {
        kept++;
        continue;
      }
      this.flights.delete(id);
    }
    this.retiredPrefix.set(prefix, Math.max(this.retiredPrefix.get(prefix) ?? 0, below));
    return kept;
  }

  private isRetired(id: string): boolean {
    for (const [prefix, below] of this.retiredPrefix) {
      const sequence = sequenceOf(id, prefix);
      if (sequence !== undefined && sequence < below) return true;
    }
    return false;
  }

  /** Clears samples and counters (flights stay tracked). */
  resetCounters(): void {
    this.latencies = [];
    this.ackLatencies = [];
    this.counters = { deliveries: 0, duplicates: 0, unexpected: 0, errors: 0, misrouted: 0 };
  }

  forgetFlights(): void {
    this.flights.clear();
  }

  async close(): Promise<void> {
    await Promise.all(
      this.sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.closed || socket.ws.readyState === WebSocket.CLOSED) {
              resolve();
              return;
            }
            const timer = setTimeout(() => {
              socket.ws.terminate();
              resolve();
            }, 5_000);
            socket.ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            socket.ws.close();
          }),
      ),
    );
  }
}

function parse(data: WebSocket.RawData): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data.toString());
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function sequenceOf(id: string, prefix: string): number | undefined {
  if (!id.startsWith(`${prefix}-`)) return undefined;
  const sequence = Number(id.slice(prefix.length + 1));
  return Number.isInteger(sequence) ? sequence : undefined;
}
