import { z } from 'zod';
import { directPartition } from '#core/domain/message';
import {
  auditTrailSchema,
  banMemberSchema,
  conversationHistorySchema,
  createRoomSchema,
  deleteMessageSchema,
  editMessageSchema,
  getAttachmentSchema,
  listMembersSchema,
  listRoomsSchema,
  markReadSchema,
  markRoomReadSchema,
  memberActionSchema,
  pingSchema,
  reactionSchema,
  requestUploadSchema,
  resumeSchema,
  roomActionSchema,
  roomOwnershipSchema,
  sendDirectMessageSchema,
  sendRoomMessageSchema,
  setRoleSchema,
  topicActionSchema,
  typingSchema,
} from '#protocol/client-frames';
import { type AuditFrame, deletionRecordData, directMessageFrame } from '#protocol/server-frames';
import {
  banMember,
  catchUp,
  changeReaction,
  createRoom,
  deleteMessage,
  deleteRoom,
  editMessage,
  getAttachment,
  inviteMember,
  joinRoom,
  kickMember,
  leaveRoom,
  listMembers,
  listRooms,
  markRead,
  markRoomRead,
  quitRoom,
  readConversation,
  requestUpload,
  roomAuditTrail,
  sendDirectMessage,
  sendRoomMessage,
  sendTyping,
  setRole,
  subscribeToMetrics,
  unbanMember,
  unsubscribeFromMetrics,
  withMyReactions,
} from '../composition.js';
import { type ActionContext, type ActionTable, parseOrThrow, route } from './router.js';

/** sendMessage carries either seed 002's room message or seed 004's direct message. */
function sendMessage(frame: Record<string, unknown>, { identity, admitted }: ActionContext) {
  if ('recipientId' in frame) {
    const input = parseOrThrow(sendDirectMessageSchema, frame, 'sendMessage');
    return sendDirectMessage({
      identity,
      recipientId: input.recipientId,
      content: input.content,
      messageId: input.messageId,
      conversationId: input.conversationId,
      claimedSenderId: input.senderId,
      replyToMessageId: input.replyToMessageId,
      attachmentIds: input.attachments,
      admitted,
    });
  }
  const input = parseOrThrow(sendRoomMessageSchema, frame, 'sendMessage');
  return sendRoomMessage({
    identity,
    room: input.room,
    content: input.message,
    messageId: input.messageId,
    claimedUserId: input.user_id,
    attachmentIds: input.attachments,
    admitted,
  });
}

/** markRead in a direct conversation (seed 004): status moves to read. */
function markConversationRead(frame: Record<string, unknown>, { identity }: ActionContext) {
  const input = parseOrThrow(markReadSchema, frame, 'markRead');
  return markRead({
    identity,
    conversationId: input.conversationId,
    upToMessageId: input.upToMessageId,
    messageIds: input.messageIds,
  });
}

/** markRead in a room: the user's read position moves (every device). */
function readRoom(frame: Record<string, unknown>, { identity, connectionId }: ActionContext) {
  const input = parseOrThrow(markRoomReadSchema, frame, 'markRead');
  return markRoomRead({
    connectionId,
    identity,
    room: input.room,
    upToMessageId: input.upToMessageId,
    upToSeq: input.upToSeq,
  });
}

/** `react` and `unreact` share a schema; the frame's action says which way the reaction goes. */
const reactionRoute = route({
  schema: reactionSchema,
  handle: (input, { identity, connectionId }) =>
    changeReaction({
      identity,
      connectionId,
      messageId: input.messageId,
      emoji: input.emoji,
      reacted: input.action === 'react',
    }),
});

/** inviteMember, kickMember and unbanMember share a schema; the action picks the use case. */
const memberRoute = route({
  schema: memberActionSchema,
  handle: ({ action, room, userId }, { identity }) => {
    const useCase = { inviteMember, kickMember, unbanMember }[action];
    return useCase({ identity, room, userId });
  },
});

/** quitRoom and deleteRoom name only the room. */
const ownershipRoute = route({
  schema: roomOwnershipSchema,
  handle: ({ action, room }, { identity }) =>
    action === 'quitRoom' ? quitRoom({ identity, room }) : deleteRoom({ identity, room }),
});

