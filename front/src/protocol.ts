import type { ServerFrame } from '#protocol/server-frames.js';

// Type-only imports: esbuild erases them, so the bundle carries neither zod nor server code, while tsc
// holds the browser to the one declaration of the protocol in shared/src/protocol.
export type { ClientFrame } from '#protocol/client-frames.js';
export type {
  AckFrame,
  DeletedFrame,
  DirectMessage,
  DirectMessageFrame,
  ErrorFrame,
  HistoryFrame,
  JoinedFrame,
  LeftFrame,
  OnlineUser,
  PresenceFrame,
  ReadFrame,
  RoomMessageFrame,
  ServerFrame,
  StatusFrame,
  WelcomeFrame,
} from '#protocol/server-frames.js';

import type { DirectMessage, DirectMessageFrame, OnlineUser, RoomMessageFrame } from '#protocol/server-frames.js';

export type DeliveryStatus = DirectMessage['status'];

/** GET /rooms/{room}/messages */
export interface RoomHistoryPage {
  room: string;
  messages: RoomMessageFrame[];
  nextCursor?: string;
}

/** GET /conversations/{id}/messages */
export interface ConversationHistoryPage {
  conversationId: string;
  messages: DirectMessage[];
  nextCursor?: string;
}

export interface ConversationSummary {
  conversationId: string;
  peerId: string;
  peerName: string;
  lastMessage?: { messageId: string; senderId: string; content: string; timestamp: string };
  unreadCount: number;
}

export const isRoomMessage = (frame: ServerFrame): frame is RoomMessageFrame =>
  frame.type === 'message' && 'room' in frame && typeof frame.room === 'string';

export const isDirectMessage = (frame: ServerFrame): frame is DirectMessageFrame =>
  frame.type === 'message' && 'data' in frame && typeof frame.data === 'object' && frame.data !== null;

/** Frames arrive as untrusted JSON; anything without a string `type` is dropped. */
export function parseServerFrame(text: string): ServerFrame | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string') {
      return value as ServerFrame;
    }
  } catch {
    // Not JSON: API Gateway's own error frames are JSON, so this is noise.
  }
  return undefined;
}
