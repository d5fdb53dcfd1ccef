import { GetItemCommand, PutItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { connectionExpiry } from '#core/domain/time';
import type { LocalStack } from '../../local/stack.js';

/*
 * What the integration tests read from, and plant in, the local stack's tables, as the operator.
 */

/** Items of the room's partition carrying this messageId (a message stored twice would show twice). */
export async function storedCopies(stack: LocalStack, room: string, messageId: string): Promise<number> {
  const result = await stack.dynamoDb.client.send(
    new QueryCommand({
      TableName: stack.tableNames.MessagesTable,
      KeyConditionExpression: 'room = :room',
      FilterExpression: 'messageId = :id',
      ExpressionAttributeValues: { ':room': { S: room }, ':id': { S: messageId } },
    }),
  );
  return result.Items?.length ?? 0;
}

/** DeliveryFailures records for a message (a test-only Scan of a small table). */
export async function deliveryFailuresFor(stack: LocalStack, messageId: string) {
  const result = await stack.dynamoDb.client.send(
    new ScanCommand({
      TableName: stack.tableNames.DeliveryFailuresTable,
      FilterExpression: 'messageId = :id',
      ExpressionAttributeValues: { ':id': { S: messageId } },
    }),
  );
  return result.Items ?? [];
}

export async function connectionRecord(stack: LocalStack, connectionId: string) {
  const result = await stack.dynamoDb.client.send(
    new GetItemCommand({ TableName: stack.tableNames.ConnectionsTable, Key: { connectionId: { S: connectionId } } }),
  );
  return result.Item;
}

export async function subscriptionRecord(stack: LocalStack, room: string, connectionId: string) {
  const result = await stack.dynamoDb.client.send(
    new GetItemCommand({
      TableName: stack.tableNames.SubscriptionsTable,
      Key: { topic: { S: `room#${room}` }, connectionId: { S: connectionId } },
    }),
  );
  return result.Item;
}

/**
 * A connection that vanished without $disconnect: its records, in a room, opened `openedAgoMs` ago
 * (a minute by default, past the connecting grace), and no socket, so the gateway answers 410.
 */
export async function plantGhost(
  stack: LocalStack,
  connectionId: string,
  room: string,
  { openedAgoMs = 60_000, userId = 'ghost' }: { openedAgoMs?: number; userId?: string } = {},
): Promise<void> {
  const now = Date.now();
  const expiresAt = { N: String(connectionExpiry(now)) };
  const identity = { userId: { S: userId }, userName: { S: 'ghost' } };
  await stack.dynamoDb.client.send(
    new PutItemCommand({
      TableName: stack.tableNames.ConnectionsTable,
      Item: {
        connectionId: { S: connectionId },
        ...identity,
        connectedAt: { N: String(now - openedAgoMs) },
        expiresAt,
      },
    }),
  );
  await stack.dynamoDb.client.send(
    new PutItemCommand({
      TableName: stack.tableNames.SubscriptionsTable,
      Item: { topic: { S: `room#${room}` }, connectionId: { S: connectionId }, ...identity, expiresAt },
    }),
  );
}
