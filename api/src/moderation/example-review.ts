import type { ReviewRequest, ReviewResponse } from '#core/domain/moderation';

/** The example hook's settings (ModerationBlockedWords, ModerationBlockedWordsAction, ModerationMaxLinks). */
export interface ExampleReviewConfig {
  /** Lower-case words, matched whole and case-insensitively. */
  blockedWords: string[];
  /** deny refuses a message with a blocked word; mask stars the word out and lets the rest through. */
  blockedWordsAction: 'deny' | 'mask';
  maxLinks: number;
}

/** Parses the comma-separated word list: trimmed, lower-cased, empty entries dropped. */
export function parseWordList(raw: string): string[] {
  return [
    ...new Set(
      raw
        .split(',')
        .map((word) => word.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
}

/** http(s):// URLs and bare www. hosts: what a reader would click. */
const LINK = /\bhttps?:\/\/[^\s]+|\bwww\.[^\s]+/giu;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One pattern for the whole list. Word boundaries are letters and digits of any script, so "class"
 * does not match "ass" and "Spam!" matches "spam".
 */
function blockedPattern(words: string[]): RegExp | undefined {
  if (words.length === 0) return undefined;
  const alternatives = [...words].sort((a, b) => b.length - a.length).map(escapeRegExp);
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}_])`, 'giu');
}

/**
 * The example review: too many links is refused (a spam signal); a blocked word is refused or
 * masked. Answers in the hook contract's shape (shared/src/core/domain/moderation.ts).
 */
export function createExampleReview(config: ExampleReviewConfig): (request: ReviewRequest) => ReviewResponse {
  const pattern = blockedPattern(config.blockedWords);
  return (request) => {
    const links = request.Content.match(LINK)?.length ?? 0;
    if (links > config.maxLinks) {
      return {
        ReviewResult: 'DENY',
        Attributes: { Reason: `too many links (${links}); at most ${config.maxLinks} per message` },
      };
    }
    if (!pattern) return { ReviewResult: 'ALLOW' };
    pattern.lastIndex = 0;
    if (!pattern.test(request.Content)) return { ReviewResult: 'ALLOW' };
    if (config.blockedWordsAction === 'deny') {
      return { ReviewResult: 'DENY', Attributes: { Reason: 'the message contains a word this chat does not allow' } };
    }
    pattern.lastIndex = 0;
    return {
      ReviewResult: 'ALLOW',
      Content: request.Content.replace(pattern, (word) => '*'.repeat([...word].length)),
    };
  };
}
