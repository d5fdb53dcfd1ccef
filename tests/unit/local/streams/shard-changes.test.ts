import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LocalStreamMapping } from '../../../../local/stack-model.js';
import { type StreamPollers, startStreamPollers } from '../../../../local/streams/stream-pollers.js';

// Shard rollover happens every 4 hours in DynamoDB Local and iterators expire after 15 minutes,
// so those paths are driven through a mocked Streams client.

const STREAM_ARN = 'arn:aws:dynamodb:ddblocal:000000000000:table/Rolling/stream/2026-01-01T00:00:00.000';
const tables = mockClient(DynamoDBClient);
const streams = mockClient(DynamoDBStreamsClient);
const running: StreamPollers[] = [];

afterEach(async () => {
  for (const pollers of running.splice(0)) await pollers.close();
  tables.reset();
  streams.reset();
});

const mapping = (
  startingPosition: LocalStreamMapping['startingPosition'],
  overrides: Partial<LocalStreamMapping> = {},
): LocalStreamMapping => ({
  functionName: 'RollingFunction',
  tableName: 'Rolling',
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0,
  bisectBatchOnFunctionError: false,
  maximumRetryAttempts: -1,
  reportBatchItemFailures: false,
  startingPosition,
  ...overrides,
});

function streamRecord(id: string, sequenceNumber: string): _Record {
  return {
    eventID: `event-${id}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'ddblocal',
    dynamodb: {
      ApproximateCreationDateTime: new Date(),
      Keys: { id: { S: id } },
      NewImage: { id: { S: id } },
      SequenceNumber: sequenceNumber,
      SizeBytes: 10,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

const shard = (shardId: string, options: { parent?: string; closed?: boolean } = {}): Shard => ({
  ShardId: shardId,
  ...(options.parent ? { ParentShardId: options.parent } : {}),
  SequenceNumberRange: { StartingSequenceNumber: '1', ...(options.closed ? { EndingSequenceNumber: '99' } : {}) },
});

/**
 * A scripted stream: `pages[iterator]` answers GetRecords; iterators are named
 * `<shard>/<type>` when issued and then follow the script's NextShardIterator values.
 */
function scriptStream(script: {
  shards: () => Shard[][];
  pages: Record<string, { records: _Record[]; next?: string; delayMs?: number }>;
}) {
  const iteratorRequests: Array<{ shardId?: string; type?: string; sequenceNumber?: string }> = [];
  tables.on(DescribeTableCommand).resolves({
    Table: { TableName: 'Rolling', LatestStreamArn: STREAM_ARN, StreamSpecification: { StreamEnabled: true } },
  });
  streams.on(DescribeStreamCommand).callsFake((input: { ExclusiveStartShardId?: string }) => {
    const pages = script.shards();
    const index = input.ExclusiveStartShardId
      ? pages.findIndex((page) => page.at(-1)?.ShardId === input.ExclusiveStartShardId) + 1
      : 0;
    const page = pages[index] ?? [];
    return {
      StreamDescription: {
        StreamArn: STREAM_ARN,
        Shards: page,
        ...(index < pages.length - 1 ? { LastEvaluatedShardId: page.at(-1)?.ShardId } : {}),
      },
    };
  });
  streams
    .on(GetShardIteratorCommand)
    .callsFake((input: { ShardId?: string; ShardIteratorType?: string; SequenceNumber?: string }) => {
      iteratorRequests.push({
        shardId: input.ShardId,
        type: input.ShardIteratorType,
        sequenceNumber: input.SequenceNumber,
      });
      const suffix = input.SequenceNumber ? `@${input.SequenceNumber}` : '';
      return { ShardIterator: `${input.ShardId}/${input.ShardIteratorType}${suffix}` };
    });
  streams.on(GetRecordsCommand).callsFake(async (input: { ShardIterator?: string }) => {
    const page = script.pages[input.ShardIterator ?? ''];
    if (!page) throw new Error(`unexpected iterator ${input.ShardIterator}`);
    if (page.delayMs) await new Promise((resolve) => setTimeout(resolve, page.delayMs));
    const answer: Partial<GetRecordsCommandOutput> = { Records: page.records, NextShardIterator: page.next };
    return answer;
  });
  return { iteratorRequests };
}

async function start(
  startingPosition: LocalStreamMapping['startingPosition'],
  options: { pollIntervalMs?: number; mapping?: Partial<LocalStreamMapping> } = {},
) {
  const events: DynamoDBStreamEvent[] = [];
  const pollers = await startStreamPollers({
    dynamoDbEndpoint: 'http://127.0.0.1:1',
    region: 'us-east-1',
    mappings: [mapping(startingPosition, options.mapping)],
    invoke: async (_name, event) => {
      events.push(event as DynamoDBStreamEvent);
    },
    pollIntervalMs: options.pollIntervalMs ?? 10,
  });
  running.push(pollers);
  const ids = () => events.flatMap((event) => event.Records.map((record) => record.dynamodb?.Keys?.id?.S));
  const batchSizes = () => events.map((event) => event.Records.length);
  return { pollers, ids, batchSizes };
}

/** `count` records with ids `<prefix><n>` and consecutive sequence numbers from `first`. */
const backlog = (prefix: string, first: number, count: number): _Record[] =>
  Array.from({ length: count }, (_, index) => streamRecord(`${prefix}${first + index}`, String(first + index)));

/** A poll interval no test waits out: anything delivered came without a nap in between. */
const AN_HOUR_MS = 60 * 60 * 1000;

describe('stream pollers following shard changes', () => {
  it('pages through DescribeStream and starts a LATEST mapping on open shards only', async () => {
    const { iteratorRequests } = scriptStream({
      shards: () => [[shard('shard-old', { closed: true })], [shard('shard-now', { parent: 'shard-old' })]],
      pages: {
        'shard-now/LATEST': { records: [streamRecord('n1', '101')], next: 'shard-now/idle' },
        'shard-now/idle': { records: [], next: 'shard-now/idle' },
      },
    });
    const { pollers, ids } = await start('LATEST');
    await pollers.idle();

    expect(ids()).toEqual(['n1']);
    expect(iteratorRequests).toEqual([{ shardId: 'shard-now', type: 'LATEST', sequenceNumber: undefined }]);
  });

  it('reads a closed parent to its end before its child, and the child from TRIM_HORIZON', async () => {
    let rolledOver = false;
    const { iteratorRequests } = scriptStream({
      shards: () =>
        rolledOver
          ? [[shard('shard-A', { closed: true }), shard('shard-B', { parent: 'shard-A' })]]
          : [[shard('shard-A')]],
      pages: {
        'shard-A/LATEST': { records: [streamRecord('a1', '1'), streamRecord('a2', '2')], next: 'shard-A/3' },
        // The last page of a closed shard has no NextShardIterator.
        'shard-A/3': { records: [streamRecord('a3', '3')], delayMs: 30 },
        'shard-B/TRIM_HORIZON': { records: [streamRecord('b1', '100')], next: 'shard-B/idle' },
        'shard-B/idle': { records: [], next: 'shard-B/idle' },
      },
    });
    const { pollers, ids } = await start('LATEST');
    rolledOver = true;
    await pollers.idle();

    expect(ids()).toEqual(['a1', 'a2', 'a3', 'b1']);
    expect(iteratorRequests.map((request) => `${request.shardId}/${request.type}`)).toEqual([
      'shard-A/LATEST',
      'shard-B/TRIM_HORIZON',
    ]);
    expect(pollers.stats().mappings[0]).toMatchObject({ shards: 2, finishedShards: 1 });
  });

  it('with TRIM_HORIZON, holds a child back until its parent is finished', async () => {
    scriptStream({
      shards: () => [[shard('shard-A', { closed: true }), shard('shard-B', { parent: 'shard-A' })]],
      pages: {
        // The parent answers slowly; the child would win the race if it did not wait.
        'shard-A/TRIM_HORIZON': { records: [streamRecord('a1', '1')], next: 'shard-A/end', delayMs: 50 },
        'shard-A/end': { records: [streamRecord('a2', '2')], delayMs: 50 },
        'shard-B/TRIM_HORIZON': { records: [streamRecord('b1', '100')], next: 'shard-B/idle' },
        'shard-B/idle': { records: [], next: 'shard-B/idle' },
      },
    });
    const { pollers, ids } = await start('TRIM_HORIZON');
    await pollers.idle();

    expect(ids()).toEqual(['a1', 'a2', 'b1']);
  });

  it('replaces an expired iterator with one right after the last record read', async () => {
    let expired = false;
    const { iteratorRequests } = scriptStream({
      shards: () => [[shard('shard-A')]],
      pages: {
        'shard-A/LATEST': { records: [streamRecord('x1', '7')], next: 'shard-A/stale' },
        'shard-A/AFTER_SEQUENCE_NUMBER@7': { records: [streamRecord('x2', '8')], next: 'shard-A/idle' },
        'shard-A/idle': { records: [], next: 'shard-A/idle' },
      },
    });
    streams.on(GetRecordsCommand, { ShardIterator: 'shard-A/stale' }).callsFake(() => {
      expired = true;
      throw new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} });
    });
    const { pollers, ids } = await start('LATEST');
    await pollers.idle();

    expect(expired).toBe(true);
    expect(ids()).toEqual(['x1', 'x2']);
    expect(iteratorRequests.at(-1)).toEqual({ shardId: 'shard-A', type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: '7' });
  });

  it('delivers a backlog larger than BatchSize in consecutive batches, without waiting the poll interval between them', async () => {
    // 250 records over two GetRecords pages, as a burst of writes leaves them. Lambda fetches the
    // next batch as soon as the previous one returned records; only an empty answer means a nap.
    scriptStream({
      shards: () => [[shard('shard-A')]],
      pages: {
        'shard-A/LATEST': { records: backlog('r', 1, 150), next: 'shard-A/2' },
        'shard-A/2': { records: backlog('r', 151, 100), next: 'shard-A/idle' },
        'shard-A/idle': { records: [], next: 'shard-A/idle' },
      },
    });
    // No idle(): it wakes sleeping pollers, and this test is about them not sleeping.
    const { ids, batchSizes } = await start('LATEST', { pollIntervalMs: AN_HOUR_MS });

    await vi.waitFor(() => expect(ids()).toHaveLength(250), { timeout: 10_000, interval: 20 });
    expect(ids()).toEqual(backlog('r', 1, 250).map((record) => record.dynamodb?.Keys?.id?.S));
    expect(batchSizes()).toEqual([100, 100, 50]);
  });

  it('with a batching window, sends the full batches of a backlog at once and holds the rest for the window', async () => {
    scriptStream({
      shards: () => [[shard('shard-A')]],
      pages: {
        'shard-A/LATEST': { records: backlog('w', 1, 100), next: 'shard-A/2' },
        'shard-A/2': { records: backlog('w', 101, 150), next: 'shard-A/idle' },
        'shard-A/idle': { records: [], next: 'shard-A/idle' },
      },
    });
    const { pollers, ids, batchSizes } = await start('LATEST', {
      pollIntervalMs: AN_HOUR_MS,
      mapping: { maximumBatchingWindowInSeconds: 300 },
    });

    await vi.waitFor(() => expect(ids()).toHaveLength(200), { timeout: 10_000, interval: 20 });
    expect(batchSizes()).toEqual([100, 100]);
    await vi.waitFor(() => expect(pollers.stats().mappings[0]?.pendingRecords).toBe(50), {
      timeout: 10_000,
      interval: 20,
    });
    expect(batchSizes()).toEqual([100, 100]);
  });
});
