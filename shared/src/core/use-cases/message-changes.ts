import type { MessageVersion } from '#protocol/http-bodies';
import { type AckFrame, editedFrame, type Frame, type ReactionsFrame } from '#protocol/server-frames';
import { ConflictError, ForbiddenError, LimitExceededError, NotFoundError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import { type ChatMessage, sortKeyFor } from '../domain/message.js';
import { MAX_DISTINCT_REACTIONS, MAX_REACTIONS_PER_USER } from '../domain/reactions.js';
import { topics } from '../domain/room.js';
import { epochSeconds } from '../domain/time.js';
import type { Delivery } from '../events/delivery.js';
import { messageStatusChanged } from '../events/message-status-changed.js';
import type { ConversationStore, DistributionPublisher, MessageChangeStore, MessageStore } from '../ports.js';
import { type DirectPathDeps, fanOutMessage } from './fan-out-message.js';
import { type JoinedCheckDeps, type RoomAccessDeps, requireJoined, requireRoomAccess } from './membership.js';
import { type ModerationDeps, moderatedText } from './moderate-message.js';

export interface MessageChangeDeps {
  messages: Pick<MessageStore, 'findById'>;
  changes: MessageChangeStore;
  events: DistributionPublisher;
  /** Post to small rooms and conversations from here (fan-out-message.ts); absent: the state machine. */
  direct?: DirectPathDeps;
}

export interface EditDeps extends MessageChangeDeps, RoomAccessDeps {
  /** A direct message's conversation previews show the new text. */
  conversations: Pick<ConversationStore, 'revisePreview'>;
  /** The moderation hook reviews an edit's new text as it does a new message's; absent: none. */
  moderation?: ModerationDeps;
}

/** How often an edit re-reads and retries when another edit of the same message won the race. */
const EDIT_ATTEMPTS = 3;

/** Everyone who can see a message: its room's members, or both parties' connections. */
function audienceOf(message: ChatMessage, frame: Frame): Delivery[] {
  if (message.kind === 'room') return [{ topic: topics.room(message.room), frame }];
  const parties = [message.userId, ...(message.recipientId ? [message.recipientId] : [])];
  return parties.map((userId) => ({ topic: topics.user(userId), frame }));
}

const addressOf = (message: ChatMessage) =>
  message.conversationId ? { conversationId: message.conversationId } : { room: message.room };

async function existing(messages: MessageChangeDeps['messages'], messageId: string): Promise<ChatMessage> {
  const message = await messages.findById(messageId);
  if (!message) throw new NotFoundError('no such message');
  return message;
}

/**
 * The room-access policy for a room message. A private room's message answers exactly like a
 * message that does not exist, so a messageId says nothing about a room the user is not in.
 */
async function requireMessageAccess(message: ChatMessage, userId: string, deps: RoomAccessDeps): Promise<void> {
  if (message.kind !== 'room') return;
  try {
    await requireRoomAccess(message.room, userId, deps);
  } catch (error) {
    throw error instanceof NotFoundError ? new NotFoundError('no such message') : error;
  }
}

function assertEditable(message: ChatMessage, identity: Identity): void {
  if (message.userId !== identity.userId) throw new ForbiddenError('only the sender can edit a message');
  if (message.isDeleted) throw new ConflictError('the message was deleted');
}

/**
 * editMessage. Primary course:
 * 1. Only the sender edits, and never a deleted message.
 * 1a. The moderation hook reviews the new text, once (an edit must not bypass moderation); it may
 *     change it or refuse the edit.
 * 2. Store the new text and keep the replaced one as a version, in one transaction that holds only
 *    if nobody edited the message since it was read (else re-read and retry).
 * 3. Send `edited` to everyone who can see the message (the direct path for small rooms and
 *    conversations, else the state machine), then acknowledge with the edit's time.
 * Nothing is stored when a check fails; the same text again is acknowledged without a new version.
 */
export async function editMessage(
  input: { identity: Identity; messageId: string; text: string; now?: Date },
  deps: EditDeps,
): Promise<AckFrame> {
  let text: string | undefined;
  for (let attempt = 0; attempt < EDIT_ATTEMPTS; attempt++) {
    const message = await existing(deps.messages, input.messageId);
    // A sender removed from a room (kicked, banned, or it was deleted) can no longer change what they said there.
    await requireMessageAccess(message, input.identity.userId, deps);
    assertEditable(message, input.identity);
    if (text === undefined && message.content !== input.text) {
      text = await moderatedText(
        {
          Content: input.text,
          MessageId: message.messageId,
          Action: 'edit',
          Kind: message.kind === 'room' ? 'room' : 'direct',
          ...(message.kind === 'room' ? { Room: message.room } : {}),
          ...(message.conversationId ? { ConversationId: message.conversationId } : {}),
          ...(message.recipientId ? { RecipientId: message.recipientId } : {}),
          Sender: { UserId: input.identity.userId, UserName: input.identity.userName },
        },
        deps.moderation,
      );
    }
    if (message.content === (text ?? input.text)) {
      return {
        type: 'ack',
        messageId: message.messageId,
        timestamp: message.editedAt ?? message.timestamp,
        ...addressOf(message),
      };
    }
    const editedAt = (input.now ?? new Date()).toISOString();
    const edited = await deps.changes.edit(message, {
      text: text ?? input.text,
      editedBy: input.identity.userId,
      editedAt,
    });
    if (!edited) continue;
    if (edited.conversationId && edited.recipientId) {
      await deps.conversations.revisePreview(
        [edited.userId, edited.recipientId],
        edited.conversationId,
        edited.messageId,
        edited.content,
      );
    }
    await fanOutMessage(
      messageStatusChanged.detailType,
      audienceOf(edited, editedFrame(edited)),
      { duplicate: false },
      deps,
    );
    return { type: 'ack', messageId: edited.messageId, timestamp: editedAt, ...addressOf(edited) };
  }
  throw new ConflictError('the message kept changing while it was edited; try again');
}

export interface ReactionDeps extends MessageChangeDeps, JoinedCheckDeps {}

/**
 * react / unreact. Primary course:
 * 1. The message must exist and be visible to the sender: a room message only on a connection in
 *    that room, a direct message only to its two parties.
 * 2. Add or take back the user's emoji with conditional writes (idempotent per user and emoji,
 *    at most MAX_DISTINCT_REACTIONS emojis per message and MAX_REACTIONS_PER_USER per user).
 * 3. If that changed anything, send the new counts to everyone who can see the message; the
 *    sender gets the same `reactions` frame as the reply either way.
 */
export async function changeReaction(
  input: { identity: Identity; connectionId: string; messageId: string; emoji: string; reacted: boolean },
  deps: ReactionDeps,
): Promise<ReactionsFrame> {
  const userId = input.identity.userId;
  const message = await existing(deps.messages, input.messageId);
  if (message.kind === 'room') {
    await requireMessageAccess(message, userId, deps);
    await requireJoined(
      { connectionId: input.connectionId, userId },
      message.room,
      deps,
      'join the room to react to its messages',
    );
  } else if (message.userId !== userId && message.recipientId !== userId) {
    throw new ForbiddenError('not a participant of that conversation');
  }
  if (input.reacted && message.isDeleted) throw new ConflictError('the message was deleted');

  const result = input.reacted
    ? await deps.changes.react(message, userId, input.emoji, {
        maxDistinct: MAX_DISTINCT_REACTIONS,
        maxPerUser: MAX_REACTIONS_PER_USER,
      })
    : await deps.changes.unreact(message, userId, input.emoji);
  switch (result.outcome) {
    case 'gone':
      throw new ConflictError('the message was deleted');
    case 'too_many_emojis':
      throw new LimitExceededError(`a message can carry at most ${MAX_DISTINCT_REACTIONS} different emojis`);
    case 'too_many_for_user':
      throw new LimitExceededError(`you can have at most ${MAX_REACTIONS_PER_USER} reactions on one message`);
  }
  const frame: ReactionsFrame = {
    type: 'reactions',
    messageId: message.messageId,
    ...addressOf(message),
    counts: result.counts,
    userId,
    emoji: input.emoji,
    reacted: input.reacted,
  };
  if (result.changed) {
    await fanOutMessage(messageStatusChanged.detailType, audienceOf(message, frame), { duplicate: false }, deps);
  }
  return frame;
}

/**
 * A message's texts, oldest first: the original, then each edit's, with who wrote it and when.
 * Who may read them is who may read the message: any caller for a room message (room history is
 * open to every signed-in user), only the two parties for a direct one. A deleted message has none.
 */
export async function messageVersions(
  input: { identity: Identity; messageId: string },
  deps: Pick<MessageChangeDeps, 'messages' | 'changes'> & RoomAccessDeps,
): Promise<{ message: ChatMessage; versions: MessageVersion[] }> {
  const message = await existing(deps.messages, input.messageId);
  await requireMessageAccess(message, input.identity.userId, deps);
  if (
    message.kind === 'direct' &&
    message.userId !== input.identity.userId &&
    message.recipientId !== input.identity.userId
  ) {
    throw new ForbiddenError('not a participant of that conversation');
  }
  if (message.isDeleted) throw new NotFoundError('the message was deleted');
  const edits = await deps.changes.versions(message.messageId, epochSeconds());
  const versions: MessageVersion[] = [
    {
      version: 0,
      text: edits[0]?.previousText ?? message.content,
      userId: message.userId,
      timestamp: message.timestamp,
    },
  ];
  edits.forEach((edit, index) => {
    versions.push({
      version: edit.version,
      text: edits[index + 1]?.previousText ?? message.content,
      userId: edit.editedBy,
      timestamp: edit.editedAt,
    });
  });
  return { message, versions };
}

/**
 * Adds the reader's own emojis (`myReactions`) to a history page's messages, all of one storage
 * partition (a room, or `dm#<conversationId>`): one Query over the page's sort-key range.
 */
export async function withMyReactions<M extends { messageId: string; timestamp: string }>(
  viewerId: string,
  room: string,
  messages: M[],
  deps: { changes: Pick<MessageChangeStore, 'reactionsBy'> },
): Promise<Array<M & { myReactions?: string[] }>> {
  if (messages.length === 0) return messages;
  const sks = messages.map((message) => sortKeyFor(message.timestamp, message.messageId)).sort();
  const mine = await deps.changes.reactionsBy(
    viewerId,
    room,
    { fromSk: sks[0] as string, toSk: sks.at(-1) as string },
    epochSeconds(),
  );
  return messages.map((message) => {
    const emojis = mine.get(message.messageId);
    return emojis ? { ...message, myReactions: emojis } : message;
  });
}
