import { z } from 'zod';
import { createDeliveryFailureStore } from '../../../db/src/delivery-failures-store.js';
import { dynamoDb } from '../../../shared/src/clients/dynamodb.js';
import { deliveryFailureRetentionSeconds, numberFromEnv, tables } from '../../../shared/src/config.js';
import { instrumented, logger } from '../../../shared/src/observability.js';
import { dropGoneConnection } from '../../../shared/src/use-cases/close-connection.js';
import { type DeliverBatchResult, deliverBatch } from '../../../shared/src/use-cases/deliver-batch.js';
import { adapters } from '../../../shared/src/wiring.js';

/** What the state machine's inner Map passes: one page slice of the topic's subscribers. */
const batchSchema = z.object({
  frame: z.record(z.string(), z.unknown()).and(z.object({ type: z.string() })),
  connectionIds: z.array(z.string()).default([]),
  topic: z.string().optional(),
  receipt: z.object({ room: z.string(), sk: z.string() }).optional(),
});

const failures = () =>
  createDeliveryFailureStore(dynamoDb(), tables.deliveryFailures(), deliveryFailureRetentionSeconds());

/** Fan-out task: posts one frame to a batch of connections with bounded concurrency. */
export const handler = instrumented('postToConnections', async (event: unknown): Promise<DeliverBatchResult> => {
  const batch = batchSchema.parse(event);
  const closeDeps = {
    connections: adapters.connections(),
    subscriptions: adapters.subscriptions(),
    events: adapters.events(),
  };
  const result = await deliverBatch(
    { frame: batch.frame, connectionIds: batch.connectionIds, receipt: batch.receipt },
    {
      notifier: adapters.notifier(),
      messages: adapters.messages(),
      concurrency: numberFromEnv('POST_CONCURRENCY', 32),
      onGone: async (connectionId) => {
        await dropGoneConnection(connectionId, closeDeps);
      },
      onFailed: (connectionIds) =>
        failures().record({
          topic: batch.topic,
          messageId: typeof batch.frame.messageId === 'string' ? batch.frame.messageId : undefined,
          connectionIds,
          error: 'postToConnection failed after retries',
        }),
    },
  );
  logger.info('batch delivered', { ...result, topic: batch.topic });
  return result;
});
