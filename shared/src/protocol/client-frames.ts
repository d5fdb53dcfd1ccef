import { z } from 'zod';
import {
  attachmentIdSchema,
  contentTypeSchema,
  fileNameSchema,
  MAX_ATTACHMENTS_PER_MESSAGE,
} from '#core/domain/attachment';
import { userIdSchema } from '#core/domain/identity';
import { contentSchema, messageIdSchema } from '#core/domain/message';
import { emojiSchema } from '#core/domain/reactions';
import { roomNameSchema, roomRoleSchema, roomTitleSchema } from '#core/domain/room';

/** The room-name rule, for clients that check a name before they connect. */
export { roomNameSchema };

/**
 * Frames clients send, one schema per action: the WebSocket router validates with them and the
 * clients build their frames as the types inferred from them. Unknown fields are stripped (zod's
 * default) everywhere, so clients written against the seeds (which send extra fields) keep working.
 */
export const sendRoomMessageSchema = z.object({
  action: z.literal('sendMessage'),
  room: roomNameSchema,
  message: contentSchema,
  user_id: userIdSchema.optional(),
  messageId: messageIdSchema.optional(),
  /** Files from requestUpload, uploaded to their URLs (attachments.ts checks each). */
  attachments: z.array(attachmentIdSchema).min(1).max(MAX_ATTACHMENTS_PER_MESSAGE).optional(),
});

export const roomActionSchema = z.object({
  action: z.enum(['joinRoom', 'leaveRoom']),
  room: roomNameSchema,
});

export const listRoomsSchema = z.object({ action: z.literal('listRooms') });

export const pingSchema = z.object({ action: z.literal('ping') });

