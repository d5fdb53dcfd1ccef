import type { ClientFrame } from '#protocol/client-frames';
import { MAX_CONNECT_ROOMS } from '#protocol/connect';
import type { ChatContext } from './chat-context.js';
import type { ChatClientDeps, ChatEvent, ChatIdentity, ChatSnapshot, HistoryPage } from './chat-types.js';
import { DirectMessages } from './direct-messages.js';
import { applyServerFrame, type FrameTargets } from './frame-rules.js';
import { HistoryPaging } from './history-paging.js';
import { parseServerFrame } from './incoming.js';
import { lastMessage, lastOwnMessage, MessageChangeActions } from './message-changes.js';
import { Outbox } from './outbox.js';
import { Presence } from './presence.js';
import { type ConnectionState, ReconnectingSocket } from './reconnecting-socket.js';
import { RoomAdmin } from './room-admin.js';
import { RoomList } from './room-list.js';
import { RoomReads } from './room-reads.js';
import { SequenceWatch } from './sequence-watch.js';
import { ThreadStore } from './thread-store.js';
import type { ChatItem } from './timeline.js';
import { TypingIndicators } from './typing.js';

export type {
  ChatClientDeps,
  ChatEvent,
  ChatIdentity,
  ChatRest,
  ChatSnapshot,
  HistoryPage,
  KeyValueStore,
  MessageOrigin,
} from './chat-types.js';
export type { RoomInfo, RoomPermissions, RoomRole } from './room-info.js';
export { permissionsOf } from './room-info.js';

/**
 * The chat without a UI: rooms, direct conversations, their timelines, presence and unread counts,
 * the outbox, and what each server frame does to them, over one reconnecting socket. UIs call its
 * actions, read `snapshot()` and re-render on `change` (or, printing as they go, follow the
 * synchronous events). The parts live in their own modules and share one ChatContext.
 */
export class ChatClient {
  readonly #deps: ChatClientDeps;
  readonly #context: ChatContext;
  readonly #threads: ThreadStore;
  readonly #socket: ReconnectingSocket;
  readonly #outbox: Outbox;
  readonly #history: HistoryPaging;
  readonly #presence: Presence;
  readonly #direct: DirectMessages;
  readonly #roomList: RoomList;
  readonly #roomAdmin: RoomAdmin;
  readonly #typing: TypingIndicators;
  readonly #roomReads: RoomReads;
  readonly #sequences: SequenceWatch;
  readonly #changes: MessageChangeActions;
  readonly #frameTargets: FrameTargets;
  readonly #listeners = new Set<(event: ChatEvent) => void>();
  #me: ChatIdentity;
  #activeKey = '';
  #connection: ConnectionState = { state: 'connecting', attempt: 0 };
  #lastError: string | undefined;
  #changeQueued = false;

