import { createConnectionNotifier } from '#aws/adapters/connection-notifier';
import { createEventPublisher } from '#aws/adapters/event-publisher';
import { createMessageReviewer } from '#aws/adapters/message-reviewer';
import { createObjectStorage } from '#aws/adapters/object-storage';
import { createPresenceReader } from '#aws/adapters/presence-reader';
import { connectionsPoster } from '#aws/clients/connections-poster';
import { dynamoDb } from '#aws/clients/dynamodb';
import { eventBridge } from '#aws/clients/eventbridge';
import { lambda } from '#aws/clients/lambda';
import { s3 } from '#aws/clients/s3';
import {
  attachmentLimits,
  attachmentsBucket,
  attachmentsTable,
  eventBusName,
  managementApiEndpoint,
  messageRetentionDays,
  moderationConfig,
  numberFromEnv,
  tables,
} from '#aws/config';
import { logger } from '#aws/observability';
import { epochSeconds } from '#core/domain/time';
import type {
  AttachmentStore,
  ConnectionNotifier,
  ConnectionStore,
  ConversationStore,
  DistributionPublisher,
  EventPublisher,
  GuestIdentityStore,
  MessageChangeStore,
  MessageStore,
  ModerationAuditStore,
  ObjectStorage,
  PresenceReader,
  ReadPositionStore,
  RoomStore,
  SubscriptionStore,
  TypingThrottle,
} from '#core/ports';
import type { InputsOf } from '#core/use-case';
import * as attaching from '#core/use-cases/attachments';
import * as closing from '#core/use-cases/close-connection';
import * as deletions from '#core/use-cases/deletions';
import * as direct from '#core/use-cases/direct-messages';
import type { DirectPathDeps } from '#core/use-cases/fan-out-message';
import * as guests from '#core/use-cases/guest-identity';
import * as membership from '#core/use-cases/membership';
import * as changing from '#core/use-cases/message-changes';
import * as metrics from '#core/use-cases/metrics-subscriptions';
import type { ModerationDeps } from '#core/use-cases/moderate-message';
import * as opening from '#core/use-cases/open-connection';
import * as posting from '#core/use-cases/post-room-message';
import * as history from '#core/use-cases/read-history';
import * as reading from '#core/use-cases/read-positions';
import * as administering from '#core/use-cases/room-admin';
import * as typing from '#core/use-cases/typing';
import { createAttachmentStore } from '#db/attachments-store';
import { createConnectionStore } from '#db/connections-store';
import { createConversationStore } from '#db/conversations-store';
import { createMessageChangeStore } from '#db/message-changes-store';
import { createMessageStore } from '#db/messages-store';
import { createModerationAuditStore } from '#db/moderation-audit-store';
import { createReadPositionStore } from '#db/read-positions-store';
import { createRoomStore } from '#db/rooms-store';
import { createSubscriptionStore } from '#db/subscriptions-store';

/*
 * The API functions' composition root: every use case they run, bound to the production adapters.
 * Adapters are built on first use and kept for the container's life. Everything here is a plain
 * declaration, so esbuild keeps only what a function's handler reaches: the authorizer bundles no
 * store, and only WebSocketActionsFunction (sendMessage's direct path) bundles the Management API client.
 */

let connectionStore: (ConnectionStore & TypingThrottle & GuestIdentityStore) | undefined;
let subscriptionStore: SubscriptionStore | undefined;
let messageStore: MessageStore | undefined;
let conversationStore: ConversationStore | undefined;
let publisher: (EventPublisher & DistributionPublisher) | undefined;
let presenceReader: PresenceReader | undefined;
let roomStore: RoomStore | undefined;

const connections = () => (connectionStore ??= createConnectionStore(dynamoDb(), tables.connections()));
const subscriptions = () => (subscriptionStore ??= createSubscriptionStore(dynamoDb(), tables.subscriptions()));
const messages = () => (messageStore ??= createMessageStore(dynamoDb(), tables.messages()));
const conversations = () => (conversationStore ??= createConversationStore(dynamoDb(), tables.conversations()));
const events = () => (publisher ??= createEventPublisher(eventBridge(), eventBusName()));
const presence = () => (presenceReader ??= createPresenceReader(subscriptions()));
/** Rooms, members and bans: every room entry point's access check reads it (membership.ts). */
const rooms = () => (roomStore ??= createRoomStore(dynamoDb(), tables.rooms()));

