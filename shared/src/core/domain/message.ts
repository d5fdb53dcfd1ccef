import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AttachmentRef } from './attachment.js';
import { hasLoneSurrogate } from './text.js';

/** Upper bound on message text, well inside API Gateway's 32 KB frame once JSON-escaped. */
export const MAX_CONTENT_LENGTH = 4000;

export const messageIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'messageId may contain only letters, digits, _ and -');

export const contentSchema = z
  .string()
  .max(MAX_CONTENT_LENGTH, `message must be at most ${MAX_CONTENT_LENGTH} characters`)
  .refine((text) => text.trim().length > 0, 'message must not be empty')
  .refine((text) => !hasLoneSurrogate(text), 'message must be valid Unicode (no lone surrogates)');

export type DeliveryStatus = 'sent' | 'delivered' | 'read';

/** Every status, in the only order a message may move through them. */
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['sent', 'delivered', 'read'];

const statusRank: Record<DeliveryStatus, number> = { sent: 0, delivered: 1, read: 2 };

/** Status only moves forward: sent → delivered → read. */
export function isForwardStatus(from: DeliveryStatus, to: DeliveryStatus): boolean {
  return statusRank[to] > statusRank[from];
}

/** The statuses a message may be in for a move to `to` to be forward. */
export const statusesBefore = (to: DeliveryStatus): DeliveryStatus[] =>
  DELIVERY_STATUSES.filter((from) => isForwardStatus(from, to));

export interface ReplyReference {
  replyToMessageId: string;
  replyToContent?: string;
  replyToSenderName?: string;
}

/** A stored message. Rooms and direct conversations share one shape and one table. */
export interface ChatMessage {
  /** Storage partition: a room name, or `dm#<conversationId>` for a direct conversation. */
  room: string;
  /** Sort key `<ISO time>#<messageId>`: time-ordered, and unique even within one millisecond. */
  sk: string;
  messageId: string;
  userId: string;
  userName: string;
  content: string;
  timestamp: string;
  kind: 'room' | 'direct';
  conversationId?: string;
  recipientId?: string;
  status?: DeliveryStatus;
  isDeleted?: boolean;
  reply?: ReplyReference;
  /**
   * Position in its room or conversation: 1, 2, 3, … with no gaps, assigned when the message is
   * stored (messages stored before sequencing existed have none).
   */
  seq?: number;
  /** When the sender last edited the text (ISO); the earlier texts are its versions. */
  editedAt?: string;
  editedBy?: string;
  /** How many users reacted with each emoji (only counts above zero). */
  reactions?: Record<string, number>;
  /** Files on the message (attachments.ts checked each is the sender's, for this place, uploaded). */
  attachments?: AttachmentRef[];
}

export const directPartition = (conversationId: string) => `dm#${conversationId}`;

export const sortKeyFor = (timestamp: string, messageId: string) => `${timestamp}#${messageId}`;

export const newMessageId = () => randomUUID();

/** The id two users share when neither side named one: stable whoever writes first. */
export function derivedConversationId(a: string, b: string): string {
  const [first, second] = [a, b].sort();
  return `dm-${createHash('sha256').update(`${first}\n${second}`).digest('base64url').slice(0, 32)}`;
}
