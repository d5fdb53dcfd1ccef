import type { Frame } from '#protocol/server-frames';
import type { DeletionRole } from '../domain/audit.js';
import { ForbiddenError, NotFoundError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import type { ChatMessage } from '../domain/message.js';
import type { ConversationStore, DeletionPage, MessageStore, ModerationAuditStore, RoomRoles } from '../ports.js';

export interface DeletionDeps {
  messages: Pick<MessageStore, 'findById'>;
  conversations: Pick<ConversationStore, 'redactPreview'>;
  audit: Pick<ModerationAuditStore, 'deleteWithRecord'>;
  roles: RoomRoles;
}

/** The largest audit page a caller may ask for. */
export const MAX_AUDIT_PAGE = 100;

const deletedFrame = (message: ChatMessage): Frame => ({
  type: 'deleted',
  messageId: message.messageId,
  ...(message.conversationId ? { conversationId: message.conversationId } : { room: message.room }),
});

/** The role in which `identity` may delete `message`, or a ForbiddenError. */
async function deletionRole(message: ChatMessage, identity: Identity, roles: RoomRoles): Promise<DeletionRole> {
  if (message.userId === identity.userId) return 'sender';
  // A direct message belongs to its two parties: nobody moderates a conversation.
  if (message.kind === 'room') {
    const role = await roles.roleIn(message.room, identity.userId);
    if (role === 'owner' || role === 'moderator') return role;
  }
  throw new ForbiddenError('only the sender or a moderator of the room can delete a message');
}

/**
 * deleteMessage. Primary course:
 * 1. The sender deletes their own message; the room's owner or a moderator deletes anyone's room
 *    message (RoomRoles). Direct messages stay sender-only.
 * 2. Soft-delete it and write the audit record (who, whose message, when, in which role) in one
 *    transaction: no deletion without its record.
 * 3. Blank a direct message's conversation previews; everyone who can see the message hears of it
 *    through the Messages stream.
 * Deleting a deleted message answers the same frame and records nothing new.
 */
export async function deleteMessage(
  input: { identity: Identity; messageId: string; now?: Date },
  deps: DeletionDeps,
): Promise<Frame> {
  const message = await deps.messages.findById(input.messageId);
  if (!message) throw new NotFoundError('no such message');
  const role = await deletionRole(message, input.identity, deps.roles);
  if (message.isDeleted) return deletedFrame(message);
  const deleted = await deps.audit.deleteWithRecord(message, {
    room: message.room,
    messageId: message.messageId,
    senderId: message.userId,
    deletedBy: input.identity.userId,
    deletedByName: input.identity.userName,
    role,
    deletedAt: (input.now ?? new Date()).toISOString(),
  });
  if (!deleted) {
    // Deleted meanwhile (a racing delete) is still deleted; gone is gone.
    const now = await deps.messages.findById(input.messageId);
    if (now?.isDeleted) return deletedFrame(now);
    throw new NotFoundError('no such message');
  }
  if (message.conversationId && message.recipientId) {
    await deps.conversations.redactPreview(
      [message.userId, message.recipientId],
      message.conversationId,
      message.messageId,
    );
  }
  return deletedFrame(message);
}

/**
 * A room's deletions, newest first, for its owner and moderators only. A member gets 403 (the trail
 * names who moderated whom); a caller with no role there gets 404, so a private room's trail does
 * not even confirm the room exists.
 */
export async function roomAuditTrail(
  input: { identity: Identity; room: string; limit: number; cursor?: string },
  deps: { audit: Pick<ModerationAuditStore, 'deletions'>; roles: RoomRoles },
): Promise<DeletionPage> {
  const role = await deps.roles.roleIn(input.room, input.identity.userId);
  if (role === undefined) throw new NotFoundError('no such room');
  if (role === 'member') throw new ForbiddenError("only the room's owner and moderators can read its audit trail");
  return deps.audit.deletions(input.room, { limit: Math.min(input.limit, MAX_AUDIT_PAGE), cursor: input.cursor });
}
