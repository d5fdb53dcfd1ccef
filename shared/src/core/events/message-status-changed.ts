import { distributionDetailSchema } from './delivery.js';
import { EVENT_SOURCE } from './source.js';

/** A direct message was delivered, read or deleted; the frames go to the participants. */
export const messageStatusChanged = {
  source: EVENT_SOURCE,
  detailType: 'MessageStatusChanged',
  version: 1,
  schema: distributionDetailSchema,
} as const;
