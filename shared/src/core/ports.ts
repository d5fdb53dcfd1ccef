import type { Frame, OnlineUser } from '#protocol/server-frames';
import type { AttachmentRecord } from './domain/attachment.js';
import type { DeletionRecord } from './domain/audit.js';
import type { Identity } from './domain/identity.js';
import type { ChatMessage, DeliveryStatus } from './domain/message.js';
import type { ReviewDecision, ReviewRequest } from './domain/moderation.js';
import type { RoomRole, RoomVisibility } from './domain/room.js';
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
  /** Demo auth mode only: opened with no identity, so its first frame's `user_id` may name it (once). */
  guest?: boolean;
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
  /** Deletes many subscriptions (BatchWriteItem; a missing one is no error). */
  unsubscribeMany(keys: Array<{ topic: string; connectionId: string }>): Promise<void>;
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
  append(
    message: ChatMessage,
    expiresAt: number,
    /** The partition's counter as read just before (lastSeq), to save the store reading it again. */
    knownLastSeq?: number,
  ): Promise<{ message: ChatMessage; duplicate: boolean }>;
  /** The seq of the partition's newest message (0 for none), read consistently. */
  lastSeq(partition: string): Promise<number>;
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
   * client pick one) is honoured only when the pair has none yet. `beforeCreate` is awaited before a
   * new conversation is written (the sender's rate budget, read beside the lookup).
   */
  resolve(
    sender: { userId: string; userName: string },
    recipient: { userId: string; userName: string },
    requestedId?: string,
    options?: { beforeCreate?: () => Promise<void> },
  ): Promise<string>;
  participants(conversationId: string): Promise<string[] | undefined>;
  /** Updates both participants' summaries; they expire with the message (`expiresAt`). */
  recordMessage(message: ChatMessage, expiresAt: number): Promise<void>;
  /** Blanks the preview of a deleted message wherever it is still the last one. */
  redactPreview(participants: string[], conversationId: string, messageId: string): Promise<void>;
  /** Shows an edited message's new text wherever it is still the last one. */
  revisePreview(participants: string[], conversationId: string, messageId: string, content: string): Promise<void>;
  markRead(userId: string, conversationId: string, count: number): Promise<void>;
  list(userId: string, nowSeconds: number): Promise<ConversationSummary[]>;
}

/** Typing indicators' throttle, kept on the connection item so every Lambda environment sees it. */
export interface TypingThrottle {
  /** True (and the time recorded) when the connection's last typing fan-out is at least `intervalMs` old. */
  allowTyping(connectionId: string, nowMs: number, intervalMs: number): Promise<boolean>;
}

/** A guest connection (demo mode) taking the identity its first message names. */
export interface GuestIdentityStore {
  /**
   * Renames a still-unclaimed guest connection to `identity`; undefined when it was claimed already
   * (by a racing frame) or is not a guest. Conditional, so at most one claim ever succeeds.
   */
  claimGuest(connectionId: string, guestUserId: string, identity: Identity): Promise<ConnectionRecord | undefined>;
}

export interface ReadPosition {
  /** The seq of the partition's newest message (0: none yet). */
  latestSeq: number;
  /** The seq of the newest message the user has read there (0: none). */
  readSeq: number;
}

/** Sequencing's read side: partitions' newest seqs and users' read positions. Counts never scan. */
export interface ReadPositionStore {
  /** Each partition's newest seq and the user's read position in it. */
  positions(userId: string, partitions: string[]): Promise<Map<string, ReadPosition>>;
  /** Moves the user's read position forward to `seq` (never back); returns the position stored now. */
  advance(userId: string, partition: string, seq: number): Promise<number>;
}

/** A message's text before one edit: who replaced it, when, and with which edit (1, 2, …). */
export interface MessageVersionRecord {
  version: number;
  previousText: string;
  editedBy: string;
  editedAt: string;
}

export type ReactionOutcome =
  /** `changed` is false when the user already had (react) or never had (unreact) that emoji. */
  | { outcome: 'done'; changed: boolean; counts: Record<string, number> }
  | { outcome: 'gone' }
  | { outcome: 'too_many_emojis' }
  | { outcome: 'too_many_for_user' };

