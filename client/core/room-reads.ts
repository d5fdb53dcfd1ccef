import type { RoomReadFrame } from '#protocol/server-frames';
import type { ChatContext } from './chat-context.js';
import { roomKey, type Thread } from './threads.js';

/** A room on screen reports its read position at most this often. */
export const MARK_READ_INTERVAL_MS = 2_000;

/**
 * Rooms' unread counts as the server keeps them (per user, across devices) and the markRead that
 * moves them: the welcome's counts, `read` frames from this user's other devices, and a markRead
 * up to the newest seq once a room is on screen and visible.
 */
export class RoomReads {
  readonly #context: ChatContext;
  /** room key → the highest seq this user's read position is known to be at. */
  readonly #readSeq = new Map<string, number>();
  readonly #sentAt = new Map<string, number>();
  readonly #trailing = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(context: ChatContext) {
    this.#context = context;
  }

  /** The welcome's `unread`: rooms on screen are read now, the rest show the server's count. */
  onWelcome(unread: Record<string, number> | undefined): void {
    if (!unread) return;
    for (const [room, count] of Object.entries(unread)) {
      const thread = this.#context.threads.get(roomKey(room));
      if (!thread) continue;
      if (this.#onScreen(thread)) this.markRead(thread);
      else thread.unread = count;
    }
  }

  /** This user's read position moved (here or on another device). */
  onRead(frame: RoomReadFrame): void {
    const key = roomKey(frame.room);
    const thread = this.#context.threads.get(key);
    if (!thread) return;
    if (frame.readSeq >= (this.#readSeq.get(key) ?? 0)) {
      this.#readSeq.set(key, frame.readSeq);
      thread.unread = frame.unread;
    }
  }

  /**
   * Reports the room read up to its newest message, if it is on screen and that is news. A busy
   * room being watched would otherwise cost a markRead per message: at most one per
   * MARK_READ_INTERVAL_MS, the last one trailing so the newest message is always reported.
   */
  markRead(thread: Thread): void {
    if (thread.kind !== 'room' || !this.#onScreen(thread)) return;
    thread.unread = 0;
    if (this.#trailing.has(thread.key)) return;
    const newest = newestSeq(thread);
    if (newest === undefined || newest <= (this.#readSeq.get(thread.key) ?? 0)) return;
    const last = this.#sentAt.get(thread.key);
    const wait = last === undefined ? 0 : last + MARK_READ_INTERVAL_MS - Date.now();
    if (wait > 0) {
      this.#trailing.set(
        thread.key,
        setTimeout(() => {
          this.#trailing.delete(thread.key);
          this.markRead(thread);
        }, wait),
      );
      return;
    }
    if (this.#context.send({ action: 'markRead', room: thread.name, upToSeq: newest })) {
      this.#readSeq.set(thread.key, newest);
      this.#sentAt.set(thread.key, Date.now());
    }
  }

  stop(): void {
    for (const timer of this.#trailing.values()) clearTimeout(timer);
    this.#trailing.clear();
  }

  #onScreen(thread: Thread): boolean {
    return thread.key === this.#context.activeKey() && this.#context.visible();
  }
}

function newestSeq(thread: Thread): number | undefined {
  let newest: number | undefined;
  for (const item of thread.timeline.list()) if (item.seq !== undefined && item.seq > (newest ?? 0)) newest = item.seq;
  return newest;
}
