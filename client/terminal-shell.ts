import type { ChatClient, ChatEvent, HistoryPage, MessageOrigin } from '#client-core/chat-client';
import type { ConnectionState } from '#client-core/reconnecting-socket';
import { roomKey, type ThreadView } from '#client-core/threads';
import type { ChatItem } from '#client-core/timeline';
import type { ClientFrame } from '#protocol/client-frames';
import type { RoomMessageFrame, ServerFrame } from '#protocol/server-frames';
import { type ClientOptions, checkRoomName, USAGE, UsageError } from './cli-options.js';
import { type FormatContext, formatFrame, formatItem } from './frame-format.js';

export interface ShellOutput {
  /** stdout: a display line, or in --json mode one JSON frame. */
  print(line: string): void;
  /** Connection status and problems: stdout for people, stderr in --json mode. */
  status(line: string): void;
}

export interface ShellDeps {
  client: ChatClient;
  options: ClientOptions;
  output: ShellOutput;
  format: FormatContext;
  /** Asks the program to shut down with this exit code. */
  quit(code: number): void;
  /** The HTTP status of the last refused handshake, which a close code cannot carry. */
  refusedWith?(): number | undefined;
  /** /upload: sends a file from disk to the active thread; resolves with what to tell the user. */
  uploadFile?(path: string): Promise<string>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A thread's message as the room message frame the --json output shows for history. */
const asRoomFrame = (room: string, item: ChatItem): RoomMessageFrame => ({
  type: 'message',
  action: 'message',
  messageId: item.id,
  room,
  user_id: item.senderId,
  userName: item.senderName,
  message: item.text,
  timestamp: item.timestamp,
});

/**
 * The terminal over ChatClient: the client keeps the state and the rules (rooms, dedup, outbox,
 * catch-up); the shell turns typed lines into its actions and prints what happens, as coloured
 * lines or, with --json, every raw frame. Output starts with each room's recent history; whatever
 * arrives meanwhile is held and printed after it.
 */
export class TerminalShell {
  readonly #deps: ShellDeps;
  readonly #unsubscribe: () => void;
  /** Events that came before the start-up history was printed. */
  #held: ChatEvent[] | undefined = [];
  /** Lines typed before the first connection opened and the history was printed; run then, in order. */
  #waiting: string[] | undefined = [];
  #opened = false;
  #startupDone = false;
  #pingsAsked = 0;
  /** Rooms whose history block was printed: a `joined` for one (a re-join past the URL's limit) prints none. */
  readonly #historyShown = new Set<string>();
  /** messageIds of raw --json sendMessage frames not yet answered: end of input waits for them. */
  readonly #rawSends = new Set<string>();

  constructor(deps: ShellDeps) {
    this.#deps = deps;
    this.#unsubscribe = deps.client.subscribe((event) => this.#onEvent(event));
  }

  /** `#room> `, or `@peer> ` in a direct conversation. */
  get prompt(): string {
    const thread = this.#deps.client.snapshot().activeThread;
    if (!thread) return '> ';
    return thread.kind === 'room' ? `#${thread.name}> ` : `@${thread.peerName ?? thread.name}> `;
  }

  /** Prints each room's recent history, then whatever arrived live meanwhile. */
  async showStartupHistory(): Promise<void> {
    const { options, output, format, client } = this.#deps;
    if (options.historyLimit > 0) {
      for (const room of client.snapshot().rooms.map((thread) => thread.name)) await this.#showHistory(room);
    }
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const event of held) this.#show(event);
    if (!options.json) output.status(format.paint.dim(`typing to ${this.prompt.slice(0, -2)} · /help for commands`));
    this.#startupDone = true;
    this.#runWaitingInput();
  }

  /** One line typed (or piped) on stdin. */
  input(line: string): void {
    if (this.#waiting) {
      // Quitting needs no connection; anything else waits for one.
      if (/^\/(quit|exit)\s*$/i.test(line.trim())) this.#deps.quit(0);
      else this.#waiting.push(line);
      return;
    }
    const text = line.trim();
    if (text === '') return;
    if (this.#deps.options.json && (text.startsWith('{') || text.startsWith('['))) {
      this.#sendRaw(text);
      return;
    }
    if (text.startsWith('/')) {
      this.#command(text);
      return;
    }
    this.#deps.client.send(line.replace(/\s+$/, ''));
  }

  /** stdin closed: leave once every message sent has been acknowledged (or the wait runs out). */
  async endOfInput(maxWaitMs = 5_000): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    const busy = () =>
      this.#waiting !== undefined || this.#deps.client.snapshot().pendingSends > 0 || this.#rawSends.size > 0;
    while (busy() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    this.#deps.quit(0);
  }

  dispose(): void {
    this.#unsubscribe();
  }

  // ------------------------------------------------------------------ what the client reports

  #onEvent(event: ChatEvent): void {
    if (event.type === 'connection') this.#onConnection(event.state);
    else if (event.type === 'notice')
      this.#deps.output.status(this.#deps.format.paint.error(`! ${event.code}: ${event.message}`));
    else if (event.type === 'frame' || event.type === 'message-added') {
      if (this.#held) this.#held.push(event);
      else this.#show(event);
    }
  }

