import type { ClientFrame } from '#protocol/client-frames';
import { MAX_CONNECT_ROOMS } from '#protocol/connect';
import { historyFrameSchema, type RoomMessageFrame, roomMessageFrameSchema } from '#protocol/server-frames';
import { type ClientOptions, checkRoomName, USAGE, UsageError } from './cli-options.js';
import { type FormatContext, formatFrame, formatRoomMessage } from './frame-format.js';
import type { RoomHistory } from './history.js';
import { SeenMessages } from './seen-messages.js';

/** Errors after which the same send (same messageId) may succeed. */
const RETRYABLE_ERRORS = new Set(['internal_error', 'rate_limited']);
const MAX_SEND_RETRIES = 3;
/** A resume with no message seen yet starts this far back; duplicates are dropped by messageId. */
const RESUME_MARGIN_MS = 60_000;

export interface SessionOutput {
  /** stdout: a display line, or in --json mode one JSON frame. */
  print(line: string): void;
  /** Connection status and problems: stdout for people, stderr in --json mode. */
  status(line: string): void;
}

export interface SessionDeps {
  options: ClientOptions;
  /** Sends on the socket now; false when it is not open. */
  send(text: string): boolean;
  output: SessionOutput;
  format: FormatContext;
  fetchHistory(room: string, limit: number): Promise<RoomHistory>;
  /** Asks the program to shut down with this exit code. */
  quit(code: number): void;
  newMessageId(): string;
  now(): Date;
}

interface Position {
  timestamp: string;
  messageId: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The frames this client builds, checked against the protocol's types (raw `--json` input goes out as typed). */
const encode = (frame: ClientFrame) => JSON.stringify(frame);

const sortKey = (position: Position) => `${position.timestamp}#${position.messageId}`;

/**
 * The client's state and rules, apart from the socket and the terminal: which rooms it is in,
 * what it has shown (dedup by messageId), where each room's catch-up resumes, and which sends
 * still await their ack (re-sent with the same messageId after a reconnect, so never doubled).
 */
export class ChatSession {
  private rooms: string[];
  private current: string;
  private readonly seen = new SeenMessages();
  private readonly lastSeen = new Map<string, Position>();
  private readonly resumeFrom = new Map<string, string>();
  /** Sends awaiting their ack; `sent` once they went out on some connection. */
  private readonly unacked = new Map<string, { frame: string; retries: number; sent: boolean }>();
  private readonly outbox: string[] = [];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Frames that arrived before the start-up history was printed; shown after it, in order. */
  private held: string[] | undefined = [];
  private pingsAsked = 0;

  constructor(private readonly deps: SessionDeps) {
    this.rooms = [...deps.options.rooms];
    this.current = this.rooms[0] ?? 'general';
    for (const room of this.rooms) this.markJoined(room);
  }

  /** Rooms to put in the connect URL; any beyond the server's limit are re-joined after open. */
  connectRooms(): string[] {
    return this.rooms.slice(0, MAX_CONNECT_ROOMS);
  }

  /** Prints each room's recent history, then whatever arrived live meanwhile. */
  async showStartupHistory(): Promise<void> {
    const { options, output } = this.deps;
    if (options.historyLimit > 0) {
      for (const room of [...this.rooms]) await this.showHistory(room, options.historyLimit);
    }
    const held = this.held ?? [];
    this.held = undefined;
    for (const text of held) this.handle(text);
    if (!options.json) output.status(this.deps.format.paint.dim(`typing to #${this.current} · /help for commands`));
  }

  private async showHistory(room: string, limit: number): Promise<void> {
    const { output, format, options } = this.deps;
    try {
      const history = await this.deps.fetchHistory(room, limit);
      for (const message of history.messages) this.advance(message);
      if (options.json) {
        output.print(JSON.stringify({ type: 'history', room, messages: history.messages, hasMore: history.hasMore }));
        for (const message of history.messages) this.seen.add(message.messageId);
        return;
      }
      if (history.messages.length === 0) {
        output.print(format.paint.dim(`#${room}: no messages yet`));
        return;
      }
      output.print(format.paint.dim(`── #${room}: last ${history.messages.length} message(s) ──`));
      for (const message of history.messages) {
        if (this.seen.add(message.messageId)) output.print(formatRoomMessage(message, format));
      }
    } catch (error) {
      output.status(format.paint.error(`history of #${room} unavailable: ${(error as Error).message}`));
    }
  }

