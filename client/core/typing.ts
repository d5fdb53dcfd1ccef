import type { TypingFrame } from '#protocol/server-frames';
import type { ChatContext } from './chat-context.js';
import { dmKey, roomKey, type Thread } from './threads.js';

/** The server fans out one typing frame per connection per 3 s; sending more often only costs. */
export const TYPING_SEND_INTERVAL_MS = 3_000;

/**
 * Who is typing where (incoming) and when to say this user is typing (outgoing). An indicator
 * ends when its `expiresInMs` runs out without a fresh frame, or when that user's message arrives;
 * the client re-renders at expiry on its own.
 */
export class TypingIndicators {
  readonly #context: ChatContext;
  readonly #now: () => number;
  /** thread key → userId → who and until when. */
  readonly #typing = new Map<string, Map<string, { userName: string; until: number }>>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #lastSent = new Map<string, number>();

  constructor(context: ChatContext, now: () => number = Date.now) {
    this.#context = context;
    this.#now = now;
  }

  onTyping(frame: TypingFrame): void {
    if (frame.userId === this.#context.me().userId) return;
    // In a direct conversation the one typing is the peer, whose thread is keyed by their id.
    const key = frame.room !== undefined ? roomKey(frame.room) : dmKey(frame.userId);
    if (!this.#context.threads.has(key)) return;
    let users = this.#typing.get(key);
    if (!users) {
      users = new Map();
      this.#typing.set(key, users);
    }
    users.set(frame.userId, { userName: frame.userName, until: this.#now() + frame.expiresInMs });
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#context.changed();
    }, frame.expiresInMs);
    this.#timers.add(timer);
  }

  /** A message from this user arrived in this thread: they stopped typing it. */
  onMessage(key: string, userId: string): void {
    this.#typing.get(key)?.delete(userId);
  }

  /** The names of those typing in a thread now, sorted. */
  typingIn(key: string): string[] {
    const users = this.#typing.get(key);
    if (!users) return [];
    const now = this.#now();
    for (const [userId, entry] of users) if (entry.until <= now) users.delete(userId);
    return [...users.values()].map((entry) => entry.userName).sort();
  }

  /** The user typed in this thread: tell the others, at most once per TYPING_SEND_INTERVAL_MS. */
  userTyping(thread: Thread): void {
    const now = this.#now();
    const last = this.#lastSent.get(thread.key);
    if (last !== undefined && now - last < TYPING_SEND_INTERVAL_MS) return;
    const frame =
      thread.kind === 'room'
        ? { action: 'typing' as const, room: thread.name }
        : thread.conversationId
          ? { action: 'typing' as const, conversationId: thread.conversationId }
          : undefined;
    // A conversation the server has not seen yet has nobody to tell.
    if (!frame) return;
    if (this.#context.send(frame)) this.#lastSent.set(thread.key, now);
  }

  /** This user sent a message: the next keystroke says "typing" again at once. */
  userSent(key: string): void {
    this.#lastSent.delete(key);
  }

  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
