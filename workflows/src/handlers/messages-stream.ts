import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { instrumented, logger } from '#aws/observability';
import { shouldEcho } from '#core/use-cases/echo-message';
import { announceStatusChange, echoMessage } from '../composition.js';
import { type MessageRecord, messageRecordSchema } from '../streams/message-record.js';

/** Records are parsed before the handler sees them; one that fails to parse is reported as failed. */
const processor = new BatchProcessor(EventType.DynamoDBStreams, { parser, schema: messageRecordSchema, logger });

/** One stream record: echo new messages in room `echo`, and announce direct-message status changes. */
async function handleRecord({ eventName, dynamodb: { NewImage: after, OldImage: before } }: MessageRecord) {
  if (!after) return; // a deletion, or an idempotency marker
  if (eventName === 'INSERT' && shouldEcho(after)) await echoMessage(after);
  if (eventName === 'MODIFY' && before) await announceStatusChange(before, after);
}

/** Messages table stream; failed records are reported so only they are retried (bisected). */
export const handler = instrumented(
  'messagesStream',
  (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> =>
    processPartialResponse(event, handleRecord, processor),
);
