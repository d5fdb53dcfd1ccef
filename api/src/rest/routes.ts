import { z } from 'zod';
import { conversationIdSchema } from '#protocol/client-frames.js';
import type {
  ConversationHistoryPage,
  ConversationsBody,
  RoomHistoryPage,
  RoomPresenceBody,
} from '#protocol/http-bodies.js';
import { directMessageFrame, roomMessageFrame } from '#protocol/server-frames.js';
import { messageRetentionDays } from '../../../shared/src/config.js';
import { InvalidJsonError, NotFoundError, UnauthorizedError } from '../../../shared/src/domain/errors.js';
import {
  type Identity,
  identityFromAuthorizer,
  userIdSchema,
  userNameSchema,
} from '../../../shared/src/domain/identity.js';
import { contentSchema } from '../../../shared/src/domain/message.js';
import { roomNameSchema } from '../../../shared/src/domain/room.js';
import { epochSeconds } from '../../../shared/src/domain/time.js';
import type { HistoryPage } from '../../../shared/src/ports.js';
import { readConversation } from '../../../shared/src/use-cases/direct-messages.js';
import { ECHO_ROOM } from '../../../shared/src/use-cases/echo-message.js';
import { listRooms } from '../../../shared/src/use-cases/membership.js';
import { postRoomMessage } from '../../../shared/src/use-cases/post-room-message.js';
import { readRoomHistory, readUserHistory } from '../../../shared/src/use-cases/read-history.js';
import { adapters } from '../../../shared/src/wiring.js';
import { type HttpEvent, type HttpResult, json } from './http.js';
import { pageQuerySchema, parseParams } from './params.js';

type RouteHandler = (event: HttpEvent) => Promise<HttpResult>;

const roomPathSchema = z.object({ room: roomNameSchema });
const userPathSchema = z.object({ userId: userIdSchema });
const conversationPathSchema = z.object({ conversationId: conversationIdSchema });
const echoBodySchema = z.object({ message: contentSchema, sender: userNameSchema.optional() });

function callerOf(event: HttpEvent): Identity {
  const identity = identityFromAuthorizer(event.requestContext.authorizer);
  if (!identity) throw new UnauthorizedError('request has no identity');
  return identity;
}

const historyBody = (page: HistoryPage) => ({
  messages: page.messages.map(roomMessageFrame),
  ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
});

function bodyOf(event: HttpEvent): unknown {
  if (!event.body) return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidJsonError('body is not valid JSON');
  }
}

async function postToEcho(identity: Identity, content: string, sender?: string): Promise<HttpResult> {
  // Seed 000's `sender` is a display name; the identity stays the caller's.
  const ack = await postRoomMessage(
    { identity: { ...identity, userName: sender ?? identity.userName }, room: ECHO_ROOM, content },
    { messages: adapters.messages(), events: adapters.events(), retentionDays: messageRetentionDays() },
  );
  return json(201, ack);
}

/** HTTP API route key → handler. */
export const routes: Record<string, RouteHandler> = {
  'GET /health': async () => json(200, { status: 'ok', time: new Date().toISOString() }),

  'GET /rooms': async (event) => {
    const frame = await listRooms(callerOf(event).userId, {
      connections: adapters.connections(),
      subscriptions: adapters.subscriptions(),
      presence: adapters.presence(),
    });
    return json(200, { rooms: frame.rooms });
  },

  'GET /rooms/{room}/messages': async (event) => {
    callerOf(event);
    const { room } = parseParams(roomPathSchema, event.pathParameters);
    const { limit, before } = parseParams(pageQuerySchema, event.queryStringParameters);
    const page = await readRoomHistory(room, { limit, cursor: before }, { messages: adapters.messages() });
    return json(200, { room, ...historyBody(page) } satisfies RoomHistoryPage);
  },

  'GET /rooms/{room}/presence': async (event) => {
    callerOf(event);
    const { room } = parseParams(roomPathSchema, event.pathParameters);
    const body: RoomPresenceBody = { room, online: await adapters.presence().onlineIn(room, epochSeconds()) };
    return json(200, body);
  },

  'GET /users/{userId}/messages': async (event) => {
    callerOf(event);
    const { userId } = parseParams(userPathSchema, event.pathParameters);
    const { limit, before } = parseParams(pageQuerySchema, event.queryStringParameters);
    const page = await readUserHistory(userId, { limit, cursor: before }, { messages: adapters.messages() });
    return json(200, { userId, ...historyBody(page) });
  },

  'GET /conversations': async (event) => {
    const conversations = await adapters.conversations().list(callerOf(event).userId, epochSeconds());
    return json(200, { conversations } satisfies ConversationsBody);
  },

  'GET /conversations/{conversationId}/messages': async (event) => {
    const identity = callerOf(event);
    const { conversationId } = parseParams(conversationPathSchema, event.pathParameters);
    const { limit, before } = parseParams(pageQuerySchema, event.queryStringParameters);
    const page = await readConversation(
      { identity, conversationId, limit, cursor: before },
      { messages: adapters.messages(), conversations: adapters.conversations() },
    );
    return json(200, {
      conversationId,
      messages: page.messages.map((message) => directMessageFrame(message).data),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    } satisfies ConversationHistoryPage);
  },

  'GET /': async (event) => postToEcho(callerOf(event), 'Hello from Switchboard!'),

  'POST /message': async (event) => {
    const body = parseParams(echoBodySchema, bodyOf(event));
    return postToEcho(callerOf(event), body.message, body.sender);
  },
};

export function routeFor(event: HttpEvent): RouteHandler {
  const handler = Object.hasOwn(routes, event.routeKey) ? routes[event.routeKey] : undefined;
  if (!handler) throw new NotFoundError(`no route for ${event.routeKey}`);
  return handler;
}
