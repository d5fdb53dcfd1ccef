import { z } from 'zod';
import { userIdSchema } from '../../../shared/src/domain/identity.js';
import { contentSchema, messageIdSchema } from '../../../shared/src/domain/message.js';
import { roomNameSchema } from '../../../shared/src/domain/room.js';

/**
 * Inbound frames, one schema per action. Unknown fields are stripped (zod's default) everywhere,
 * so clients written against the seeds (which send extra fields) keep working.
 */
export const sendRoomMessageSchema = z.object({
  action: z.literal('sendMessage'),
  room: roomNameSchema,
  message: contentSchema,
  user_id: userIdSchema.optional(),
  messageId: messageIdSchema.optional(),
});

export const roomActionSchema = z.object({
  action: z.enum(['joinRoom', 'leaveRoom']),
  room: roomNameSchema,
});

export const listRoomsSchema = z.object({ action: z.literal('listRooms') });

export const pingSchema = z.object({ action: z.literal('ping') });

export const resumeSchema = z.object({
  action: z.literal('resume'),
  room: roomNameSchema,
  /** ISO time of the last message the client saw. */
  lastTimestamp: z.iso.datetime({ offset: true }),
  lastMessageId: messageIdSchema.optional(),
  limit: z.number().int().min(1).max(100).optional(),
});

export type SendRoomMessageFrame = z.infer<typeof sendRoomMessageSchema>;

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
