import type { Frame, OnlineUser } from '#protocol/server-frames';
import type { AttachmentRecord } from './domain/attachment.js';
import type { ChatMessage, DeliveryStatus } from './domain/message.js';
import type { Delivery } from './events/delivery.js';

/** Ports the use cases depend on. db/src implements the stores; shared/src/aws/adapters the rest. */

export interface ConnectionRecord {
  connectionId: string;
  userId: string;
  userName: string;
  /** Epoch milliseconds, as API Gateway reports it. */
  connectedAt: number;
  /** Epoch seconds; the record is dead after this even if DynamoDB has not deleted it yet. */
  expiresAt: number;
  sourceIp?: string;
  userAgent?: string;
}

export interface ConnectionStore {
  put(record: ConnectionRecord): Promise<void>;
  get(connectionId: string, nowSeconds: number): Promise<ConnectionRecord | undefined>;
  /** Deletes and returns the record, or undefined when it was already gone. */
  remove(connectionId: string): Promise<ConnectionRecord | undefined>;
  liveConnectionsOf(userId: string, nowSeconds: number): Promise<ConnectionRecord[]>;
  /** Takes one token from the connection's rate budget; false when it is spent. */
  consumeRateToken(connectionId: string, nowMs: number, limit: RateLimit): Promise<boolean>;
}

export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

export interface Subscription {
  topic: string;
  connectionId: string;
  userId: string;
  userName: string;
  expiresAt: number;
}

export interface SubscriptionStore {
  subscribe(subscriptions: Subscription[]): Promise<void>;
  /** Returns whether the subscription existed. */
  unsubscribe(topic: string, connectionId: string): Promise<boolean>;
  topicsOf(connectionId: string): Promise<string[]>;
  /** Removes every subscription of a connection and returns them. */
  removeAllFor(connectionId: string): Promise<Subscription[]>;
  /** Every live subscriber of a topic, all pages. */
  liveSubscribers(topic: string, nowSeconds: number): Promise<Subscription[]>;
  /**
   * Live subscribers of a topic, one Query page (at most `pageSize` items, expired ones included)
   * at a time: a caller that stops iterating reads no further pages.
   */
  liveSubscriberPages(topic: string, nowSeconds: number, pageSize: number): AsyncIterable<Subscription[]>;
  /**
   * Live subscribers of a small topic, read with one Query page of at most `max + 1` items;
   * undefined when the topic may hold more than `max` (the page was full or had more behind it),
   * so a big topic costs one small page.
   */
  liveSubscribersUpTo(topic: string, nowSeconds: number, max: number): Promise<Subscription[] | undefined>;
}

export interface HistoryPage {
  messages: ChatMessage[];
  nextCursor?: string;
}

export interface MessageStore {
  /**
   * Stores a message unless one with the same messageId exists; then returns the stored original
   * and `duplicate: true`. Throws ConflictError when the id belongs to another sender.
   */
  append(message: ChatMessage, expiresAt: number): Promise<{ message: ChatMessage; duplicate: boolean }>;
  /** Newest first. */
  history(room: string, options: { limit: number; cursor?: string; nowSeconds: number }): Promise<HistoryPage>;
  /** Oldest first, strictly after `afterSk`: reconnect catch-up. */
  since(room: string, options: { afterSk: string; limit: number; nowSeconds: number }): Promise<HistoryPage>;
  /** Newest first, through the user-time index. */
  byUser(userId: string, options: { limit: number; cursor?: string; nowSeconds: number }): Promise<HistoryPage>;
  findById(messageId: string): Promise<ChatMessage | undefined>;
  /** Oldest first: direct messages not yet delivered to `userId`. */
  pendingFor(userId: string, nowSeconds: number): Promise<ChatMessage[]>;
  /** Oldest first: direct messages in `room` to `readerId`, up to and including `upToSk`, not yet read. */
  unreadFor(room: string, readerId: string, upToSk: string, nowSeconds: number): Promise<ChatMessage[]>;
  /** Moves status forward only; returns whether it changed. */
  advanceStatus(key: { room: string; sk: string }, to: DeliveryStatus): Promise<boolean>;
  softDelete(key: { room: string; sk: string }, byUserId: string): Promise<ChatMessage | undefined>;
}

