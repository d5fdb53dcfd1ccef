import { z } from 'zod';
import { EVENT_SOURCE } from './source.js';

/**
 * A connection finished $connect. Its welcome frame and pending direct messages are sent from
 * this event's target, because API Gateway answers 410 to posts made during $connect itself.
 */
export const connectionOpened = {
  source: EVENT_SOURCE,
  detailType: 'ConnectionOpened',
  version: 1,
  schema: z.object({
    version: z.literal(1),
    connectionId: z.string(),
    userId: z.string(),
    userName: z.string(),
    rooms: z.array(z.string()),
    connectedAt: z.number(),
  }),
} as const;

export type ConnectionOpenedDetail = z.infer<typeof connectionOpened.schema>;
