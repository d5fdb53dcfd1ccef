import { performance } from 'node:perf_hooks';
import {
  type AttributeValue,
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { itemSizeBytes, scanReadUnits } from './cost-model.js';
import { type LatencySummary, summarize } from './stats.js';

export interface QueryMeasurement {
  roomSize: number;
  ms: LatencySummary;
  /** Read units DynamoDB Local reported for one page (eventually consistent). */
  readUnits: number;
}

export interface ScanComparison {
  tableItems: number;
  /** Size of one real connection item, as DynamoDB bills it. */
  connectionItemBytes: number;
  subscriptionItemBytes: number;
  scanMs: LatencySummary;
  scanPages: number;
  /** Read units DynamoDB Local reported for one full Scan, and the same computed from item sizes. */
  scanReadUnitsReported: number;
  scanReadUnitsComputed: number;
  queries: QueryMeasurement[];
}

const SCAN_TABLE = 'bench-scan-connections';

/**
 * Seed 003's stream processor scanned the whole connections table for every update. This fills a
 * scratch table in DynamoDB Local with `tableItems` copies of a real connection item, times full
 * Scans of it, and times the Query the state machine runs instead, on rooms of the given sizes.
 */
export async function compareScanWithQuery(options: {
  raw: DynamoDBClient;
  client: DynamoDBDocumentClient;
  connectionsTable: string;
  subscriptionsTable: string;
  sampleConnectionId: string;
  tableItems: number;
  scans: number;
  queries: number;
  rooms: Array<{ room: string; size: number }>;
}): Promise<ScanComparison> {
  const { Item: connection } = await options.client.send(
    new GetCommand({ TableName: options.connectionsTable, Key: { connectionId: options.sampleConnectionId } }),
  );
  if (!connection) throw new Error(`connection ${options.sampleConnectionId} is not stored`);
  const firstRoom = options.rooms[0];
  const { Items: subscriptionItems } = await options.raw.send(
    new QueryCommand({
      TableName: options.subscriptionsTable,
      KeyConditionExpression: 'topic = :t',
      ExpressionAttributeValues: { ':t': { S: `room#${firstRoom?.room ?? ''}` } },
      Limit: 1,
    }),
  );
  const subscriptionItemBytes = subscriptionItems?.[0]
    ? itemSizeBytes(Object.fromEntries(Object.entries(subscriptionItems[0]).map(([k, v]) => [k, unwrap(v)])))
    : Number.NaN;

  await options.raw.send(
    new CreateTableCommand({
      TableName: SCAN_TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'connectionId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'connectionId', KeyType: 'HASH' }],
    }),
  );
  try {
    const items = Array.from({ length: options.tableItems }, (_, index) => ({
      ...connection,
      connectionId: `${String(index).padStart(7, '0')}ScanBench=`,
    }));
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        let pending = items.slice(next, next + 25).map((Item) => ({ PutRequest: { Item } }));
        next += 25;
        for (let attempt = 0; pending.length > 0 && attempt < 10; attempt++) {
          const result = await options.client.send(new BatchWriteCommand({ RequestItems: { [SCAN_TABLE]: pending } }));
          pending = (result.UnprocessedItems?.[SCAN_TABLE] ?? []) as typeof pending;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    const scanMs: number[] = [];
    let scanPages = 0;
    let scanUnits = 0;
    for (let scan = 0; scan < options.scans; scan++) {
      let pages = 0;
      let units = 0;
      let seen = 0;
      let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
      const started = performance.now();
      do {
        const page = await options.raw.send(
          new ScanCommand({ TableName: SCAN_TABLE, ExclusiveStartKey, ReturnConsumedCapacity: 'TOTAL' }),
        );
        pages++;
        seen += page.Count ?? 0;
        units += page.ConsumedCapacity?.CapacityUnits ?? 0;
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      scanMs.push(performance.now() - started);
      if (seen !== options.tableItems) throw new Error(`Scan saw ${seen} of ${options.tableItems} items`);
      scanPages = pages;
      scanUnits = units;
    }

    const queries: QueryMeasurement[] = [];
    for (const { room, size } of options.rooms) {
      const ms: number[] = [];
      let readUnits = 0;
      for (let query = 0; query < options.queries; query++) {
        const started = performance.now();
        // The state machine's QueryFirstPage, as written in message-distribution.asl.json.
        const page = await options.raw.send(
          new QueryCommand({
            TableName: options.subscriptionsTable,
            KeyConditionExpression: 'topic = :t',
            FilterExpression: 'expiresAt > :now',
            ProjectionExpression: 'connectionId',
            ExpressionAttributeValues: {
              ':t': { S: `room#${room}` },
              ':now': { N: String(Math.floor(Date.now() / 1000)) },
            },
            Limit: 1000,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        ms.push(performance.now() - started);
        readUnits = page.ConsumedCapacity?.CapacityUnits ?? 0;
      }
      queries.push({ roomSize: size, ms: summarize(ms), readUnits });
    }
    const connectionItemBytes = itemSizeBytes(connection);
    return {
      tableItems: options.tableItems,
      connectionItemBytes,
      subscriptionItemBytes,
      scanMs: summarize(scanMs),
      scanPages,
      scanReadUnitsReported: scanUnits,
      scanReadUnitsComputed: scanReadUnits(connectionItemBytes * options.tableItems),
      queries,
    };
  } finally {
    await options.raw.send(new DeleteTableCommand({ TableName: SCAN_TABLE })).catch(() => {});
  }
}

function unwrap(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  return null;
}
