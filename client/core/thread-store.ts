import type { DirectMessage, RoomMessageFrame } from '#protocol/server-frames';
import type { ChatEvent, ChatIdentity, MessageOrigin } from './chat-types.js';
import { changesOf } from './message-merge.js';
import { byActivity, dmKey, newThread, roomKey, type Thread } from './threads.js';
import type { ChatItem } from './timeline.js';

interface StoreContext {
  me(): ChatIdentity;
  activeKey(): string;
  visible(): boolean;
  emit(event: ChatEvent): void;
}

/**
 * The rooms and direct conversations, and the one place a message enters a timeline: it counts
 * unread, learns room members from senders and announces each messageId once.
 */
export class ThreadStore {
  readonly #context: StoreContext;
  readonly #threads = new Map<string, Thread>();
  /** messageId → thread key, for acks, errors, receipts and deletions that name only the message. */
  readonly #messageThread = new Map<string, string>();

  constructor(context: StoreContext) {
    this.#context = context;
  }

  get(key: string): Thread | undefined {
    return this.#threads.get(key);
  }

  has(key: string): boolean {
    return this.#threads.has(key);
  }

  delete(key: string): boolean {
    return this.#threads.delete(key);
  }

  all(): Thread[] {
    return [...this.#threads.values()];
  }

  rooms(): Thread[] {
    return this.all().filter((thread) => thread.kind === 'room');
  }

  /** Most recently active first. */
  conversations(): Thread[] {
    return this.all()
      .filter((thread) => thread.kind === 'dm')
      .sort(byActivity);
  }

  ensureRoom(room: string): Thread {
    const key = roomKey(room);
    let thread = this.#threads.get(key);
    if (!thread) {
      thread = newThread(key, 'room', room);
      this.#threads.set(key, thread);
    }
    return thread;
  }

  ensureDirect(peerId: string, peerName?: string): Thread {
    const key = dmKey(peerId);
    let thread = this.#threads.get(key);
    if (!thread) {
      thread = newThread(key, 'dm', peerId);
      this.#threads.set(key, thread);
    }
    if (peerName) thread.peerName = peerName;
    return thread;
  }

  /** The thread a message is in, by its id, else the conversation it names. */
  ofMessage(messageId: string, conversationId?: string): Thread | undefined {
    const key = this.#messageThread.get(messageId);
    if (key) return this.#threads.get(key);
    return this.conversations().find((thread) => thread.conversationId === conversationId);
  }

  /** Adds or merges a message; true when the thread had not had it. */
  add(thread: Thread, item: ChatItem, origin: MessageOrigin): boolean {
    const result = thread.timeline.upsert(item);
    this.#messageThread.set(item.id, thread.key);
    if (result !== 'added') return false;
    if (item.timestamp > thread.lastActivity) thread.lastActivity = item.timestamp;
    if (thread.kind === 'room' && !item.mine && !thread.people.has(item.senderId)) {
      thread.people.set(item.senderId, { userId: item.senderId, userName: item.senderName, online: false });
    }
    const onScreen = thread.key === this.#context.activeKey() && this.#context.visible();
    if (origin === 'live' && !item.mine && !onScreen) thread.unread += 1;
    this.#context.emit({ type: 'message-added', key: thread.key, item: thread.timeline.get(item.id) ?? item, origin });
    return true;
  }

  /** A room message frame; the added item, or undefined if the thread had it. */
  addRoomMessage(thread: Thread, frame: RoomMessageFrame, origin: MessageOrigin): ChatItem | undefined {
    const item: ChatItem = {
      id: frame.messageId,
      timestamp: frame.timestamp,
      senderId: frame.user_id,
      senderName: frame.userName,
      text: frame.message,
      mine: frame.user_id === this.#context.me().userId,
      delivery: 'sent',
      ...(frame.seq !== undefined ? { seq: frame.seq } : {}),
      ...changesOf(frame),
      ...(frame.attachments?.length ? { attachments: frame.attachments } : {}),
    };
    return this.add(thread, item, origin) ? item : undefined;
  }

  /** A direct message, into the conversation with whoever is not this user. */
  addDirect(data: DirectMessage, origin: MessageOrigin): { thread: Thread; added: ChatItem | undefined } {
    const mine = data.senderId === this.#context.me().userId;
    const thread = this.ensureDirect(mine ? data.recipientId : data.senderId, mine ? undefined : data.senderName);
    thread.conversationId ??= data.conversationId;
    const reply =
      data.replyToContent !== undefined || data.replyToSenderName !== undefined
        ? {
            ...(data.replyToSenderName !== undefined ? { senderName: data.replyToSenderName } : {}),
            ...(data.replyToContent !== undefined ? { content: data.replyToContent } : {}),
          }
        : undefined;
    const item: ChatItem = {
      id: data.messageId,
      timestamp: data.timestamp,
      senderId: data.senderId,
      senderName: data.senderName,
      text: data.isDeleted ? '' : data.content,
      mine,
      delivery: data.status,
      ...(data.isDeleted ? { deleted: true } : {}),
      ...(reply ? { reply } : {}),
      ...(data.seq !== undefined ? { seq: data.seq } : {}),
      ...changesOf(data),
      ...(data.attachments?.length && !data.isDeleted ? { attachments: data.attachments } : {}),
    };
    const added = this.add(thread, item, origin);
    if (!data.isDeleted) thread.preview = data.content;
    return { thread, added: added ? item : undefined };
  }
}
