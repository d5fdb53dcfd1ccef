import type { ClientFrame, SendDirectMessageFrame, SendRoomMessageFrame } from '#protocol/client-frames';
import { MAX_CONNECT_ROOMS } from '#protocol/connect';
import type {
  ConversationHistoryPage,
  ConversationsBody,
  RoomHistoryPage,
  RoomPresenceBody,
} from '#protocol/http-bodies';
import type {
  AckFrame,
  DirectMessage,
  ErrorFrame,
  HistoryFrame,
  OnlineUser,
  PresenceFrame,
  RoomMessageFrame,
  ServerFrame,
} from '#protocol/server-frames';
import type { BackoffOptions } from './backoff.js';
import { isDirectMessage, isRoomMessage, parseServerFrame } from './incoming.js';
import { type ConnectionState, ReconnectingSocket, type WebSocketConstructor } from './reconnecting-socket.js';
import {
  byActivity,
  dmKey,
  newestFromPeer,
  newThread,
  type Person,
  roomKey,
  type Thread,
  type ThreadView,
} from './threads.js';
import type { ChatItem } from './timeline.js';

const RESUME_PAGE = 100;
const PRESENCE_REFRESH_MS = 300;

export interface ChatIdentity {
  userId: string;
  userName: string;
}

/** The HTTP API reads the client needs. */
export interface ChatRest {
  roomHistory(room: string, before?: string): Promise<RoomHistoryPage>;
  roomPresence(room: string): Promise<RoomPresenceBody>;
  conversations(): Promise<ConversationsBody>;
  conversationHistory(conversationId: string, before?: string): Promise<ConversationHistoryPage>;
}

/** localStorage's shape; any string store will do. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Everything the client needs from its runtime, so it has no DOM or Node dependency of its own. */
export interface ChatClientDeps {
  me: ChatIdentity;
  rest: ChatRest;
  storage: KeyValueStore;
  WebSocket: WebSocketConstructor;
  /** The connect URL for these rooms (at most MAX_CONNECT_ROOMS), with fresh credentials. */
  webSocketUrl(rooms: string[]): string | Promise<string>;
  newMessageId(): string;
  /** Whether the user can see the chat (a visible tab): decides unread counts and read receipts. */
  isVisible?(): boolean;
  isNetworkUp?(): boolean;
  /** An attempt never opened; 'stop' gives up (see ReconnectingSocket). */
  onFailedAttempt?(attempt: number): Promise<'retry' | 'stop' | undefined> | 'retry' | 'stop' | undefined;
  now?(): Date;
  backoff?: BackoffOptions;
  heartbeatMs?: number;
}

/**
 * What a UI reads. The lists are fresh arrays, but the threads in them are the client's own objects
 * behind read-only types: read a snapshot when the change event comes, rather than keeping it.
 */
export interface ChatSnapshot {
  readonly me: Readonly<ChatIdentity>;
  readonly connection: ConnectionState;
  readonly lastError: string | undefined;
  readonly activeKey: string;
  readonly activeThread: ThreadView | undefined;
  readonly rooms: readonly ThreadView[];
  readonly conversations: readonly ThreadView[];
  readonly unreadTotal: number;
  /** Whether a user is online in any room this client can see. */
  isOnline(userId: string): boolean;
}

/** `change`: the state moved (coalesced, once per microtask); `thread-selected`: a new thread is on screen. */
export type ChatEvent = { type: 'change' } | { type: 'thread-selected'; key: string };

interface Outgoing {
  key: string;
  frame: SendRoomMessageFrame | SendDirectMessageFrame;
}

/**
 * The chat without a UI: rooms, direct conversations, their timelines, presence and unread counts,
 * the outbox, and what each server frame does to them, over one reconnecting socket. UIs call its
 * actions, read `snapshot()` and re-render on `change`.
 */
export class ChatClient {
  readonly #deps: ChatClientDeps;
  readonly #threads = new Map<string, Thread>();
  readonly #socket: ReconnectingSocket;
  /** Sends awaiting their ack, re-sent (same messageId, so never stored twice) on every open. */
  readonly #outbox = new Map<string, Outgoing>();
  /** messageId → thread key, for acks, errors, receipts and deletions that name only the message. */
  readonly #messageThread = new Map<string, string>();
  readonly #presenceRefresh = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #listeners = new Set<(event: ChatEvent) => void>();
  #me: ChatIdentity;
  #activeKey = '';
  #connection: ConnectionState = { state: 'connecting', attempt: 0 };
  #lastError: string | undefined;
  #pendingJoin: string | undefined;
  #changeQueued = false;
  #dmAvailable = true;

