import { z } from 'zod';
import { messageRetentionDays } from '#aws/config';
import { deleteMessage, markRead, readConversation, sendDirectMessage } from '#core/use-cases/direct-messages';
import { joinRoom, leaveRoom, listRooms } from '#core/use-cases/membership';
import { subscribeToMetrics, unsubscribeFromMetrics } from '#core/use-cases/metrics-subscriptions';
import { postRoomMessage } from '#core/use-cases/post-room-message';
import { catchUp } from '#core/use-cases/read-history';
import { directMessageFrame } from '../../../shared/src/domain/frames.js';
import { adapters } from '../../../shared/src/wiring.js';
import { type ActionContext, type ActionTable, parseOrThrow, route } from './router.js';
import {
  conversationHistorySchema,
  deleteMessageSchema,
  listRoomsSchema,
  markReadSchema,
  pingSchema,
  resumeSchema,
  roomActionSchema,
  sendDirectMessageSchema,
  sendRoomMessageSchema,
  topicActionSchema,
} from './schemas.js';

const directDeps = () => ({
  messages: adapters.messages(),
  conversations: adapters.conversations(),
  events: adapters.events(),
  retentionDays: messageRetentionDays(),
});

const membershipDeps = () => ({
  subscriptions: adapters.subscriptions(),
  events: adapters.events(),
  presence: adapters.presence(),
});

/** sendMessage carries either seed 002's room message or seed 004's direct message. */
function sendMessage(frame: Record<string, unknown>, { identity }: ActionContext) {
  if ('recipientId' in frame) {
    const input = parseOrThrow(sendDirectMessageSchema, frame, 'sendMessage');
    return sendDirectMessage(
      {
        identity,
        recipientId: input.recipientId,
        content: input.content,
        messageId: input.messageId,
        conversationId: input.conversationId,
        claimedSenderId: input.senderId,
        replyToMessageId: input.replyToMessageId,
      },
      directDeps(),
    );
  }
  const input = parseOrThrow(sendRoomMessageSchema, frame, 'sendMessage');
  return postRoomMessage(
    { identity, room: input.room, content: input.message, messageId: input.messageId, claimedUserId: input.user_id },
    { messages: adapters.messages(), events: adapters.events(), retentionDays: messageRetentionDays() },
  );
}

/** routeKey/action → handler. Each handler maps a validated frame to one use case. */
export const actions: ActionTable = {
  sendMessage: route({ schema: z.looseObject({ action: z.literal('sendMessage') }), handle: sendMessage }),
  joinRoom: route({
    schema: roomActionSchema,
    handle: (input, context) =>
      input.action === 'joinRoom'
        ? joinRoom(context, input.room, membershipDeps())
        : leaveRoom(context, input.room, membershipDeps()),
  }),
  leaveRoom: route({
    schema: roomActionSchema,
    handle: (input, context) => leaveRoom(context, input.room, membershipDeps()),
  }),
  listRooms: route({
    schema: listRoomsSchema,
    handle: (_input, { identity }) =>
      listRooms(identity.userId, {
        connections: adapters.connections(),
        subscriptions: adapters.subscriptions(),
        presence: adapters.presence(),
      }),
  }),
  ping: route({ schema: pingSchema, handle: async () => ({ type: 'pong', timestamp: new Date().toISOString() }) }),
  resume: route({
    schema: resumeSchema,
    handle: (input) =>
      catchUp(
        input.room,
        input.cursor ? { cursor: input.cursor } : { since: String(input.lastTimestamp) },
        input.limit ?? 100,
        { messages: adapters.messages() },
      ),
  }),
  markRead: route({
    schema: markReadSchema,
    handle: (input, { identity }) =>
      markRead(
        {
          identity,
          conversationId: input.conversationId,
          upToMessageId: input.upToMessageId,
          messageIds: input.messageIds,
        },
        directDeps(),
      ),
  }),
  deleteMessage: route({
    schema: deleteMessageSchema,
    handle: (input, { identity }) => deleteMessage({ identity, messageId: input.messageId }, directDeps()),
  }),
  conversationHistory: route({
    schema: conversationHistorySchema,
    handle: async (input, { identity }) => {
      const page = await readConversation(
        { identity, conversationId: input.conversationId, limit: input.limit ?? 50, cursor: input.before },
        directDeps(),
      );
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
    handle: ({ entity_type, entity_id }, context) =>
      subscribeToMetrics(context, { entity_type, entity_id }, { subscriptions: adapters.subscriptions() }),
  }),
  unsubscribe: route({
    schema: topicActionSchema,
    handle: ({ entity_type, entity_id }, context) =>
      unsubscribeFromMetrics(context, { entity_type, entity_id }, { subscriptions: adapters.subscriptions() }),
  }),
};
