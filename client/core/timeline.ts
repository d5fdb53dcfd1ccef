import type { AttachmentRefData } from '#protocol/server-frames';
import { type MessageChanges, mergeChanges, sameChanges } from './message-merge.js';
/**
 * pending: not yet acknowledged; failed: refused (error frame) and waiting for a retry; the rest are
 * the server's delivery states, which only move forward.
 */
export type Delivery = 'pending' | 'failed' | 'sent' | 'delivered' | 'read';

export interface ChatItem {
  id: string;
  /** Server time (ISO) once confirmed; the local send time while pending. */
  timestamp: string;
  senderId: string;
  senderName: string;
  text: string;
  mine: boolean;
  delivery: Delivery;
  deleted?: boolean;
  reply?: { senderName?: string; content?: string };
  /** The server's place for it in the room or conversation (gapless, increasing); absent while pending. */
  seq?: number;
  /** When the sender last edited it (server time). */
  editedAt?: string;
  /** Emoji → how many users reacted with it. */
  reactions?: Record<string, number>;
  /** This user's own emojis on it, sorted. */
  myReactions?: string[];
  /** Files on the message; a UI asks Attachments (attachments.ts) for each one's URL. */
  attachments?: readonly AttachmentRefData[];
}

const rank: Record<Delivery, number> = { pending: 0, failed: 0, sent: 1, delivered: 2, read: 3 };

export const isConfirmed = (delivery: Delivery) => rank[delivery] > 0;

/** A confirmed state never goes back; a local state (pending, failed) yields to any confirmed one. */
export function mergeDelivery(current: Delivery, incoming: Delivery): Delivery {
  if (!isConfirmed(incoming)) return isConfirmed(current) ? current : incoming;
  return rank[incoming] > rank[current] ? incoming : current;
}

// Unconfirmed items sort after everything the server has timed, in the order they were written.
const UNCONFIRMED = '\uffff';

// Confirmed messages order by seq (the server's commit order; timestamps of concurrent senders can
// disagree with it); those stored before seqs existed come first, by time.
const sortKey = (item: ChatItem) => {
  if (!isConfirmed(item.delivery)) return `${UNCONFIRMED}${item.timestamp}#${item.id}`;
  return item.seq !== undefined ? `1${String(item.seq).padStart(15, '0')}` : `0${item.timestamp}#${item.id}`;
};

export type UpsertResult = 'added' | 'updated' | 'unchanged';

/**
 * One conversation's messages, deduplicated by messageId. Live frames, acks, REST pages and resume
 * catch-up all arrive here in any order, any number of times; the result is the same list.
 */
export class Timeline {
  readonly #items = new Map<string, ChatItem>();
  #sorted: ChatItem[] | undefined;

  get size(): number {
    return this.#items.size;
  }

  get(id: string): ChatItem | undefined {
    return this.#items.get(id);
  }

  upsert(incoming: ChatItem): UpsertResult {
    const current = this.#items.get(incoming.id);
    if (!current) {
      this.#items.set(incoming.id, { ...incoming });
      this.#sorted = undefined;
      return 'added';
    }
    const delivery = mergeDelivery(current.delivery, incoming.delivery);
    const deleted = current.deleted === true || incoming.deleted === true;
    const { text, ...changes } = mergeChanges(current, incoming);
    const next: ChatItem = {
      ...current,
      delivery,
      // The server's timestamp wins over the local send time; a confirmed one never changes.
      timestamp:
        isConfirmed(current.delivery) || !isConfirmed(incoming.delivery) ? current.timestamp : incoming.timestamp,
      text: deleted ? '' : text,
      ...(deleted ? { deleted: true } : {}),
      ...(incoming.reply ? { reply: incoming.reply } : {}),
      ...(current.seq === undefined && incoming.seq !== undefined ? { seq: incoming.seq } : {}),
      ...changes,
      ...(incoming.attachments ? { attachments: incoming.attachments } : {}),
    };
    if (sameItem(current, next)) return 'unchanged';
    this.#items.set(next.id, next);
    if (sortKey(current) !== sortKey(next)) this.#sorted = undefined;
    else if (this.#sorted) this.#sorted = this.#sorted.map((item) => (item.id === next.id ? next : item));
    return 'updated';
  }

  /** Moves a message's state: the ack (sent, with the server's time), an error (failed) or a retry (pending). */
  update(id: string, change: { delivery: Delivery; timestamp?: string; seq?: number }): boolean {
    const current = this.#items.get(id);
    if (!current) return false;
    // Local states only apply to messages the server has not confirmed.
    if (!isConfirmed(change.delivery) && isConfirmed(current.delivery)) return false;
    const delivery = isConfirmed(change.delivery) ? mergeDelivery(current.delivery, change.delivery) : change.delivery;
    // As in upsert, a confirmed time never changes: an edit's ack names the message with the edit's time.
    const timestamp = isConfirmed(current.delivery) ? current.timestamp : (change.timestamp ?? current.timestamp);
    const seq = current.seq ?? change.seq;
    return this.#replace({ ...current, delivery, timestamp, ...(seq !== undefined ? { seq } : {}) });
  }

  /** An edit's text or new reaction counts (message-changes.ts decides what applies). */
  patch(id: string, change: MessageChanges & { text?: string }): boolean {
    const current = this.#items.get(id);
    if (!current) return false;
    return this.#replace({ ...current, ...change });
  }

  markDeleted(id: string): boolean {
    const current = this.#items.get(id);
    if (!current || current.deleted) return false;
    return this.#replace({ ...current, deleted: true, text: '' });
  }

  /** Oldest first. */
  list(): readonly ChatItem[] {
    this.#sorted ??= [...this.#items.values()].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
    return this.#sorted;
  }

  /** The newest message the server has confirmed: where a reconnect resumes from. */
  newestConfirmed(): ChatItem | undefined {
    const list = this.list();
    for (let index = list.length - 1; index >= 0; index--) {
      const item = list[index];
      if (item && isConfirmed(item.delivery)) return item;
    }
    return undefined;
  }

  #replace(next: ChatItem): boolean {
    const current = this.#items.get(next.id);
    if (current && sameItem(current, next)) return false;
    this.#items.set(next.id, next);
    this.#sorted = undefined;
    return true;
  }
}

function sameItem(a: ChatItem, b: ChatItem): boolean {
  return (
    a.delivery === b.delivery &&
    a.timestamp === b.timestamp &&
    a.text === b.text &&
    a.deleted === b.deleted &&
    a.seq === b.seq &&
    a.reply?.content === b.reply?.content &&
    a.reply?.senderName === b.reply?.senderName &&
    sameChanges(a, b) &&
    a.attachments?.length === b.attachments?.length
  );
}
