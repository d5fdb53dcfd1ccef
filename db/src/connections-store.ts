import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ConnectionRecord, ConnectionStore } from '../../shared/src/ports.js';

interface ConnectionItem extends ConnectionRecord {
  /** Partition of the connectedAt-index: one day per partition keeps the index from running hot. */
  connectedDate: string;
}

function toRecord(item: Record<string, unknown>): ConnectionRecord {
  const { connectionId, userId, userName, connectedAt, expiresAt, sourceIp, userAgent } =
    item as unknown as ConnectionItem;
  return { connectionId, userId, userName, connectedAt, expiresAt, sourceIp, userAgent };
}

/** The Connections table: one item per live WebSocket connection. */
export function createConnectionStore(client: DynamoDBDocumentClient, tableName: string): ConnectionStore {
  return {
    async put(record) {
      const item: ConnectionItem = {
        ...record,
        connectedDate: new Date(record.connectedAt).toISOString().slice(0, 10),
      };
      await client.send(new PutCommand({ TableName: tableName, Item: item }));
    },

    async get(connectionId, nowSeconds) {
      const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: { connectionId } }));
      if (!Item || (Item.expiresAt as number) <= nowSeconds) return undefined;
      return toRecord(Item);
    },

    async remove(connectionId) {
      const { Attributes } = await client.send(
        new DeleteCommand({ TableName: tableName, Key: { connectionId }, ReturnValues: 'ALL_OLD' }),
      );
      return Attributes ? toRecord(Attributes) : undefined;
    },

    async liveConnectionsOf(userId, nowSeconds) {
      const records: ConnectionRecord[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: 'userId-index',
            KeyConditionExpression: 'userId = :userId',
            // TTL deletion lags by up to two days: expired records must never count as live.
            FilterExpression: 'expiresAt > :now',
            ExpressionAttributeValues: { ':userId': userId, ':now': nowSeconds },
            ExclusiveStartKey,
          }),
        );
        for (const item of page.Items ?? []) records.push(toRecord(item));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return records;
    },
  };
}
