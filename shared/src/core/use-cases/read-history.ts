import { type HistoryFrame, roomMessageFrame } from '#protocol/server-frames';
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
 * A message's sort key is stamped when its handler starts but it becomes readable only when its
 * write commits, up to the handler's 29 s timeout later (retries, throttling). A catch-up that
 * started strictly after the last message seen could skip one stamped earlier but stored later,
 * so the first catch-up page reaches this far back; clients drop the repeats by messageId.
 */
export const LATE_WRITE_WINDOW_MS = 30_000;

/**
 * Reconnect catch-up, oldest first: from shortly before the last message the client saw
 * (`since`, an ISO time), or exactly after a `cursor` this function returned for the next page.
 */
export async function catchUp(
  room: string,
  from: { since: string } | { cursor: string },
  limit: number,
  deps: { messages: MessageStore },
): Promise<HistoryFrame> {
  const afterSk =
    'cursor' in from ? from.cursor : new Date(Date.parse(from.since) - LATE_WRITE_WINDOW_MS).toISOString();
  const page = await deps.messages.since(room, { afterSk, limit, nowSeconds: epochSeconds() });
  const last = page.messages.at(-1);
  const hasMore = page.nextCursor !== undefined;
  return {
    type: 'history',
    room,
    messages: page.messages.map(roomMessageFrame),
    hasMore,
    ...(hasMore && last ? { cursor: last.sk } : {}),
  };
}
