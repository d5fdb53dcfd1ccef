import { z } from 'zod';
import {
  conversationHistorySchema,
  deleteMessageSchema,
  getAttachmentSchema,
  listRoomsSchema,
  markReadSchema,
  pingSchema,
  requestUploadSchema,
  resumeSchema,
  roomActionSchema,
  sendDirectMessageSchema,
  sendRoomMessageSchema,
  topicActionSchema,
} from '#protocol/client-frames';
import { directMessageFrame } from '#protocol/server-frames';
import {
  catchUp,
  deleteMessage,
  getAttachment,
  joinRoom,
  leaveRoom,
  listRooms,
  markRead,
  readConversation,
  requestUpload,
  sendDirectMessage,
  sendRoomMessage,
  subscribeToMetrics,
  unsubscribeFromMetrics,
} from '../composition.js';
import { type ActionContext, type ActionTable, parseOrThrow, route } from './router.js';

/** sendMessage carries either seed 002's room message or seed 004's direct message. */
function sendMessage(frame: Record<string, unknown>, { identity }: ActionContext) {
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
  });
}

/** routeKey/action → handler. Each handler maps a validated frame to one use case. */
export const actions: ActionTable = {
  sendMessage: route({ schema: z.looseObject({ action: z.literal('sendMessage') }), handle: sendMessage }),
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
    handle: (input) =>
      catchUp(
        input.room,
        input.cursor ? { cursor: input.cursor } : { since: String(input.lastTimestamp) },
        input.limit ?? 100,
      ),
  }),
  markRead: route({
    schema: markReadSchema,
    handle: (input, { identity }) =>
      markRead({
        identity,
        conversationId: input.conversationId,
        upToMessageId: input.upToMessageId,
        messageIds: input.messageIds,
      }),
  }),
  deleteMessage: route({
    schema: deleteMessageSchema,
    handle: (input, { identity }) => deleteMessage({ identity, messageId: input.messageId }),
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
      return {
        type: 'conversationHistory',
        conversationId: input.conversationId,
        messages: page.messages.map((message) => directMessageFrame(message).data),
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
};
