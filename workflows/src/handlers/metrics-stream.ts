import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { epochSeconds } from '../../../shared/src/domain/time.js';
import { instrumented, logger } from '../../../shared/src/observability.js';
import { broadcastMetrics, type MetricsUpdate } from '../../../shared/src/use-cases/broadcast-metrics.js';
import { dropGoneConnection } from '../../../shared/src/use-cases/close-connection.js';
import { adapters } from '../../../shared/src/wiring.js';

/** Thrown when a stream record cannot be turned into an update; the batch is then bisected. */
export class MalformedRecordError extends Error {
  override name = 'MalformedRecordError';
}

function toUpdate(record: DynamoDBRecord): MetricsUpdate {
  const image = record.dynamodb?.NewImage ?? record.dynamodb?.OldImage;
  const eventType = record.eventName;
  if (!image || !eventType) throw new MalformedRecordError(`record ${record.eventID} has no image`);
  const data = unmarshall(image as Record<string, AttributeValue>);
  if (typeof data.entity_id !== 'string') throw new MalformedRecordError(`record ${record.eventID} has no entity_id`);
  const seconds = record.dynamodb?.ApproximateCreationDateTime;
  return { eventType, timestamp: seconds ? Math.round(seconds * 1000) : Date.now(), data };
}

/**
 * Metrics table stream → dashboards (seed 003). Records are parsed first: a poison record fails
 * the whole invocation before anything is sent, so bisecting isolates it without re-sending the
 * good records' updates more than needed; updates are then batched per subscriber.
 */
export const handler = instrumented(
  'metricsStream',
  async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const parsed: MetricsUpdate[] = [];
    const batchItemFailures: DynamoDBBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        parsed.push(toUpdate(record));
      } catch (error) {
        logger.error('malformed metrics record', { error: error as Error });
        // Report the first bad record: Lambda checkpoints before it and retries from there.
        batchItemFailures.push({ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' });
        break;
      }
    }
    const closeDeps = {
      connections: adapters.connections(),
      subscriptions: adapters.subscriptions(),
      events: adapters.events(),
    };
    const result = await broadcastMetrics(parsed, {
      subscriptions: adapters.subscriptions(),
      notifier: adapters.notifier(),
      nowSeconds: epochSeconds(),
      onGone: async (connectionId) => {
        await dropGoneConnection(connectionId, closeDeps);
      },
    });
    logger.info('metrics broadcast', { records: event.Records.length, ...result });
    return { batchItemFailures };
  },
);
