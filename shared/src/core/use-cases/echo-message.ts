import type { AckFrame } from '#protocol/server-frames';
import type { ChatMessage } from '../domain/message.js';
import { type PostRoomMessageDeps, postRoomMessage } from './post-room-message.js';

/** Seed 000's echo processor answers in this room, as this sender. */
export const ECHO_ROOM = 'echo';
export const ECHO_BOT = { userId: 'echo-bot', userName: 'echo-bot' };

/** Whether a newly stored message should be echoed: room `echo`, and never the bot's own echo. */
export function shouldEcho(message: ChatMessage): boolean {
  return message.kind === 'room' && message.room === ECHO_ROOM && message.userId !== ECHO_BOT.userId;
}

/**
 * Echoes a message back into its room. The echo's id derives from the original's, so a stream
 * retry finds the echo already stored instead of writing a second one.
 */
export function echoMessage(original: ChatMessage, deps: PostRoomMessageDeps): Promise<AckFrame> {
  return postRoomMessage(
    {
      identity: ECHO_BOT,
      room: original.room,
      content: `Echo: ${original.content}`,
      messageId: `echo-${original.messageId}`.slice(0, 64),
    },
    deps,
  );
}
