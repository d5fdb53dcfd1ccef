import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalStreamMapping } from '../../../../local/stack-model.js';
import { type StreamPollers, startStreamPollers } from '../../../../local/streams/stream-pollers.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../../helpers/dynamodb-local.js';

const REGION = 'us-east-1';
let db: DynamoDbLocal;
const running: StreamPollers[] = [];
let tableCount = 0;

beforeAll(async () => {
  db = await startDynamoDbLocal();
});

afterEach(async () => {
  for (const pollers of running.splice(0)) await pollers.close();
});

afterAll(async () => {
  await db?.stop();
});

async function createTable(): Promise<string> {
  const tableName = `stream-test-${++tableCount}`;
  await db.client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  return tableName;
}

function mappingFor(tableName: string, overrides: Partial<LocalStreamMapping> = {}): LocalStreamMapping {
  return {
    functionName: 'FakeStreamFunction',
    tableName,
    batchSize: 100,
    maximumBatchingWindowInSeconds: 0,
    bisectBatchOnFunctionError: false,
    maximumRetryAttempts: -1,
    reportBatchItemFailures: false,
    startingPosition: 'LATEST',
    ...overrides,
  };
}

/** A stand-in function that records every event it gets and answers through `respond`. */
function fakeFunction(respond: (event: DynamoDBStreamEvent) => unknown = () => undefined) {
  const events: DynamoDBStreamEvent[] = [];
  return {
    events,
    ids: () => events.map((event) => event.Records.map(idOf)),
    invoke: async (functionName: string, event: unknown) => {
      expect(functionName).toBe('FakeStreamFunction');
      events.push(event as DynamoDBStreamEvent);
      return respond(event as DynamoDBStreamEvent);
    },
  };
}

const idOf = (record: DynamoDBRecord) => record.dynamodb?.Keys?.id?.S ?? '?';

async function start(mapping: LocalStreamMapping, fn: ReturnType<typeof fakeFunction>, onFailure = vi.fn()) {
  const pollers = await startStreamPollers({
    dynamoDbEndpoint: db.endpoint,
    region: REGION,
    mappings: [mapping],
    invoke: fn.invoke,
    onFailure,
    pollIntervalMs: 50,
  });
  running.push(pollers);
  return pollers;
}

const put = (tableName: string, id: string, extra: Record<string, { S: string } | { N: string }> = {}) =>
  db.client.send(new PutItemCommand({ TableName: tableName, Item: { id: { S: id }, ...extra } }));

/** One BatchWriteItem, so the records reach the stream together and land in one batch. */
const putAll = (tableName: string, ids: string[]) =>
  db.client.send(
    new BatchWriteItemCommand({
      RequestItems: { [tableName]: ids.map((id) => ({ PutRequest: { Item: { id: { S: id } } } })) },
    }),
  );

