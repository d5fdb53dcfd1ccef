import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DeletionRecord } from '#core/domain/audit';
import { decodeCursor, encodeCursor } from '#core/domain/cursor';
import { ValidationError } from '#core/domain/errors';
import type { ChatMessage } from '#core/domain/message';
import type { ModerationAuditStore } from '#core/ports';

/*
 * The audit trail of deletions lives in the Messages table, in partitions of its own beside the
 * messages (as idempotency markers, versions and reactions do): `room = audit#<room>`,
 * `sk = <deletedAt>#<messageId>`, so a room's trail is one Query, newest first, and a room's
 * history Query never meets it. An audit item has no `kind` (the Messages stream's filters skip
 * it), no `user_id` or `pendingFor` (it stays out of both indexes) and no TTL: the trail outlives
 * the messages it names, and it holds no message text.
 */

/** A record under its room's audit partition: `room` is the partition key there, `auditOf` the room. */
type AuditItem = Omit<DeletionRecord, 'room'> & { room: string; sk: string; auditOf: string };

const auditPartition = (room: string) => `audit#${room}`;

function recordFromItem(item: Record<string, unknown>): DeletionRecord {
  const { room: _partition, sk: _sk, auditOf, ...record } = item as unknown as AuditItem;
  return { ...record, room: auditOf };
}

/** Deletions (a soft delete and its audit record, together) and each room's audit trail. */
export function createModerationAuditStore(client: DynamoDBDocumentClient, tableName: string): ModerationAuditStore {
  return {
    async deleteWithRecord(message: ChatMessage, record: DeletionRecord) {
      const item: AuditItem = {
        ...record,
        room: auditPartition(record.room),
        sk: `${record.deletedAt}#${record.messageId}`,
        auditOf: record.room,
      };
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                // The same change as a sender's soft delete, once: a deleted message is not deleted again.
                Update: {
                  TableName: tableName,
                  Key: { room: message.room, sk: message.sk },
                  UpdateExpression: 'SET isDeleted = :true, message = :empty REMOVE replyToContent, pendingFor',
                  ConditionExpression:
                    'attribute_exists(sk) AND user_id = :sender AND (attribute_not_exists(isDeleted) OR isDeleted = :false)',
                  ExpressionAttributeValues: {
                    ':true': true,
                    ':false': false,
                    ':empty': '',
                    ':sender': message.userId,
                  },
                },
              },
              { Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(sk)' } },
            ],
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof TransactionCanceledException) {
          const reasons = error.CancellationReasons ?? [];
          if (reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) return false;
        }
        throw error;
      }
    },

    async deletions(room, { limit, cursor }) {
      const startKey = decodeCursor(cursor);
      if (startKey && (startKey.room !== auditPartition(room) || typeof startKey.sk !== 'string')) {
        throw new ValidationError('cursor does not belong to this listing', [
          { path: 'before', message: 'cursor mismatch' },
        ]);
      }
      const page = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'room = :partition',
          ExpressionAttributeValues: { ':partition': auditPartition(room) },
          ScanIndexForward: false,
          Limit: limit,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      const deletions = (page.Items ?? []).map(recordFromItem);
      const nextCursor = encodeCursor(page.LastEvaluatedKey);
      return nextCursor ? { deletions, nextCursor } : { deletions };
    },
  };
}
