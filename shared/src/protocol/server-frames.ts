import { z } from 'zod';
import type { DeletionRecord } from '#core/domain/audit';
import type { ChatMessage } from '#core/domain/message';

/** A file on a message: what a client shows before it asks for the file itself. */
export const attachmentRefSchema = z.object({
  attachmentId: z.string(),
  fileName: z.string(),
  contentType: z.string(),
  size: z.number(),
});

/**
 * What a stored message carries once edited or reacted to (history and resume; live `message`
 * frames are new and carry none): `myReactions` is the reader's own emojis, so only history has it.
 */
function messageExtrasShape() {
  return {
    editedAt: z.string().optional(),
    reactions: z.record(z.string(), z.number()).optional(),
    myReactions: z.array(z.string()).optional(),
  };
}

/**
 * Every frame the server sends. The schemas document the protocol (docs/protocol.md is checked
 * against them) and tests parse real frames with them; the types below are the only declaration of
 * these frames, imported (type-only, so zod stays out of the browser bundle) by front/ and client/.
 */
export const roomMessageFrameSchema = z.object({
  type: z.literal('message'),
  action: z.literal('message'),
  messageId: z.string(),
  room: z.string(),
  user_id: z.string(),
  userName: z.string(),
  message: z.string(),
  timestamp: z.string(),
  /** The message's place in the room: gapless, increasing; order by it and fill a gap with `resume`. */
  seq: z.number().int().positive().optional(),
  ...messageExtrasShape(),
  /** The message's files; a member asks for each one's URL with `getAttachment`. */
  attachments: z.array(attachmentRefSchema).optional(),
});

export const directMessageFrameSchema = z.object({
  type: z.literal('message'),
  data: z.object({
    messageId: z.string(),
    conversationId: z.string(),
    senderId: z.string(),
    senderName: z.string(),
    recipientId: z.string(),
    content: z.string(),
    timestamp: z.string(),
    status: z.enum(['sent', 'delivered', 'read']),
    isDeleted: z.boolean().optional(),
    replyToMessageId: z.string().optional(),
    replyToContent: z.string().optional(),
    replyToSenderName: z.string().optional(),
    /** The message's place in the conversation (gapless, increasing). */
    seq: z.number().int().positive().optional(),
    ...messageExtrasShape(),
    attachments: z.array(attachmentRefSchema).optional(),
  }),
});

export const ackFrameSchema = z.object({
  type: z.literal('ack'),
  messageId: z.string(),
  timestamp: z.string(),
  room: z.string().optional(),
  conversationId: z.string().optional(),
  duplicate: z.boolean().optional(),
  /** The seq the message got (a duplicate gets the original's). */
  seq: z.number().int().positive().optional(),
});

export const errorFrameSchema = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  messageId: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const presenceFrameSchema = z.object({
  type: z.literal('presence'),
  event: z.enum(['joined', 'left', 'online', 'offline']),
  room: z.string(),
  userId: z.string(),
  userName: z.string(),
  timestamp: z.string(),
});

export const onlineUserSchema = z.object({ userId: z.string(), userName: z.string() });

/** Cap on each `online` list in welcome/joined: a full list outgrows API Gateway's 128 KB and reads the whole room. */
export const ONLINE_LIST_LIMIT = 100;

/** Some of the users online in a room; the full list is GET /rooms/{room}/presence. */
const onlineListSchema = z.array(onlineUserSchema).max(ONLINE_LIST_LIMIT);

export const welcomeFrameSchema = z.object({
  type: z.literal('welcome'),
  connectionId: z.string(),
  user: onlineUserSchema,
  rooms: z.array(z.string()),
  online: z.record(z.string(), onlineListSchema),
  /** Only when cut: the rooms whose `online` list holds just ONLINE_LIST_LIMIT of their users. */
  onlineTruncated: z.record(z.string(), z.literal(true)).optional(),
  pending: z.number(),
  /** Unread messages per room of this connection (latest seq − the user's read position), when known. */
  unread: z.record(z.string(), z.number().int().nonnegative()).optional(),
});

export const pongFrameSchema = z.object({ type: z.literal('pong'), timestamp: z.string() });

export const joinedFrameSchema = z.object({
  type: z.literal('joined'),
  room: z.string(),
  online: onlineListSchema,
  /** Only when cut: more users are online than `online` holds. */
  onlineTruncated: z.literal(true).optional(),
});