/** routeKey/action → handler. Each handler maps a validated frame to one use case. */
export const actions: ActionTable = {
  sendMessage: route({
    schema: z.looseObject({ action: z.literal('sendMessage') }),
    handle: sendMessage,
    // Its access check and counter read go beside the rate budget's write (post-room-message.ts).
    readsBeforeAdmission: true,
  }),
  joinRoom: route({
    schema: roomActionSchema,
    handle: (input, context) =>
      input.action === 'joinRoom' ? joinRoom(context, input.room) : leaveRoom(context, input.room),
  }),
  leaveRoom: route({
    schema: roomActionSchema,
    handle: (input, context) => leaveRoom(context, input.room),
  }),
  listRooms: route({
    schema: listRoomsSchema,
    handle: (_input, { identity }) => listRooms(identity.userId),
  }),
  ping: route({ schema: pingSchema, handle: async () => ({ type: 'pong', timestamp: new Date().toISOString() }) }),
  resume: route({
    schema: resumeSchema,
    handle: async (input, { identity }) => {
      const frame = await catchUp(
        identity.userId,
        input.room,
        input.cursor ? { cursor: input.cursor } : { since: String(input.lastTimestamp) },
        input.limit ?? 100,
      );
      return { ...frame, messages: await withMyReactions(identity.userId, input.room, frame.messages) };
    },
  }),
  markRead: route({
    schema: z.looseObject({ action: z.literal('markRead') }),
    handle: (frame, context) =>
      frame.room !== undefined ? readRoom(frame, context) : markConversationRead(frame, context),
  }),
  deleteMessage: route({
    schema: deleteMessageSchema,
    handle: (input, { identity }) => deleteMessage({ identity, messageId: input.messageId }),
  }),
  auditTrail: route({
    schema: auditTrailSchema,
    handle: async (input, { identity }): Promise<AuditFrame> => {
      const page = await roomAuditTrail({ identity, room: input.room, limit: input.limit ?? 50, cursor: input.before });
      return {
        type: 'audit',
        room: input.room,
        deletions: page.deletions.map(deletionRecordData),
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
    },
  }),
  conversationHistory: route({
    schema: conversationHistorySchema,
    handle: async (input, { identity }) => {
      const page = await readConversation({
        identity,
        conversationId: input.conversationId,
        limit: input.limit ?? 50,
        cursor: input.before,
      });
      const messages = page.messages.map((message) => directMessageFrame(message).data);
      return {
        type: 'conversationHistory',
        conversationId: input.conversationId,
        messages: await withMyReactions(identity.userId, directPartition(input.conversationId), messages),
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
    },
  }),
  subscribe: route({
    schema: topicActionSchema,
    handle: ({ entity_type, entity_id }, context) => subscribeToMetrics(context, { entity_type, entity_id }),
  }),
  unsubscribe: route({
    schema: topicActionSchema,
    handle: ({ entity_type, entity_id }, context) => unsubscribeFromMetrics(context, { entity_type, entity_id }),
  }),
  typing: route({
    schema: typingSchema,
    quietWhenLimited: true,
    // Nothing comes back, sent or throttled: a reply per keystroke would be noise.
    handle: async (input, { identity, connectionId }) => {
      await sendTyping({ connectionId, identity, room: input.room, conversationId: input.conversationId });
      return undefined;
    },
  }),
  editMessage: route({
    schema: editMessageSchema,
    handle: (input, { identity }) => editMessage({ identity, messageId: input.messageId, text: input.message }),
  }),
  react: reactionRoute,
  unreact: reactionRoute,
  requestUpload: route({
    schema: requestUploadSchema,
    handle: ({ room, conversationId, fileName, contentType, size }, { identity }) =>
      requestUpload({
        identity,
        place: room !== undefined ? { room } : { conversationId: String(conversationId) },
        fileName,
        contentType,
        size,
      }),
  }),
  getAttachment: route({
    schema: getAttachmentSchema,
    handle: ({ attachmentId }, { identity }) => getAttachment({ identity, attachmentId }),
  }),
  createRoom: route({
    schema: createRoomSchema,
    handle: ({ visibility, title, room }, { identity }) => createRoom({ identity, visibility, title, room }),
  }),
  inviteMember: memberRoute,
  kickMember: memberRoute,
  unbanMember: memberRoute,
  banMember: route({
    schema: banMemberSchema,
    handle: ({ room, userId, durationSeconds }, { identity }) => banMember({ identity, room, userId, durationSeconds }),
  }),
  setRole: route({
    schema: setRoleSchema,
    handle: ({ room, userId, role }, { identity }) => setRole({ identity, room, userId, role }),
  }),
  quitRoom: ownershipRoute,
  deleteRoom: ownershipRoute,
  listMembers: route({
    schema: listMembersSchema,
    handle: ({ room }, { identity }) => listMembers({ identity, room }),
  }),
};
