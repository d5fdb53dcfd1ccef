import type { RestClient } from './api.js';
import type { Auth, Session } from './auth.js';
import type { AppConfig } from './config.js';
import type {
  AckFrame,
  ClientFrame,
  DirectMessage,
  ErrorFrame,
  HistoryFrame,
  OnlineUser,
  PresenceFrame,
  RoomMessageFrame,
  ServerFrame,
} from './protocol.js';
import { isDirectMessage, isRoomMessage } from './protocol.js';
import { type ConnectionState, ReconnectingSocket } from './socket.js';
import { type ChatItem, Timeline } from './timeline.js';
import { ChatView } from './view.js';

/** The server allows this many rooms in the connect URL; the rest are joined once connected. */
const MAX_CONNECT_ROOMS = 10;
const RESUME_PAGE = 100;

export interface Person {
  userId: string;
  userName: string;
  online: boolean;
}

export interface Thread {
  key: string;
  kind: 'room' | 'dm';
  /** The room name, or the peer's user id. */
  name: string;
  peerName?: string;
  conversationId?: string;
  timeline: Timeline;
  /** undefined: history never fetched; null: no older page; string: the `before` cursor. */
  cursor: string | null | undefined;
  loading: boolean;
  historyError?: string;
  unread: number;
  lastActivity: string;
  preview?: string;
  /** The newest peer message a markRead was sent for. */
  readUpTo?: string;
  people: Map<string, Person>;
  /** The server sent only part of the room's online list; the full one is being fetched over REST. */
  onlineTruncated: boolean;
}

interface Outgoing {
  key: string;
  frame: ClientFrame;
}

const roomKey = (room: string) => `room:${room}`;
const dmKey = (peerId: string) => `dm:${peerId}`;

/** Message ids from getRandomValues: randomUUID needs a secure context, and a LAN demo may not be one. */
function newMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * The chat: state, the socket, and what each frame does to the state. Rendering lives in ChatView;
 * every change ends in scheduleRender().
 */
export class ChatApp {
  readonly threads = new Map<string, Thread>();
  activeKey = '';
  connection: ConnectionState = { state: 'connecting', attempt: 0 };
  lastError: string | undefined;
  me: Session;

  readonly #config: AppConfig;
  readonly #auth: Auth;
  readonly #rest: RestClient;
  readonly #view: ChatView;
  readonly #socket: ReconnectingSocket;
  readonly #outbox = new Map<string, Outgoing>();
  /** messageId → thread key, for acks, errors, receipts and deletions that name only the message. */
  readonly #messageThread = new Map<string, string>();
  readonly #presenceRefresh = new Map<string, ReturnType<typeof setTimeout>>();
  #pendingJoin: string | undefined;
  #renderQueued = false;
  #dmAvailable = true;
  #lastForcedRefresh = 0;

