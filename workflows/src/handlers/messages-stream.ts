import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { instrumented } from '#aws/observability';
import { shouldEcho } from '#core/use-cases/echo-message';
import { isMessageItem, messageFromItem } from '#db/messages-store';
import { announceStatusChange, echoMessage } from '../composition.js';

const processor = new BatchProcessor(EventType.DynamoDBStreams);

const imageOf = (image: Record<string, unknown> | undefined) =>
  image ? unmarshall(image as Record<string, AttributeValue>) : undefined;

/** One stream record: echo new messages in room `echo`, and announce direct-message status changes. */
async function handleRecord(record: DynamoDBRecord): Promise<void> {
  const after = imageOf(record.dynamodb?.NewImage);
  const before = imageOf(record.dynamodb?.OldImage);
  if (!after || !isMessageItem(after)) return;
  const message = messageFromItem(after);
  if (record.eventName === 'INSERT' && shouldEcho(message)) {
    await echoMessage(message);
  }
  if (record.eventName === 'MODIFY' && before) {
    await announceStatusChange(messageFromItem(before), message);
  }
}

/** Messages table stream; failed records are reported so only they are retried (bisected). */
export const handler = instrumented('messagesStream', (event: DynamoDBStreamEvent) =>
  processPartialResponse(event, handleRecord, processor),
);