export const leftFrameSchema = z.object({ type: z.literal('left'), room: z.string() });

const roomRoleFrameSchema = z.enum(['owner', 'moderator', 'member']);
const visibilitySchema = z.enum(['public', 'private']);

export const roomsFrameSchema = z.object({
  type: z.literal('rooms'),
  rooms: z.array(
    z.object({
      room: z.string(),
      /** Users online in the room now. */
      members: z.number(),
      /** The next three only for rooms the user is a member of (created rooms). */
      visibility: visibilitySchema.optional(),
      role: roomRoleFrameSchema.optional(),
      title: z.string().optional(),
    }),
  ),
});

/** createRoom's reply: the room's id (server-assigned when private) and the creator's role. */
export const roomCreatedFrameSchema = z.object({
  type: z.literal('roomCreated'),
  room: z.string(),
  visibility: visibilitySchema,
  title: z.string().optional(),
  role: z.literal('owner'),
});

/** The reply to inviteMember, kickMember, banMember, unbanMember, setRole and quitRoom. */
export const roomMemberFrameSchema = z.object({
  type: z.literal('roomMember'),
  room: z.string(),
  userId: z.string(),
  change: z.enum(['invited', 'kicked', 'banned', 'unbanned', 'role', 'left']),
  /** invited and role: the role the user has now. */
  role: roomRoleFrameSchema.optional(),
  /** banned: when the ban ends (absent: until lifted). */
  until: z.string().optional(),
  /** invited: they were a member already, nothing changed. */
  unchanged: z.literal(true).optional(),
});

/** listMembers' answer: up to MEMBER_LIST_LIMIT members, owners first, then by since. */
export const membersFrameSchema = z.object({
  type: z.literal('members'),
  room: z.string(),
  members: z.array(z.object({ userId: z.string(), role: roomRoleFrameSchema, since: z.string() })),
  /** More members than the list holds. */
  truncated: z.literal(true).optional(),
});

/** How many members a `members` frame lists (a frame stays well under API Gateway's 128 KB). */
export const MEMBER_LIST_LIMIT = 500;

/** deleteRoom's reply. */
export const roomDeletedFrameSchema = z.object({ type: z.literal('roomDeleted'), room: z.string() });

/**
 * Pushed to every connection of a user who lost a room (kicked, banned, left on another device, or
 * the room was deleted): their subscriptions to it are gone already; drop it.
 */
export const removedFrameSchema = z.object({
  type: z.literal('removed'),
  room: z.string(),
  reason: z.enum(['kicked', 'banned', 'left', 'deleted']),
  /** banned: when the ban ends (absent: until lifted). */
  until: z.string().optional(),
});

/** Pushed to every connection of a user who was added to a room; joinRoom enters it. */
export const invitedFrameSchema = z.object({
  type: z.literal('invited'),
  room: z.string(),
  visibility: visibilitySchema,
  title: z.string().optional(),
  by: z.string(),
});

export const historyFrameSchema = z.object({
  type: z.literal('history'),
  room: z.string(),
  messages: z.array(roomMessageFrameSchema),
  hasMore: z.boolean(),
  /** When `hasMore`: send it back in the next `resume` to get the following page. */
  cursor: z.string().optional(),
});

export const statusFrameSchema = z.object({
  type: z.literal('status'),
  data: z.object({ messageId: z.string(), conversationId: z.string(), status: z.enum(['sent', 'delivered', 'read']) }),
});

export const deletedFrameSchema = z.object({
  type: z.literal('deleted'),
  data: z.object({ messageId: z.string(), conversationId: z.string().optional(), room: z.string().optional() }),
});

/** One deletion in a room's audit trail: who deleted whose message, when, and in which role. */
export const deletionRecordSchema = z.object({
  messageId: z.string(),
  senderId: z.string(),
  deletedBy: z.string(),
  deletedByName: z.string(),
  role: z.enum(['sender', 'owner', 'moderator']),
  deletedAt: z.string(),
});

/** auditTrail's answer; `nextCursor` is the next page's `before`. */
export const auditFrameSchema = z.object({
  type: z.literal('audit'),
  room: z.string(),
  deletions: z.array(deletionRecordSchema),
  nextCursor: z.string().optional(),
});

