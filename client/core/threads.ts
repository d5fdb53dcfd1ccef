import { type ChatItem, Timeline } from './timeline.js';

/** What one history page did: the messages new to the thread (oldest first), and whether more are older. */
export interface HistoryPage {
  added: readonly ChatItem[];
  hasMore: boolean;
  error?: string;
}

export interface Person {
  userId: string;
  userName: string;
  online: boolean;
}

/** A room or a direct conversation, as the chat client keeps it. */
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
  /** The history page being fetched, which a second ask waits for rather than fetching the next. */
  pageLoad?: Promise<HistoryPage>;
  /** The first (newest) history page's load, kept so a late ask gets the same answer. */
  firstPage?: Promise<HistoryPage>;
}

/** What a UI may read of a thread: nothing in it can be changed from outside the client. */
export interface ThreadView {
  readonly key: string;
  readonly kind: 'room' | 'dm';
  readonly name: string;
  readonly peerName?: string;
  readonly conversationId?: string;
  readonly timeline: { readonly size: number; list(): readonly ChatItem[]; get(id: string): ChatItem | undefined };
  readonly cursor: string | null | undefined;
  readonly loading: boolean;
  readonly historyError?: string;
  readonly unread: number;
  readonly lastActivity: string;
  readonly preview?: string;
  readonly people: ReadonlyMap<string, Readonly<Person>>;
  readonly onlineTruncated: boolean;
}

export const roomKey = (room: string) => `room:${room}`;
export const dmKey = (peerId: string) => `dm:${peerId}`;

export function newThread(key: string, kind: Thread['kind'], name: string): Thread {
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

/** Direct conversations, most recently active first. */
export const byActivity = (a: Thread, b: Thread) =>
  a.lastActivity < b.lastActivity ? 1 : a.lastActivity > b.lastActivity ? -1 : 0;

/** The newest message in the thread not written by this user. */
export function newestFromPeer(thread: Thread): ChatItem | undefined {
  const list = thread.timeline.list();
  for (let index = list.length - 1; index >= 0; index--) {
    const item = list[index];
    if (item && !item.mine) return item;
  }
  return undefined;
}
