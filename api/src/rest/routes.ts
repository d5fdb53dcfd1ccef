import { z } from 'zod';
import { attachmentIdSchema } from '#core/domain/attachment';
import { InvalidJsonError, NotFoundError, UnauthorizedError } from '#core/domain/errors';
import { type Identity, identityFromAuthorizer, userIdSchema, userNameSchema } from '#core/domain/identity';
import { contentSchema, directPartition, messageIdSchema } from '#core/domain/message';
import { roomNameSchema } from '#core/domain/room';
import type { HistoryPage } from '#core/ports';
import { ECHO_ROOM } from '#core/use-cases/echo-message';
import { conversationIdSchema } from '#protocol/client-frames';
import type {
  ConversationHistoryPage,
  ConversationsBody,
  MessageVersionsBody,
  RoomAuditBody,
  RoomHistoryPage,
  RoomPresenceBody,
  RoomUnreadBody,
} from '#protocol/http-bodies';
import { deletionRecordData, directMessageFrame, roomMessageFrame } from '#protocol/server-frames';
import {
  getAttachment,
  listConversations,
  listRooms,
  messageVersions,
  postRoomMessage,
  readConversation,
  readPositionIn,
  readRoomHistory,
  readUserHistory,
  roomAuditTrail,
  roomPresence,
  roomUnread,
  withMyReactions,
} from '../composition.js';
import { type HttpEvent, type HttpResult, json } from './http.js';
import { pageQuerySchema, parseParams } from './params.js';

type RouteHandler = (event: HttpEvent) => Promise<HttpResult>;

const roomPathSchema = z.object({ room: roomNameSchema });
const userPathSchema = z.object({ userId: userIdSchema });
const conversationPathSchema = z.object({ conversationId: conversationIdSchema });
const messagePathSchema = z.object({ messageId: messageIdSchema });
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
  const ack = await postRoomMessage({
    identity: { ...identity, userName: sender ?? identity.userName },
    room: ECHO_ROOM,
    content,
  });
  return json(201, ack);
}

/** HTTP API route key → handler. */
export const routes: Record<string, RouteHandler> = {
  'GET /health': async () => json(200, { status: 'ok', time: new Date().toISOString() }),

  'GET /rooms': async (event) => {
    const { userId } = callerOf(event);
    const frame = await listRooms(userId);
    const unread = await roomUnread(
      userId,
      frame.rooms.map((entry) => entry.room),
    );
    return json(200, { rooms: frame.rooms.map((entry) => ({ ...entry, unread: unread[entry.room] ?? 0 })) });
  },

  'GET /rooms/{room}/messages': async (event) => {
    const { userId } = callerOf(event);
    const { room } = parseParams(roomPathSchema, event.pathParameters);
    const { limit, before } = parseParams(pageQuerySchema, event.queryStringParameters);
    const page = await readRoomHistory(userId, room, { limit, cursor: before });
    const body = historyBody(page);
    const messages = await withMyReactions(userId, room, body.messages);
    return json(200, { room, ...body, messages } satisfies RoomHistoryPage);
  },

  /** The auditTrail frame's twin: the room's deletions, newest first, for its owner and moderators. */
  'GET /rooms/{room}/audit': async (event) => {
    const identity = callerOf(event);
    const { room } = parseParams(roomPathSchema, event.pathParameters);
    const { limit, before } = parseParams(pageQuerySchema, event.queryStringParameters);
    const page = await roomAuditTrail({ identity, room, limit, cursor: before });
    return json(200, {
      room,
      deletions: page.deletions.map(deletionRecordData),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    } satisfies RoomAuditBody);
  },

  'GET /rooms/{room}/presence': async (event) => {
    const { userId } = callerOf(event);
    const { room } = parseParams(roomPathSchema, event.pathParameters);
    const body: RoomPresenceBody = { room, online: await roomPresence(userId, room) };
    return json(200, body);
  },

  'GET /rooms/{room}/unread': async (event) => {
    const { userId } = callerOf(event);
    const { room } = parseParams(roomPathSchema, event.pathParameters);
    const { latestSeq, readSeq } = await readPositionIn(userId, room);
    const body: RoomUnreadBody = { room, unread: Math.max(0, latestSeq - readSeq), readSeq, latestSeq };
    return json(200, body);
  },

  'GET /users/{userId}/messages': async (event) => {
    const viewer = callerOf(event);
    const { userId } = parseParams(userPathSchema, event.pathParameters);
    const { limit, before } = parseParams(pageQuerySchema, event.queryStringParameters);
    const page = await readUserHistory(viewer.userId, userId, { limit, cursor: before });
    return json(200, { userId, ...historyBody(page) });
  },

  'GET /conversations': async (event) => {
    const conversations = await listConversations(callerOf(event).userId);
    return json(200, { conversations } satisfies ConversationsBody);
  },

  'GET /conversations/{conversationId}/messages': async (event) => {
    const identity = callerOf(event);
    const { conversationId } = parseParams(conversationPathSchema, event.pathParameters);
    const { limit, before } = parseParams(pageQuerySchema, event.queryStringParameters);
    const page = await readConversation({ identity, conversationId, limit, cursor: before });
    const messages = page.messages.map((message) => directMessageFrame(message).data);
    return json(200, {
      conversationId,
      messages: await withMyReactions(identity.userId, directPartition(conversationId), messages),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    } satisfies ConversationHistoryPage);
  },

  'GET /messages/{messageId}/versions': async (event) => {
    const identity = callerOf(event);
    const { messageId } = parseParams(messagePathSchema, event.pathParameters);
    const { message, versions } = await messageVersions({ identity, messageId });
    return json(200, {
      messageId,
      ...(message.conversationId ? { conversationId: message.conversationId } : { room: message.room }),
      versions,
    } satisfies MessageVersionsBody);
  },

  'GET /': async (event) => postToEcho(callerOf(event), 'Hello from Switchboard!'),

  'POST /message': async (event) => {
    const body = parseParams(echoBodySchema, bodyOf(event));
    return postToEcho(callerOf(event), body.message, body.sender);
  },

  /** The getAttachment frame's twin: a short-lived download URL, for members only. */
  'GET /attachments/{attachmentId}': async (event) => {
    const identity = callerOf(event);
    const { attachmentId } = parseParams(z.object({ attachmentId: attachmentIdSchema }), event.pathParameters);
    return json(200, await getAttachment({ identity, attachmentId }));
  },
};

export function routeFor(event: HttpEvent): RouteHandler {
  const handler = Object.hasOwn(routes, event.routeKey) ? routes[event.routeKey] : undefined;
  if (!handler) throw new NotFoundError(`no route for ${event.routeKey}`);
  return handler;
}
