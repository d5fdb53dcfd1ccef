import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import { DynamoDBMarshalled } from '@aws-lambda-powertools/parser/helpers/dynamodb';
import { DynamoDBStreamChangeRecordBase, DynamoDBStreamRecord } from '@aws-lambda-powertools/parser/schemas/dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { z } from 'zod';
import { instrumented, logger } from '#aws/observability';
import type { MetricsUpdate } from '#core/use-cases/broadcast-metrics';
import { broadcastMetrics } from '../composition.js';

/** Seed 003's metrics item. Anything else on the stream is a poison record. */
const metricsItemSchema = DynamoDBMarshalled(
  z.looseObject({
    entity_id: z.string().min(1),
    entity_type: z.string().min(1),
    metric_value: z.number(),
    timestamp: z.string(),
  }),
);

const metricsRecordSchema = DynamoDBStreamRecord.extend({
  dynamodb: DynamoDBStreamChangeRecordBase.extend({
    NewImage: metricsItemSchema.optional(),
    OldImage: metricsItemSchema.optional(),
  }),
});

const processor = new BatchProcessor(EventType.DynamoDBStreams, { parser, schema: metricsRecordSchema, logger });

function toUpdate({ eventID, eventName, dynamodb }: z.infer<typeof metricsRecordSchema>): MetricsUpdate {
  const data = dynamodb.NewImage ?? dynamodb.OldImage;
  if (!data) throw new Error(`record ${eventID} has no image`);
  const seconds = dynamodb.ApproximateCreationDateTime;
  return { eventType: eventName, timestamp: seconds ? Math.round(seconds * 1000) : Date.now(), data };
}

/**
 * Metrics table stream → dashboards (seed 003). Records are parsed one by one through
 * Powertools' batch utility, so a poison record is reported (and, after Lambda's bisecting and
 * retries, sent to the on-failure queue) without holding back the good ones; the good updates of
 * the batch then go out as one METRICS_UPDATE per subscriber.
 */
export const handler = instrumented(
  'metricsStream',
  async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const updates: MetricsUpdate[] = [];
    const response = await processPartialResponse(
      event,
      async (record: z.infer<typeof metricsRecordSchema>) => {
        updates.push(toUpdate(record));
      },
      processor,
    );
    const result = await broadcastMetrics(updates);
    logger.info('metrics broadcast', {
      records: event.Records.length,
      poison: response.batchItemFailures.length,
      ...result,
    });
    return response;
  },
);
