import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { seededRandom } from '../../local/latency/model.js';
import type { LocalStack } from '../../local/stack.js';
import { deleteConnection, type Frame, startTestStack, TestClient } from '../helpers/local-stack.js';

// Sockets cut at random moments during a message stream: a receiver that reconnects, resumes from
// the last message it saw and dedups by messageId must end with every message exactly once.
// RECONNECT_SEED=<n> replays a run's cuts, delays and spacing (timing inside the stack still varies).

const MESSAGE_COUNT = 150;
/** Small catch-up pages, so a reconnect usually has to follow `hasMore`. */
const RESUME_PAGE_SIZE = 3;

interface RoomMessage {
  messageId: string;
  timestamp: string;
  room: string;
}

interface Cut {
  /** Cut right after the sender's ack for this message index. */
  afterIndex: number;
  /** `client`: the receiver's socket is terminated; `server`: the gateway drops it (DELETE @connections). */
  side: 'client' | 'server';
  reconnectDelayMs: number;
}

interface StreamPlan {
  cuts: Cut[];
  spacingMs: number[];
}

function planFor(seed: number): StreamPlan {
  const random = seededRandom(seed); // the same mulberry32 as the latency model: a failing run's plan replays
  const cutCount = 3 + Math.floor(random() * 3);
  const indices = new Set<number>();
  while (indices.size < cutCount) indices.add(5 + Math.floor(random() * (MESSAGE_COUNT - 10)));
  const cuts = [...indices]
    .sort((a, b) => a - b)
    .map((afterIndex) => ({
      afterIndex,
      side: random() < 0.5 ? ('client' as const) : ('server' as const),
      reconnectDelayMs: Math.floor(random() * 300),
    }));
  const spacingMs = Array.from({ length: MESSAGE_COUNT }, () => 10 + Math.floor(random() * 11));
  return { cuts, spacingMs };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const order = (a: RoomMessage, b: RoomMessage) =>
  a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.messageId < b.messageId ? -1 : 1;

/**
 * A client that stays in a room across cut sockets: on every (re)connect it sends `resume` with the
 * last message it saw, follows `hasMore`, and merges history with live frames by messageId.
 */
class ResumingReceiver {
  readonly messages = new Map<string, RoomMessage>();
  duplicates = 0;
  /** Live messages that arrived after a newer one (the fan-outs of successive messages race). */
  outOfOrder = 0;
  received = 0;
  connects = 0;
  cuts = 0;
  historyPages = 0;
  readonly errors: Frame[] = [];
  private socket: WebSocket | undefined;
  private connectionId: string | undefined;
  /** Where the next `resume` starts: every message up to here has been seen. */
  private cursor: RoomMessage | undefined;
  private newest: RoomMessage | undefined;
  /** A catch-up is running on this socket; until it ends, live frames may be ahead of a gap. */
  private resumePending = false;
  private reconnecting: Promise<void> | undefined;
  private nextReconnectDelayMs = 100;
  private stopped = false;

  constructor(
    private readonly stack: LocalStack,
    private readonly userId: string,
    private readonly room: string,
    /** Resume point before anything was seen: a time before the stream began. */
    private readonly since: string,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  /** Cuts the current socket; the receiver reconnects on its own after `reconnectDelayMs`. */
  async cut(side: Cut['side'], reconnectDelayMs: number): Promise<void> {
    // Two cuts close together: the second one cuts the socket the first one's reconnect opens. The
    // first socket may still be closing, its reconnect not scheduled yet: wait for an open one.
    for (let i = 0; i < 3000 && (this.reconnecting || this.socket?.readyState !== WebSocket.OPEN); i++) {
      if (this.reconnecting) await this.reconnecting;
      else await sleep(10);
    }
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) throw new Error('receiver has no open socket to cut');
    this.cuts++;
    this.nextReconnectDelayMs = reconnectDelayMs;
    if (side === 'server' && this.connectionId) {
      // 410 only if the socket is already gone, which a cut can't race with here.
      expect([204, 410]).toContain(await deleteConnection(this.stack, this.connectionId));
    } else {
      socket.terminate();
    }
  }

  /** Resolves once the receiver is connected with no reconnect or catch-up still in progress. */
  async settled(): Promise<void> {
    for (let i = 0; i < 600; i++) {
      if (this.reconnecting) await this.reconnecting;
      if (this.socket?.readyState === WebSocket.OPEN && !this.resumePending && !this.reconnecting) return;
      await sleep(50);
    }
    throw new Error('receiver did not settle within 30 s');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.close();
    });
  }

  private async connect(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.open();
        return;
      } catch (error) {
        if (attempt >= 10 || this.stopped) throw error;
        await sleep(100 * attempt);
      }
    }
  }

  private open(): Promise<void> {
    const url = `${this.stack.urls.webSocket}/?${new URLSearchParams({ userId: this.userId, room: this.room })}`;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`handshake refused: ${response.statusCode}`)),
      );
      socket.once('open', () => {
        this.socket = socket;
        this.connectionId = undefined;
        this.connects++;
        socket.on('message', (data) => this.onFrame(socket, JSON.parse(data.toString()) as Frame));
        socket.on('close', () => this.onClose(socket));
        // $connect has finished (the room subscription exists), so anything not in the catch-up
        // below is fanned out to this socket live.
        this.sendResume(socket);
        resolve();
      });
    });
  }

  private sendResume(socket: WebSocket, pageCursor?: string): void {
    this.resumePending = true;
    socket.send(
      JSON.stringify(
        pageCursor
          ? { action: 'resume', room: this.room, cursor: pageCursor, limit: RESUME_PAGE_SIZE }
          : {
              action: 'resume',
              room: this.room,
              lastTimestamp: this.cursor?.timestamp ?? this.since,
              limit: RESUME_PAGE_SIZE,
            },
      ),
    );
  }

  private onFrame(socket: WebSocket, frame: Frame): void {
    if (frame.type === 'welcome') this.connectionId = String(frame.connectionId);
    else if (frame.type === 'message' && frame.room === this.room) this.accept(frame, 'live');
    else if (frame.type === 'history' && frame.room === this.room) {
      this.historyPages++;
      for (const message of frame.messages as Frame[]) this.accept(message, 'history');
      if (frame.hasMore === true) this.sendResume(socket, String(frame.cursor));
      else {
        // Caught up: history reached the moment of its query, and live frames cover what came after.
        this.resumePending = false;
        this.cursor = this.newest;
      }
    } else if (frame.type === 'error') this.errors.push(frame);
  }

  private accept(frame: Frame, source: 'live' | 'history'): void {
    const message = {
      messageId: String(frame.messageId),
      timestamp: String(frame.timestamp),
      room: String(frame.room),
    };
    this.received++;
    if (this.messages.has(message.messageId)) {
      this.duplicates++;
      return;
    }
    this.messages.set(message.messageId, message);
    if (!this.newest || order(this.newest, message) < 0) this.newest = message;
    else if (source === 'live') this.outOfOrder++;
    // History pages are contiguous after the cursor; a live frame is only once catch-up is done.
    if (source === 'history' || !this.resumePending) {
      if (!this.cursor || order(this.cursor, message) < 0) this.cursor = message;
    }
  }

  private onClose(socket: WebSocket): void {
    if (socket !== this.socket || this.stopped) return;
    this.resumePending = false;
    const delay = this.nextReconnectDelayMs;
    this.nextReconnectDelayMs = 100;
    this.reconnecting = sleep(delay)
      .then(() => this.connect())
      .finally(() => {
        this.reconnecting = undefined;
      });
  }
}

