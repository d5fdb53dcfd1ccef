import { DynamoDBMarshalled } from '@aws-lambda-powertools/parser/helpers/dynamodb';
import { DynamoDBStreamChangeRecordBase, DynamoDBStreamRecord } from '@aws-lambda-powertools/parser/schemas/dynamodb';
import { z } from 'zod';
import { type ChatMessage, DELIVERY_STATUSES } from '#core/domain/message';

/**
 * A Messages table item as db/src/messages-store.ts writes it (seed 002's attribute names), read
 * back into the domain type. The stream handler parses images with this, so it never needs db/.
 */
const messageItemSchema = z
  .looseObject({
    room: z.string(),
    sk: z.string(),
    messageId: z.string(),
    user_id: z.string(),
    userName: z.string(),
    message: z.string(),
    timestamp: z.string(),
    kind: z.enum(['room', 'direct']),
    conversationId: z.string().optional(),
    recipientId: z.string().optional(),
    status: z.enum(DELIVERY_STATUSES).optional(),
    isDeleted: z.boolean().optional(),
    replyToMessageId: z.string().optional(),
    replyToContent: z.string().optional(),
    replyToSenderName: z.string().optional(),
  })
  .transform((item): ChatMessage => {
    const message: ChatMessage = {
      room: item.room,
      sk: item.sk,
      messageId: item.messageId,
      userId: item.user_id,
      userName: item.userName,
      content: item.message,
      timestamp: item.timestamp,
      kind: item.kind,
    };
    if (item.conversationId !== undefined) message.conversationId = item.conversationId;
    if (item.recipientId !== undefined) message.recipientId = item.recipientId;
    if (item.status !== undefined) message.status = item.status;
    if (item.isDeleted) message.isDeleted = true;
    if (item.replyToMessageId !== undefined) {
      message.reply = {
        replyToMessageId: item.replyToMessageId,
        replyToContent: item.replyToContent,
        replyToSenderName: item.replyToSenderName,
      };
    }
    return message;
  });

/** The idempotency marker stored next to each message (`sk = msgid`): nothing to react to. */
const markerItemSchema = z.looseObject({ sk: z.literal('msgid') }).transform(() => undefined);

/** Edit versions and per-user reactions (db/src/message-changes-store.ts): nothing to react to either. */
const sideItemSchema = z.looseObject({ kind: z.enum(['messageVersion', 'userReactions']) }).transform(() => undefined);

/** A stored image: a message, or undefined for a marker or a side item. Anything else fails the record. */
export const messageImageSchema = DynamoDBMarshalled(z.union([markerItemSchema, sideItemSchema, messageItemSchema]));

/** One Messages stream record, its images unmarshalled and parsed (absent on INSERT / REMOVE). */
export const messageRecordSchema = DynamoDBStreamRecord.extend({
  dynamodb: DynamoDBStreamChangeRecordBase.extend({
    NewImage: messageImageSchema.optional(),
    OldImage: messageImageSchema.optional(),
  }),
});

export type MessageRecord = z.infer<typeof messageRecordSchema>;
