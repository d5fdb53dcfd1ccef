import { z } from 'zod';
import { hasLoneSurrogate } from './text.js';

/** Distinct emojis one message may carry: the counts map stays small on the message item and in frames. */
export const MAX_DISTINCT_REACTIONS = 20;
/** Emojis one user may have on one message at once. */
export const MAX_REACTIONS_PER_USER = 10;
/** UTF-16 units in one emoji: room for ZWJ families, skin tones and flags, none for sentences. */
export const MAX_EMOJI_LENGTH = 16;

// Emoji code points and the parts that join or modify them (ZWJ, VS16, skin tones, keycaps,
// regional indicators, tags), and nothing else: no letters, spaces or controls.
const EMOJI_PARTS = /^(?:\p{Extended_Pictographic}|\p{Emoji_Component})+$/u;
// Digits, # and * are emoji components too; a reaction needs a picture, a flag or a keycap.
const EMOJI_CORE = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** True for one emoji: a single grapheme made of emoji code points. */
export function isEmoji(text: string): boolean {
  if (text.length === 0 || text.length > MAX_EMOJI_LENGTH || hasLoneSurrogate(text)) return false;
  if (!EMOJI_PARTS.test(text) || !EMOJI_CORE.test(text)) return false;
  let count = 0;
  for (const _ of graphemes.segment(text)) if (++count > 1) return false;
  return true;
}

export const emojiSchema = z
  .string()
  .max(MAX_EMOJI_LENGTH, `emoji must be at most ${MAX_EMOJI_LENGTH} characters`)
  .refine(isEmoji, 'emoji must be a single emoji');

/** Emoji → how many users reacted with it; only counts above zero are kept. */
export type ReactionCounts = Record<string, number>;
