import { MessageRejectedError, ModerationUnavailableError } from '../domain/errors.js';
import { type ModerationFailMode, ReviewFailedError, type ReviewRequest } from '../domain/moderation.js';
import type { MessageReviewer, MessageStore } from '../ports.js';

export interface ModerationDeps {
  reviewer: MessageReviewer;
  /** `closed`: a failed review refuses the message; `open`: it goes through unreviewed. */
  failMode: ModerationFailMode;
  /** Told about every failed review and what the fail mode made of it (the composition logs it). */
  onReviewFailed?: (error: ReviewFailedError, outcome: 'allowed' | 'refused') => void;
}

/**
 * The text to store, as the moderation hook decides it. Primary course:
 * 1. No hook configured: the text as sent.
 * 2. The hook allows (possibly with new text: a modify) or denies with a reason, which becomes
 *    a `message_rejected` error for the sender; nothing is stored.
 * 3. The hook fails, times out or answers nonsense: the fail mode allows the original text or
 *    refuses with `moderation_unavailable`.
 */
export async function moderatedText(request: ReviewRequest, moderation: ModerationDeps | undefined): Promise<string> {
  if (!moderation) return request.Content;
  let decision: Awaited<ReturnType<MessageReviewer['review']>>;
  try {
    decision = await moderation.reviewer.review(request);
  } catch (error) {
    if (!(error instanceof ReviewFailedError)) throw error;
    const allowed = moderation.failMode === 'open';
    moderation.onReviewFailed?.(error, allowed ? 'allowed' : 'refused');
    if (allowed) return request.Content;
    throw new ModerationUnavailableError('message review is unavailable, so nothing was sent; try again later', {
      cause: error,
    });
  }
  if (decision.result === 'deny') throw new MessageRejectedError(decision.reason);
  return decision.content;
}

/**
 * moderatedText for a new message. A retried send (same client-chosen messageId) whose original is
 * stored skips the hook: the store answers with the original, so a hook that answers differently
 * the second time (or times out) cannot refuse a message that was already delivered.
 */
export async function moderatedNewText(
  request: ReviewRequest,
  clientChoseId: boolean,
  deps: { messages: Pick<MessageStore, 'findById'>; moderation?: ModerationDeps },
): Promise<string> {
  if (!deps.moderation) return request.Content;
  if (clientChoseId) {
    if (await deps.messages.findById(request.MessageId)) return request.Content;
  }
  return moderatedText(request, deps.moderation);
}
