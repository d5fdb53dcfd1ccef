import { z } from 'zod';

/** A frame to push to every live subscriber of a topic. */
export const deliverySchema = z.object({
  topic: z.string().min(1),
  frame: z.record(z.string(), z.unknown()).and(z.object({ type: z.string() })),
  /** Marks a direct message delivered once any of the topic's connections received it. */
  receipt: z.object({ room: z.string(), sk: z.string() }).optional(),
  /**
   * Only these connections of the topic, not every subscriber: what the direct path in the sender's
   * function could not confirm (shared/src/core/use-cases/fan-out-message.ts), handed on.
   */
  connectionIds: z.array(z.string().min(1)).min(1).optional(),
});

/** The detail every distributable event carries: the state machine reads only this. */
export const distributionDetailSchema = z.object({
  version: z.literal(1),
  /** Epoch seconds at publish time: subscriptions that expired before it are skipped. */
  now: z.number().int(),
  deliveries: z.array(deliverySchema).min(1),
});

export type Delivery = z.infer<typeof deliverySchema>;
export type DistributionDetail = z.infer<typeof distributionDetailSchema>;