// Both delivery paths: the default (a two-member room is posted by sendMessage itself) and
// DirectFanoutMaxMembers=0 (every message through EventBridge and the state machine).
describe.each<{ path: string; parameters: Record<string, string> }>([
  { path: 'direct path', parameters: {} },
  { path: 'state machine path', parameters: { DirectFanoutMaxMembers: '0' } },
])('sockets cut at random moments during a message stream, $path', ({ path, parameters }) => {
  let stack: LocalStack;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    // The sender streams faster than the default 10 messages/s per connection.
    stack = await startTestStack({ parameters: { RateLimitPerSecond: '100', RateLimitBurst: '200', ...parameters } });
  });

  afterAll(async () => {
    for (const close of closers) await close();
    await stack?.close();
  });

  it('leaves a resuming, deduping receiver with every message exactly once, in send order', async () => {
    const seed = Number(process.env.RECONNECT_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const plan = planFor(seed);
    console.log(
      `${path}: reconnect seed ${seed} (replay with RECONNECT_SEED=${seed}); cuts ${JSON.stringify(plan.cuts.map((cut) => `${cut.afterIndex}:${cut.side}:${cut.reconnectDelayMs}ms`))}`,
    );
    const room = `stream-${seed}`;
    const since = new Date(Date.now() - 1_000).toISOString();

    const receiver = new ResumingReceiver(stack, 'stream-receiver', room, since);
    closers.push(() => receiver.stop());
    await receiver.start();
    const sender = await TestClient.join(stack, { userId: 'stream-sender', room });
    closers.push(() => sender.close());

    const fanOutBatches = () => stack.functions.invocations().PostToConnectionsFunction ?? 0;
    const batchesBefore = fanOutBatches();
    const sent: string[] = [];
    const cutsDone: Array<Promise<void>> = [];
    for (let index = 0; index < MESSAGE_COUNT; index++) {
      const messageId = `${room}-${String(index).padStart(3, '0')}`;
      for (;;) {
        const reply = await sender.request({ action: 'sendMessage', room, message: `#${index}`, messageId });
        if (reply.type === 'ack') break;
        // A client backs off when rate-limited and retries with the same messageId.
        expect(reply).toMatchObject({ type: 'error', code: 'rate_limited' });
        await sleep(100);
      }
      sent.push(messageId);
      for (const cut of plan.cuts.filter((candidate) => candidate.afterIndex === index)) {
        cutsDone.push(receiver.cut(cut.side, cut.reconnectDelayMs));
      }
      await sleep(plan.spacingMs[index] ?? 10);
    }
    await Promise.all(cutsDone);
    await stack.idle();
    await receiver.settled();
    await stack.idle();

    const missing = () => sent.filter((messageId) => !receiver.messages.has(messageId));
    // Frames posted before idle() returned may still be on the wire for a moment.
    await expect.poll(missing, { timeout: 5_000 }).toEqual([]);
    console.log(
      `reconnect seed ${seed}: ${receiver.connects} connections, ${receiver.historyPages} history pages, ` +
        `${receiver.received} messages received, ${receiver.duplicates} duplicates removed by messageId, ` +
        `${receiver.outOfOrder} arrived out of order`,
    );

    expect(receiver.errors).toEqual([]);
    expect(receiver.cuts).toBe(plan.cuts.length);
    expect(receiver.connects).toBe(plan.cuts.length + 1);
    expect(receiver.messages.size).toBe(MESSAGE_COUNT);
    expect([...receiver.messages.values()].every((message) => message.room === room)).toBe(true);
    expect([...receiver.messages.values()].sort(order).map((message) => message.messageId)).toEqual(sent);
    expect(receiver.received).toBe(MESSAGE_COUNT + receiver.duplicates);
    // The path really was the one named: through the state machine, each message is at least one
    // fan-out batch; on the direct path only the reconnects' presence changes are.
    const batches = fanOutBatches() - batchesBefore;
    if (parameters.DirectFanoutMaxMembers === '0') expect(batches).toBeGreaterThanOrEqual(MESSAGE_COUNT);
    else expect(batches).toBeLessThan(MESSAGE_COUNT / 2);
  }, 180_000);
});
