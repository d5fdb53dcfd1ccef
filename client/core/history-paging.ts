import type { HistoryFrame } from '#protocol/server-frames';
import type { ChatContext } from './chat-context.js';
import type { HistoryPage } from './chat-types.js';
import { roomKey, type Thread } from './threads.js';
import type { ChatItem } from './timeline.js';

const RESUME_PAGE = 100;
/** How many REST pages a catch-up walks back before giving up on meeting what it has. */
const CATCH_UP_PAGES = 5;

const NO_MORE: HistoryPage = { added: [], hasMore: false };

/**
 * History: older pages over REST as the user scrolls, and catching up after a (re)connect, by a
 * resume frame after the newest confirmed message or, with none, by refetching the newest pages.
 */
export class HistoryPaging {
  readonly #context: ChatContext;
  readonly #afterLoad: (thread: Thread) => void;

  /** `afterLoad` runs after every page, loaded or not (read receipts). */
  constructor(context: ChatContext, afterLoad: (thread: Thread) => void) {
    this.#context = context;
    this.#afterLoad = afterLoad;
  }

  /** The next older page; an ask while one is in flight waits for that one. */
  loadOlder(thread: Thread): Promise<HistoryPage> {
    if (thread.pageLoad) return thread.pageLoad;
    if (thread.cursor === null) return Promise.resolve(NO_MORE);
    const first = thread.cursor === undefined;
    const load = this.#fetchOlder(thread).finally(() => {
      thread.pageLoad = undefined;
    });
    thread.pageLoad = load;
    if (first) thread.firstPage = load;
    return load;
  }

  /** The newest page: loaded now if it never was, else the answer its load gave. */
  firstPage(thread: Thread): Promise<HistoryPage> {
    return thread.firstPage ?? this.loadOlder(thread);
  }

  /** After a (re)connect or a join: what this room said since the newest message the client has. */
  catchUpRoom(thread: Thread): void {
    const newest = thread.timeline.newestConfirmed();
    if (newest) {
      this.#context.send({
        action: 'resume',
        room: thread.name,
        lastTimestamp: newest.timestamp,
        lastMessageId: newest.id,
        limit: RESUME_PAGE,
      });
    } else if (thread.cursor !== undefined && !thread.pageLoad) {
      void this.refetchNewest(thread);
    }
  }

  /** A resume's answer; the next page continues exactly where this one ended. */
  onHistory(frame: HistoryFrame): void {
    const thread = this.#context.threads.get(roomKey(frame.room));
    if (!thread) return;
    for (const message of frame.messages) this.#context.threads.addRoomMessage(thread, message, 'live');
    if (frame.hasMore && frame.cursor) {
      this.#context.send({ action: 'resume', room: frame.room, cursor: frame.cursor, limit: RESUME_PAGE });
    }
  }

  /** Pages back from the newest message until it meets what this client already has. */
  async refetchNewest(thread: Thread): Promise<void> {
    const { threads, deps } = this.#context;
    let before: string | undefined;
    try {
      for (let page = 0; page < CATCH_UP_PAGES; page++) {
        let overlap = false;
        let next: string | undefined;
        if (thread.kind === 'room') {
          const result = await deps.rest.roomHistory(thread.name, before);
          for (const frame of result.messages) {
            overlap ||= thread.timeline.get(frame.messageId) !== undefined;
            threads.addRoomMessage(thread, frame, 'catch-up');
          }
          next = result.nextCursor;
        } else {
          if (!thread.conversationId) return;
          const result = await deps.rest.conversationHistory(thread.conversationId, before);
          for (const data of result.messages) {
            overlap ||= thread.timeline.get(data.messageId) !== undefined;
            threads.addDirect(data, 'catch-up');
          }
          next = result.nextCursor;
        }
        if (overlap || !next) return;
        before = next;
      }
    } catch {
      // Catch-up is best effort; the next reconnect or a scroll tries again.
    } finally {
      this.#afterLoad(thread);
      this.#context.changed();
    }
  }

  async #fetchOlder(thread: Thread): Promise<HistoryPage> {
    if (thread.kind === 'dm' && !thread.conversationId) {
      thread.cursor = null; // a conversation the server has not seen yet has no history
      this.#context.changed();
      return NO_MORE;
    }
    const { threads, deps } = this.#context;
    const added: ChatItem[] = [];
    thread.loading = true;
    thread.historyError = undefined;
    this.#context.changed();
    try {
      const before = thread.cursor ?? undefined;
      if (thread.kind === 'room') {
        const page = await deps.rest.roomHistory(thread.name, before);
        for (const frame of page.messages) {
          const item = threads.addRoomMessage(thread, frame, 'older');
          if (item) added.push(item);
        }
        thread.cursor = page.nextCursor ?? null;
      } else {
        const page = await deps.rest.conversationHistory(thread.conversationId ?? '', before);
        for (const data of page.messages) {
          const { added: item } = threads.addDirect(data, 'older');
          if (item) added.push(item);
        }
        thread.cursor = page.nextCursor ?? null;
      }
    } catch (error) {
      thread.historyError = `Could not load history: ${(error as Error).message}`;
    } finally {
      thread.loading = false;
      this.#afterLoad(thread);
      this.#context.changed();
    }
    // Pages come newest first; a page's messages are returned oldest first.
    added.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.id < b.id ? -1 : 1));
    return {
      added,
      hasMore: thread.cursor !== null && thread.cursor !== undefined,
      ...(thread.historyError ? { error: thread.historyError } : {}),
    };
  }
}