export const readFrameSchema = z.object({ type: z.literal('read'), conversationId: z.string(), count: z.number() });

export const metricsUpdateFrameSchema = z.object({
  type: z.literal('METRICS_UPDATE'),
  updates: z.array(
    z.object({
      eventType: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
      timestamp: z.number(),
      data: z.record(z.string(), z.unknown()),
    }),
  ),
});

/** Someone is typing: shown until `expiresInMs` passes or a message from them arrives. Never stored. */
export const typingFrameSchema = z.object({
  type: z.literal('typing'),
  room: z.string().optional(),
  conversationId: z.string().optional(),
  userId: z.string(),
  userName: z.string(),
  expiresInMs: z.number().int().positive(),
});

/** A user's read position in a room moved (markRead): sent to the caller and to all their connections. */
export const roomReadFrameSchema = z.object({
  type: z.literal('read'),
  room: z.string(),
  readSeq: z.number().int().nonnegative(),
  unread: z.number().int().nonnegative(),
});

/** A message's new text, to everyone who can see it (room members, or both parties of a DM). */
export const editedFrameSchema = z.object({
  type: z.literal('edited'),
  messageId: z.string(),
  room: z.string().optional(),
  conversationId: z.string().optional(),
  message: z.string(),
  editedAt: z.string(),
  editedBy: z.string(),
});

/** A message's reaction counts after one user's react or unreact, to everyone who can see it. */
export const reactionsFrameSchema = z.object({
  type: z.literal('reactions'),
  messageId: z.string(),
  room: z.string().optional(),
  conversationId: z.string().optional(),
  counts: z.record(z.string(), z.number()),
  userId: z.string(),
  emoji: z.string(),
  reacted: z.boolean(),
});

export type RoomMessageFrame = z.infer<typeof roomMessageFrameSchema>;
export type DirectMessageFrame = z.infer<typeof directMessageFrameSchema>;
export type AckFrame = z.infer<typeof ackFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type PresenceFrame = z.infer<typeof presenceFrameSchema>;
export type WelcomeFrame = z.infer<typeof welcomeFrameSchema>;
export type OnlineUser = z.infer<typeof onlineUserSchema>;
export type JoinedFrame = z.infer<typeof joinedFrameSchema>;
export type RoomsFrame = z.infer<typeof roomsFrameSchema>;
export type HistoryFrame = z.infer<typeof historyFrameSchema>;
export type PongFrame = z.infer<typeof pongFrameSchema>;
export type LeftFrame = z.infer<typeof leftFrameSchema>;
export type StatusFrame = z.infer<typeof statusFrameSchema>;
export type DeletedFrame = z.infer<typeof deletedFrameSchema>;
export type ReadFrame = z.infer<typeof readFrameSchema>;
export type AuditFrame = z.infer<typeof auditFrameSchema>;
export type DeletionRecordData = z.infer<typeof deletionRecordSchema>;
export type MetricsUpdateFrame = z.infer<typeof metricsUpdateFrameSchema>;
export type TypingFrame = z.infer<typeof typingFrameSchema>;
export type RoomReadFrame = z.infer<typeof roomReadFrameSchema>;
export type EditedFrame = z.infer<typeof editedFrameSchema>;
export type ReactionsFrame = z.infer<typeof reactionsFrameSchema>;
export type RoomCreatedFrame = z.infer<typeof roomCreatedFrameSchema>;
export type RoomMemberFrame = z.infer<typeof roomMemberFrameSchema>;
export type RoomDeletedFrame = z.infer<typeof roomDeletedFrameSchema>;
export type MembersFrame = z.infer<typeof membersFrameSchema>;
export type RemovedFrame = z.infer<typeof removedFrameSchema>;
export type InvitedFrame = z.infer<typeof invitedFrameSchema>;

/** requestUpload's answer: PUT the file's bytes to `url` with exactly `headers` before `expiresAt`. */
export const uploadFrameSchema = z.object({
  type: z.literal('upload'),
  attachmentId: z.string(),
  url: z.string(),
  method: z.literal('PUT'),
  headers: z.record(z.string(), z.string()),
  expiresAt: z.string(),
});