export const resumeSchema = z
  .object({
    action: z.literal('resume'),
    room: roomNameSchema,
    /** ISO time of the last message the client saw (the first catch-up page). */
    lastTimestamp: z.iso.datetime({ offset: true }).optional(),
    /** Accepted for compatibility; the catch-up window is by time. */
    lastMessageId: messageIdSchema.optional(),
    /** The `cursor` of the previous `history` reply (the following pages). */
    cursor: z
      .string()
      .max(200)
      .regex(/^\d{4}-\d\d-\d\dT[\d:.]+Z#[A-Za-z0-9_-]+$/, 'cursor is not one this server issued')
      .optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .refine((frame) => (frame.lastTimestamp === undefined) !== (frame.cursor === undefined), {
    message: 'give lastTimestamp or cursor',
    path: ['lastTimestamp'],
  });

const entityKeySchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits and _ . : -');

/** Seed 003's selective subscriptions: by entity type, by entity id, or both. */
export const topicActionSchema = z
  .object({
    action: z.enum(['subscribe', 'unsubscribe']),
    entity_type: entityKeySchema.optional(),
    entity_id: entityKeySchema.optional(),
  })
  .refine((frame) => frame.entity_type !== undefined || frame.entity_id !== undefined, {
    message: 'give entity_type or entity_id',
    path: ['entity_type'],
  });

/** A conversation id, wherever a client names one: socket frames and REST paths. */
export const conversationIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'conversationId may contain only letters, digits, _ and -');

/**
 * Seed 004's direct message. `senderName`, `timestamp` and the reply quote fields are accepted
 * for compatibility and ignored: the name comes from the connection, the time from the server,
 * and the quote from the stored original.
 */
export const sendDirectMessageSchema = z.object({
  action: z.literal('sendMessage'),
  recipientId: userIdSchema,
  content: contentSchema,
  messageId: messageIdSchema.optional(),
  conversationId: conversationIdSchema.optional(),
  senderId: userIdSchema.optional(),
  replyToMessageId: messageIdSchema.optional(),
  attachments: z.array(attachmentIdSchema).min(1).max(MAX_ATTACHMENTS_PER_MESSAGE).optional(),
});

export const markReadSchema = z
  .object({
    action: z.literal('markRead'),
    conversationId: conversationIdSchema,
    upToMessageId: messageIdSchema.optional(),
    messageIds: z.array(messageIdSchema).min(1).max(100).optional(),
  })
  .refine((frame) => (frame.upToMessageId === undefined) !== (frame.messageIds === undefined), {
    message: 'give upToMessageId or messageIds',
    path: ['upToMessageId'],
  });

export const deleteMessageSchema = z.object({ action: z.literal('deleteMessage'), messageId: messageIdSchema });

/** A room's deletions, newest first (its owner and moderators only): the GET /rooms/{room}/audit twin. */
export const auditTrailSchema = z.object({
  action: z.literal('auditTrail'),
  room: roomNameSchema,
  limit: z.number().int().min(1).max(100).optional(),
  /** The previous `audit` frame's `nextCursor`. */
  before: z.string().max(2048).optional(),
});

/** A direct conversation's recent history over the socket (the REST route's twin). */
export const conversationHistorySchema = z.object({
  action: z.literal('conversationHistory'),
  conversationId: conversationIdSchema,
  limit: z.number().int().min(1).max(100).optional(),
  before: z.string().max(2048).optional(),
});

/** Ephemeral: "I am typing" in a room or a direct conversation. Never stored; throttled per connection. */
export const typingSchema = z
  .object({
    action: z.literal('typing'),
    room: roomNameSchema.optional(),
    conversationId: conversationIdSchema.optional(),
  })
  .refine((frame) => (frame.room === undefined) !== (frame.conversationId === undefined), {
    message: 'give room or conversationId',
    path: ['room'],
  });

/**
 * Asks for a URL to upload one file to, for a room or a conversation the sender is in. The size and
 * type are bound into the URL's signature: S3 refuses an upload of any other size or type.
 */
export const requestUploadSchema = z
  .object({
    action: z.literal('requestUpload'),
    room: roomNameSchema.optional(),
    conversationId: conversationIdSchema.optional(),
    fileName: fileNameSchema,
    contentType: contentTypeSchema,
    size: z.number().int().min(1),
  })
  .refine((frame) => (frame.room === undefined) !== (frame.conversationId === undefined), {
    message: 'give room or conversationId',
    path: ['room'],
  });

/** markRead for a room: moves the user's read position (all their devices) up to a message or a seq. */
export const markRoomReadSchema = z
  .object({
    action: z.literal('markRead'),
    room: roomNameSchema,
    upToMessageId: messageIdSchema.optional(),
    upToSeq: z.number().int().nonnegative().optional(),
  })
  .refine((frame) => (frame.upToMessageId === undefined) !== (frame.upToSeq === undefined), {
    message: 'give upToMessageId or upToSeq',
    path: ['upToSeq'],
  });
/** Replaces the text of one's own room or direct message; the earlier texts are kept as versions. */
export const editMessageSchema = z.object({
  action: z.literal('editMessage'),
  messageId: messageIdSchema,
  message: contentSchema,
});

/** Adds (react) or takes back (unreact) one emoji on a message the sender can see. */
export const reactionSchema = z.object({
  action: z.enum(['react', 'unreact']),
  messageId: messageIdSchema,
  emoji: emojiSchema,
});

/** Asks for a download URL of a file on a message in a room or conversation the sender is in. */
export const getAttachmentSchema = z.object({ action: z.literal('getAttachment'), attachmentId: attachmentIdSchema });

/**
 * createRoom: a private room gets a server-assigned id (never give `room`); a public one claims the
 * name in `room` and records its creator as owner.
 */
export const createRoomSchema = z
  .object({
    action: z.literal('createRoom'),
    visibility: z.enum(['public', 'private']),
    title: roomTitleSchema.optional(),
    room: roomNameSchema.optional(),
  })
  .refine((frame) => (frame.visibility === 'private') === (frame.room === undefined), {
    message: 'a private room gets a server-assigned id (leave room out); a public room needs room',
    path: ['room'],
  });

/** inviteMember, kickMember and unbanMember name a room and a user. */
export const memberActionSchema = z.object({
  action: z.enum(['inviteMember', 'kickMember', 'unbanMember']),
  room: roomNameSchema,
  userId: userIdSchema,
});

/** A ban lasts `durationSeconds` (one minute to a year), or until lifted when absent. */
export const banMemberSchema = z.object({
  action: z.literal('banMember'),
  room: roomNameSchema,
  userId: userIdSchema,
  durationSeconds: z
    .number()
    .int()
    .min(60)
    .max(366 * 24 * 3600)
    .optional(),
});

export const setRoleSchema = z.object({
  action: z.literal('setRole'),
  room: roomNameSchema,
  userId: userIdSchema,
  role: roomRoleSchema,
});

/** quitRoom gives up membership (every device); deleteRoom (owners) ends the room for everyone. */
export const roomOwnershipSchema = z.object({
  action: z.enum(['quitRoom', 'deleteRoom']),
  room: roomNameSchema,
});

/** A created room's members and their roles (members of a private room; anyone allowed in a public one). */
export const listMembersSchema = z.object({ action: z.literal('listMembers'), room: roomNameSchema });

export type SendRoomMessageFrame = z.infer<typeof sendRoomMessageSchema>;
export type SendDirectMessageFrame = z.infer<typeof sendDirectMessageSchema>;
export type RoomActionFrame = z.infer<typeof roomActionSchema>;
export type ListRoomsFrame = z.infer<typeof listRoomsSchema>;
export type PingFrame = z.infer<typeof pingSchema>;
export type ResumeFrame = z.infer<typeof resumeSchema>;
export type TopicActionFrame = z.infer<typeof topicActionSchema>;
export type MarkReadFrame = z.infer<typeof markReadSchema>;
export type DeleteMessageFrame = z.infer<typeof deleteMessageSchema>;
export type AuditTrailFrame = z.infer<typeof auditTrailSchema>;
export type ConversationHistoryFrame = z.infer<typeof conversationHistorySchema>;
export type TypingActionFrame = z.infer<typeof typingSchema>;
export type MarkRoomReadFrame = z.infer<typeof markRoomReadSchema>;
export type EditMessageFrame = z.infer<typeof editMessageSchema>;
export type ReactionFrame = z.infer<typeof reactionSchema>;
export type RequestUploadFrame = z.infer<typeof requestUploadSchema>;
export type GetAttachmentFrame = z.infer<typeof getAttachmentSchema>;
export type CreateRoomFrame = z.infer<typeof createRoomSchema>;
export type MemberActionFrame = z.infer<typeof memberActionSchema>;
export type BanMemberFrame = z.infer<typeof banMemberSchema>;
export type SetRoleFrame = z.infer<typeof setRoleSchema>;
export type RoomOwnershipFrame = z.infer<typeof roomOwnershipSchema>;
export type ListMembersFrame = z.infer<typeof listMembersSchema>;

/** Every frame a client may send. */
export type ClientFrame =
  | SendRoomMessageFrame
  | SendDirectMessageFrame
  | RoomActionFrame
  | ListRoomsFrame
  | PingFrame
  | ResumeFrame
  | TopicActionFrame
  | MarkReadFrame
  | DeleteMessageFrame
  | ConversationHistoryFrame
  | TypingActionFrame
  | MarkRoomReadFrame
  | EditMessageFrame
  | ReactionFrame
  | RequestUploadFrame
  | GetAttachmentFrame
  | CreateRoomFrame
  | MemberActionFrame
  | BanMemberFrame
  | SetRoleFrame
  | RoomOwnershipFrame
  | ListMembersFrame;
