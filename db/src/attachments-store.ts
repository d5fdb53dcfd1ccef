import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AttachmentRecord } from '#core/domain/attachment';
import { QuotaExceededError } from '#core/domain/errors';
import type { AttachmentStore } from '#core/ports';

/** `attachment#<id>` holds a record; `quota#<userId>#<day>` a user's bytes asked for that day. */
const attachmentKey = (attachmentId: string) => ({ pk: `attachment#${attachmentId}` });
const quotaKey = (userId: string, day: string) => ({ pk: `quota#${userId}#${day}` });

type AttachmentItem = AttachmentRecord & { pk: string };

/** The Attachments table: attachment records and the per-user, per-day upload counters. */
export function createAttachmentStore(client: DynamoDBDocumentClient, tableName: string): AttachmentStore {
  return {
    async create(record, quota) {
      if (record.size > quota.limitBytes) {
        throw new QuotaExceededError(`file is larger than the daily upload allowance of ${quota.limitBytes} bytes`);
      }
      const item: AttachmentItem = { ...attachmentKey(record.attachmentId), ...record };
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
              },
              {
                // One counter per user and day, added to only while the sum stays inside the allowance.
                Update: {
                  TableName: tableName,
                  Key: quotaKey(record.ownerId, quota.day),
                  UpdateExpression: 'ADD #bytes :size SET expiresAt = :expiresAt',
                  ConditionExpression: 'attribute_not_exists(#bytes) OR #bytes <= :room',
                  ExpressionAttributeNames: { '#bytes': 'bytes' },
                  ExpressionAttributeValues: {
                    ':size': record.size,
                    ':room': quota.limitBytes - record.size,
                    ':expiresAt': quota.expiresAt,
                  },
                },
              },
            ],
          }),
        );
      } catch (error) {
        if (
          error instanceof TransactionCanceledException &&
          error.CancellationReasons?.[1]?.Code === 'ConditionalCheckFailed'
        ) {
          throw new QuotaExceededError(`daily upload allowance of ${quota.limitBytes} bytes used up; try tomorrow`);
        }
        throw error;
      }
    },

    async get(attachmentId, nowSeconds) {
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: attachmentKey(attachmentId), ConsistentRead: true }),
      );
      // TTL deletes up to two days late: an expired record is gone already.
      if (!Item || Number(Item.expiresAt) <= nowSeconds) return undefined;
      const { pk: _pk, ...record } = Item as AttachmentItem;
      return record;
    },

    async markAttached(attachmentId, messageId, expiresAt) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: attachmentKey(attachmentId),
            UpdateExpression: 'SET #status = :attached, messageId = :messageId, expiresAt = :expiresAt',
            ConditionExpression: 'attribute_exists(pk) AND (#status = :pending OR messageId = :messageId)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':attached': 'attached',
              ':pending': 'pending',
              ':messageId': messageId,
              ':expiresAt': expiresAt,
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
  };
}
