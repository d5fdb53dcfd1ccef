import type { DirectMessageFrame, RoomMessageFrame, ServerFrame } from '#protocol/server-frames';

// No zod here: the browser bundle stays small, and a frame is trusted as far as its `type` and the
// fields each handler reads (the server built it from the same schemas).

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
