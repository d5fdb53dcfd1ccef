import type { ChatContext } from './chat-context.js';
import { roomKey, type Thread } from './threads.js';

/** Which rooms the client is in: where it starts, joins and leaves, and what it remembers between runs. */
export class RoomList {
  readonly #context: ChatContext;
  readonly #userId: () => string;
  #pendingJoin: string | undefined;

  constructor(context: ChatContext, userId: () => string) {
    this.#context = context;
    this.#userId = userId;
  }

  /** Creates the starting rooms; returns the key of the one to show first. */
  restore(): string {
    const { deps, threads } = this.#context;
    const given = deps.rooms ?? [];
    const stored = given.length > 0 ? [...given] : this.#storedRooms();
    for (const room of stored.length > 0 ? stored : ['general']) threads.ensureRoom(room);
    const firstRoom = threads.rooms()[0]?.key ?? roomKey('general');
    // A room list given by the caller starts in its first room; a remembered one where the user left off.
    if (given.length > 0) return firstRoom;
    const active = deps.storage.getItem(this.#storageKey('active'));
    return active?.startsWith('room:') && threads.has(active) ? active : firstRoom;
  }

  saveActive(key: string): void {
    this.#context.deps.storage.setItem(this.#storageKey('active'), key);
  }

  /** Asks to join; returns the room's key when the client is in it already. */
  join(room: string): string | undefined {
    const name = room.trim().replace(/^#/, '');
    if (name === '') return undefined;
    if (this.#context.threads.has(roomKey(name))) return roomKey(name);
    this.#pendingJoin = name;
    if (!this.#context.send({ action: 'joinRoom', room: name })) {
      this.#context.showError('offline', 'Not connected: join the room once the connection is back.');
    }
    return undefined;
  }

  leave(room: string): void {
    if (this.#context.threads.rooms().length <= 1) {
      this.#context.showError('last_room', 'You are in only this room; join another before leaving it.');
      return;
    }
    if (!this.#context.send({ action: 'leaveRoom', room })) {
      this.#context.showError('offline', 'Not connected: leave the room once the connection is back.');
    }
  }

  /** The server confirmed a join; `select` when this client asked for it (so the user wants to see it). */
  onJoined(room: string): { thread: Thread; select: boolean } {
    const thread = this.#context.threads.ensureRoom(room);
    this.#save();
    const select = this.#pendingJoin === room;
    if (select) this.#pendingJoin = undefined;
    return { thread, select };
  }

  /** The server confirmed a leave; false if the client was not in the room. */
  onLeft(room: string): boolean {
    if (!this.#context.threads.delete(roomKey(room))) return false;
    this.#save();
    return true;
  }

  joinRefused(): void {
    this.#pendingJoin = undefined;
  }

  #storageKey(what: string): string {
    return `switchboard.${what}.${this.#userId()}`;
  }

  #storedRooms(): string[] {
    try {
      const value: unknown = JSON.parse(this.#context.deps.storage.getItem(this.#storageKey('rooms')) ?? '[]');
      return Array.isArray(value) ? value.filter((room): room is string => typeof room === 'string') : [];
    } catch {
      return [];
    }
  }

  #save(): void {
    const rooms = this.#context.threads.rooms().map((thread) => thread.name);
    this.#context.deps.storage.setItem(this.#storageKey('rooms'), JSON.stringify(rooms));
  }
}
