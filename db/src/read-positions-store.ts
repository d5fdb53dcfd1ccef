import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ReadPosition, ReadPositionStore } from '#core/ports';
import { readPositionKey, sequenceKey } from './sequence-keys.js';

/** BatchGetItem takes at most 100 keys: two per partition. */
const PARTITIONS_PER_BATCH = 50;
const MAX_BATCH_ATTEMPTS = 5;

/**
 * The Messages table's sequencing items, read side: each partition's counter (`seq#<partition>`,
 * written by messages-store.ts in the message's own transaction) and each user's read positions
 * (`read#<userId>`). Unread counts are `lastSeq − readSeq`: two keys per room, never a Query of
 * the messages.
 */
export function createReadPositionStore(client: DynamoDBDocumentClient, tableName: string): ReadPositionStore {
  async function batchGet(keys: Record<string, string>[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let pending: Record<string, unknown>[] = keys;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const { Responses, UnprocessedKeys } = await client.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      items.push(...(Responses?.[tableName] ?? []));
      pending = UnprocessedKeys?.[tableName]?.Keys ?? [];
      if (pending.length > 0 && attempt >= MAX_BATCH_ATTEMPTS) throw new Error('BatchGetItem left keys unprocessed');
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
    }
    return items;
  }

  return {
    async positions(userId, partitions) {
      const result = new Map<string, ReadPosition>();
      const unique = [...new Set(partitions)];
      for (const partition of unique) result.set(partition, { latestSeq: 0, readSeq: 0 });
      for (let start = 0; start < unique.length; start += PARTITIONS_PER_BATCH) {
        const chunk = unique.slice(start, start + PARTITIONS_PER_BATCH);
        const items = await batchGet(
          chunk.flatMap((partition) => [sequenceKey(partition), readPositionKey(userId, partition)]),
        );
        for (const item of items) {
          const room = String(item.room);
          if (room.startsWith('seq#')) {
            const position = result.get(room.slice('seq#'.length));
            if (position && typeof item.lastSeq === 'number') position.latestSeq = item.lastSeq;
          } else {
            const position = result.get(String(item.sk));
            if (position && typeof item.readSeq === 'number') position.readSeq = item.readSeq;
          }
        }
      }
      return result;
    },

    async advance(userId, partition, seq) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: readPositionKey(userId, partition),
            UpdateExpression: 'SET readSeq = :seq',
            ConditionExpression: 'attribute_not_exists(readSeq) OR readSeq < :seq',
            ExpressionAttributeValues: { ':seq': seq },
          }),
        );
        return seq;
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        // Already read further (another device): the position stays where it is.
        const { Item } = await client.send(
          new GetCommand({ TableName: tableName, Key: readPositionKey(userId, partition), ConsistentRead: true }),
        );
        return typeof Item?.readSeq === 'number' ? Item.readSeq : seq;
      }
    },
  };
}