describe('startStreamPollers against DynamoDB Local', () => {
  it('delivers INSERT, MODIFY and REMOVE records with their images, as Lambda builds them', async () => {
    const tableName = await createTable();
    const fn = fakeFunction();
    const pollers = await start(mappingFor(tableName), fn);

    await put(tableName, 'item-1', { body: { S: 'first' } });
    await db.client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { id: { S: 'item-1' } },
        UpdateExpression: 'SET body = :body, version = :version',
        ExpressionAttributeValues: { ':body': { S: 'second' }, ':version': { N: '2' } },
      }),
    );
    await db.client.send(new DeleteItemCommand({ TableName: tableName, Key: { id: { S: 'item-1' } } }));
    await pollers.idle();

    const records = fn.events.flatMap((event) => event.Records);
    expect(records.map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    const [insert, modify, remove] = records;
    expect(insert?.dynamodb?.NewImage).toEqual({ id: { S: 'item-1' }, body: { S: 'first' } });
    expect(insert?.dynamodb?.OldImage).toBeUndefined();
    expect(modify?.dynamodb?.OldImage).toEqual({ id: { S: 'item-1' }, body: { S: 'first' } });
    expect(modify?.dynamodb?.NewImage).toEqual({ id: { S: 'item-1' }, body: { S: 'second' }, version: { N: '2' } });
    expect(remove?.dynamodb?.NewImage).toBeUndefined();
    expect(remove?.dynamodb?.OldImage).toEqual({ id: { S: 'item-1' }, body: { S: 'second' }, version: { N: '2' } });

    for (const record of records) {
      expect(record).toMatchObject({
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: REGION,
        eventSourceARN: expect.stringMatching(
          new RegExp(`^arn:aws:dynamodb:${REGION}:000000000000:table/${tableName}/stream/`),
        ),
        dynamodb: {
          Keys: { id: { S: 'item-1' } },
          StreamViewType: 'NEW_AND_OLD_IMAGES',
          SequenceNumber: expect.any(String),
          SizeBytes: expect.any(Number),
          ApproximateCreationDateTime: expect.any(Number),
        },
      });
      expect(typeof record.eventID).toBe('string');
    }
    const sequenceNumbers = records.map((record) => BigInt(record.dynamodb?.SequenceNumber ?? '0'));
    expect([...sequenceNumbers].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequenceNumbers);
    expect(pollers.stats().mappings[0]).toMatchObject({
      recordsSucceeded: 3,
      pendingRecords: 0,
      lastProcessingResult: 'OK',
    });
  });

  it('starts after the records already in the stream for LATEST, and before them for TRIM_HORIZON', async () => {
    const tableName = await createTable();
    await put(tableName, 'before');
    const latest = fakeFunction();
    const trimHorizon = fakeFunction();
    const fromNow = await start(mappingFor(tableName), latest);
    const fromStart = await start(mappingFor(tableName, { startingPosition: 'TRIM_HORIZON' }), trimHorizon);

    await put(tableName, 'after');
    await fromNow.idle();
    await fromStart.idle();

    expect(latest.ids().flat()).toEqual(['after']);
    expect(trimHorizon.ids().flat()).toEqual(['before', 'after']);
  });

  it("reads a table whose first record comes after another table's (DynamoDB Local's shared sequence numbers)", async () => {
    const quiet = await createTable();
    const busy = await createTable();
    const fn = fakeFunction();
    const pollers = await start(mappingFor(quiet), fn);
    await pollers.idle();

    // The busy table's record takes the sequence number the quiet table's empty shard expects next.
    await put(busy, 'elsewhere');
    await put(quiet, 'q1');
    await put(quiet, 'q2');
    await pollers.idle();

    expect(fn.ids().flat()).toEqual(['q1', 'q2']);
  });

  it('never hands the function more than BatchSize records, and keeps their order', async () => {
    const tableName = await createTable();
    const fn = fakeFunction();
    const pollers = await start(mappingFor(tableName, { batchSize: 2 }), fn);

    await putAll(tableName, ['r1', 'r2', 'r3', 'r4', 'r5']);
    await pollers.idle();

    expect(fn.ids().flat()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    for (const batch of fn.ids()) expect(batch.length).toBeLessThanOrEqual(2);
    expect(fn.events.length).toBeGreaterThanOrEqual(3);
  });

  it("applies the mapping's FilterCriteria before batching: unmatched records never reach the function", async () => {
    const tableName = await createTable();
    const fn = fakeFunction();
    // Only inserts of items marked wanted, in the Lambda record's own (DynamoDB JSON) shape.
    const wanted = { eventName: ['INSERT'], dynamodb: { NewImage: { kind: { S: ['wanted'] } } } };
    const pollers = await start(mappingFor(tableName, { filterPatterns: [wanted] }), fn);

    await put(tableName, 'f1', { kind: { S: 'wanted' } });
    await put(tableName, 'f2', { kind: { S: 'other' } });
    await put(tableName, 'f3');
    await put(tableName, 'f4', { kind: { S: 'wanted' } });
    await db.client.send(new DeleteItemCommand({ TableName: tableName, Key: { id: { S: 'f1' } } }));
    await put(tableName, 'f5', { kind: { S: 'wanted' } });
    await pollers.idle();

    expect(fn.ids().flat()).toEqual(['f1', 'f4', 'f5']);
    expect(pollers.stats().mappings[0]?.filteredOut).toBe(3);
  });

  it('gathers records for the batching window before invoking', async () => {
    const tableName = await createTable();
    const fn = fakeFunction();
    const pollers = await start(mappingFor(tableName, { maximumBatchingWindowInSeconds: 3 }), fn);

    await put(tableName, 'w1');
    // The first record has been read, and is held back rather than sent on its own.
    await vi.waitFor(() => expect(pollers.stats().mappings[0]?.pendingRecords).toBe(1), {
      timeout: 2_000,
      interval: 20,
    });
    expect(fn.events).toHaveLength(0);
    for (const id of ['w2', 'w3', 'w4', 'w5']) await put(tableName, id);
    await pollers.idle();

    expect(fn.ids()).toEqual([['w1', 'w2', 'w3', 'w4', 'w5']]);
  });

  it('invokes as soon as a batch is full, without waiting out the window', async () => {
    const tableName = await createTable();
    const fn = fakeFunction();
    // A window far longer than the test's timeout: only a full batch can explain an invocation.
    const pollers = await start(mappingFor(tableName, { batchSize: 3, maximumBatchingWindowInSeconds: 300 }), fn);

    await putAll(tableName, ['f1', 'f2', 'f3']);
    await vi.waitFor(() => expect(fn.ids()).toEqual([['f1', 'f2', 'f3']]), { timeout: 10_000, interval: 50 });
    expect(pollers.stats().mappings[0]?.pendingRecords).toBe(0);
  });

  it('bisects a failing batch so good records get through and the poison record is dead-lettered', async () => {
    const tableName = await createTable();
    const fn = fakeFunction((event) => {
      if (event.Records.some((record) => idOf(record) === 'poison')) throw new Error('cannot handle poison');
    });
    const onFailure = vi.fn();
    const destination = 'arn:aws:sqs:us-east-1:000000000000:StreamFailureQueue';
    const pollers = await start(
      mappingFor(tableName, {
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 1,
        maximumBatchingWindowInSeconds: 1,
        onFailureDestination: destination,
      }),
      fn,
      onFailure,
    );

    await putAll(tableName, ['g1', 'g2', 'poison', 'g3', 'g4']);
    await pollers.idle();

    const delivered = fn.events
      .filter((event) => !event.Records.some((record) => idOf(record) === 'poison'))
      .flatMap((event) => event.Records.map(idOf));
    expect(delivered).toEqual(['g1', 'g2', 'g3', 'g4']);
    // The whole batch first, then halves: bisecting happened, and the poison alone was tried twice.
    expect(fn.ids()[0]).toEqual(['g1', 'g2', 'poison', 'g3', 'g4']);
    expect(fn.ids().filter((batch) => batch.length === 1 && batch[0] === 'poison')).toHaveLength(2);

    const poisonRecord = fn.events.flatMap((event) => event.Records).find((record) => idOf(record) === 'poison');
    const sequenceNumber = poisonRecord?.dynamodb?.SequenceNumber;
    const [deadLetter, ...others] = pollers.deadLetters();
    expect(others).toEqual([]);
    expect(deadLetter).toMatchObject({
      version: '1.0',
      requestContext: {
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:FakeStreamFunction',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 2,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      DDBStreamBatchInfo: {
        startSequenceNumber: sequenceNumber,
        endSequenceNumber: sequenceNumber,
        batchSize: 1,
        streamArn: poisonRecord?.eventSourceARN,
        shardId: expect.stringMatching(/^shardId-/),
        approximateArrivalOfFirstRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      },
    });
    expect(onFailure).toHaveBeenCalledExactlyOnceWith(destination, deadLetter);
    expect(pollers.stats().mappings[0]).toMatchObject({ recordsSucceeded: 4, recordsDiscarded: 1, pendingRecords: 0 });
  });

  it('with ReportBatchItemFailures, retries from the lowest failed record only', async () => {
    const tableName = await createTable();
    let failOnce = true;
    const fn = fakeFunction((event) => {
      const failed = event.Records.filter((record) => ['p3', 'p5'].includes(idOf(record)));
      if (!failOnce || failed.length === 0) return { batchItemFailures: [] };
      failOnce = false;
      return {
        batchItemFailures: failed.reverse().map((record) => ({ itemIdentifier: record.dynamodb?.SequenceNumber })),
      };
    });
    const pollers = await start(
      mappingFor(tableName, {
        reportBatchItemFailures: true,
        maximumBatchingWindowInSeconds: 1,
        maximumRetryAttempts: 2,
      }),
      fn,
    );

    await putAll(tableName, ['p1', 'p2', 'p3', 'p4', 'p5']);
    await pollers.idle();

    expect(fn.ids()).toEqual([
      ['p1', 'p2', 'p3', 'p4', 'p5'],
      ['p3', 'p4', 'p5'],
    ]);
    expect(pollers.deadLetters()).toEqual([]);
    expect(pollers.stats().mappings[0]).toMatchObject({ partialBatchFailures: 1, retries: 1, recordsSucceeded: 5 });
  });

  it('holds back later records of the shard until a failing batch is settled', async () => {
    const tableName = await createTable();
    let failures = 0;
    const fn = fakeFunction((event) => {
      if (event.Records.some((record) => idOf(record) === 'o1') && failures < 2) {
        failures++;
        throw new Error('not yet');
      }
    });
    const pollers = await start(mappingFor(tableName, { batchSize: 1 }), fn);

    await put(tableName, 'o1');
    await put(tableName, 'o2');
    await put(tableName, 'o3');
    await pollers.idle();

    expect(fn.ids()).toEqual([['o1'], ['o1'], ['o1'], ['o2'], ['o3']]);
  });

  it('refuses a mapping whose table has no stream', async () => {
    const tableName = `no-stream-${++tableCount}`;
    await db.client.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await expect(
      startStreamPollers({
        dynamoDbEndpoint: db.endpoint,
        region: REGION,
        mappings: [mappingFor(tableName)],
        invoke: async () => undefined,
      }),
    ).rejects.toThrow(/no stream/);
  });
});
