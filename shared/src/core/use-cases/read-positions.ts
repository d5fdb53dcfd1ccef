import type { RoomReadFrame } from '#protocol/server-frames';
import { NotFoundError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import type { ChatMessage } from '../domain/message.js';
import { topics } from '../domain/room.js';
import { messageStatusChanged } from '../events/message-status-changed.js';
import type { DistributionPublisher, MessageStore, ReadPosition, ReadPositionStore } from '../ports.js';
import { type DirectPathDeps, fanOutMessage } from './fan-out-message.js';
import { type JoinedCheckDeps, type RoomAccessDeps, requireJoined, requireRoomAccess } from './membership.js';

export interface MarkRoomReadInput {
  connectionId: string;
  identity: Identity;
  room: string;
  upToMessageId?: string;
  upToSeq?: number;
}

export interface MarkRoomReadDeps extends JoinedCheckDeps {
  messages: Pick<MessageStore, 'findById'>;
  readPositions: ReadPositionStore;
  events: DistributionPublisher;
  direct?: DirectPathDeps;
}

/** Unread = the room's newest seq − the user's read position: two keys per room, no Query, no scan. */
export const unreadOf = (position: { latestSeq: number; readSeq: number } | undefined) =>
  position ? Math.max(0, position.latestSeq - position.readSeq) : 0;

/**
 * markRead for a room. Primary course:
 * 1. Refuse a room this connection is not in.
 * 2. Find the seq to read up to (`upToSeq`, or the seq of `upToMessageId`, which must be in the room),
 *    at most the room's newest.
 * 3. Move the user's read position there, forward only: it is per user, so every device shares it.
 * 4. Tell all the user's connections (their other devices update their badges) and answer with the same frame.
 */
export async function markRoomRead(input: MarkRoomReadInput, deps: MarkRoomReadDeps): Promise<RoomReadFrame> {
  const { userId } = input.identity;
  await requireJoined(
    { connectionId: input.connectionId, userId },
    input.room,
    deps,
    'join the room before marking it read',
  );
  let target = input.upToSeq ?? 0;
  if (input.upToMessageId !== undefined) {
    const message = await deps.messages.findById(input.upToMessageId);
    if (!message || message.room !== input.room || message.kind !== 'room') {
      throw new NotFoundError('upToMessageId is not in this room');
    }
    target = message.seq ?? 0;
  }
  const position = (await deps.readPositions.positions(userId, [input.room])).get(input.room) ?? {
    latestSeq: 0,
    readSeq: 0,
  };
  const wanted = Math.min(target, position.latestSeq);
  const readSeq =
    wanted > position.readSeq ? await deps.readPositions.advance(userId, input.room, wanted) : position.readSeq;
  const frame: RoomReadFrame = {
    type: 'read',
    room: input.room,
    readSeq,
    unread: unreadOf({ latestSeq: position.latestSeq, readSeq }),
  };
  if (wanted > position.readSeq) {
    await fanOutMessage(
      messageStatusChanged.detailType,
      [{ topic: topics.user(userId), frame }],
      { duplicate: false },
      deps,
    );
  }
  return frame;
}

/** Unread counts for some of a user's rooms. */
export async function roomUnread(
  userId: string,
  rooms: string[],
  deps: { readPositions: Pick<ReadPositionStore, 'positions'> },
): Promise<Record<string, number>> {
  if (rooms.length === 0) return {};
  const positions = await deps.readPositions.positions(userId, rooms);
  return Object.fromEntries(rooms.map((room) => [room, unreadOf(positions.get(room))]));
}

/** GET /rooms/{room}/unread: the room's newest seq and the user's read position, in a room they may enter. */
export async function roomReadPosition(
  userId: string,
  room: string,
  deps: RoomAccessDeps & { readPositions: ReadPositionStore },
): Promise<ReadPosition> {
  await requireRoomAccess(room, userId, deps);
  return (await deps.readPositions.positions(userId, [room])).get(room) ?? { latestSeq: 0, readSeq: 0 };
}

/**
 * The sender has read their own message, so their unread count never counts it. It is written beside
 * the fan-out, outside the message's transaction (a plain UpdateItem is 1 WRU where a transaction
 * item is 2, and no round trip in series), and forward only, so a late or repeated write never moves
 * the position back. A retried send (duplicate) writes it again: a failure here fails the send, and
 * the retry repairs it.
 */
export async function senderHasRead(
  message: ChatMessage,
  readPositions: Pick<ReadPositionStore, 'advance'>,
): Promise<void> {
  if (message.seq === undefined) return;
  await readPositions.advance(message.userId, message.room, message.seq);
}