  onOpen(reconnected: boolean): void {
    this.deps.output.status(this.deps.format.paint.dim(reconnected ? 'reconnected; catching up' : 'connected'));
    for (const room of this.rooms.slice(MAX_CONNECT_ROOMS)) this.deps.send(encode({ action: 'joinRoom', room }));
    if (reconnected) {
      for (const room of this.rooms) this.resume(room);
      // Same messageId: a send that did reach the server before the drop is not stored twice.
      for (const pending of this.unacked.values()) if (pending.sent) this.deps.send(pending.frame);
    }
    // Whatever was typed while offline goes out in the order it was typed.
    for (const frame of this.outbox.splice(0)) this.deps.send(frame);
    for (const pending of this.unacked.values()) pending.sent = true;
  }

  onDisconnect(info: { code: number; reason: string; retryInMs: number }): void {
    const why = info.reason ? `${info.code} ${info.reason}` : String(info.code);
    this.deps.output.status(
      this.deps.format.paint.dim(`disconnected (${why}); reconnecting in ${(info.retryInMs / 1000).toFixed(1)} s`),
    );
  }

  onMessage(text: string): void {
    if (this.held) this.held.push(text);
    else this.handle(text);
  }

  private handle(text: string): void {
    const { output, options, format } = this.deps;
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      if (options.json) output.print(JSON.stringify({ type: 'raw', data: text }));
      else output.print(format.paint.dim(text));
      return;
    }
    this.track(frame);
    if (options.json) {
      output.print(JSON.stringify(frame));
      return;
    }
    this.display(frame);
  }

  /** State every frame updates, whatever the output mode. */
  private track(frame: unknown): void {
    if (!isObject(frame)) return;
    const messageId = typeof frame.messageId === 'string' ? frame.messageId : undefined;
    switch (frame.type) {
      case 'ack':
        if (messageId) this.unacked.delete(messageId);
        break;
      case 'error':
        if (messageId) this.sendFailed(messageId, String(frame.code));
        break;
      case 'joined':
        if (typeof frame.room === 'string' && !this.rooms.includes(frame.room)) {
          this.rooms.push(frame.room);
          this.markJoined(frame.room);
        }
        if (typeof frame.room === 'string') this.current = frame.room;
        break;
      case 'left':
        if (typeof frame.room === 'string') {
          this.rooms = this.rooms.filter((room) => room !== frame.room);
          if (this.current === frame.room) this.current = this.rooms[0] ?? this.current;
        }
        break;
      case 'message': {
        const message = roomMessageFrameSchema.safeParse(frame);
        if (message.success) this.advance(message.data);
        break;
      }
      case 'history': {
        const history = historyFrameSchema.safeParse(frame);
        if (!history.success) break;
        for (const message of history.data.messages) this.advance(message);
        // A catch-up longer than one page: the next page continues exactly where this one ended.
        if (history.data.hasMore && history.data.cursor) {
          this.deps.send(encode({ action: 'resume', room: history.data.room, cursor: history.data.cursor }));
        }
        break;
      }
    }
  }

  private display(frame: unknown): void {
    const { output, format } = this.deps;
    const history = historyFrameSchema.safeParse(frame);
    if (history.success) {
      for (const message of history.data.messages) {
        if (this.seen.add(message.messageId)) output.print(formatRoomMessage(message, format));
      }
      return;
    }
    const message = roomMessageFrameSchema.safeParse(frame);
    if (message.success) {
      if (this.seen.add(message.data.messageId)) output.print(formatRoomMessage(message.data, format));
      return;
    }
    if (isObject(frame) && frame.type === 'pong') {
      // Keepalive pongs stay quiet; only the ones asked for with /ping are shown.
      if (this.pingsAsked === 0) return;
      this.pingsAsked--;
    }
    for (const line of formatFrame(frame, format)) output.print(line);
    if (isObject(frame) && frame.type === 'joined' && typeof frame.room === 'string') {
      void this.showHistory(frame.room, this.deps.options.historyLimit);
    }
  }

  /** Remembers the newest message seen in its room: the next resume starts after it. */
  private advance(message: RoomMessageFrame): void {
    const position = { timestamp: message.timestamp, messageId: message.messageId };
    const known = this.lastSeen.get(message.room);
    if (!known || sortKey(position) > sortKey(known)) this.lastSeen.set(message.room, position);
  }

