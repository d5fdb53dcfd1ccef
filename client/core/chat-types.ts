import type {
  ConversationHistoryPage,
  ConversationsBody,
  RoomHistoryPage,
  RoomPresenceBody,
} from '#protocol/http-bodies';
import type { ServerFrame } from '#protocol/server-frames';
import type { BackoffOptions } from './backoff.js';
import type { ConnectionState, WebSocketConstructor } from './reconnecting-socket.js';
import type { RoomInfo } from './room-info.js';
import type { HistoryPage, ThreadView } from './threads.js';
import type { ChatItem } from './timeline.js';

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
  /** The rooms to start in; without it, the rooms stored last time (or #general). */
  rooms?: readonly string[];
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
  /** A created room's title, this user's role and the roles seen (undefined for a plain public room). */
  roomInfo(room: string): RoomInfo | undefined;
  readonly rooms: readonly ThreadView[];
  readonly conversations: readonly ThreadView[];
  readonly unreadTotal: number;
  /** Sends not yet acknowledged by the server. */
  readonly pendingSends: number;
  /** The names of those typing in a thread now ("alice is typing…"); expired indicators are gone. */
  typingIn(key: string): readonly string[];
  /** Whether a user is online in any room this client can see. */
  isOnline(userId: string): boolean;
}

/**
 * Where a message came from: `local` (this client sent it), `live` (a socket frame, including a
 * resume's history frames), `catch-up` (a REST page fetched after a reconnect), `older` (a history
 * page the UI asked for).
 */
export type MessageOrigin = 'local' | 'live' | 'catch-up' | 'older';

/**
 * `change`: the state moved (coalesced, once per microtask); `thread-selected`: a new thread is on
 * screen. The rest come synchronously, for UIs that print rather than re-render (the terminal):
 * `message-added` once per messageId, `frame` for every socket frame after the client applied it
 * (`frame` is undefined for text that is not a frame), `connection` for every state change, and
 * `notice` for a problem the client found itself (the server's error frames come as `frame`).
 */
export type ChatEvent =
  | { type: 'change' }
  | { type: 'thread-selected'; key: string }
  | { type: 'message-added'; key: string; item: ChatItem; origin: MessageOrigin }
  | { type: 'frame'; frame: ServerFrame | undefined; text: string }
  | { type: 'connection'; state: ConnectionState }
  | { type: 'notice'; code: string; message: string };

export type { HistoryPage };
