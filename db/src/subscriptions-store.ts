import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Subscription, SubscriptionStore } from '#core/ports';
import { batchWrite } from './batch-write.js';
import { queryAll, queryPages } from './query-all.js';

function toSubscription(item: Record<string, unknown>): Subscription {
  const { topic, connectionId, userId, userName, expiresAt } = item as unknown as Subscription;
  return { topic, connectionId, userId, userName, expiresAt };
}

const liveSubscribersQuery = (tableName: string, topic: string, nowSeconds: number): QueryCommandInput => ({
  TableName: tableName,
  KeyConditionExpression: 'topic = :topic',
  FilterExpression: 'expiresAt > :now',
  ExpressionAttributeValues: { ':topic': topic, ':now': nowSeconds },
});

/**
 * The Subscriptions table maps topics (rooms, user inboxes, dashboard feeds) to connections, so
 * "who gets this frame" is always a Query on the topic.
 */
export function createSubscriptionStore(client: DynamoDBDocumentClient, tableName: string): SubscriptionStore {
  return {
    async subscribe(subscriptions) {
      if (subscriptions.length === 1 && subscriptions[0]) {
        await client.send(new PutCommand({ TableName: tableName, Item: subscriptions[0] }));
        return;
      }
      await batchWrite(
        client,
        tableName,
        subscriptions.map((subscription) => ({ PutRequest: { Item: subscription } })),
      );
    },

    async unsubscribe(topic, connectionId) {
      const { Attributes } = await client.send(
        new DeleteCommand({ TableName: tableName, Key: { topic, connectionId }, ReturnValues: 'ALL_OLD' }),
      );
      return Attributes !== undefined;
    },

    async unsubscribeMany(keys) {
      await batchWrite(
        client,
        tableName,
        keys.map(({ topic, connectionId }) => ({ DeleteRequest: { Key: { topic, connectionId } } })),
      );
    },

    async topicsOf(connectionId) {
      const items = await queryAll(client, {
        TableName: tableName,
        IndexName: 'connection-index',
        KeyConditionExpression: 'connectionId = :connectionId',
        ExpressionAttributeValues: { ':connectionId': connectionId },
      });
      return items.map((item) => item.topic as string);
    },

    async removeAllFor(connectionId) {
      const items = await queryAll(client, {
        TableName: tableName,
        IndexName: 'connection-index',
        KeyConditionExpression: 'connectionId = :connectionId',
        ExpressionAttributeValues: { ':connectionId': connectionId },
      });
      const subscriptions = items.map(toSubscription);
      await batchWrite(
        client,
        tableName,
        subscriptions.map(({ topic }) => ({ DeleteRequest: { Key: { topic, connectionId } } })),
      );
      return subscriptions;
    },

    async liveSubscribers(topic, nowSeconds) {
      const items = await queryAll(client, liveSubscribersQuery(tableName, topic, nowSeconds));
      return items.map(toSubscription);
    },

    async *liveSubscriberPages(topic, nowSeconds, pageSize) {
      // Limit counts items before the filter drops expired ones, so a page may hold fewer.
      for await (const items of queryPages(client, {
        ...liveSubscribersQuery(tableName, topic, nowSeconds),
        Limit: pageSize,
      })) {
        yield items.map(toSubscription);
      }
    },

    async liveSubscribersUpTo(topic, nowSeconds, max) {
      // Limit counts items before the expiry filter: a page that reached it, or has a next key,
      // may hide more than `max` live subscribers, and the caller goes the long way.
      const page = await client.send(
        new QueryCommand({ ...liveSubscribersQuery(tableName, topic, nowSeconds), Limit: max + 1 }),
      );
      const items = page.Items ?? [];
      if (page.LastEvaluatedKey || items.length > max) return undefined;
      return items.map(toSubscription);
    },
  };
}
