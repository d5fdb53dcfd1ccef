import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { messageRetentionDays } from '#aws/config';
import { instrumented } from '#aws/observability';
import { messageStatusChanged } from '#core/events/message-status-changed';
import { statusDeliveries } from '#core/use-cases/announce-status';
import { echoMessage, shouldEcho } from '#core/use-cases/echo-message';
import { isMessageItem, messageFromItem } from '#db/messages-store';
import { adapters } from '../../../shared/src/wiring.js';

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
    await echoMessage(message, {
      messages: adapters.messages(),
      events: adapters.events(),
      retentionDays: messageRetentionDays(),
    });
  }
  if (record.eventName === 'MODIFY' && before) {
    const deliveries = statusDeliveries(messageFromItem(before), message);
    await adapters.events().distribute(messageStatusChanged.detailType, deliveries);
  }
}

/** Messages table stream; failed records are reported so only they are retried (bisected). */
export const handler = instrumented('messagesStream', (event: DynamoDBStreamEvent) =>
  processPartialResponse(event, handleRecord, processor),
);
