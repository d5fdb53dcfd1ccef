import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ConnectionRecord, ConnectionStore, GuestIdentityStore, TypingThrottle } from '#core/ports';
import { queryAll } from './query-all.js';

function toRecord(item: Record<string, unknown>): ConnectionRecord {
  const { connectionId, userId, userName, connectedAt, expiresAt, sourceIp, userAgent, guest } =
    item as unknown as ConnectionRecord;
  return { connectionId, userId, userName, connectedAt, expiresAt, sourceIp, userAgent, ...(guest ? { guest } : {}) };
}

/** The Connections table: one item per live WebSocket connection. */
export function createConnectionStore(
  client: DynamoDBDocumentClient,
  tableName: string,
): ConnectionStore & TypingThrottle & GuestIdentityStore {
  /** A conditional update; false when its condition did not hold. */
  async function updateIf(input: Omit<UpdateCommand['input'], 'TableName'>): Promise<Record<string, unknown> | false> {
    try {
      const { Attributes } = await client.send(new UpdateCommand({ TableName: tableName, ...input }));
      return Attributes ?? {};
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  return {
    async put(record) {
      await client.send(new PutCommand({ TableName: tableName, Item: record }));
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

    /**
     * GCRA rate limiting on the connection item: `rateTat` is the theoretical arrival time of the
     * next allowed frame. One conditional update per frame (two when inside a burst), correct
     * across every Lambda container; a missing connection is refused, never recreated.
     */
    async consumeRateToken(connectionId, nowMs, { ratePerSecond, burst }) {
      const interval = Math.ceil(1000 / ratePerSecond);
      const tolerance = interval * Math.max(0, burst - 1);
      const attempt = async (update: string, condition: string, values: Record<string, number>) => {
        try {
          await client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: { connectionId },
              UpdateExpression: update,
              ConditionExpression: `attribute_exists(connectionId) AND (${condition})`,
              ExpressionAttributeValues: values,
            }),
          );
          return true;
        } catch (error) {
          if ((error as Error).name === 'ConditionalCheckFailedException') return false;
          throw error;
        }
      };
      // Idle long enough that the bucket is full: restart from now.
      if (
        await attempt('SET rateTat = :next', 'attribute_not_exists(rateTat) OR rateTat < :now', {
          ':next': nowMs + interval,
          ':now': nowMs,
        })
      ) {
        return true;
      }
      // Within the burst allowance: move the arrival time one interval on.
      return attempt('SET rateTat = rateTat + :interval', 'rateTat <= :limit', {
        ':interval': interval,
        ':limit': nowMs + tolerance,
      });
    },

    async liveConnectionsOf(userId, nowSeconds) {
      const items = await queryAll(client, {
        TableName: tableName,
        IndexName: 'userId-index',
        KeyConditionExpression: 'userId = :userId',
        // TTL deletion lags by up to two days: expired records must never count as live.
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeValues: { ':userId': userId, ':now': nowSeconds },
      });
      return items.map(toRecord);
    },

    /**
     * `typingAt` on the connection item: a Lambda environment's memory would see only the frames
     * that happen to land in it, and the item dies with the connection. One conditional write.
     */
    async allowTyping(connectionId, nowMs, intervalMs) {
      const updated = await updateIf({
        Key: { connectionId },
        UpdateExpression: 'SET typingAt = :now',
        ConditionExpression:
          'attribute_exists(connectionId) AND (attribute_not_exists(typingAt) OR typingAt <= :since)',
        ExpressionAttributeValues: { ':now': nowMs, ':since': nowMs - intervalMs },
      });
      return updated !== false;
    },

    async claimGuest(connectionId, guestUserId, identity) {
      const updated = await updateIf({
        Key: { connectionId },
        UpdateExpression: 'SET userId = :userId, userName = :userName, claimedFrom = :guestId',
        // Only the guest identity the authorizer gave: once renamed, userId no longer matches.
        ConditionExpression: 'attribute_exists(connectionId) AND guest = :true AND userId = :guestId',
        ExpressionAttributeValues: {
          ':userId': identity.userId,
          ':userName': identity.userName,
          ':guestId': guestUserId,
          ':true': true,
        },
        ReturnValues: 'ALL_NEW',
      });
      return updated === false ? undefined : toRecord(updated);
    },
  };
}