  #onConnection(state: ConnectionState): void {
    const { output, format } = this.#deps;
    if (state.state === 'open') {
      output.status(format.paint.dim(this.#opened ? 'reconnected; catching up' : 'connected'));
      this.#opened = true;
      // After the client's own open work (rejoins, the outbox), which runs once this event returns.
      queueMicrotask(() => this.#runWaitingInput());
    } else if (state.state === 'waiting' && state.code !== undefined) {
      const refused = this.#deps.refusedWith?.();
      const reason = state.reason || (refused ? `HTTP ${refused}` : '');
      const why = reason ? `${state.code} ${reason}` : String(state.code);
      output.status(format.paint.dim(`disconnected (${why}); reconnecting in ${(state.delayMs / 1000).toFixed(1)} s`));
    }
  }

  #show(event: ChatEvent): void {
    if (event.type === 'message-added') this.#showMessage(event.key, event.item, event.origin);
    else if (event.type === 'frame') this.#showFrame(event.frame, event.text);
  }

  /** Text mode prints messages as the client first has them; --json prints the frames instead. */
  #showMessage(key: string, item: ChatItem, origin: MessageOrigin): void {
    // Older pages are printed as a block by #showHistory.
    if (this.#deps.options.json || origin === 'older') return;
    const snapshot = this.#deps.client.snapshot();
    const thread = [...snapshot.rooms, ...snapshot.conversations].find((each) => each.key === key);
    if (thread) this.#deps.output.print(formatItem(thread, item, snapshot.me.userId, this.#deps.format));
  }

  #showFrame(frame: ServerFrame | undefined, text: string): void {
    const { output, options, format } = this.#deps;
    if (frame && (frame.type === 'ack' || frame.type === 'error') && 'messageId' in frame && frame.messageId) {
      this.#rawSends.delete(frame.messageId);
    }
    if (frame?.type === 'left') this.#historyShown.delete(frame.room);
    if (options.json) {
      output.print(frame ? JSON.stringify(frame) : JSON.stringify({ type: 'raw', data: text }));
      return;
    }
    if (!frame) {
      output.print(format.paint.dim(text));
      return;
    }
    // Their messages were printed as the client took them in, each once.
    if (frame.type === 'message' || frame.type === 'history') return;
    // A big room's typing comes back to its sender too (docs/protocol.md#typing-1).
    if (frame.type === 'typing' && frame.userId === this.#deps.client.snapshot().me.userId) return;
    if (frame.type === 'pong') {
      // Keepalive pongs stay quiet; only the ones asked for with /ping are shown.
      if (this.#pingsAsked === 0) return;
      this.#pingsAsked--;
    }
    for (const line of formatFrame(frame, format)) output.print(line);
    if (frame.type === 'error' && frame.messageId && this.#failed().some((item) => item.id === frame.messageId)) {
      output.print(format.paint.dim('  not sent; /retry sends it again'));
    }
    if (frame.type === 'joined') void this.#showHistory(frame.room);
  }

  /** A room's newest page, as one block (or one `history` frame with --json). */
  async #showHistory(room: string): Promise<void> {
    const { output, format, options, client } = this.#deps;
    if (options.historyLimit === 0 || this.#historyShown.has(room)) return;
    this.#historyShown.add(room);
    const page: HistoryPage = await client.firstPage(roomKey(room));
    if (page.error) {
      output.status(format.paint.error(`history of #${room} unavailable: ${page.error}`));
      return;
    }
    if (options.json) {
      const messages = page.added.map((item) => asRoomFrame(room, item));
      output.print(JSON.stringify({ type: 'history', room, messages, hasMore: page.hasMore }));
      return;
    }
    if (page.added.length === 0) {
      output.print(format.paint.dim(`#${room}: no messages yet`));
      return;
    }
    output.print(format.paint.dim(`── #${room}: last ${page.added.length} message(s) ──`));
    const me = client.snapshot().me.userId;
    for (const item of page.added) output.print(formatItem({ kind: 'room', name: room }, item, me, format));
  }

  // ------------------------------------------------------------------ what the user types

  #runWaitingInput(): void {
    if (!this.#opened || !this.#startupDone || !this.#waiting) return;
    const lines = this.#waiting;
    this.#waiting = undefined;
    for (const line of lines) this.input(line);
  }

  /** --json: a line that is a JSON object goes out as the frame it is; the server validates it. */
  #sendRaw(text: string): void {
    const { output, format, client } = this.#deps;
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
    if (!client.sendFrame(frame as ClientFrame)) {
      output.status(format.paint.error('not connected; nothing sent'));
      return;
    }
    if (frame.action === 'sendMessage' && typeof frame.messageId === 'string') this.#rawSends.add(frame.messageId);
  }

  #command(text: string): void {
    const { output, format, client } = this.#deps;
    const [name = '', ...words] = text.split(/\s+/);
    const argument = words.join(' ');
    try {
      switch (name.toLowerCase()) {
        case '/join':
          client.joinRoom(checkRoomName(argument));
          return;
        case '/leave': {
          const active = client.snapshot().activeThread;
          client.leaveRoom(checkRoomName(argument || (active?.kind === 'room' ? active.name : '')));
          return;
        }
        case '/rooms':
          this.#sendOrSay({ action: 'listRooms' });
          return;
        case '/ping':
          if (this.#sendOrSay({ action: 'ping' })) this.#pingsAsked++;
          return;
        case '/retry': {
          const failed = this.#failed();
          if (failed.length === 0) output.status(format.paint.dim('nothing to retry'));
          for (const item of failed) client.retry(item.id);
          return;
        }
        case '/edit': {
          const last = client.lastOwnMessage();
          if (!last) output.status(format.paint.dim('nothing of yours to edit here yet'));
          else if (!client.editMessage(last.id, argument)) output.status(format.paint.dim('usage: /edit <new text>'));
          return;
        }
        case '/react': {
          const last = client.lastMessage();
          if (!last) output.status(format.paint.dim('no message to react to here yet'));
          else if (argument === '' || !client.toggleReaction(last.id, argument))
            output.status(format.paint.dim('usage: /react <emoji> (again to take it back)'));
          return;
        }
        case '/upload': {
          const upload = this.#deps.uploadFile;
          if (!argument || !upload)
            throw new UsageError(upload ? '/upload needs a file path' : 'uploads are not available');
          output.status(format.paint.dim(`uploading ${argument}…`));
          void upload(argument).then((line) => output.status(line));
          return;
        }
        case '/create-private':
          this.#sendOrSay({
            action: 'createRoom',
            visibility: 'private',
            ...(argument ? { title: argument } : {}),
          });
          return;
        case '/create-room': {
          const [room = '', ...title] = words;
          this.#sendOrSay({
            action: 'createRoom',
            visibility: 'public',
            room: checkRoomName(room),
            ...(title.length ? { title: title.join(' ') } : {}),
          });
          return;
        }
        case '/invite':
        case '/kick':
        case '/unban': {
          const action = ({ '/invite': 'inviteMember', '/kick': 'kickMember', '/unban': 'unbanMember' } as const)[
            name.toLowerCase() as '/invite' | '/kick' | '/unban'
          ];
          const [userId = '', room] = words;
          if (!userId) throw new UsageError(`${name} needs a user id`);
          this.#sendOrSay({ action, room: this.#roomOrActive(room), userId });
          return;
        }
        case '/ban': {
          const [userId = '', minutes, room] = words;
          if (!userId) throw new UsageError('/ban needs a user id');
          const duration = minutes === undefined ? undefined : Number(minutes);
          if (duration !== undefined && !(Number.isInteger(duration) && duration > 0)) {
            throw new UsageError('/ban <user> [minutes]: minutes must be a whole number');
          }
          this.#sendOrSay({
            action: 'banMember',
            room: this.#roomOrActive(room),
            userId,
            ...(duration !== undefined ? { durationSeconds: duration * 60 } : {}),
          });
          return;
        }
        case '/role': {
          const [userId = '', role = '', room] = words;
          if (!userId || !['owner', 'moderator', 'member'].includes(role)) {
            throw new UsageError('/role <user> <owner|moderator|member>');
          }
          this.#sendOrSay({
            action: 'setRole',
            room: this.#roomOrActive(room),
            userId,
            role: role as 'owner' | 'moderator' | 'member',
          });
          return;
        }
        case '/quit-room':
          this.#sendOrSay({ action: 'quitRoom', room: this.#roomOrActive(words[0]) });
          return;
        case '/members':
          this.#sendOrSay({ action: 'listMembers', room: this.#roomOrActive(words[0]) });
          return;
        case '/delete-room':
          this.#sendOrSay({ action: 'deleteRoom', room: this.#roomOrActive(words[0]) });
          return;
        case '/help':
          output.status(format.paint.dim(USAGE.slice(USAGE.indexOf('Commands:'))));
          return;
        case '/quit':
        case '/exit':
          this.#deps.quit(0);
          return;
        default:
          output.status(format.paint.error(`unknown command ${name}; /help lists them`));
      }
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      output.status(format.paint.error(error.message));
    }
  }

  /** A room named on the command line, else the room being viewed. */
  #roomOrActive(room: string | undefined): string {
    const active = this.#deps.client.snapshot().activeThread;
    return checkRoomName(room ?? (active?.kind === 'room' ? active.name : ''));
  }

  #sendOrSay(frame: ClientFrame): boolean {
    const sent = this.#deps.client.sendFrame(frame);
    if (!sent) this.#deps.output.status(this.#deps.format.paint.error('not connected; try again once reconnected'));
    return sent;
  }

  /** This user's messages the server refused, in every thread. */
  #failed(): ChatItem[] {
    const snapshot = this.#deps.client.snapshot();
    const threads: readonly ThreadView[] = [...snapshot.rooms, ...snapshot.conversations];
    return threads.flatMap((thread) =>
      thread.timeline.list().filter((item) => item.mine && item.delivery === 'failed'),
    );
  }
}