const connectionDeps = () => ({ connections: connections(), subscriptions: subscriptions(), events: events() });
const membershipDeps = () => ({
  subscriptions: subscriptions(),
  events: events(),
  presence: presence(),
  rooms: rooms(),
});

/**
 * The moderation hook (ModerationFunction), or undefined when the deployment has none: then no
 * Lambda client is made and every message is stored as sent. Every failed review is logged with
 * what the fail mode made of it.
 */
let moderationBinding: { deps: ModerationDeps | undefined } | undefined;
const moderation = (): ModerationDeps | undefined => {
  if (!moderationBinding) {
    const config = moderationConfig();
    moderationBinding = {
      deps: config && {
        reviewer: createMessageReviewer(lambda(), config),
        failMode: config.failMode,
        onReviewFailed: (error, outcome) =>
          logger.warn('moderation review failed', {
            reason: error.reason,
            detail: error.message,
            failMode: config.failMode,
            outcome,
          }),
      },
    };
  }
  return moderationBinding.deps;
};

const roomMessageDeps = () => ({
  messages: messages(),
  readPositions: readPositions(),
  events: events(),
  retentionDays: messageRetentionDays(),
  moderation: moderation(),
});

let connectionNotifier: ConnectionNotifier | undefined;
const notifier = () => (connectionNotifier ??= createConnectionNotifier(connectionsPoster(managementApiEndpoint())));

/**
 * sendMessage's direct path: rooms and conversations with at most DIRECT_FANOUT_MAX_MEMBERS live
 * connections are posted to from this function (0: always the state machine, and no Management API
 * client is ever made). The numbers are read per call, like the fan-out task's POST_CONCURRENCY.
 */
const directPath = (): DirectPathDeps | undefined => {
  const maxMembers = numberFromEnv('DIRECT_FANOUT_MAX_MEMBERS', 0);
  if (maxMembers <= 0) return undefined;
  return {
    subscriptions: subscriptions(),
    notifier: notifier(),
    messages: messages(),
    onGone: async (connectionId) => {
      await closing.dropGoneConnection(connectionId, connectionDeps());
    },
    maxMembers,
    // Not the whole room at once: posting is CPU-bound (signing, the HTTP client), and with every
    // post in flight they share the CPU, so the median member waits for nearly all of them
    // (docs/benchmarks.md: 100 at once measured 46.7 ms p50 at 100 members against 33.1 at 32).
    concurrency: numberFromEnv('POST_CONCURRENCY', 32),
  };
};
const socketMessageDeps = () => ({ ...roomMessageDeps(), direct: directPath(), attachments: attachmentBinding() });
const directDeps = () => ({ ...socketMessageDeps(), conversations: conversations() });
const conversationDeps = () => ({ messages: messages(), conversations: conversations() });

/** Per-connection send budget (RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST), read once. */
let rateLimit: { ratePerSecond: number; burst: number } | undefined;

// $connect and $disconnect
export const openConnection = (...args: InputsOf<typeof opening.openConnection>) =>
  opening.openConnection(...args, { ...connectionDeps(), rooms: rooms() });
export const closeConnection = (...args: InputsOf<typeof closing.closeConnection>) =>
  closing.closeConnection(...args, connectionDeps());

// WebSocket actions
/** Takes one token from the connection's rate budget; false when it is spent. */
export const allowFrame = (connectionId: string) => {
  rateLimit ??= {
    ratePerSecond: numberFromEnv('RATE_LIMIT_PER_SECOND', 10),
    burst: numberFromEnv('RATE_LIMIT_BURST', 20),
  };
  return connections().consumeRateToken(connectionId, Date.now(), rateLimit);
};
/** sendMessage to a room over the socket: small rooms are posted to directly. */
export const sendRoomMessage = (...args: InputsOf<typeof posting.sendRoomMessage>) =>
  posting.sendRoomMessage(...args, { ...socketMessageDeps(), rooms: rooms() });
export const sendDirectMessage = (...args: InputsOf<typeof direct.sendDirectMessage>) =>
  direct.sendDirectMessage(...args, directDeps());
export const markRead = (...args: InputsOf<typeof direct.markRead>) => direct.markRead(...args, conversationDeps());
export const readConversation = (...args: InputsOf<typeof direct.readConversation>) =>
  direct.readConversation(...args, conversationDeps());
