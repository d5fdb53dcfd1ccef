import type {
  AckFrame,
  DirectMessageFrame,
  ErrorFrame,
  HistoryFrame,
  JoinedFrame,
  OnlineUser,
  PresenceFrame,
  RoomMessageFrame,
  WelcomeFrame,
} from '../../shared/src/domain/frames.js';

// Type-only imports: esbuild erases them, so the bundle carries no server code, while tsc keeps the
// client's view of the protocol in step with the server's frame schemas.
export type {
  AckFrame,
  DirectMessageFrame,
  ErrorFrame,
  HistoryFrame,
  JoinedFrame,
  OnlineUser,
  PresenceFrame,
  RoomMessageFrame,
  WelcomeFrame,
};

export type DirectMessage = DirectMessageFrame['data'];
export type DeliveryStatus = DirectMessage['status'];

/** Sent to the sender's connections when a direct message is delivered or read. */
export interface StatusFrame {
  type: 'status';
  data: { messageId: string; conversationId: string; status: DeliveryStatus };
}

/** Sent to both sides when a message is soft-deleted. */
export interface DeletedFrame {
  type: 'deleted';
  data: { messageId: string; conversationId?: string; room?: string };
}

/** The answer to markRead. */
export interface ReadFrame {
  type: 'read';
  conversationId: string;
  count: number;
}

export interface LeftFrame {
  type: 'left';
  room: string;
}

export type ServerFrame =
  | RoomMessageFrame
  | DirectMessageFrame
  | AckFrame
  | ErrorFrame
  | PresenceFrame
  | WelcomeFrame
  | JoinedFrame
  | LeftFrame
  | HistoryFrame
  | StatusFrame
  | DeletedFrame
  | ReadFrame
  | { type: 'pong' | 'rooms' };

export type ClientFrame =
  | { action: 'sendMessage'; room: string; message: string; messageId: string }
  | {
      action: 'sendMessage';
      recipientId: string;
      content: string;
      messageId: string;
      conversationId?: string;
      replyToMessageId?: string;
      replyToContent?: string;
      replyToSenderName?: string;
    }
  | { action: 'joinRoom' | 'leaveRoom'; room: string }
  | { action: 'ping' }
  | { action: 'resume'; room: string; lastTimestamp: string; lastMessageId?: string; limit?: number }
  | { action: 'resume'; room: string; cursor: string; limit?: number }
  | { action: 'markRead'; conversationId: string; upToMessageId: string }
  | { action: 'deleteMessage'; messageId: string };

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
