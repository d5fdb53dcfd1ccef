import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '#core/domain/time';

/** Failure records are kept for a week: long enough to investigate, short enough to stay small. */
const FAILURE_RETENTION_SECONDS = 7 * 24 * 60 * 60;

export interface DeliveryFailure {
  topic?: string;
  messageId?: string;
  connectionIds: string[];
  error: string;
}

/** The DeliveryFailures table: frames that could not be delivered after every retry. */
export function createDeliveryFailureStore(client: DynamoDBDocumentClient, tableName: string) {
  return {
    async record(failure: DeliveryFailure): Promise<void> {
      const at = new Date();
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            failureId: randomUUID(),
            ...failure,
            at: at.toISOString(),
            expiresAt: epochSeconds(at.getTime()) + FAILURE_RETENTION_SECONDS,
          },
        }),
      );
    },
  };
}
