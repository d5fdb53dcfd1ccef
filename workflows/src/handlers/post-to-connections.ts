import { z } from 'zod';
import { instrumented, logger } from '#aws/observability';
import type { DeliverBatchResult } from '#core/use-cases/deliver-batch';
import { deliverBatch } from '../composition.js';

/** What the state machine's inner Map passes: one page slice of the topic's subscribers. */
const batchSchema = z.object({
  frame: z.record(z.string(), z.unknown()).and(z.object({ type: z.string() })),
  connectionIds: z.array(z.string()).default([]),
  topic: z.string().optional(),
  receipt: z.object({ room: z.string(), sk: z.string() }).optional(),
});

/** Fan-out task: posts one frame to a batch of connections with bounded concurrency. */
export const handler = instrumented('postToConnections', async (event: unknown): Promise<DeliverBatchResult> => {
  const batch = batchSchema.parse(event);
  const result = await deliverBatch(
    { frame: batch.frame, connectionIds: batch.connectionIds, receipt: batch.receipt },
    { topic: batch.topic, messageId: typeof batch.frame.messageId === 'string' ? batch.frame.messageId : undefined },
  );
  logger.info('batch delivered', { ...result, topic: batch.topic });
  return result;
});
