import { z } from 'zod';
import { contentSchema } from './message.js';

/**
 * The moderation hook's contract, shaped after Amazon IVS Chat's message review handler: the
 * function gets the message before it is stored and answers `ALLOW` (optionally with new
 * `Content`: a modify) or `DENY` (optionally with `Attributes.Reason`, shown to the sender).
 * Field names are IVS's PascalCase, so a handler written for IVS needs few changes.
 */
export interface ReviewRequest {
  Content: string;
  MessageId: string;
  /** `send` for a new message, `edit` for an edit's new text. */
  Action: 'send' | 'edit';
  /** `room` or `direct`. */
  Kind: 'room' | 'direct';
  /** Room messages: the room. */
  Room?: string;
  /** Direct messages: the conversation and the recipient. */
  ConversationId?: string;
  RecipientId?: string;
  Sender: { UserId: string; UserName: string };
}

/** Longest reason shown to a sender; a longer one is cut, not refused. */
export const MAX_REASON_LENGTH = 500;

/**
 * What a hook may answer. Anything else (not JSON, another result, a Content the protocol would
 * refuse) is a failed review, so the fail mode decides.
 */
export const reviewResponseSchema = z.object({
  ReviewResult: z.enum(['ALLOW', 'DENY']),
  /** New text (a modify); it must pass the same checks as a client's message. */
  Content: contentSchema.optional(),
  Attributes: z.object({ Reason: z.string().optional() }).optional(),
});

export type ReviewResponse = z.infer<typeof reviewResponseSchema>;

export type ReviewDecision = { result: 'allow'; content: string } | { result: 'deny'; reason: string };

/** What happens to a message when the hook fails, times out or answers nonsense. */
export type ModerationFailMode = 'open' | 'closed';

export const DEFAULT_DENY_REASON = 'message refused by moderation';

/** Why a review failed: the fail mode then decides (the adapter logs the details). */
export class ReviewFailedError extends Error {
  override name = 'ReviewFailedError';
  constructor(
    readonly reason: 'timeout' | 'function_error' | 'invalid_response' | 'invoke_failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
