import type { ChatContext } from './chat-context.js';
import { SequenceGaps } from './sequence-gaps.js';
import { roomKey, type Thread } from './threads.js';

/** How long a missing seq may be in flight (another sender's post) before the client asks for it. */
export const GAP_GRACE_MS = 1_500;
const RESUME_LIMIT = 100;

/**
 * Watches each room's seqs. A gap that outlives GAP_GRACE_MS is filled with `resume` from the
 * newest message before it (drop-by-messageId makes the overlap harmless); if the answer still
 * leaves it open, the messages are gone (expired) and the client stops asking.
 */
export class SequenceWatch {
  readonly #context: ChatContext;
  readonly #gaps = new SequenceGaps();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #resumed = new Set<string>();

  constructor(context: ChatContext) {
    this.#context = context;
  }

  /** A room message with a seq reached the thread (live, resumed or from a page). */
  onSeq(thread: Thread, seq: number): void {
    if (thread.kind !== 'room') return;
    this.#gaps.observe(thread.key, seq);
    if (!this.#gaps.hasGap(thread.key)) {
      this.#clear(thread.key);
      this.#resumed.delete(thread.key);
      return;
    }
    if (this.#timers.has(thread.key) || this.#resumed.has(thread.key)) return;
    this.#timers.set(
      thread.key,
      setTimeout(() => {
        this.#timers.delete(thread.key);
        this.#resume(thread);
      }, GAP_GRACE_MS),
    );
  }

  /** A resume's answer was applied: a gap it did not fill cannot be filled. */
  afterHistory(room: string): void {
    const key = roomKey(room);
    if (!this.#resumed.delete(key) || !this.#gaps.hasGap(key)) return;
    this.#gaps.skipGap(key);
  }

  missing(key: string): number[] {
    return this.#gaps.missing(key);
  }

  stop(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #resume(thread: Thread): void {
    if (!this.#gaps.hasGap(thread.key)) return;
    const contiguous = this.#gaps.contiguous(thread.key);
    const before = thread.timeline.list().find((item) => item.seq === contiguous);
    if (!before) return;
    const sent = this.#context.send({
      action: 'resume',
      room: thread.name,
      lastTimestamp: before.timestamp,
      lastMessageId: before.id,
      limit: RESUME_LIMIT,
    });
    if (sent) this.#resumed.add(thread.key);
  }

  #clear(key: string): void {
    const timer = this.#timers.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(key);
  }
}
