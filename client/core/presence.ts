import type { OnlineUser, PresenceFrame } from '#protocol/server-frames';
import type { ChatContext } from './chat-context.js';
import { type Person, roomKey } from './threads.js';

const PRESENCE_REFRESH_MS = 300;

/** Who is online in each room: the welcome and joined lists, presence frames, and REST for the rest. */
export class Presence {
  readonly #context: ChatContext;
  readonly #refresh = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(context: ChatContext) {
    this.#context = context;
  }

  setOnline(room: string, online: readonly OnlineUser[], truncated = false): void {
    const thread = this.#context.threads.get(roomKey(room));
    if (!thread) return;
    for (const person of thread.people.values()) person.online = false;
    for (const user of online) thread.people.set(user.userId, { ...user, online: true } satisfies Person);
    thread.onlineTruncated = truncated;
    // A big room's frame carries only part of the list; GET /rooms/{room}/presence has everyone.
    if (truncated) this.#scheduleRefresh(room);
  }

  onPresence(frame: PresenceFrame): void {
    const thread = this.#context.threads.get(roomKey(frame.room));
    if (!thread) return;
    const online = frame.event === 'joined' || frame.event === 'online';
    thread.people.set(frame.userId, { userId: frame.userId, userName: frame.userName, online });
    // `left` is one connection leaving: the user may still be here through another tab, so ask.
    if (!online) this.#scheduleRefresh(thread.name);
  }

  /** Whether someone other than this user is online in any room this client is in. */
  isOnline(userId: string): boolean {
    return this.#context.threads.rooms().some((room) => room.people.get(userId)?.online === true);
  }

  stop(): void {
    for (const timer of this.#refresh.values()) clearTimeout(timer);
    this.#refresh.clear();
  }

  #scheduleRefresh(room: string): void {
    clearTimeout(this.#refresh.get(room));
    this.#refresh.set(
      room,
      setTimeout(() => {
        this.#refresh.delete(room);
        this.#context.deps.rest
          .roomPresence(room)
          .then((result) => {
            this.setOnline(room, result.online);
            this.#context.changed();
          })
          .catch(() => undefined);
      }, PRESENCE_REFRESH_MS),
    );
  }
}