export const joinRoom = (...args: InputsOf<typeof membership.joinRoom>) =>
  membership.joinRoom(...args, membershipDeps());
export const leaveRoom = (...args: InputsOf<typeof membership.leaveRoom>) =>
  membership.leaveRoom(...args, membershipDeps());
export const listRooms = (...args: InputsOf<typeof membership.listRooms>) =>
  membership.listRooms(...args, {
    connections: connections(),
    subscriptions: subscriptions(),
    presence: presence(),
    rooms: rooms(),
  });
export const catchUp = (...args: InputsOf<typeof history.catchUp>) =>
  history.catchUp(...args, { messages: messages(), rooms: rooms() });
export const subscribeToMetrics = (...args: InputsOf<typeof metrics.subscribeToMetrics>) =>
  metrics.subscribeToMetrics(...args, { subscriptions: subscriptions() });
export const unsubscribeFromMetrics = (...args: InputsOf<typeof metrics.unsubscribeFromMetrics>) =>
  metrics.unsubscribeFromMetrics(...args, { subscriptions: subscriptions() });

// REST
/** Seed 000's POST /message and GET /: always through the state machine (no @connections grant). */
export const postRoomMessage = (...args: InputsOf<typeof posting.sendRoomMessage>) =>
  posting.sendRoomMessage(...args, { ...roomMessageDeps(), rooms: rooms() });
export const readRoomHistory = (...args: InputsOf<typeof history.readRoomHistory>) =>
  history.readRoomHistory(...args, { messages: messages(), rooms: rooms() });
export const readUserHistory = (...args: InputsOf<typeof history.readUserHistory>) =>
  history.readUserHistory(...args, { messages: messages(), rooms: rooms() });
/** Everyone online in a room now, for a viewer who may enter it. */
export const roomPresence = (...args: InputsOf<typeof membership.roomPresence>) =>
  membership.roomPresence(...args, { presence: presence(), rooms: rooms() });
/** The caller's conversations, most recent first. */
export const listConversations = (userId: string) => conversations().list(userId, epochSeconds());

// Typing, read positions and demo-mode guests (new in the chat-flow work)
let readPositionStore: ReadPositionStore | undefined;
const readPositions = () => (readPositionStore ??= createReadPositionStore(dynamoDb(), tables.messages()));

/** typing: throttled on the connection item, posted to small rooms directly. */
export const sendTyping = (...args: InputsOf<typeof typing.sendTyping>) =>
  typing.sendTyping(...args, {
    subscriptions: subscriptions(),
    conversations: conversations(),
    throttle: connections(),
    events: events(),
    direct: directPath(),
    rooms: rooms(),
  });
/** markRead for a room: the user's read position, shared by all their devices. */
export const markRoomRead = (...args: InputsOf<typeof reading.markRoomRead>) =>
  reading.markRoomRead(...args, {
    subscriptions: subscriptions(),
    messages: messages(),
    readPositions: readPositions(),
    events: events(),
    direct: directPath(),
    rooms: rooms(),
  });
/** Unread counts for some of a user's rooms (REST). */
export const roomUnread = (...args: InputsOf<typeof reading.roomUnread>) =>
  reading.roomUnread(...args, { readPositions: readPositions() });
/** A room's newest seq and the user's read position in it (REST). */
export const readPositionIn = (...args: InputsOf<typeof reading.roomReadPosition>) =>
  reading.roomReadPosition(...args, { readPositions: readPositions(), rooms: rooms() });
/** Who sent a WebSocket frame: the authorizer's identity, or what a demo-mode guest's first message named. */
export const identityForFrame = (...args: InputsOf<typeof guests.identityForFrame>) =>
  guests.identityForFrame(...args, { connections: connections(), subscriptions: subscriptions(), events: events() });
// Edits and reactions (both deployables' readers use withMyReactions)
let messageChangeStore: MessageChangeStore | undefined;
const messageChanges = () => (messageChangeStore ??= createMessageChangeStore(dynamoDb(), tables.messages()));
const changeDeps = () => ({
  messages: messages(),
  changes: messageChanges(),
  events: events(),
  direct: directPath(),
  subscriptions: subscriptions(),
  conversations: conversations(),
  rooms: rooms(),
  moderation: moderation(),
});

/** editMessage over the socket: small rooms and conversations are posted to directly. */
export const editMessage = (...args: InputsOf<typeof changing.editMessage>) =>
  changing.editMessage(...args, changeDeps());
