import { messageRetentionDays } from '../../../shared/src/config.js';
import { joinRoom, leaveRoom, listRooms } from '../../../shared/src/use-cases/membership.js';
import { subscribeToMetrics, unsubscribeFromMetrics } from '../../../shared/src/use-cases/metrics-subscriptions.js';
import { postRoomMessage } from '../../../shared/src/use-cases/post-room-message.js';
import { catchUp } from '../../../shared/src/use-cases/read-history.js';
import { adapters } from '../../../shared/src/wiring.js';
import { type ActionTable, route } from './router.js';
import {
  listRoomsSchema,
  pingSchema,
  resumeSchema,
  roomActionSchema,
  sendRoomMessageSchema,
  topicActionSchema,
} from './schemas.js';

/** routeKey/action → handler. Each handler maps a validated frame to one use case. */
export const actions: ActionTable = {
  sendMessage: route({
    schema: sendRoomMessageSchema,
    handle: (input, { identity }) =>
      postRoomMessage(
        {
          identity,
          room: input.room,
          content: input.message,
          messageId: input.messageId,
          claimedUserId: input.user_id,
        },
        { messages: adapters.messages(), events: adapters.events(), retentionDays: messageRetentionDays() },
      ),
  }),
  joinRoom: route({
    schema: roomActionSchema,
    handle: (input, context) => {
      const deps = {
        subscriptions: adapters.subscriptions(),
        events: adapters.events(),
        presence: adapters.presence(),
      };
      return input.action === 'joinRoom' ? joinRoom(context, input.room, deps) : leaveRoom(context, input.room, deps);
    },
  }),
  leaveRoom: route({
    schema: roomActionSchema,
    handle: (input, context) =>
      leaveRoom(context, input.room, {
        subscriptions: adapters.subscriptions(),
        events: adapters.events(),
        presence: adapters.presence(),
      }),
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
  ping: route({
    schema: pingSchema,
    handle: async () => ({ type: 'pong', timestamp: new Date().toISOString() }),
  }),
  resume: route({
    schema: resumeSchema,
    handle: (input) => {
      const after = input.lastMessageId ? `${input.lastTimestamp}#${input.lastMessageId}` : input.lastTimestamp;
      return catchUp(input.room, after, input.limit ?? 100, { messages: adapters.messages() });
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