  constructor(config: AppConfig, auth: Auth, rest: RestClient, session: Session, onSignOut: () => void) {
    this.#config = config;
    this.#auth = auth;
    this.#rest = rest;
    this.me = session;
    this.#view = new ChatView(this, {
      selectThread: (key) => this.selectThread(key),
      send: (text) => this.send(text),
      joinRoom: (room) => this.joinRoom(room),
      leaveRoom: (room) => this.leaveRoom(room),
      openDirect: (peerId, peerName) => this.openDirect(peerId, peerName),
      loadOlder: () => {
        const thread = this.activeThread;
        if (thread) void this.loadOlder(thread);
      },
      retry: (messageId) => this.retry(messageId),
      deleteMessage: (messageId) => this.deleteMessage(messageId),
      dismissError: () => {
        this.lastError = undefined;
        this.scheduleRender();
      },
      signOut: () => {
        this.stop();
        auth.signOut();
        onSignOut();
      },
      visible: () => {
        const thread = this.activeThread;
        if (thread) {
          thread.unread = 0;
          this.#markRead(thread);
        }
        this.#socket.probe();
        this.scheduleRender();
      },
    });
    this.#socket = new ReconnectingSocket({
      url: () => this.#webSocketUrl(),
      onFrame: (frame) => this.#onFrame(frame),
      onState: (state) => {
        this.connection = state;
        this.scheduleRender();
      },
      onOpen: (reconnect) => this.#onOpen(reconnect),
      onFailedAttempt: async () => {
        // A browser cannot see why a handshake failed; a token the server no longer accepts is the one
        // cause we can fix. At most one refresh per five minutes, so an outage does not hammer Cognito.
        if (config.authMode !== 'cognito' || Date.now() - this.#lastForcedRefresh < 5 * 60_000) return;
        this.#lastForcedRefresh = Date.now();
        await this.#auth.refresh().catch(() => undefined);
        if (!this.#auth.session) this.#view.actions.signOut();
      },
    });

    const stored = this.#storedRooms();
    for (const room of stored.length > 0 ? stored : ['general']) this.#ensureRoom(room);
    const active = localStorage.getItem(this.#storageKey('active'));
    const firstRoom = [...this.threads.keys()][0] ?? roomKey('general');
    this.activeKey = active?.startsWith('room:') && this.threads.has(active) ? active : firstRoom;
  }

  get activeThread(): Thread | undefined {
    return this.threads.get(this.activeKey);
  }

  get rooms(): Thread[] {
    return [...this.threads.values()].filter((thread) => thread.kind === 'room');
  }

  get conversations(): Thread[] {
    return [...this.threads.values()]
      .filter((thread) => thread.kind === 'dm')
      .sort((a, b) => (a.lastActivity < b.lastActivity ? 1 : a.lastActivity > b.lastActivity ? -1 : 0));
  }

  /** Whether a user is online in any room this client can see. */
  isOnline(userId: string): boolean {
    if (userId === this.me.userId) return this.connection.state === 'open';
    return this.rooms.some((room) => room.people.get(userId)?.online === true);
  }

  start(): void {
    this.#view.mount();
    this.#socket.start();
    this.selectThread(this.activeKey);
    void this.#refreshConversations();
  }

  stop(): void {
    this.#socket.stop();
    for (const timer of this.#presenceRefresh.values()) clearTimeout(timer);
    this.#view.unmount();
  }

  scheduleRender(): void {
    if (this.#renderQueued) return;
    this.#renderQueued = true;
    queueMicrotask(() => {
      this.#renderQueued = false;
      this.#view.render();
    });
  }

  // ------------------------------------------------------------------ user actions

  selectThread(key: string): void {
    const thread = this.threads.get(key);
    if (!thread) return;
    this.activeKey = key;
    if (thread.kind === 'room') localStorage.setItem(this.#storageKey('active'), key);
    thread.unread = 0;
    if (thread.cursor === undefined && !thread.loading) void this.loadOlder(thread);
    this.#markRead(thread);
    this.#view.threadChanged();
    this.scheduleRender();
  }

  send(text: string): boolean {
    const thread = this.activeThread;
    if (!thread || text.trim() === '') return false;
    const messageId = newMessageId();
    const frame: ClientFrame =
      thread.kind === 'room'
        ? { action: 'sendMessage', room: thread.name, message: text, messageId }
        : {
            action: 'sendMessage',
            recipientId: thread.name,
            content: text,
            messageId,
            ...(thread.conversationId ? { conversationId: thread.conversationId } : {}),
          };
    this.#addItem(thread, {
      id: messageId,
      timestamp: new Date().toISOString(),
      senderId: this.me.userId,
      senderName: this.me.userName,
      text,
      mine: true,
      delivery: 'pending',
    });
    thread.lastActivity = new Date().toISOString();
    this.lastError = undefined;
    this.#outbox.set(messageId, { key: thread.key, frame });
    this.#socket.send(frame);
    this.scheduleRender();
    return true;
  }

  retry(messageId: string): void {
    const key = this.#messageThread.get(messageId);
    const thread = key ? this.threads.get(key) : undefined;
    const item = thread?.timeline.get(messageId);
    if (!thread || !item || item.delivery !== 'failed') return;
    const frame: ClientFrame =
      thread.kind === 'room'
        ? { action: 'sendMessage', room: thread.name, message: item.text, messageId }
        : {
            action: 'sendMessage',
            recipientId: thread.name,
            content: item.text,
            messageId,
            ...(thread.conversationId ? { conversationId: thread.conversationId } : {}),
          };
    thread.timeline.update(messageId, { delivery: 'pending' });
    this.#outbox.set(messageId, { key: thread.key, frame });
    this.#socket.send(frame);
    this.scheduleRender();
  }

  deleteMessage(messageId: string): void {
    if (!this.#socket.send({ action: 'deleteMessage', messageId })) {
      this.#showError('offline', 'Not connected: try again once the connection is back.');
    }
  }

  /** The room appears once the server confirms the join (a `joined` frame), never optimistically. */
  joinRoom(room: string): void {
    const name = room.trim().replace(/^#/, '');
    if (name === '') return;
    if (this.threads.has(roomKey(name))) {
      this.selectThread(roomKey(name));
      return;
    }
    this.#pendingJoin = name;
    if (!this.#socket.send({ action: 'joinRoom', room: name })) {
      this.#showError('offline', 'Not connected: join the room once the connection is back.');
    }
  }

  leaveRoom(room: string): void {
    if (this.rooms.length <= 1) {
      this.#showError('last_room', 'You are in only this room; join another before leaving it.');
      return;
    }
    if (!this.#socket.send({ action: 'leaveRoom', room })) {
      this.#showError('offline', 'Not connected: leave the room once the connection is back.');
    }
  }

  openDirect(peerId: string, peerName?: string): void {
    const id = peerId.trim();
    if (id === '' || id === this.me.userId) return;
    const thread = this.#ensureDirect(id, peerName);
    this.selectThread(thread.key);
  }

  async loadOlder(thread: Thread): Promise<void> {
    if (thread.loading || thread.cursor === null) return;
    if (thread.kind === 'dm' && !thread.conversationId) {
      thread.cursor = null; // a conversation the server has not seen yet has no history
      this.scheduleRender();
      return;
    }
    thread.loading = true;
    thread.historyError = undefined;
    this.scheduleRender();
    try {
      const before = thread.cursor ?? undefined;
      if (thread.kind === 'room') {
        const page = await this.#rest.roomHistory(thread.name, before);
        for (const frame of page.messages) this.#addItem(thread, this.#fromRoomFrame(frame));
        thread.cursor = page.nextCursor ?? null;
      } else {
        const page = await this.#rest.conversationHistory(thread.conversationId ?? '', before);
        for (const data of page.messages) this.#addDirect(data, { live: false });
        thread.cursor = page.nextCursor ?? null;
      }
    } catch (error) {
      thread.historyError = `Could not load history: ${(error as Error).message}`;
    } finally {
      thread.loading = false;
      this.#markRead(thread);
      this.scheduleRender();
    }
  }

  // ------------------------------------------------------------------ connection

  async #webSocketUrl(): Promise<string> {
    const params = new URLSearchParams(await this.#auth.webSocketParams());
    const rooms = this.rooms.map((thread) => thread.name).slice(0, MAX_CONNECT_ROOMS);
    if (rooms.length > 0) params.set('room', rooms.join(','));
    return `${this.#config.webSocketUrl}?${params}`;
  }

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
    for (const thread of this.rooms.slice(MAX_CONNECT_ROOMS))
      this.#socket.send({ action: 'joinRoom', room: thread.name });
    for (const outgoing of this.#outbox.values()) this.#socket.send(outgoing.frame);
    for (const thread of this.rooms) this.#catchUpRoom(thread);
    // start() already fetched the conversations for the first connection.
    if (!reconnect) return;
    void this.#refreshConversations().then(() => {
      for (const thread of this.conversations) {
        if (thread.cursor !== undefined && !thread.loading) void this.#refetchNewest(thread);
      }
    });
  }

  #catchUpRoom(thread: Thread): void {
    const newest = thread.timeline.newestConfirmed();
    if (newest) {
      this.#socket.send({
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

  /** Pages back from the newest message until it meets what this client already has. */
  async #refetchNewest(thread: Thread): Promise<void> {
    let before: string | undefined;
    try {
      for (let page = 0; page < 5; page++) {
        let overlap = false;
        let next: string | undefined;
        if (thread.kind === 'room') {
          const result = await this.#rest.roomHistory(thread.name, before);
          for (const frame of result.messages) {
            overlap ||= thread.timeline.get(frame.messageId) !== undefined;
            this.#addItem(thread, this.#fromRoomFrame(frame));
          }
          next = result.nextCursor;
        } else {
          if (!thread.conversationId) return;
          const result = await this.#rest.conversationHistory(thread.conversationId, before);
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
      this.scheduleRender();
    }
  }

  async #refreshConversations(): Promise<void> {
    if (!this.#dmAvailable) return;
    try {
      const { conversations } = await this.#rest.conversations();
      for (const summary of conversations) {
        const thread = this.#ensureDirect(summary.peerId, summary.peerName);
        thread.conversationId = summary.conversationId;
        if (summary.lastMessage) {
          thread.preview = summary.lastMessage.content;
          if (summary.lastMessage.timestamp > thread.lastActivity) thread.lastActivity = summary.lastMessage.timestamp;
        }
        thread.unread = thread.key === this.activeKey ? 0 : summary.unreadCount;
        if (thread.key === this.activeKey && thread.cursor === undefined) void this.loadOlder(thread);
      }
    } catch (error) {
      // A backend without direct messages answers 404: hide nothing, just stop asking.
      if ((error as { status?: number }).status === 404) this.#dmAvailable = false;
    }
    this.scheduleRender();
  }

  // ------------------------------------------------------------------ frames

  #onFrame(frame: ServerFrame): void {
    if (isRoomMessage(frame)) {
      const thread = this.threads.get(roomKey(frame.room));
      if (thread) this.#addItem(thread, this.#fromRoomFrame(frame), { live: true });
    } else if (isDirectMessage(frame)) {
      this.#addDirect(frame.data, { live: true });
    } else {
      switch (frame.type) {
        case 'welcome':
          this.me = { ...this.me, userId: frame.user.userId, userName: frame.user.userName };
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
          const thread = room ? this.threads.get(roomKey(room)) : this.#threadOfMessage(messageId, conversationId);
          thread?.timeline.markDeleted(messageId);
          break;
        }
        default:
          return;
      }
    }
    this.scheduleRender();
  }

  #onAck(frame: AckFrame): void {
    const outgoing = this.#outbox.get(frame.messageId);
    this.#outbox.delete(frame.messageId);
    const thread = this.threads.get(outgoing?.key ?? this.#messageThread.get(frame.messageId) ?? '');
    if (!thread) return;
    if (thread.kind === 'dm' && frame.conversationId) thread.conversationId ??= frame.conversationId;
    thread.timeline.update(frame.messageId, { delivery: 'sent', timestamp: frame.timestamp });
  }

  #onError(frame: ErrorFrame): void {
    if (frame.messageId && this.#outbox.has(frame.messageId)) {
      const outgoing = this.#outbox.get(frame.messageId);
      this.#outbox.delete(frame.messageId);
      this.threads.get(outgoing?.key ?? '')?.timeline.update(frame.messageId, { delivery: 'failed' });
    }
    // A join has no messageId; an anonymous error while one is pending is taken to be its answer.
    if (!frame.messageId) this.#pendingJoin = undefined;
    const details = (frame.issues ?? []).map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    this.#showError(frame.code, details ? `${frame.message} (${details})` : frame.message);
  }

  #onPresence(frame: PresenceFrame): void {
    const thread = this.threads.get(roomKey(frame.room));
    if (!thread) return;
    const online = frame.event === 'joined' || frame.event === 'online';
    thread.people.set(frame.userId, { userId: frame.userId, userName: frame.userName, online });
    // `left` is one connection leaving: the user may still be here through another tab, so ask.
    if (!online) this.#schedulePresenceRefresh(thread.name);
  }

  #onLeft(room: string): void {
    const key = roomKey(room);
    if (!this.threads.delete(key)) return;
    this.#saveRooms();
    if (this.activeKey === key) this.selectThread(this.rooms[0]?.key ?? '');
  }

  #onHistory(frame: HistoryFrame): void {
    const thread = this.threads.get(roomKey(frame.room));
    if (!thread) return;
    for (const message of frame.messages) this.#addItem(thread, this.#fromRoomFrame(message), { live: true });
    // The next page continues exactly where this one ended.
    if (frame.hasMore && frame.cursor) {
      this.#socket.send({ action: 'resume', room: frame.room, cursor: frame.cursor, limit: RESUME_PAGE });
    }
  }

  // ------------------------------------------------------------------ state helpers

  #showError(code: string, message: string): void {
    this.lastError = `${code}: ${message}`;
    this.scheduleRender();
  }

  #fromRoomFrame(frame: RoomMessageFrame): ChatItem {
    return {
      id: frame.messageId,
      timestamp: frame.timestamp,
      senderId: frame.user_id,
      senderName: frame.userName,
      text: frame.message,
      mine: frame.user_id === this.me.userId,
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
    if (options.live && !item.mine && (thread.key !== this.activeKey || document.visibilityState !== 'visible')) {
      thread.unread += 1;
    }
  }

  #addDirect(data: DirectMessage, options: { live: boolean }): void {
    const mine = data.senderId === this.me.userId;
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
   * Tells the server the peer's messages were read, once the conversation is on screen in a
   * visible tab, and only for a message not already reported.
   */
  #markRead(thread: Thread): void {
    if (thread.kind !== 'dm' || !thread.conversationId) return;
    if (thread.key !== this.activeKey || document.visibilityState !== 'visible') return;
    const list = thread.timeline.list();
    let newestFromPeer: ChatItem | undefined;
    for (let index = list.length - 1; index >= 0 && !newestFromPeer; index--) {
      const item = list[index];
      if (item && !item.mine) newestFromPeer = item;
    }
    thread.unread = 0;
    if (!newestFromPeer || newestFromPeer.delivery === 'read' || thread.readUpTo === newestFromPeer.id) return;
    const sent = this.#socket.send({
      action: 'markRead',
      conversationId: thread.conversationId,
      upToMessageId: newestFromPeer.id,
    });
    if (!sent) return;
    thread.readUpTo = newestFromPeer.id;
    for (const item of list) if (!item.mine) thread.timeline.update(item.id, { delivery: 'read' });
  }

  #threadOfMessage(messageId: string, conversationId?: string): Thread | undefined {
    const key = this.#messageThread.get(messageId);
    if (key) return this.threads.get(key);
    return this.conversations.find((thread) => thread.conversationId === conversationId);
  }

  #ensureRoom(room: string): Thread {
    const key = roomKey(room);
    let thread = this.threads.get(key);
    if (!thread) {
      thread = this.#newThread(key, 'room', room);
      this.threads.set(key, thread);
    }
    return thread;
  }

  #ensureDirect(peerId: string, peerName?: string): Thread {
    const key = dmKey(peerId);
    let thread = this.threads.get(key);
    if (!thread) {
      thread = this.#newThread(key, 'dm', peerId);
      this.threads.set(key, thread);
    }
    if (peerName) thread.peerName = peerName;
    return thread;
  }

  #newThread(key: string, kind: Thread['kind'], name: string): Thread {
    return {
      key,
      kind,
      name,
      timeline: new Timeline(),
      cursor: undefined,
      loading: false,
      unread: 0,
      lastActivity: '',
      people: new Map(),
      onlineTruncated: false,
    };
  }

  #setOnline(room: string, online: OnlineUser[], truncated = false): void {
    const thread = this.threads.get(roomKey(room));
    if (!thread) return;
    for (const person of thread.people.values()) person.online = false;
    for (const user of online) thread.people.set(user.userId, { ...user, online: true });
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
        this.#rest
          .roomPresence(room)
          .then((result) => {
            this.#setOnline(room, result.online);
            this.scheduleRender();
          })
          .catch(() => undefined);
      }, 300),
    );
  }

  #storageKey(what: string): string {
    return `switchboard.${what}.${this.me.userId}`;
  }

  #storedRooms(): string[] {
    try {
      const value: unknown = JSON.parse(localStorage.getItem(this.#storageKey('rooms')) ?? '[]');
      return Array.isArray(value) ? value.filter((room): room is string => typeof room === 'string') : [];
    } catch {
      return [];
    }
  }

  #saveRooms(): void {
    localStorage.setItem(this.#storageKey('rooms'), JSON.stringify(this.rooms.map((thread) => thread.name)));
  }
}