export const changeReaction = (...args: InputsOf<typeof changing.changeReaction>) =>
  changing.changeReaction(...args, changeDeps());
export const messageVersions = (...args: InputsOf<typeof changing.messageVersions>) =>
  changing.messageVersions(...args, { messages: messages(), changes: messageChanges(), rooms: rooms() });
/** The reader's own emojis on a history page's messages. */
export const withMyReactions = <M extends { messageId: string; timestamp: string }>(
  viewerId: string,
  room: string,
  page: M[],
) => changing.withMyReactions(viewerId, room, page, { changes: messageChanges() });

// Attachments (WebSocketActionsFunction; RestApiFunction reads and presigns downloads only)
let attachmentStore: AttachmentStore | undefined;
let objectStorage: ObjectStorage | undefined;
const attachmentRecords = () => (attachmentStore ??= createAttachmentStore(dynamoDb(), attachmentsTable()));
const storage = () => (objectStorage ??= createObjectStorage(s3(), attachmentsBucket()));
const membershipReaders = () => ({
  connections: connections(),
  subscriptions: subscriptions(),
  conversations: conversations(),
  rooms: rooms(),
});
/** Built on first use by a message that carries files. */
function attachmentBinding() {
  return {
    get attachments() {
      return attachmentRecords();
    },
    get storage() {
      return storage();
    },
  };
}
export const requestUpload = (...args: InputsOf<typeof attaching.requestUpload>) =>
  attaching.requestUpload(...args, {
    ...membershipReaders(),
    attachments: attachmentRecords(),
    storage: storage(),
    limits: attachmentLimits(),
  });
export const getAttachment = (...args: InputsOf<typeof attaching.getAttachment>) =>
  attaching.getAttachment(...args, { ...membershipReaders(), attachments: attachmentRecords(), storage: storage() });

// Created rooms: private rooms, members, roles and bans (room-admin.ts)
const roomAdminDeps = () => ({
  rooms: rooms(),
  connections: connections(),
  subscriptions: subscriptions(),
  notifier: notifier(),
  events: events(),
});
export const createRoom = (...args: InputsOf<typeof administering.createRoom>) =>
  administering.createRoom(...args, { rooms: rooms(), messages: messages(), subscriptions: subscriptions() });
export const inviteMember = (...args: InputsOf<typeof administering.inviteMember>) =>
  administering.inviteMember(...args, roomAdminDeps());
/** Kick and ban take the room off every one of the user's devices before the reply (evictUser). */
export const kickMember = (...args: InputsOf<typeof administering.kickMember>) =>
  administering.kickMember(...args, roomAdminDeps());
export const banMember = (...args: InputsOf<typeof administering.banMember>) =>
  administering.banMember(...args, roomAdminDeps());
export const unbanMember = (...args: InputsOf<typeof administering.unbanMember>) =>
  administering.unbanMember(...args, { rooms: rooms() });
export const setRole = (...args: InputsOf<typeof administering.setRole>) =>
  administering.setRole(...args, { rooms: rooms(), connections: connections(), notifier: notifier() });
export const listMembers = (...args: InputsOf<typeof administering.listMembers>) =>
  administering.listMembers(...args, { rooms: rooms() });
export const quitRoom = (...args: InputsOf<typeof administering.quitRoom>) =>
  administering.quitRoom(...args, roomAdminDeps());
export const deleteRoom = (...args: InputsOf<typeof administering.deleteRoom>) =>
  administering.deleteRoom(...args, roomAdminDeps());

// Moderator deletes and the audit trail
let auditStore: ModerationAuditStore | undefined;
const audit = () => (auditStore ??= createModerationAuditStore(dynamoDb(), tables.messages()));

/** deleteMessage: by the sender, or a room message by its room's owner or a moderator; always audited. */
export const deleteMessage = (...args: InputsOf<typeof deletions.deleteMessage>) =>
  deletions.deleteMessage(...args, {
    messages: messages(),
    conversations: conversations(),
    audit: audit(),
    roles: rooms(),
  });
/** A room's deletions, newest first (owners and moderators only). */
export const roomAuditTrail = (...args: InputsOf<typeof deletions.roomAuditTrail>) =>
  deletions.roomAuditTrail(...args, { audit: audit(), roles: rooms() });
