import { distributionDetailSchema } from './delivery.js';
import { EVENT_SOURCE } from './source.js';

/** Someone joined, left, came online or went offline; the frames go to their rooms. */
export const presenceChanged = {
  source: EVENT_SOURCE,
  detailType: 'PresenceChanged',
  version: 1,
  schema: distributionDetailSchema,
} as const;
