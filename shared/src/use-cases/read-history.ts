import { type HistoryFrame, roomMessageFrame } from '../domain/frames.js';
import { epochSeconds } from '../domain/time.js';
import type { HistoryPage, MessageStore } from '../ports.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** A room's history, newest first, one page at a time. */
export function readRoomHistory(
  room: string,
  page: { limit: number; cursor?: string },
  deps: { messages: MessageStore },
): Promise<HistoryPage> {
  return deps.messages.history(room, { ...page, nowSeconds: epochSeconds() });
}

/** A user's room messages, newest first, through the user-time index. */
export function readUserHistory(
  userId: string,
  page: { limit: number; cursor?: string },
  deps: { messages: MessageStore },
): Promise<HistoryPage> {
  return deps.messages.byUser(userId, { ...page, nowSeconds: epochSeconds() });
}

/**
 * Reconnect catch-up: everything in the room after the last message the client saw, oldest
 * first. `after` is a message's sort key or an ISO time.
 */
export async function catchUp(
  room: string,
  after: string,
  limit: number,
  deps: { messages: MessageStore },
): Promise<HistoryFrame> {
  const page = await deps.messages.since(room, { afterSk: after, limit, nowSeconds: epochSeconds() });
  return {
    type: 'history',
    room,
    messages: page.messages.map(roomMessageFrame),
    hasMore: page.nextCursor !== undefined,
  };
}
