import { describe, expect, it } from 'vitest';
import { DynamoDbMeter } from '../../../../bench/lib/dynamodb-meter.js';

type Handler = (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;

/** A client stand-in that keeps the middleware the meter adds, so a test can run requests through it. */
function fakeClient() {
  let middleware: Middleware | undefined;
  return {
    middlewareStack: {
      add(added: Middleware) {
        middleware = added;
      },
    },
    run(commandName: string, input: Record<string, unknown>, respond: Handler) {
      if (!middleware) throw new Error('nothing attached');
      return middleware(respond, { commandName })({ input });
    },
  };
}

describe('DynamoDbMeter', () => {
  it('asks for table and index capacity and counts requests by operation', async () => {
    const meter = new DynamoDbMeter();
    const client = fakeClient();
    meter.attach(client);
    const input: Record<string, unknown> = { TableName: 'Subscriptions' };
    await client.run('QueryCommand', input, async () => ({
      output: { ConsumedCapacity: { TableName: 'Subscriptions', CapacityUnits: 1.5, Table: { CapacityUnits: 1.5 } } },
    }));
    expect(input.ReturnConsumedCapacity).toBe('INDEXES');
    const snapshot = meter.snapshot();
    expect(snapshot.requests).toEqual({ Query: 1 });
    expect(snapshot.readUnits).toBe(1.5);
    expect(snapshot.writeUnits).toBe(0);
    expect(snapshot.units).toEqual({ 'Query Subscriptions': 1.5 });
  });

  it('bills each transactional item at 2 units per KB, whatever DynamoDB Local reported, and keeps index units', async () => {
    const meter = new DynamoDbMeter();
    const client = fakeClient();
    meter.attach(client);
    await client.run(
      'TransactWriteItemsCommand',
      {
        TransactItems: [
          { Put: { TableName: 'Messages', Item: { room: 'msgid#1', sk: 'msgid' } } },
          { Put: { TableName: 'Messages', Item: { room: 'lobby', sk: '2026#1', message: 'x'.repeat(1500) } } },
        ],
      },
      async () => ({
        output: {
          ConsumedCapacity: [
            {
              TableName: 'Messages',
              CapacityUnits: 4,
              Table: { CapacityUnits: 2 },
              GlobalSecondaryIndexes: { 'user-timestamp-index': { CapacityUnits: 2 } },
            },
          ],
        },
      }),
    );
    const snapshot = meter.snapshot();
    // 2 (small item) + 4 (a 1.5 KB item is 2 KB units) for the table, 2 for the index.
    expect(snapshot.units['TransactWriteItems Messages']).toBe(6);
    expect(snapshot.units['TransactWriteItems Messages/user-timestamp-index']).toBe(2);
    expect(snapshot.writeUnits).toBe(8);
    expect(snapshot.indexWriteUnits).toBe(2);
  });

  it('charges one write unit for a write whose condition failed, and rethrows', async () => {
    const meter = new DynamoDbMeter();
    const client = fakeClient();
    meter.attach(client);
    const failure = Object.assign(new Error('The conditional request failed'), {
      name: 'ConditionalCheckFailedException',
    });
    await expect(
      client.run('UpdateItemCommand', { TableName: 'Connections' }, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(meter.snapshot().writeUnits).toBe(1);
    expect(meter.snapshot().units).toEqual({ 'UpdateItem Connections (condition failed)': 1 });
  });

  it('starts over after reset', async () => {
    const meter = new DynamoDbMeter();
    const client = fakeClient();
    meter.attach(client);
    await client.run('GetItemCommand', {}, async () => ({ output: {} }));
    meter.reset();
    expect(meter.snapshot()).toEqual({ requests: {}, units: {}, readUnits: 0, writeUnits: 0, indexWriteUnits: 0 });
  });
});
