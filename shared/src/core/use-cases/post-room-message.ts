import { type AckFrame, roomMessageFrame } from '#protocol/server-frames';
import { allOrFirstError } from '../concurrency.js';
import { IdentityMismatchError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import { type ChatMessage, newMessageId, sortKeyFor } from '../domain/message.js';
import { topics } from '../domain/room.js';
import { retentionExpiry } from '../domain/time.js';
import { messagePosted } from '../events/message-posted.js';
import type { DistributionPublisher, MessageStore, ReadPositionStore } from '../ports.js';
import { type AttachmentDeps, attachToMessage } from './attachments.js';
import { type DirectPathDeps, fanOutMessage } from './fan-out-message.js';
import { type RoomAccessDeps, requireRoomAccess } from './membership.js';
import { type ModerationDeps, moderatedNewText } from './moderate-message.js';
import { senderHasRead } from './read-positions.js';

export interface PostRoomMessageInput {
  identity: Identity;
  room: string;
  content: string;
  /** A client-chosen id makes a retried send idempotent. */
  messageId?: string;
  /** Seed 002 sends `user_id`; it may only repeat the connection's own identity. */
  claimedUserId?: string;
  now?: Date;
  /** Files from requestUpload for this room (attachments.ts). */
  attachmentIds?: readonly string[];
  /** The room's counter, read beside the access check (sendRoomMessage): one round trip fewer. */
  knownLastSeq?: number;
  /**
   * The sender's rate budget (WebSocket router): awaited beside the reads and before anything is
   * written or the moderation hook is called. Absent: already admitted (REST).
   */
  admitted?: () => Promise<void>;
}

export interface PostRoomMessageDeps {
  messages: MessageStore;
  readPositions: Pick<ReadPositionStore, 'advance'>;
  events: DistributionPublisher;
  /** Post to small rooms from here (fan-out-message.ts); absent: always the state machine. */
  direct?: DirectPathDeps;
  retentionDays: number;
  /** Needed only by a message with attachments. */
  attachments?: Pick<AttachmentDeps, 'attachments' | 'storage'>;
  /** The moderation hook; absent: none is configured. */
  moderation?: ModerationDeps;
}

/**
 * sendMessage to a room. Primary course:
 * 1. Refuse a body that claims another identity.
 * 2. Let the moderation hook allow, change or refuse the text (moderate-message.ts); a refusal
 *    stores nothing.
 * 3. Store the message once per messageId (a retry finds the original).
 * 4. Deliver it to every live connection in the room (fanOutMessage: posted from here when the
 *    room is small, else published for the state machine) while the sender's read position moves
 *    to it (senderHasRead), then acknowledge.
 * A retried send delivers again through the state machine, so a delivery cut short after the write
 * is not lost; clients drop the repeat by messageId.
 */
export async function postRoomMessage(input: PostRoomMessageInput, deps: PostRoomMessageDeps): Promise<AckFrame> {
  if (input.claimedUserId !== undefined && input.claimedUserId !== input.identity.userId) {
    throw new IdentityMismatchError('user_id does not match the connection identity');
  }
  const now = input.now ?? new Date();
  const timestamp = now.toISOString();
  const messageId = input.messageId ?? newMessageId();
  const expiresAt = retentionExpiry(now.getTime(), deps.retentionDays);
  const content = await moderatedNewText(
    {
      Content: input.content,
      MessageId: messageId,
      Action: 'send',
      Kind: 'room',
      Room: input.room,
      Sender: { UserId: input.identity.userId, UserName: input.identity.userName },
    },
    input.messageId !== undefined,
    deps,
  );
  const attachments = input.attachmentIds?.length
    ? await attachToMessage(
        { identity: input.identity, place: input.room, attachmentIds: input.attachmentIds, messageId, expiresAt },
        requireAttachmentDeps(deps.attachments),
      )
    : undefined;
  const draft: ChatMessage = {
    room: input.room,
    sk: sortKeyFor(timestamp, messageId),
    messageId,
    userId: input.identity.userId,
    userName: input.identity.userName,
    content,
    timestamp,
    kind: 'room',
    ...(attachments ? { attachments } : {}),
  };
  const { message, duplicate } = await deps.messages.append(draft, expiresAt, input.knownLastSeq);
  await allOrFirstError([
    fanOutMessage(
      messagePosted.detailType,
      [{ topic: topics.room(message.room), frame: roomMessageFrame(message) }],
      { duplicate },
      deps,
    ),
    senderHasRead(message, deps.readPositions),
  ]);
  const ack: AckFrame = { type: 'ack', messageId: message.messageId, room: message.room, timestamp: message.timestamp };
  if (duplicate) ack.duplicate = true;
  if (message.seq !== undefined) ack.seq = message.seq;
  return ack;
}

/**
 * sendMessage from a user (WebSocket and REST): the room-access policy first, so a non-member's or a
 * banned user's message is refused before anything is stored. postRoomMessage alone is for the
 * system's own posts (the echo room).
 */
export async function sendRoomMessage(
  input: PostRoomMessageInput,
  deps: PostRoomMessageDeps & RoomAccessDeps,
): Promise<AckFrame> {
  if (input.claimedUserId !== undefined && input.claimedUserId !== input.identity.userId) {
    throw new IdentityMismatchError('user_id does not match the connection identity');
  }
  // The reads go side by side with the rate budget's write: one round trip instead of two. Without
  // a hook nothing slow comes between the counter's read and the write (a stale read costs a retry).
  const admission = input.admitted?.();
  if (deps.moderation) {
    await Promise.all([requireRoomAccess(input.room, input.identity.userId, deps), admission]);
    return postRoomMessage(input, deps);
  }
  const [, knownLastSeq] = await Promise.all([
    requireRoomAccess(input.room, input.identity.userId, deps),
    deps.messages.lastSeq(input.room),
    admission,
  ]);
  return postRoomMessage({ ...input, knownLastSeq }, deps);
}

/** A composition that sends messages with files must bind the attachment adapters. */
export function requireAttachmentDeps<T>(deps: T | undefined): T {
  if (!deps) throw new Error('attachments are not configured for this function');
  return deps;
}
