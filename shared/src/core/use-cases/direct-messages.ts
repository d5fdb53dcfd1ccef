import { type AckFrame, directMessageFrame, type Frame } from '#protocol/server-frames';
import { allOrFirstError } from '../concurrency.js';
import { ForbiddenError, IdentityMismatchError, NotFoundError, ValidationError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import {
  type ChatMessage,
  derivedConversationId,
  directPartition,
  newMessageId,
  type ReplyReference,
  sortKeyFor,
} from '../domain/message.js';
import { topics } from '../domain/room.js';
import { epochSeconds, retentionExpiry } from '../domain/time.js';
import { messagePosted } from '../events/message-posted.js';
import type {
  ConversationStore,
  DistributionPublisher,
  HistoryPage,
  MessageStore,
  ReadPositionStore,
} from '../ports.js';
import { type AttachmentDeps, attachToMessage } from './attachments.js';
import { type DirectPathDeps, fanOutMessage } from './fan-out-message.js';
import { type ModerationDeps, moderatedNewText } from './moderate-message.js';
import { requireAttachmentDeps } from './post-room-message.js';
import { senderHasRead } from './read-positions.js';

/** Reply quotes are previews, not copies. */
const REPLY_PREVIEW_LENGTH = 200;

export interface DirectMessageDeps {
  messages: MessageStore;
  readPositions: Pick<ReadPositionStore, 'advance'>;
  conversations: ConversationStore;
  events: DistributionPublisher;
  /** Post to the participants' connections from here (fan-out-message.ts); absent: the state machine. */
  direct?: DirectPathDeps;
  retentionDays: number;
  /** Needed only by a message with attachments. */
  attachments?: Pick<AttachmentDeps, 'attachments' | 'storage'>;
  /** The moderation hook; absent: none is configured. */
  moderation?: ModerationDeps;
}

export interface SendDirectMessageInput {
  identity: Identity;
  recipientId: string;
  content: string;
  messageId?: string;
  conversationId?: string;
  /** Seed 004 sends `senderId`; it may only repeat the connection's own identity. */
  claimedSenderId?: string;
  replyToMessageId?: string;
  now?: Date;
  /** Files from requestUpload for this conversation (attachments.ts). */
  attachmentIds?: readonly string[];
  /**
   * The sender's rate budget (WebSocket router): awaited beside the reads and before anything is
   * written (a new conversation included) or the moderation hook is called. Absent: already admitted.
   */
  admitted?: () => Promise<void>;
}

async function assertParticipant(
  conversations: ConversationStore,
  conversationId: string,
  userId: string,
): Promise<string[]> {
  const participants = await conversations.participants(conversationId);
  if (!participants?.includes(userId)) throw new ForbiddenError('not a participant of that conversation');
  return participants;
}

/** The reply quote comes from the stored original, never from the client's copy of it. */
async function replyReference(
  messages: MessageStore,
  conversationId: string,
  replyToMessageId: string | undefined,
): Promise<ReplyReference | undefined> {
  if (!replyToMessageId) return undefined;
  const original = await messages.findById(replyToMessageId);
  if (!original || original.conversationId !== conversationId) {
    throw new ValidationError('replyToMessageId is not a message of this conversation', [
      { path: 'replyToMessageId', message: 'not found in this conversation' },
    ]);
  }
  return {
    replyToMessageId,
    replyToContent: original.isDeleted ? '' : original.content.slice(0, REPLY_PREVIEW_LENGTH),
    replyToSenderName: original.userName,
  };
}

/**
 * sendMessage with a recipientId (seed 004). Primary course:
 * 1. Refuse a body that claims another sender, or a message to oneself.
 * 2. Let the moderation hook allow, change or refuse the text (moderate-message.ts) before
 *    anything is stored, even a new conversation.
 * 3. Find or create the pair's one conversation; only its participants may use it.
 * 4. Store the message as `sent` and pending for the recipient (once per messageId).
 * 5. Fan it out to every connection of the recipient (marking it delivered when one receives it)
 *    and of the sender (their other devices), posted from here or through the state machine
 *    (fanOutMessage), while both participants' summaries and the sender's read position are
 *    updated, then acknowledge.
 * An offline recipient gets it from the pending index at their next connect.
 */
export async function sendDirectMessage(input: SendDirectMessageInput, deps: DirectMessageDeps): Promise<AckFrame> {
  const sender = input.identity;
  if (input.claimedSenderId !== undefined && input.claimedSenderId !== sender.userId) {
    throw new IdentityMismatchError('senderId does not match the connection identity');
  }
  if (input.recipientId === sender.userId) {
    throw new ValidationError('cannot send a direct message to yourself', [
      { path: 'recipientId', message: 'is the sender' },
    ]);
  }
  const messageId = input.messageId ?? newMessageId();
  const admission = input.admitted?.();
  // The hook is a paid call with its own cost: only an admitted frame reaches it.
  if (deps.moderation) await admission;
  const content = await moderatedNewText(
    {
      Content: input.content,
      MessageId: messageId,
      Action: 'send',
      Kind: 'direct',
      ...(input.conversationId ? { ConversationId: input.conversationId } : {}),
      RecipientId: input.recipientId,
      Sender: { UserId: sender.userId, UserName: sender.userName },
    },
    input.messageId !== undefined,
    deps,
  );
  // The conversation's id is almost always the one named or derived from the pair, so its counter is
  // read beside the conversation lookup (one round trip instead of two); a wrong guess is not used.
  const guessedId = input.conversationId ?? derivedConversationId(sender.userId, input.recipientId);
  const [conversationId, guessedLastSeq] = await Promise.all([
    deps.conversations.resolve(
      sender,
      { userId: input.recipientId, userName: input.recipientId },
      input.conversationId,
      { beforeCreate: () => admission ?? Promise.resolve() },
    ),
    deps.messages.lastSeq(directPartition(guessedId)),
    admission,
  ]);
  const reply = await replyReference(deps.messages, conversationId, input.replyToMessageId);

  const now = input.now ?? new Date();
  const timestamp = now.toISOString();
  const expiresAt = retentionExpiry(now.getTime(), deps.retentionDays);
  const attachments = input.attachmentIds?.length
    ? await attachToMessage(
        {
          identity: sender,
          place: directPartition(conversationId),
          attachmentIds: input.attachmentIds,
          messageId,
          expiresAt,
        },
        requireAttachmentDeps(deps.attachments),
      )
    : undefined;
  const draft: ChatMessage = {
    room: directPartition(conversationId),
    sk: sortKeyFor(timestamp, messageId),
    messageId,
    userId: sender.userId,
    userName: sender.userName,
    content,
    timestamp,
    kind: 'direct',
    conversationId,
    recipientId: input.recipientId,
    status: 'sent',
    ...(reply ? { reply } : {}),
    ...(attachments ? { attachments } : {}),
  };
  const knownLastSeq = conversationId === guessedId ? guessedLastSeq : undefined;
  const { message, duplicate } = await deps.messages.append(draft, expiresAt, knownLastSeq);
  if (message.kind !== 'direct' || message.conversationId !== conversationId) {
    throw new ValidationError('messageId already names a message elsewhere', [
      { path: 'messageId', message: 'in use' },
    ]);
  }
  // The two summaries (another table) and the sender's read position are written while the message
  // goes out, not before it.
  await allOrFirstError([
    duplicate ? undefined : deps.conversations.recordMessage(message, expiresAt),
    senderHasRead(message, deps.readPositions),
    fanOutMessage(
      messagePosted.detailType,
      [
        {
          topic: topics.user(input.recipientId),
          frame: directMessageFrame(message, 'delivered'),
          receipt: { room: message.room, sk: message.sk },
        },
        { topic: topics.user(sender.userId), frame: directMessageFrame(message) },
      ],
      { duplicate },
      deps,
    ),
  ]);
  const ack: AckFrame = { type: 'ack', messageId: message.messageId, conversationId, timestamp: message.timestamp };
  if (duplicate) ack.duplicate = true;
  if (message.seq !== undefined) ack.seq = message.seq;
  return ack;
}

/**
 * markRead: the reader's messages in a conversation, up to one messageId (inclusive) or a list,
 * move to `read`. Status only moves forward, so re-reading changes nothing. The senders hear about
 * it through the Messages stream.
 */
export async function markRead(
  input: { identity: Identity; conversationId: string; upToMessageId?: string; messageIds?: string[] },
  deps: Pick<DirectMessageDeps, 'messages' | 'conversations'>,
): Promise<Frame> {
  const readerId = input.identity.userId;
  await assertParticipant(deps.conversations, input.conversationId, readerId);
  const room = directPartition(input.conversationId);
  let candidates: ChatMessage[] = [];
  if (input.upToMessageId) {
    const target = await deps.messages.findById(input.upToMessageId);
    if (!target || target.room !== room) throw new NotFoundError('upToMessageId is not in this conversation');
    candidates = await deps.messages.unreadFor(room, readerId, target.sk, epochSeconds());
  } else {
    const found = await Promise.all((input.messageIds ?? []).map((id) => deps.messages.findById(id)));
    candidates = found.filter(
      (message): message is ChatMessage => !!message && message.room === room && message.recipientId === readerId,
    );
  }
  let changed = 0;
  for (const message of candidates) {
    if (await deps.messages.advanceStatus({ room: message.room, sk: message.sk }, 'read')) changed++;
  }
  await deps.conversations.markRead(readerId, input.conversationId, changed);
  return { type: 'read', conversationId: input.conversationId, count: changed };
}

/** A conversation's history, newest first, for its participants only. */
export async function readConversation(
  input: { identity: Identity; conversationId: string; limit: number; cursor?: string },
  deps: Pick<DirectMessageDeps, 'messages' | 'conversations'>,
): Promise<HistoryPage> {
  await assertParticipant(deps.conversations, input.conversationId, input.identity.userId);
  return deps.messages.history(directPartition(input.conversationId), {
    limit: input.limit,
    cursor: input.cursor,
    nowSeconds: epochSeconds(),
  });
}
