import type { EditedFrame, ReactionsFrame } from '#protocol/server-frames';
import type { ChatContext } from './chat-context.js';
import type { MessageChanges } from './message-merge.js';
import type { ThreadStore } from './thread-store.js';
import { roomKey, type Thread } from './threads.js';
import { type ChatItem, isConfirmed } from './timeline.js';

/** The picker's emojis: any single emoji is accepted, these are one click away. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢', '👀', '🙏'] as const;

function threadOf(threads: ThreadStore, frame: EditedFrame | ReactionsFrame): Thread | undefined {
  return frame.room ? threads.get(roomKey(frame.room)) : threads.ofMessage(frame.messageId, frame.conversationId);
}

/** An `edited` frame: the new text, unless a newer edit is already shown or the message is gone. */
export function applyEdited(frame: EditedFrame, threads: ThreadStore): boolean {
  const item = threadOf(threads, frame)?.timeline.get(frame.messageId);
  if (!item || item.deleted || (item.editedAt !== undefined && item.editedAt > frame.editedAt)) return false;
  return (
    threadOf(threads, frame)?.timeline.patch(frame.messageId, { text: frame.message, editedAt: frame.editedAt }) ??
    false
  );
}

/** A `reactions` frame: the counts as sent, and this user's own emojis when it was their change. */
export function applyReactions(frame: ReactionsFrame, threads: ThreadStore, myUserId: string): boolean {
  const timeline = threadOf(threads, frame)?.timeline;
  const item = timeline?.get(frame.messageId);
  if (!timeline || !item) return false;
  const change: MessageChanges = { reactions: { ...frame.counts } };
  if (frame.userId === myUserId) {
    const mine = new Set(item.myReactions ?? []);
    if (frame.reacted) mine.add(frame.emoji);
    else mine.delete(frame.emoji);
    change.myReactions = [...mine].sort();
  }
  return timeline.patch(frame.messageId, change);
}

/** The newest message this user sent in the thread that can still be edited. */
export function lastOwnMessage(thread: Thread | undefined): ChatItem | undefined {
  const list = thread?.timeline.list() ?? [];
  for (let index = list.length - 1; index >= 0; index--) {
    const item = list[index];
    if (item?.mine && !item.deleted && isConfirmed(item.delivery)) return item;
  }
  return undefined;
}

/** The newest message in the thread that can be reacted to. */
export function lastMessage(thread: Thread | undefined): ChatItem | undefined {
  const list = thread?.timeline.list() ?? [];
  for (let index = list.length - 1; index >= 0; index--) {
    const item = list[index];
    if (item && !item.deleted && isConfirmed(item.delivery)) return item;
  }
  return undefined;
}

/**
 * The user's edit and reaction actions. Nothing is shown optimistically: the server's `edited` and
 * `reactions` frames (the sender gets them too) are what change the timeline, so a refused change
 * (an error frame) leaves nothing to undo.
 */
export class MessageChangeActions {
  readonly #context: ChatContext;

  constructor(context: ChatContext) {
    this.#context = context;
  }

  /** Sends an edit of one of this user's messages; false when there is nothing to send. */
  edit(messageId: string, text: string): boolean {
    const item = this.#context.threads.ofMessage(messageId)?.timeline.get(messageId);
    if (!item?.mine || item.deleted || !isConfirmed(item.delivery)) return false;
    if (text.trim() === '' || text === item.text) return false;
    return this.#send({ action: 'editMessage', messageId, message: text });
  }

  /** Adds the emoji, or takes it back if this user already reacted with it. */
  toggleReaction(messageId: string, emoji: string): boolean {
    const item = this.#context.threads.ofMessage(messageId)?.timeline.get(messageId);
    if (!item || item.deleted || !isConfirmed(item.delivery)) return false;
    const action = item.myReactions?.includes(emoji) ? 'unreact' : 'react';
    return this.#send({ action, messageId, emoji });
  }

  #send(frame: Parameters<ChatContext['send']>[0]): boolean {
    if (this.#context.send(frame)) return true;
    this.#context.showError('offline', 'Not connected: try again once the connection is back.');
    return false;
  }
}
