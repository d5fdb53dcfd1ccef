import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '#core/domain/time';

export interface DeliveryFailure {
  topic?: string;
  messageId?: string;
  connectionIds: string[];
  error: string;
}

/**
 * The DeliveryFailures table: frames that could not be delivered after every retry. Records expire
 * `retentionSeconds` after they are written: the workflows template's DeliveryFailureRetentionSeconds,
 * which the state machine also uses for the failures it records itself.
 */
export function createDeliveryFailureStore(
  client: DynamoDBDocumentClient,
  tableName: string,
  retentionSeconds: number,
) {
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
            expiresAt: epochSeconds(at.getTime()) + retentionSeconds,
          },
        }),
      );
    },
  };
}
