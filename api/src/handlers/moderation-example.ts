import { numberFromEnv, requireEnv } from '#aws/config';
import { logger } from '#aws/observability';
import type { ReviewRequest, ReviewResponse } from '#core/domain/moderation';
import { createExampleReview, parseWordList } from '../moderation/example-review.js';

// The template always sets all three; MAX_LINKS has no default here, so a missing one fails the cold start.
requireEnv('MAX_LINKS');
const review = createExampleReview({
  blockedWords: parseWordList(process.env.BLOCKED_WORDS ?? ''),
  blockedWordsAction: process.env.BLOCKED_WORDS_ACTION === 'mask' ? 'mask' : 'deny',
  maxLinks: numberFromEnv('MAX_LINKS', 0),
});

/**
 * The example moderation hook (ModerationFunction=example). A request that is not a review request
 * throws, which the caller treats as a failed review (its fail mode decides).
 */
export const handler = async (event: ReviewRequest): Promise<ReviewResponse> => {
  if (typeof event?.Content !== 'string') throw new TypeError('not a review request: Content must be a string');
  const answer = review(event);
  if (answer.ReviewResult === 'DENY' || answer.Content !== undefined) {
    logger.info('moderated', { messageId: event.MessageId, result: answer.ReviewResult, modified: !!answer.Content });
  }
  return answer;
};