export interface EventPublisher {
  publish(detailType: string, detail: object): Promise<void>;
}

export interface DistributionPublisher {
  /** Publishes frames for the distribution state machine to fan out. */
  distribute(detailType: string, deliveries: Delivery[]): Promise<void>;
}

export type PostOutcome = 'delivered' | 'gone' | 'failed';

export interface ConnectionNotifier {
  post(connectionId: string, frame: Frame): Promise<PostOutcome>;
}

export interface OnlineSample {
  /** At most the `max` asked for, sorted by userId; which users make the cut is unspecified. */
  users: OnlineUser[];
  /** More users are online than `users` holds. */
  truncated: boolean;
}

export interface PresenceReader {
  /** Everyone online in the room: reads the room's whole partition. */
  onlineIn(room: string, nowSeconds: number): Promise<OnlineUser[]>;
  /** Up to `max` users online in the room, reading only as many pages as it takes to find `max + 1`. */
  sampleOnlineIn(room: string, nowSeconds: number, max: number): Promise<OnlineSample>;
}

export interface ConversationSummary {
  conversationId: string;
  peerId: string;
  peerName: string;
  lastMessage?: { messageId: string; senderId: string; content: string; timestamp: string; isDeleted?: boolean };
  unreadCount: number;
  updatedAt: string;
}

export interface ConversationStore {
  /**
   * The conversation two users share, created on first use. `requestedId` (seed 004 lets the
   * client pick one) is honoured only when the pair has none yet.
   */
  resolve(
    sender: { userId: string; userName: string },
    recipient: { userId: string; userName: string },
    requestedId?: string,
  ): Promise<string>;
  participants(conversationId: string): Promise<string[] | undefined>;
  /** Updates both participants' summaries; they expire with the message (`expiresAt`). */
  recordMessage(message: ChatMessage, expiresAt: number): Promise<void>;
  /** Blanks the preview of a deleted message wherever it is still the last one. */
  redactPreview(participants: string[], conversationId: string, messageId: string): Promise<void>;
  markRead(userId: string, conversationId: string, count: number): Promise<void>;
  list(userId: string, nowSeconds: number): Promise<ConversationSummary[]>;
}

export interface AttachmentStore {
  /**
   * Records a pending attachment and adds its size to the owner's counter for `quota.day`, in one
   * transaction. Throws QuotaExceededError when the counter would pass `quota.limitBytes`.
   */
  create(record: AttachmentRecord, quota: { day: string; limitBytes: number; expiresAt: number }): Promise<void>;
  get(attachmentId: string, nowSeconds: number): Promise<AttachmentRecord | undefined>;
  /**
   * Marks the attachment as belonging to `messageId` (idempotent for the same message); false when it
   * already belongs to another message.
   */
  markAttached(attachmentId: string, messageId: string, expiresAt: number): Promise<boolean>;
}

export interface PresignedUpload {
  url: string;
  method: 'PUT';
  /** Headers the PUT must carry exactly as given: they are part of the signature. */
  headers: Record<string, string>;
  expiresAt: string;
}

export interface ObjectStorage {
  /** A URL that accepts one PUT of exactly `size` bytes of `contentType` at `key`. */
  presignUpload(
    key: string,
    file: { contentType: string; size: number },
    expiresInSeconds: number,
  ): Promise<PresignedUpload>;
  /** A URL that GETs `key`, served as an attachment named `fileName`. */
  presignDownload(
    key: string,
    file: { fileName: string; contentType: string },
    expiresInSeconds: number,
  ): Promise<{ url: string; expiresAt: string }>;
  /** Server-side copy; false when the source does not exist. */
  copy(fromKey: string, toKey: string): Promise<boolean>;
}
