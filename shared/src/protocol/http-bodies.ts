import type { ConversationSummary } from '#core/ports';
import type { DeletionRecordData, DirectMessage, OnlineUser, RoomMessageFrame } from './server-frames.js';

// The HTTP API's read responses, as api/src/rest/routes.ts builds them (`satisfies` there) and the
// browser reads them. Types only: the messages inside are the frames' own shapes.

export type { ConversationSummary };

/** GET /rooms/{room}/messages: newest first; `nextCursor` is the next page's `before`. */
export interface RoomHistoryPage {
  room: string;
  messages: RoomMessageFrame[];
  nextCursor?: string;
}

/** GET /rooms/{room}/presence */
export interface RoomPresenceBody {
  room: string;
  online: OnlineUser[];
}

/** GET /conversations */
export interface ConversationsBody {
  conversations: ConversationSummary[];
}

/** GET /conversations/{id}/messages: newest first. */
export interface ConversationHistoryPage {
  conversationId: string;
  messages: DirectMessage[];
  nextCursor?: string;
}

/** GET /rooms/{room}/unread: the caller's read position (shared by all their devices) and the room's newest seq. */
export interface RoomUnreadBody {
  room: string;
  unread: number;
  readSeq: number;
  latestSeq: number;
}

/** One text a message has had: version 0 is the original, the last is the current text. */
export interface MessageVersion {
  version: number;
  text: string;
  /** Who wrote this text (the sender, or the editor) and when. */
  userId: string;
  timestamp: string;
}

/** GET /messages/{messageId}/versions: oldest first. */
export interface MessageVersionsBody {
  messageId: string;
  room?: string;
  conversationId?: string;
  versions: MessageVersion[];
}

/** GET /rooms/{room}/audit: the room's deletions, newest first (owners and moderators only). */
export interface RoomAuditBody {
  room: string;
  deletions: DeletionRecordData[];
  nextCursor?: string;
}
