import { numberFromEnv, requireEnv } from '#aws/config';
import { logger } from '#aws/observability';
import type { ReviewRequest, ReviewResponse } from '#core/domain/moderation';
import { createExampleReview, parseWordList } from '../moderation/example-review.js';

let review: ReturnType<typeof createExampleReview> | undefined;

/**
 * The settings, read on first use like every other function's (loading the module reads nothing).
 * The template always sets all three; MAX_LINKS has no default here, so a missing one fails loudly.
 */
function configuredReview(): ReturnType<typeof createExampleReview> {
  if (!review) {
    requireEnv('MAX_LINKS');
    review = createExampleReview({
      blockedWords: parseWordList(process.env.BLOCKED_WORDS ?? ''),
      blockedWordsAction: process.env.BLOCKED_WORDS_ACTION === 'mask' ? 'mask' : 'deny',
      maxLinks: numberFromEnv('MAX_LINKS', 0),
    });
  }
  return review;
}

/**
 * The example moderation hook (ModerationFunction=example). A request that is not a review request
 * throws, which the caller treats as a failed review (its fail mode decides).
 */
export const handler = async (event: ReviewRequest): Promise<ReviewResponse> => {
  if (typeof event?.Content !== 'string') throw new TypeError('not a review request: Content must be a string');
  const answer = configuredReview()(event);
  if (answer.ReviewResult === 'DENY' || answer.Content !== undefined) {
    logger.info('moderated', { messageId: event.MessageId, result: answer.ReviewResult, modified: !!answer.Content });
  }
  return answer;
};