  private markJoined(room: string): void {
    if (!this.resumeFrom.has(room)) {
      this.resumeFrom.set(room, new Date(this.deps.now().getTime() - RESUME_MARGIN_MS).toISOString());
    }
  }

  private resume(room: string): void {
    const last = this.lastSeen.get(room);
    const frame: ClientFrame = last
      ? { action: 'resume', room, lastTimestamp: last.timestamp, lastMessageId: last.messageId }
      : { action: 'resume', room, lastTimestamp: this.resumeFrom.get(room) ?? this.deps.now().toISOString() };
    this.deps.send(encode(frame));
  }

  private sendFailed(messageId: string, code: string): void {
    const pending = this.unacked.get(messageId);
    if (!pending) return;
    if (!RETRYABLE_ERRORS.has(code) || pending.retries >= MAX_SEND_RETRIES) {
      this.unacked.delete(messageId);
      return;
    }
    pending.retries++;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      if (this.unacked.has(messageId)) this.deps.send(pending.frame);
    }, 1_000 * pending.retries);
    this.retryTimers.add(timer);
  }

  /** Sends a frame now, or once connected. */
  private sendFrame(frame: string): void {
    if (!this.deps.send(frame)) this.outbox.push(frame);
  }

  /** A send that is re-sent, with its messageId, until acknowledged. */
  private sendTracked(messageId: string, frame: string): void {
    const sent = this.deps.send(frame);
    this.unacked.set(messageId, { frame, retries: 0, sent });
    if (!sent) this.outbox.push(frame);
  }

  private sendMessage(text: string): void {
    const messageId = this.deps.newMessageId();
    this.sendTracked(messageId, encode({ action: 'sendMessage', room: this.current, message: text, messageId }));
  }

  /** One line typed (or piped) on stdin. */
  input(line: string): void {
    const text = line.trim();
    if (text === '') return;
    const { options, output, format } = this.deps;
    if (options.json && (text.startsWith('{') || text.startsWith('['))) {
      let frame: unknown;
      try {
        frame = JSON.parse(text);
      } catch {
        output.status(format.paint.error('not a JSON frame; nothing sent'));
        return;
      }
      if (!isObject(frame)) {
        output.status(format.paint.error('a frame must be a JSON object; nothing sent'));
        return;
      }
      const encoded = JSON.stringify(frame);
      if (frame.action === 'sendMessage' && typeof frame.messageId === 'string') {
        this.sendTracked(frame.messageId, encoded);
      } else {
        this.sendFrame(encoded);
      }
      return;
    }
    if (text.startsWith('/')) {
      this.command(text);
      return;
    }
    this.sendMessage(line.replace(/\s+$/, ''));
  }

  private command(text: string): void {
    const { output, format } = this.deps;
    const [name = '', ...words] = text.split(/\s+/);
    const argument = words.join(' ');
    try {
      switch (name.toLowerCase()) {
        case '/join': {
          const room = checkRoomName(argument);
          this.sendFrame(encode({ action: 'joinRoom', room }));
          // Lines typed next go to the new room, even before the server's reply arrives.
          this.current = room;
          return;
        }
        case '/leave': {
          const room = checkRoomName(argument || this.current);
          this.sendFrame(encode({ action: 'leaveRoom', room }));
          return;
        }
        case '/rooms':
          this.sendFrame(encode({ action: 'listRooms' }));
          return;
        case '/ping':
          this.pingsAsked++;
          this.sendFrame(encode({ action: 'ping' }));
          return;
        case '/help':
          output.status(format.paint.dim(USAGE.slice(USAGE.indexOf('Commands:'))));
          return;
        case '/quit':
        case '/exit':
          this.deps.quit(0);
          return;
        default:
          output.status(format.paint.error(`unknown command ${name}; /help lists them`));
      }
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      output.status(format.paint.error(error.message));
    }
  }

  /** stdin closed: leave once every message sent has been acknowledged (or the wait runs out). */
  async endOfInput(maxWaitMs = 5_000): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    while (this.unacked.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    this.deps.quit(0);
  }

  get pendingSends(): number {
    return this.unacked.size;
  }

  get currentRoom(): string {
    return this.current;
  }

  dispose(): void {
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
  }
}
