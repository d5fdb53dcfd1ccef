import { distributionDetailSchema } from './delivery.js';
import { EVENT_SOURCE } from './source.js';

/** A message was stored; its frames go to the room (or both sides of a conversation). */
export const messagePosted = {
  source: EVENT_SOURCE,
  detailType: 'MessagePosted',
  version: 1,
  schema: distributionDetailSchema,
} as const;
