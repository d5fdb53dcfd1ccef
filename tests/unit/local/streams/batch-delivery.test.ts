import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  type DeliveryHooks,
  type DeliveryPolicy,
  deliverBatch,
  emptyCounters,
} from '../../../../local/streams/batch-delivery.js';
import type { DiscardCondition } from '../../../../local/streams/failure-record.js';

const NOW_MS = Date.parse('2026-03-01T12:00:00Z');

function record(id: string, ageSeconds = 5): DynamoDBRecord {
  return {
    eventID: `event-${id}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: NOW_MS / 1000 - ageSeconds,
      Keys: { id: { S: id } },
      NewImage: { id: { S: id } },
      SequenceNumber: `seq-${id}`,
      SizeBytes: 10,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/label',
  };
}

const idsOf = (event: DynamoDBStreamEvent) => event.Records.map((r) => r.dynamodb?.Keys?.id?.S ?? '?');

function harness(policy: Partial<DeliveryPolicy>, respond: (ids: string[], call: number) => unknown) {
  const calls: string[][] = [];
  const discarded: Array<{ ids: string[]; condition: DiscardCondition; invokeCount: number; functionError: boolean }> =
    [];
  const waits: number[] = [];
  let stop = false;
  const hooks: DeliveryHooks = {
    invoke: async (event) => {
      const ids = idsOf(event);
      calls.push(ids);
      return respond(ids, calls.length);
    },
    waitBeforeRetry: async (retry) => {
      waits.push(retry);
    },
    failed: () => {},
    discard: (records, detail) =>
      discarded.push({ ids: records.map((r) => r.dynamodb?.Keys?.id?.S ?? '?'), ...detail }),
    stopped: () => stop,
    nowMs: () => NOW_MS,
  };
  const fullPolicy: DeliveryPolicy = {
    bisectBatchOnFunctionError: false,
    maximumRetryAttempts: -1,
    reportBatchItemFailures: false,
    maximumRecordAgeSeconds: 86_400,
    ...policy,
  };
  const counters = emptyCounters();
  return {
    calls,
    discarded,
    waits,
    counters,
    stopAfter: () => {
      stop = true;
    },
    deliver: (records: DynamoDBRecord[]) => deliverBatch(records, fullPolicy, hooks, counters),
  };
}

const batchOf = (...ids: string[]) => ids.map((id) => record(id));

describe('deliverBatch', () => {
  it('invokes once with the whole batch when the function succeeds', async () => {
    const h = harness({}, () => undefined);
    expect(await h.deliver(batchOf('a', 'b', 'c'))).toBe('settled');
    expect(h.calls).toEqual([['a', 'b', 'c']]);
    expect(h.counters).toMatchObject({ invocations: 1, recordsSucceeded: 3, retries: 0, recordsDiscarded: 0 });
  });

  it('retries the same batch MaximumRetryAttempts times, then discards it', async () => {
    const h = harness({ maximumRetryAttempts: 2 }, () => {
      throw new Error('boom');
    });
    expect(await h.deliver(batchOf('a', 'b'))).toBe('settled');
    expect(h.calls).toEqual([
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(h.waits).toEqual([1, 2]);
    expect(h.discarded).toEqual([
      { ids: ['a', 'b'], condition: 'RetryAttemptsExhausted', invokeCount: 3, functionError: true },
    ]);
    expect(h.counters).toMatchObject({ invocations: 3, functionErrors: 3, retries: 2, recordsDiscarded: 2 });
  });

  it('with MaximumRetryAttempts 0 gives up after the first failure', async () => {
    const h = harness({ maximumRetryAttempts: 0 }, () => {
      throw new Error('boom');
    });
    await h.deliver(batchOf('a'));
    expect(h.calls).toHaveLength(1);
    expect(h.discarded[0]?.invokeCount).toBe(1);
  });

  it('bisects around a poison record, in order, without counting splits as retries', async () => {
    const h = harness({ bisectBatchOnFunctionError: true, maximumRetryAttempts: 1 }, (ids) => {
      if (ids.includes('poison')) throw new Error('poison');
    });
    expect(await h.deliver(batchOf('a', 'b', 'poison', 'c', 'd'))).toBe('settled');
    expect(h.calls).toEqual([
      ['a', 'b', 'poison', 'c', 'd'],
      ['a', 'b', 'poison'],
      ['a', 'b'],
      ['poison'],
      ['poison'],
      ['c', 'd'],
    ]);
    expect(h.discarded).toEqual([
      { ids: ['poison'], condition: 'RetryAttemptsExhausted', invokeCount: 2, functionError: true },
    ]);
    expect(h.counters).toMatchObject({ recordsSucceeded: 4, recordsDiscarded: 1, bisections: 2, retries: 1 });
  });

  it('checkpoints before the lowest reported failure and retries from there', async () => {
    const h = harness({ reportBatchItemFailures: true }, (_ids, call) =>
      call === 1
        ? { batchItemFailures: [{ itemIdentifier: 'seq-d' }, { itemIdentifier: 'seq-b' }] }
        : { batchItemFailures: [] },
    );
    await h.deliver(batchOf('a', 'b', 'c', 'd'));
    expect(h.calls).toEqual([
      ['a', 'b', 'c', 'd'],
      ['b', 'c', 'd'],
    ]);
    expect(h.counters).toMatchObject({ recordsSucceeded: 4, partialBatchFailures: 1, retries: 1 });
  });

  it('discards what is left after a partial failure once retries run out, as no function error', async () => {
    const h = harness(
      { reportBatchItemFailures: true, bisectBatchOnFunctionError: true, maximumRetryAttempts: 1 },
      (ids) => ({
        batchItemFailures: [{ itemIdentifier: `seq-${ids.includes('b') ? 'b' : ids[0]}` }],
      }),
    );
    await h.deliver(batchOf('a', 'b', 'c'));
    // Bisect does not apply to a partial success: the batch is cut at the reported record instead.
    expect(h.calls).toEqual([
      ['a', 'b', 'c'],
      ['b', 'c'],
    ]);
    expect(h.discarded).toEqual([
      { ids: ['b', 'c'], condition: 'RetryAttemptsExhausted', invokeCount: 2, functionError: false },
    ]);
  });

  it('treats an unreadable response as a failure of the whole batch, and bisects it', async () => {
    const h = harness(
      { reportBatchItemFailures: true, bisectBatchOnFunctionError: true, maximumRetryAttempts: 0 },
      (ids) => (ids.length > 1 ? { batchItemFailures: [{ itemIdentifier: '' }] } : undefined),
    );
    await h.deliver(batchOf('a', 'b'));
    expect(h.calls).toEqual([['a', 'b'], ['a'], ['b']]);
    expect(h.discarded).toEqual([]);
    expect(h.counters.functionErrors).toBe(0);
  });

  it('ignores the response when ReportBatchItemFailures is off', async () => {
    const h = harness({}, () => ({ batchItemFailures: [{ itemIdentifier: 'seq-a' }] }));
    await h.deliver(batchOf('a', 'b'));
    expect(h.calls).toHaveLength(1);
    expect(h.counters.recordsSucceeded).toBe(2);
  });

  it('discards records older than the maximum record age without invoking for them', async () => {
    const h = harness({ maximumRecordAgeSeconds: 60 }, () => undefined);
    await h.deliver([record('old', 120), record('new', 10)]);
    expect(h.calls).toEqual([['new']]);
    expect(h.discarded).toEqual([
      { ids: ['old'], condition: 'RecordAgeExceeded', invokeCount: 0, functionError: false },
    ]);
  });

  it('stops between attempts when the poller closes', async () => {
    const h = harness({}, () => {
      h.stopAfter();
      throw new Error('boom');
    });
    expect(await h.deliver(batchOf('a'))).toBe('stopped');
    expect(h.calls).toHaveLength(1);
    expect(h.discarded).toEqual([]);
  });
});