  constructor(deps: ChatClientDeps) {
    this.#deps = deps;
    this.#me = { userId: deps.me.userId, userName: deps.me.userName };
    this.#socket = new ReconnectingSocket({
      WebSocket: deps.WebSocket,
      url: () =>
        deps.webSocketUrl(
          this.#rooms()
            .map((thread) => thread.name)
            .slice(0, MAX_CONNECT_ROOMS),
        ),
      onMessage: (text) => {
        const frame = parseServerFrame(text);
        if (frame) this.#onFrame(frame);
      },
      onState: (state) => {
        this.#connection = state;
        this.#changed();
      },
      onOpen: (reconnect) => this.#onOpen(reconnect),
      ...(deps.onFailedAttempt ? { onFailedAttempt: deps.onFailedAttempt } : {}),
      ...(deps.isNetworkUp ? { isNetworkUp: deps.isNetworkUp } : {}),
      ...(deps.backoff ? { backoff: deps.backoff } : {}),
      ...(deps.heartbeatMs ? { heartbeatMs: deps.heartbeatMs } : {}),
    });
    const stored = this.#storedRooms();
    for (const room of stored.length > 0 ? stored : ['general']) this.#ensureRoom(room);
    const active = deps.storage.getItem(this.#storageKey('active'));
    const firstRoom = [...this.#threads.keys()][0] ?? roomKey('general');
    this.#activeKey = active?.startsWith('room:') && this.#threads.has(active) ? active : firstRoom;
  }

  /** Listens for changes; returns the unsubscribe function. */
  subscribe(listener: (event: ChatEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  snapshot(): ChatSnapshot {
    const threads = [...this.#threads.values()];
    return {
      me: { ...this.#me },
      connection: this.#connection,
      lastError: this.#lastError,
      activeKey: this.#activeKey,
      activeThread: this.#threads.get(this.#activeKey),
      rooms: this.#rooms(),
      conversations: this.#conversations(),
      unreadTotal: threads.reduce((sum, thread) => sum + thread.unread, 0),
      isOnline: (userId) => this.#isOnline(userId),
    };
  }

  start(): void {
    this.#socket.start();
    this.selectThread(this.#activeKey);
    void this.#refreshConversations();
  }

  async stop(): Promise<void> {
    for (const timer of this.#presenceRefresh.values()) clearTimeout(timer);
    this.#presenceRefresh.clear();
    await this.#socket.stop('signed out');
  }

  // ------------------------------------------------------------------ user actions

  selectThread(key: string): void {
    const thread = this.#threads.get(key);
    if (!thread) return;
    this.#activeKey = key;
    if (thread.kind === 'room') this.#deps.storage.setItem(this.#storageKey('active'), key);
    thread.unread = 0;
    if (thread.cursor === undefined && !thread.loading) void this.#loadOlder(thread);
    this.#markRead(thread);
    for (const listener of this.#listeners) listener({ type: 'thread-selected', key });
    this.#changed();
  }

  /** Sends to the active thread; false when there is nothing to send. */
  send(text: string): boolean {
    const thread = this.#threads.get(this.#activeKey);
    if (!thread || text.trim() === '') return false;
    const messageId = this.#deps.newMessageId();
    const now = this.#now();
    this.#addItem(thread, {
      id: messageId,
      timestamp: now,
      senderId: this.#me.userId,
      senderName: this.#me.userName,
      text,
      mine: true,
      delivery: 'pending',
    });
    thread.lastActivity = now;
    this.#lastError = undefined;
    this.#sendTracked(thread, messageId, text);
    return true;
  }

  /** Sends a refused message again, with its messageId. */
  retry(messageId: string): void {
    const thread = this.#threads.get(this.#messageThread.get(messageId) ?? '');
    const item = thread?.timeline.get(messageId);
    if (!thread || !item || item.delivery !== 'failed') return;
    thread.timeline.update(messageId, { delivery: 'pending' });
    this.#sendTracked(thread, messageId, item.text);
  }

  deleteMessage(messageId: string): void {
    if (!this.#send({ action: 'deleteMessage', messageId })) {
      this.#showError('offline', 'Not connected: try again once the connection is back.');
    }
  }

  /** The room appears once the server confirms the join (a `joined` frame), never optimistically. */
  joinRoom(room: string): void {
    const name = room.trim().replace(/^#/, '');
    if (name === '') return;
    if (this.#threads.has(roomKey(name))) {
      this.selectThread(roomKey(name));
      return;
    }
    this.#pendingJoin = name;
    if (!this.#send({ action: 'joinRoom', room: name })) {
      this.#showError('offline', 'Not connected: join the room once the connection is back.');
    }
  }

  leaveRoom(room: string): void {
    if (this.#rooms().length <= 1) {
      this.#showError('last_room', 'You are in only this room; join another before leaving it.');
      return;
    }
    if (!this.#send({ action: 'leaveRoom', room })) {
      this.#showError('offline', 'Not connected: leave the room once the connection is back.');
    }
  }

  openDirect(peerId: string, peerName?: string): void {
    const id = peerId.trim();
    if (id === '' || id === this.#me.userId) return;
    this.selectThread(this.#ensureDirect(id, peerName).key);
  }

  /** Fetches the active thread's next older page. */
  loadOlder(): Promise<void> {
    const thread = this.#threads.get(this.#activeKey);
    return thread ? this.#loadOlder(thread) : Promise.resolve();
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
      this.#markRead(thread);
    }
    this.#socket.probe();
    this.#changed();
  }

  /** The device's network came back or went away. */
  networkChanged(up: boolean): void {
    this.#socket.networkChanged(up);
  }

  // ------------------------------------------------------------------ connection

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
    for (const thread of this.#rooms().slice(MAX_CONNECT_ROOMS)) this.#send({ action: 'joinRoom', room: thread.name });
    for (const outgoing of this.#outbox.values()) this.#send(outgoing.frame);
    for (const thread of this.#rooms()) this.#catchUpRoom(thread);
    // start() already fetched the conversations for the first connection.
    if (!reconnect) return;
    void this.#refreshConversations().then(() => {
      for (const thread of this.#conversations()) {
        if (thread.cursor !== undefined && !thread.loading) void this.#refetchNewest(thread);
      }
    });
  }

  #catchUpRoom(thread: Thread): void {
    const newest = thread.timeline.newestConfirmed();
    if (newest) {
      this.#send({
        action: 'resume',
        room: thread.name,
        lastTimestamp: newest.timestamp,
        lastMessageId: newest.id,
        limit: RESUME_PAGE,
      });
    } else if (thread.cursor !== undefined && !thread.loading) {
      void this.#refetchNewest(thread);
    }
  }

  async #loadOlder(thread: Thread): Promise<void> {
    if (thread.loading || thread.cursor === null) return;
    if (thread.kind === 'dm' && !thread.conversationId) {
      thread.cursor = null; // a conversation the server has not seen yet has no history
      this.#changed();
      return;
    }
    thread.loading = true;
    thread.historyError = undefined;
    this.#changed();
    try {
      const before = thread.cursor ?? undefined;
      if (thread.kind === 'room') {
        const page = await this.#deps.rest.roomHistory(thread.name, before);
        for (const frame of page.messages) this.#addItem(thread, this.#fromRoomFrame(frame));
        thread.cursor = page.nextCursor ?? null;
      } else {
        const page = await this.#deps.rest.conversationHistory(thread.conversationId ?? '', before);
        for (const data of page.messages) this.#addDirect(data, { live: false });
        thread.cursor = page.nextCursor ?? null;
      }
    } catch (error) {
      thread.historyError = `Could not load history: ${(error as Error).message}`;
    } finally {
      thread.loading = false;
      this.#markRead(thread);
      this.#changed();
    }
  }

  /** Pages back from the newest message until it meets what this client already has. */
  async #refetchNewest(thread: Thread): Promise<void> {
    let before: string | undefined;
    try {
      for (let page = 0; page < 5; page++) {
        let overlap = false;
        let next: string | undefined;
        if (thread.kind === 'room') {
          const result = await this.#deps.rest.roomHistory(thread.name, before);
          for (const frame of result.messages) {
            overlap ||= thread.timeline.get(frame.messageId) !== undefined;
            this.#addItem(thread, this.#fromRoomFrame(frame));
          }
          next = result.nextCursor;
        } else {
          if (!thread.conversationId) return;
          const result = await this.#deps.rest.conversationHistory(thread.conversationId, before);
          for (const data of result.messages) {
            overlap ||= thread.timeline.get(data.messageId) !== undefined;
            this.#addDirect(data, { live: false });
          }
          next = result.nextCursor;
        }
        if (overlap || !next) return;
        before = next;
      }
    } catch {
      // Catch-up is best effort; the next reconnect or a scroll tries again.
    } finally {
      this.#markRead(thread);
      this.#changed();
    }
  }

  async #refreshConversations(): Promise<void> {
    if (!this.#dmAvailable) return;
    try {
      const { conversations } = await this.#deps.rest.conversations();
      for (const summary of conversations) {
        const thread = this.#ensureDirect(summary.peerId, summary.peerName);
        thread.conversationId = summary.conversationId;
        if (summary.lastMessage) {
          thread.preview = summary.lastMessage.content;
          if (summary.lastMessage.timestamp > thread.lastActivity) thread.lastActivity = summary.lastMessage.timestamp;
        }
        thread.unread = thread.key === this.#activeKey ? 0 : summary.unreadCount;
        if (thread.key === this.#activeKey && thread.cursor === undefined) void this.#loadOlder(thread);
      }
    } catch (error) {
      // A backend without direct messages answers 404: hide nothing, just stop asking.
      if ((error as { status?: number }).status === 404) this.#dmAvailable = false;
    }
    this.#changed();
  }

  // ------------------------------------------------------------------ frames

  #onFrame(frame: ServerFrame): void {
    if (isRoomMessage(frame)) {
      const thread = this.#threads.get(roomKey(frame.room));
      if (thread) this.#addItem(thread, this.#fromRoomFrame(frame), { live: true });
    } else if (isDirectMessage(frame)) {
      this.#addDirect(frame.data, { live: true });
    } else {
      switch (frame.type) {
        case 'welcome':
          this.#me = { userId: frame.user.userId, userName: frame.user.userName };
          for (const [room, online] of Object.entries(frame.online)) {
            this.#setOnline(room, online, frame.onlineTruncated?.[room] === true);
          }
          break;
        case 'ack':
          this.#onAck(frame);
          break;
        case 'error':
          this.#onError(frame);
          break;
        case 'presence':
          this.#onPresence(frame);
          break;
        case 'joined': {
          const thread = this.#ensureRoom(frame.room);
          this.#setOnline(frame.room, frame.online, frame.onlineTruncated === true);
          this.#saveRooms();
          if (this.#pendingJoin === frame.room) {
            this.#pendingJoin = undefined;
            this.selectThread(thread.key);
          }
          this.#catchUpRoom(thread);
          break;
        }
        case 'left':
          this.#onLeft(frame.room);
          break;
        case 'history':
          this.#onHistory(frame);
          break;
        case 'status': {
          const thread = this.#threadOfMessage(frame.data.messageId, frame.data.conversationId);
          thread?.timeline.update(frame.data.messageId, { delivery: frame.data.status });
          break;
        }
        case 'deleted': {
          const { messageId, conversationId, room } = frame.data;
          const thread = room ? this.#threads.get(roomKey(room)) : this.#threadOfMessage(messageId, conversationId);
          thread?.timeline.markDeleted(messageId);
          break;
        }
        default:
          return;
      }
    }
    this.#changed();
  }

  #onAck(frame: AckFrame): void {
    const outgoing = this.#outbox.get(frame.messageId);
    this.#outbox.delete(frame.messageId);
    const thread = this.#threads.get(outgoing?.key ?? this.#messageThread.get(frame.messageId) ?? '');
    if (!thread) return;
    if (thread.kind === 'dm' && frame.conversationId) thread.conversationId ??= frame.conversationId;
    thread.timeline.update(frame.messageId, { delivery: 'sent', timestamp: frame.timestamp });
  }

  #onError(frame: ErrorFrame): void {
    if (frame.messageId && this.#outbox.has(frame.messageId)) {
      const outgoing = this.#outbox.get(frame.messageId);
      this.#outbox.delete(frame.messageId);
      this.#threads.get(outgoing?.key ?? '')?.timeline.update(frame.messageId, { delivery: 'failed' });
    }
    // A join has no messageId; an anonymous error while one is pending is taken to be its answer.
    if (!frame.messageId) this.#pendingJoin = undefined;
    const details = (frame.issues ?? []).map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    this.#showError(frame.code, details ? `${frame.message} (${details})` : frame.message);
  }

  #onPresence(frame: PresenceFrame): void {
    const thread = this.#threads.get(roomKey(frame.room));
    if (!thread) return;
    const online = frame.event === 'joined' || frame.event === 'online';
    thread.people.set(frame.userId, { userId: frame.userId, userName: frame.userName, online });
    // `left` is one connection leaving: the user may still be here through another tab, so ask.
    if (!online) this.#schedulePresenceRefresh(thread.name);
  }

  #onLeft(room: string): void {
    const key = roomKey(room);
    if (!this.#threads.delete(key)) return;
    this.#saveRooms();
    if (this.#activeKey === key) this.selectThread(this.#rooms()[0]?.key ?? '');
  }

  #onHistory(frame: HistoryFrame): void {
    const thread = this.#threads.get(roomKey(frame.room));
    if (!thread) return;
    for (const message of frame.messages) this.#addItem(thread, this.#fromRoomFrame(message), { live: true });
    // The next page continues exactly where this one ended.
    if (frame.hasMore && frame.cursor) {
      this.#send({ action: 'resume', room: frame.room, cursor: frame.cursor, limit: RESUME_PAGE });
    }
  }

  // ------------------------------------------------------------------ state helpers

  #send(frame: ClientFrame): boolean {
    return this.#socket.send(frame);
  }

  /** Keeps the send until its ack; sent now if connected, else on the next open. */
  #sendTracked(thread: Thread, messageId: string, text: string): void {
    const frame: Outgoing['frame'] =
      thread.kind === 'room'
        ? { action: 'sendMessage', room: thread.name, message: text, messageId }
        : {
            action: 'sendMessage',
            recipientId: thread.name,
            content: text,
            messageId,
            ...(thread.conversationId ? { conversationId: thread.conversationId } : {}),
          };
    this.#outbox.set(messageId, { key: thread.key, frame });
    this.#send(frame);
    this.#changed();
  }

  #changed(): void {
    if (this.#changeQueued) return;
    this.#changeQueued = true;
    queueMicrotask(() => {
      this.#changeQueued = false;
      for (const listener of this.#listeners) listener({ type: 'change' });
    });
  }

  #showError(code: string, message: string): void {
    this.#lastError = `${code}: ${message}`;
    this.#changed();
  }

  #now(): string {
    return (this.#deps.now?.() ?? new Date()).toISOString();
  }

  #visible(): boolean {
    return this.#deps.isVisible?.() ?? true;
  }

  #rooms(): Thread[] {
    return [...this.#threads.values()].filter((thread) => thread.kind === 'room');
  }

  #conversations(): Thread[] {
    return [...this.#threads.values()].filter((thread) => thread.kind === 'dm').sort(byActivity);
  }

  #isOnline(userId: string): boolean {
    if (userId === this.#me.userId) return this.#connection.state === 'open';
    return this.#rooms().some((room) => room.people.get(userId)?.online === true);
  }

  #fromRoomFrame(frame: RoomMessageFrame): ChatItem {
    return {
      id: frame.messageId,
      timestamp: frame.timestamp,
      senderId: frame.user_id,
      senderName: frame.userName,
      text: frame.message,
      mine: frame.user_id === this.#me.userId,
      delivery: 'sent',
    };
  }

  #addItem(thread: Thread, item: ChatItem, options: { live?: boolean } = {}): void {
    const result = thread.timeline.upsert(item);
    this.#messageThread.set(item.id, thread.key);
    if (result !== 'added') return;
    if (item.timestamp > thread.lastActivity) thread.lastActivity = item.timestamp;
    if (thread.kind === 'room' && !item.mine && !thread.people.has(item.senderId)) {
      thread.people.set(item.senderId, { userId: item.senderId, userName: item.senderName, online: false });
    }
    if (options.live && !item.mine && (thread.key !== this.#activeKey || !this.#visible())) thread.unread += 1;
  }

  #addDirect(data: DirectMessage, options: { live: boolean }): void {
    const mine = data.senderId === this.#me.userId;
    const peerId = mine ? data.recipientId : data.senderId;
    const thread = this.#ensureDirect(peerId, mine ? undefined : data.senderName);
    thread.conversationId ??= data.conversationId;
    const reply =
      data.replyToContent !== undefined || data.replyToSenderName !== undefined
        ? {
            ...(data.replyToSenderName !== undefined ? { senderName: data.replyToSenderName } : {}),
            ...(data.replyToContent !== undefined ? { content: data.replyToContent } : {}),
          }
        : undefined;
    this.#addItem(
      thread,
      {
        id: data.messageId,
        timestamp: data.timestamp,
        senderId: data.senderId,
        senderName: data.senderName,
        text: data.isDeleted ? '' : data.content,
        mine,
        delivery: data.status,
        ...(data.isDeleted ? { deleted: true } : {}),
        ...(reply ? { reply } : {}),
      },
      { live: options.live },
    );
    if (!data.isDeleted) thread.preview = data.content;
    if (options.live) this.#markRead(thread);
  }

  /**
   * Tells the server the peer's messages were read, once the conversation is on screen and visible,
   * and only for a message not already reported.
   */
  #markRead(thread: Thread): void {
    if (thread.kind !== 'dm' || !thread.conversationId) return;
    if (thread.key !== this.#activeKey || !this.#visible()) return;
    const newest = newestFromPeer(thread);
    thread.unread = 0;
    if (!newest || newest.delivery === 'read' || thread.readUpTo === newest.id) return;
    const sent = this.#send({ action: 'markRead', conversationId: thread.conversationId, upToMessageId: newest.id });
    if (!sent) return;
    thread.readUpTo = newest.id;
    for (const item of thread.timeline.list()) if (!item.mine) thread.timeline.update(item.id, { delivery: 'read' });
  }

  #threadOfMessage(messageId: string, conversationId?: string): Thread | undefined {
    const key = this.#messageThread.get(messageId);
    if (key) return this.#threads.get(key);
    return this.#conversations().find((thread) => thread.conversationId === conversationId);
  }

  #ensureRoom(room: string): Thread {
    const key = roomKey(room);
    let thread = this.#threads.get(key);
    if (!thread) {
      thread = newThread(key, 'room', room);
      this.#threads.set(key, thread);
    }
    return thread;
  }

  #ensureDirect(peerId: string, peerName?: string): Thread {
    const key = dmKey(peerId);
    let thread = this.#threads.get(key);
    if (!thread) {
      thread = newThread(key, 'dm', peerId);
      this.#threads.set(key, thread);
    }
    if (peerName) thread.peerName = peerName;
    return thread;
  }

  #setOnline(room: string, online: OnlineUser[], truncated = false): void {
    const thread = this.#threads.get(roomKey(room));
    if (!thread) return;
    for (const person of thread.people.values()) person.online = false;
    for (const user of online) thread.people.set(user.userId, { ...user, online: true } satisfies Person);
    thread.onlineTruncated = truncated;
    // A big room's frame carries only part of the list; GET /rooms/{room}/presence has everyone.
    if (truncated) this.#schedulePresenceRefresh(room);
  }

  #schedulePresenceRefresh(room: string): void {
    clearTimeout(this.#presenceRefresh.get(room));
    this.#presenceRefresh.set(
      room,
      setTimeout(() => {
        this.#presenceRefresh.delete(room);
        this.#deps.rest
          .roomPresence(room)
          .then((result) => {
            this.#setOnline(room, result.online);
            this.#changed();
          })
          .catch(() => undefined);
      }, PRESENCE_REFRESH_MS),
    );
  }

  #storageKey(what: string): string {
    return `switchboard.${what}.${this.#me.userId}`;
  }

  #storedRooms(): string[] {
    try {
      const value: unknown = JSON.parse(this.#deps.storage.getItem(this.#storageKey('rooms')) ?? '[]');
      return Array.isArray(value) ? value.filter((room): room is string => typeof room === 'string') : [];
    } catch {
      return [];
    }
  }

  #saveRooms(): void {
    this.#deps.storage.setItem(this.#storageKey('rooms'), JSON.stringify(this.#rooms().map((thread) => thread.name)));
  }
}
