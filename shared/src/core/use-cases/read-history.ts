import { type HistoryFrame, roomMessageFrame } from '#protocol/server-frames';
import { isPrivateRoomId } from '../domain/room.js';
import { epochSeconds } from '../domain/time.js';
import type { HistoryPage, MessageStore } from '../ports.js';
import { canAccessRoom, type RoomAccessDeps, requireRoomAccess } from './membership.js';

export interface HistoryDeps extends RoomAccessDeps {
  messages: MessageStore;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** A room's history, newest first, one page at a time, for a viewer the room-access policy lets in. */
export async function readRoomHistory(
  viewerId: string,
  room: string,
  page: { limit: number; cursor?: string },
  deps: HistoryDeps,
): Promise<HistoryPage> {
  await requireRoomAccess(room, viewerId, deps);
  return deps.messages.history(room, { ...page, nowSeconds: epochSeconds() });
}

/**
 * A user's room messages, newest first, through the user-time index. Messages in private rooms the
 * viewer is not a member of are left out (a page may then hold fewer than `limit`; its cursor still
 * leads on), so nobody learns such a room exists from someone's message list.
 */
export async function readUserHistory(
  viewerId: string,
  userId: string,
  page: { limit: number; cursor?: string },
  deps: HistoryDeps,
): Promise<HistoryPage> {
  const found = await deps.messages.byUser(userId, { ...page, nowSeconds: epochSeconds() });
  const privateRooms = [...new Set(found.messages.map((message) => message.room).filter(isPrivateRoomId))];
  const allowed = await Promise.all(privateRooms.map((room) => canAccessRoom(room, viewerId, deps)));
  const hidden = new Set(privateRooms.filter((_room, index) => !allowed[index]));
  return { ...found, messages: found.messages.filter((message) => !hidden.has(message.room)) };
}

/**
 * A message's sort key is stamped when its handler starts but it becomes readable only when its
 * write commits, up to the handler's 29 s timeout later (retries, throttling). A catch-up that
 * started strictly after the last message seen could skip one stamped earlier but stored later,
 * so the first catch-up page reaches this far back; clients drop the repeats by messageId.
 */
export const LATE_WRITE_WINDOW_MS = 30_000;

/**
 * Reconnect catch-up (`resume`), for a viewer the room-access policy lets in, oldest first: from shortly before the last message the client saw
 * (`since`, an ISO time), or exactly after a `cursor` this function returned for the next page.
 */
export async function catchUp(
  viewerId: string,
  room: string,
  from: { since: string } | { cursor: string },
  limit: number,
  deps: HistoryDeps,
): Promise<HistoryFrame> {
  await requireRoomAccess(room, viewerId, deps);
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