/** getAttachment's answer (and GET /attachments/{id}'s body): a short-lived download URL. */
export const attachmentFrameSchema = attachmentRefSchema.extend({
  type: z.literal('attachment'),
  url: z.string(),
  expiresAt: z.string(),
});

export type AttachmentRefData = z.infer<typeof attachmentRefSchema>;
export type UploadFrame = z.infer<typeof uploadFrameSchema>;
export type AttachmentFrame = z.infer<typeof attachmentFrameSchema>;

/** A direct message as it travels inside a frame and in a conversation's history page. */
export type DirectMessage = DirectMessageFrame['data'];

/** Every frame a chat client may receive, discriminated by `type` (and, for `message`, by its shape). */
export type ServerFrame =
  | RoomMessageFrame
  | DirectMessageFrame
  | AckFrame
  | ErrorFrame
  | PresenceFrame
  | WelcomeFrame
  | PongFrame
  | JoinedFrame
  | LeftFrame
  | RoomsFrame
  | HistoryFrame
  | StatusFrame
  | DeletedFrame
  | AuditFrame
  | ReadFrame
  | MetricsUpdateFrame
  | TypingFrame
  | RoomReadFrame
  | EditedFrame
  | ReactionsFrame
  | UploadFrame
  | AttachmentFrame
  | RoomCreatedFrame
  | RoomMemberFrame
  | RoomDeletedFrame
  | MembersFrame
  | RemovedFrame
  | InvitedFrame;

/** Any frame: the distribution path carries frames opaquely. */
export type Frame = Record<string, unknown> & { type: string };

/** Seed 002's outgoing shape, plus `type`, `messageId` and `userName`. */
export function roomMessageFrame(message: ChatMessage): RoomMessageFrame {
  return {
    type: 'message',
    action: 'message',
    messageId: message.messageId,
    room: message.room,
    user_id: message.userId,
    userName: message.userName,
    message: message.content,
    timestamp: message.timestamp,
    ...(message.seq !== undefined ? { seq: message.seq } : {}),
    ...messageExtras(message),
    ...(message.attachments?.length ? { attachments: message.attachments } : {}),
  };
}

export function presenceFrame(
  event: PresenceFrame['event'],
  room: string,
  user: OnlineUser,
  timestamp: string = new Date().toISOString(),
): PresenceFrame {
  return { type: 'presence', event, room, userId: user.userId, userName: user.userName, timestamp };
}

export function errorFrame(code: string, message: string, extra: Partial<ErrorFrame> = {}): ErrorFrame {
  return { type: 'error', code, message, ...extra };
}

/** Seed 004's incoming shape, plus `recipientId` and the reply fields. */
export function directMessageFrame(message: ChatMessage, status = message.status ?? 'sent'): DirectMessageFrame {
  return {
    type: 'message',
    data: {
      messageId: message.messageId,
      conversationId: message.conversationId ?? '',
      senderId: message.userId,
      senderName: message.userName,
      recipientId: message.recipientId ?? '',
      content: message.content,
      timestamp: message.timestamp,
      status,
      ...(message.isDeleted ? { isDeleted: true } : {}),
      ...(message.reply ?? {}),
      ...(message.seq !== undefined ? { seq: message.seq } : {}),
      ...messageExtras(message),
      ...(message.attachments?.length ? { attachments: message.attachments } : {}),
    },
  };
}

/** `editedAt` and the reaction counts, present only when there is something to say. */
function messageExtras(message: ChatMessage): { editedAt?: string; reactions?: Record<string, number> } {
  return {
    ...(message.editedAt ? { editedAt: message.editedAt } : {}),
    ...(message.reactions && Object.keys(message.reactions).length > 0 ? { reactions: { ...message.reactions } } : {}),
  };
}

/** The edited frame for a stored message, addressed as its room or conversation. */
export function editedFrame(message: ChatMessage): EditedFrame {
  return {
    type: 'edited',
    messageId: message.messageId,
    ...(message.conversationId ? { conversationId: message.conversationId } : { room: message.room }),
    message: message.content,
    editedAt: message.editedAt ?? message.timestamp,
    editedBy: message.editedBy ?? message.userId,
  };
}

/** A deletion as the audit frame and GET /rooms/{room}/audit show it (the room is the page's). */
export function deletionRecordData({ room: _room, ...data }: DeletionRecord): DeletionRecordData {
  return data;
}