  constructor(deps: ChatClientDeps) {
    this.#deps = deps;
    this.#me = { userId: deps.me.userId, userName: deps.me.userName };
    const shared = {
      me: () => this.#me,
      activeKey: () => this.#activeKey,
      visible: () => this.#deps.isVisible?.() ?? true,
      emit: (event: ChatEvent) => this.#emit(event),
    };
    this.#threads = new ThreadStore(shared);
    this.#context = {
      ...shared,
      deps,
      threads: this.#threads,
      send: (frame) => this.#socket.send(frame),
      changed: () => this.#changed(),
      showError: (code, message) => this.#showError(code, message),
    };
    this.#outbox = new Outbox(this.#context);
    this.#presence = new Presence(this.#context);
    this.#direct = new DirectMessages(this.#context, (thread) => void this.#history.loadOlder(thread));
    this.#history = new HistoryPaging(this.#context, (thread) => {
      this.#direct.markRead(thread);
      this.#roomReads.markRead(thread);
    });
    this.#roomList = new RoomList(this.#context, () => this.#me.userId);
    this.#roomAdmin = new RoomAdmin(this.#context, this.#roomList);
    this.#typing = new TypingIndicators(this.#context);
    this.#roomReads = new RoomReads(this.#context);
    this.#sequences = new SequenceWatch(this.#context);
    this.#changes = new MessageChangeActions(this.#context);
    this.#frameTargets = {
      context: this.#context,
      outbox: this.#outbox,
      presence: this.#presence,
      history: this.#history,
      direct: this.#direct,
      roomList: this.#roomList,
      roomAdmin: this.#roomAdmin,
      typing: this.#typing,
      roomReads: this.#roomReads,
      sequences: this.#sequences,
      setMe: (me) => {
        this.#me = me;
      },
      setError: (error) => {
        this.#lastError = error;
      },
      selectThread: (key) => this.selectThread(key),
    };
    this.#socket = new ReconnectingSocket({
      WebSocket: deps.WebSocket,
      url: () =>
        deps.webSocketUrl(
          this.#threads
            .rooms()
            .map((thread) => thread.name)
            .slice(0, MAX_CONNECT_ROOMS),
        ),
      onMessage: (text) => this.#onMessage(text),
      onState: (state) => {
        this.#connection = state;
        this.#emit({ type: 'connection', state });
        this.#changed();
      },
      onOpen: (reconnect) => this.#onOpen(reconnect),
      ...(deps.onFailedAttempt ? { onFailedAttempt: deps.onFailedAttempt } : {}),
      ...(deps.isNetworkUp ? { isNetworkUp: deps.isNetworkUp } : {}),
      ...(deps.backoff ? { backoff: deps.backoff } : {}),
      ...(deps.heartbeatMs ? { heartbeatMs: deps.heartbeatMs } : {}),
    });
    this.#activeKey = this.#roomList.restore();
  }

  /** Listens for changes; returns the unsubscribe function. */
  subscribe(listener: (event: ChatEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  snapshot(): ChatSnapshot {
    return {
      me: { ...this.#me },
      connection: this.#connection,
      lastError: this.#lastError,
      activeKey: this.#activeKey,
      activeThread: this.#threads.get(this.#activeKey),
      roomInfo: (room) => this.#roomAdmin.info(room),
      rooms: this.#threads.rooms(),
      conversations: this.#threads.conversations(),
      unreadTotal: this.#threads.all().reduce((sum, thread) => sum + thread.unread, 0),
      pendingSends: this.#outbox.size,
      typingIn: (key) => this.#typing.typingIn(key),
      isOnline: (userId) =>
        userId === this.#me.userId ? this.#connection.state === 'open' : this.#presence.isOnline(userId),
    };
  }

  start(): void {
    this.#socket.start();
    this.selectThread(this.#activeKey);
    void this.#direct.refresh();
  }

  async stop(): Promise<void> {
    this.#presence.stop();
    this.#typing.stop();
    this.#sequences.stop();
    this.#roomReads.stop();
    await this.#socket.stop('signed out');
  }

  // ------------------------------------------------------------------ user actions

  selectThread(key: string): void {
    const thread = this.#threads.get(key);
    if (!thread) return;
    this.#activeKey = key;
    if (thread.kind === 'room') this.#roomList.saveActive(key);
    thread.unread = 0;
    if (thread.cursor === undefined) void this.#history.loadOlder(thread);
    this.#direct.markRead(thread);
    this.#roomReads.markRead(thread);
    this.#emit({ type: 'thread-selected', key });
    this.#changed();
  }

  /** Sends to the active thread; false when there is nothing to send. */
  send(text: string): boolean {
    const thread = this.#threads.get(this.#activeKey);
    if (!thread || text.trim() === '') return false;
    const messageId = this.#deps.newMessageId();
    const now = this.#now();
    this.#threads.add(
      thread,
      {
        id: messageId,
        timestamp: now,
        senderId: this.#me.userId,
        senderName: this.#me.userName,
        text,
        mine: true,
        delivery: 'pending',
      },
      'local',
    );
    thread.lastActivity = now;
    this.#typing.userSent(thread.key);
    this.#lastError = undefined;
    this.#outbox.send(thread, messageId, text);
    return true;
  }

  /** The user is typing in the active thread: tells the others, at most once every few seconds. */
  typing(): void {
    const thread = this.#threads.get(this.#activeKey);
    if (thread) this.#typing.userTyping(thread);
  }

  /** Seqs known to be missing in a room (a gap the client is waiting for or resuming). */
  missingSeqs(key = this.#activeKey): number[] {
    return this.#sequences.missing(key);
  }

  /** Sends a refused message again, with its messageId. */
  retry(messageId: string): void {
    const thread = this.#threads.ofMessage(messageId);
    const item = thread?.timeline.get(messageId);
    if (!thread || !item || item.delivery !== 'failed') return;
    thread.timeline.update(messageId, { delivery: 'pending' });
    this.#outbox.send(thread, messageId, item.text);
  }

  /** Sends any frame as it is (a protocol console); false when not connected. Nothing is tracked. */
  sendFrame(frame: ClientFrame): boolean {
    return this.#socket.send(frame);
  }

  deleteMessage(messageId: string): void {
    if (!this.#socket.send({ action: 'deleteMessage', messageId })) {
      this.#showError('offline', 'Not connected: try again once the connection is back.');
    }
  }

  /** Edits one of this user's messages; the text changes when the server's `edited` frame comes. */
  editMessage(messageId: string, text: string): boolean {
    return this.#changes.edit(messageId, text);
  }

  /** Reacts with the emoji, or takes it back if this user already did. */
  toggleReaction(messageId: string, emoji: string): boolean {
    return this.#changes.toggleReaction(messageId, emoji);
  }

  /** The newest message this user can edit in a thread (the active one by default): the up arrow's target. */
  lastOwnMessage(key = this.#activeKey): ChatItem | undefined {
    return lastOwnMessage(this.#threads.get(key));
  }

  /** The newest message that can be reacted to in a thread (the active one by default). */
  lastMessage(key = this.#activeKey): ChatItem | undefined {
    return lastMessage(this.#threads.get(key));
  }

  /** The room appears once the server confirms the join (a `joined` frame), never optimistically. */
  joinRoom(room: string): void {
    const key = this.#roomList.join(room);
    if (key) this.selectThread(key);
  }

  leaveRoom(room: string): void {
    this.#roomList.leave(room);
  }

  /** Private rooms and roles: create, invite, kick, ban, unban, setRole, quit, delete (see RoomAdmin). */
  get rooms(): RoomAdmin {
    return this.#roomAdmin;
  }

  openDirect(peerId: string, peerName?: string): void {
    const id = peerId.trim();
    if (id === '' || id === this.#me.userId) return;
    this.selectThread(this.#threads.ensureDirect(id, peerName).key);
  }

  /** Fetches the next older page of the active thread, or of the thread with this key. */
  loadOlder(key = this.#activeKey): Promise<HistoryPage> {
    const thread = this.#threads.get(key);
    return thread ? this.#history.loadOlder(thread) : Promise.resolve({ added: [], hasMore: false });
  }

  /** The thread's newest history page: fetched if it never was, else the answer of that first fetch. */
  firstPage(key: string): Promise<HistoryPage> {
    const thread = this.#threads.get(key);
    return thread ? this.#history.firstPage(thread) : Promise.resolve({ added: [], hasMore: false });
  }

  dismissError(): void {
    this.#lastError = undefined;
    this.#changed();
  }

  /** The user can see the chat again: clear the active thread's unread count and check the socket. */
  visible(): void {
    const thread = this.#threads.get(this.#activeKey);
    if (thread) {
      thread.unread = 0;
      this.#direct.markRead(thread);
      this.#roomReads.markRead(thread);
    }
    this.#socket.probe();
    this.#changed();
  }

  /** The device's network came back or went away. */
  networkChanged(up: boolean): void {
    this.#socket.networkChanged(up);
  }

  // ------------------------------------------------------------------ connection and frames

  /**
   * Every (re)connect. The connect URL subscribed this connection to its rooms before the socket
   * opened, so from here on nothing is missed live; what happened while away is fetched:
   * 1. join the rooms the URL could not carry;
   * 2. resend whatever was never acknowledged (same messageId: the server deduplicates);
   * 3. resume each room after its newest confirmed message, or refetch its newest page;
   * 4. refetch the conversations and the newest page of each open one.
   * Live frames and catch-up overlap freely: the timelines deduplicate by messageId.
   */
  #onOpen(reconnect: boolean): void {
    const rooms = this.#threads.rooms();
    for (const thread of rooms.slice(MAX_CONNECT_ROOMS)) this.#socket.send({ action: 'joinRoom', room: thread.name });
    // A reload remembers private rooms by id only: their titles and this user's roles come with listRooms.
    if (this.#roomAdmin.needsList()) this.#socket.send({ action: 'listRooms' });
    this.#outbox.resendAll();
    for (const thread of rooms) this.#history.catchUpRoom(thread);
    // start() already fetched the conversations for the first connection.
    if (!reconnect) return;
    void this.#direct.refresh().then(() => {
      for (const thread of this.#threads.conversations()) {
        if (thread.cursor !== undefined && !thread.pageLoad) void this.#history.refetchNewest(thread);
      }
    });
  }

  #onMessage(text: string): void {
    const frame = parseServerFrame(text);
    if (frame && applyServerFrame(frame, this.#frameTargets)) this.#changed();
    this.#emit({ type: 'frame', frame, text });
  }

  // ------------------------------------------------------------------ helpers

  #emit(event: ChatEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  #changed(): void {
    if (this.#changeQueued) return;
    this.#changeQueued = true;
    queueMicrotask(() => {
      this.#changeQueued = false;
      this.#emit({ type: 'change' });
    });
  }

  /** A problem the client found itself: shown in the UI and announced as a notice. */
  #showError(code: string, message: string): void {
    this.#lastError = `${code}: ${message}`;
    this.#emit({ type: 'notice', code, message });
    this.#changed();
  }

  #now(): string {
    return (this.#deps.now?.() ?? new Date()).toISOString();
  }
}
