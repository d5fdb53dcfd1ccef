import type { SendDirectMessageFrame, SendRoomMessageFrame } from '#protocol/client-frames';
import type { AckFrame, ErrorFrame } from '#protocol/server-frames';
import type { ChatContext } from './chat-context.js';
import type { Thread } from './threads.js';

interface Outgoing {
  key: string;
  frame: SendRoomMessageFrame | SendDirectMessageFrame;
}

/**
 * Sends awaiting their ack, re-sent (same messageId, so never stored twice) on every open. An
 * error frame marks the message failed and it stays so until the user retries: no automatic
 * resend, which would reorder it behind what was typed next.
 */
export class Outbox {
  readonly #context: ChatContext;
  readonly #pending = new Map<string, Outgoing>();

  constructor(context: ChatContext) {
    this.#context = context;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Keeps the send until its ack; sent now if connected, else on the next open. */
  send(thread: Thread, messageId: string, text: string): void {
    const frame: Outgoing['frame'] =
      thread.kind === 'room'
        ? { action: 'sendMessage', room: thread.name, message: text, messageId }
        : {
            action: 'sendMessage',
            recipientId: thread.name,
            content: text,
            messageId,
            ...(thread.conversationId ? { conversationId: thread.conversationId } : {}),
          };
    this.#pending.set(messageId, { key: thread.key, frame });
    this.#context.send(frame);
    this.#context.changed();
  }

  resendAll(): void {
    for (const outgoing of this.#pending.values()) this.#context.send(outgoing.frame);
  }

  onAck(frame: AckFrame): void {
    const outgoing = this.#pending.get(frame.messageId);
    this.#pending.delete(frame.messageId);
    const { threads } = this.#context;
    const thread = outgoing ? threads.get(outgoing.key) : threads.ofMessage(frame.messageId);
    if (!thread) return;
    if (thread.kind === 'dm' && frame.conversationId) thread.conversationId ??= frame.conversationId;
    thread.timeline.update(frame.messageId, {
      delivery: 'sent',
      timestamp: frame.timestamp,
      ...(frame.seq !== undefined ? { seq: frame.seq } : {}),
    });
  }

  /** An error frame naming one of our sends: that message failed. */
  onError(frame: ErrorFrame): void {
    const outgoing = frame.messageId ? this.#pending.get(frame.messageId) : undefined;
    if (!outgoing || !frame.messageId) return;
    this.#pending.delete(frame.messageId);
    this.#context.threads.get(outgoing.key)?.timeline.update(frame.messageId, { delivery: 'failed' });
  }
}
