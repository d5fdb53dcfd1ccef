import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * One TransactWriteItems: undefined when it committed; when a condition cancelled it, which actions
 * failed their condition and the items they saw. Any other error (a conflict, throttling) is thrown.
 */
export async function transactWrite(
  client: DynamoDBDocumentClient,
  items: NonNullable<TransactWriteCommandInput['TransactItems']>,
): Promise<Array<{ failed: boolean; item: Record<string, unknown> | undefined }> | undefined> {
  try {
    await client.send(new TransactWriteCommand({ TransactItems: items }));
    return undefined;
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = error.CancellationReasons ?? [];
    if (!reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) throw error;
    // The document client does not unmarshall an exception's items.
    return reasons.map((reason) => ({
      failed: reason.Code === 'ConditionalCheckFailed',
      item: reason.Item ? unmarshall(reason.Item) : undefined,
    }));
  }
}