/** Edits and reactions on stored messages (db/src/message-changes-store.ts, on the Messages table). */
export interface MessageChangeStore {
  /**
   * Replaces the text of `message` (as read) if its sender is `editedBy`, it is not deleted and
   * nobody edited it since it was read; the replaced text becomes a version. Undefined when any of
   * that no longer holds.
   */
  edit(
    message: ChatMessage,
    change: { text: string; editedBy: string; editedAt: string },
  ): Promise<ChatMessage | undefined>;
  /** The message's edits, oldest first. */
  versions(messageId: string, nowSeconds: number): Promise<MessageVersionRecord[]>;
  /** Adds one user's emoji, once: conditional writes keep it idempotent and within the caps. */
  react(
    message: ChatMessage,
    userId: string,
    emoji: string,
    limits: { maxDistinct: number; maxPerUser: number },
  ): Promise<ReactionOutcome>;
  /** Takes one user's emoji back, if they had it. */
  unreact(message: ChatMessage, userId: string, emoji: string): Promise<ReactionOutcome>;
  /** messageId → the user's emojis, for the messages of `room` (a storage partition) between two sort keys. */
  reactionsBy(
    userId: string,
    room: string,
    range: { fromSk: string; toSk: string },
    nowSeconds: number,
  ): Promise<Map<string, string[]>>;
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

/** A room created with createRoom: private ones always, public ones when someone claimed the name. */
export interface RoomMeta {
  room: string;
  visibility: RoomVisibility;
  title?: string;
  createdBy: string;
  /** ISO time. */
  createdAt: string;
}

export interface RoomMember {
  room: string;
  userId: string;
  role: RoomRole;
  /** Who added them (the creator has none). */
  invitedBy?: string;
  /** ISO time they became a member. */
  since: string;
  /** Copied from the room so "my rooms" is one index Query with no second read. */
  visibility: RoomVisibility;
  title?: string;
}

export interface RoomBan {
  room: string;
  userId: string;
  bannedBy: string;
  /** Epoch seconds; absent: until lifted. Checked at read time, since TTL deletes late. */
  expiresAt?: number;
}

/** The moderation hook (shared/src/aws/adapters/message-reviewer.ts invokes a Lambda function). */
export interface MessageReviewer {
  /** The hook's verdict; throws ReviewFailedError (domain/moderation.ts) when there is none to trust. */
  review(request: ReviewRequest): Promise<ReviewDecision>;
}

/** A user's role in a room: the rooms store answers it; moderator deletes ask it. */
export interface RoomRoles {
  roleIn(room: string, userId: string): Promise<'owner' | 'moderator' | 'member' | undefined>;
}

/** Where a user stands in a room: their role, if a member, and a ban still in force, if any. */
export interface RoomStanding {
  role?: RoomRole;
  ban?: RoomBan;
}

export type AddMemberOutcome = 'added' | 'already_member' | 'banned' | 'no_room';

/** Rooms, members and bans (db/src/rooms-store.ts, the Rooms table). Reads are GetItem/BatchGetItem/Query. */
export interface RoomStore extends RoomRoles {
  /** Records the room and its owner; false when the id is taken. */
  create(meta: RoomMeta): Promise<boolean>;
  meta(room: string): Promise<RoomMeta | undefined>;
  /** One BatchGetItem: the member item and the ban item. */
  standing(room: string, userId: string, nowSeconds: number): Promise<RoomStanding>;
  /** Adds a member unless they are one already, a ban is in force, or the room does not exist. */
  addMember(member: RoomMember, nowSeconds: number): Promise<AddMemberOutcome>;
  /** False when the user is not a member. */
  setRole(room: string, userId: string, role: RoomRole): Promise<boolean>;
  /** Returns whether they were a member. */
  removeMember(room: string, userId: string): Promise<boolean>;
  /** Records the ban and removes the membership in one transaction. */
  ban(ban: RoomBan): Promise<void>;
  /** Returns whether there was a ban. */
  unban(room: string, userId: string): Promise<boolean>;
  members(room: string): Promise<RoomMember[]>;
  /** Deletes the room's every item (meta, members, bans) and returns the members it had. */
  remove(room: string): Promise<RoomMember[]>;
  /** The rooms a user is a member of (the member index). */
  roomsOf(userId: string): Promise<RoomMember[]>;
}

/** A page of a room's audit trail, newest first. */
export interface DeletionPage {
  deletions: DeletionRecord[];
  nextCursor?: string;
}

/** Deletions and their audit trail (db/src/moderation-audit-store.ts, on the Messages table). */
export interface ModerationAuditStore {
  /**
   * Soft-deletes `message` (as read) and records `record`, in one transaction: both or neither.
   * False when the message is gone, already deleted, or no longer the one read (another sender).
   */
  deleteWithRecord(message: ChatMessage, record: DeletionRecord): Promise<boolean>;
  /** A room's deletions, newest first. */
  deletions(room: string, options: { limit: number; cursor?: string }): Promise<DeletionPage>;
}
