import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { interpretBatchResponse } from './batch-response.js';
import type { DiscardCondition } from './failure-record.js';
import { sequenceNumberOf } from './stream-records.js';

/** The mapping's error-handling settings, as on `AWS::Serverless::Function` `Events.<id>.Properties`. */
export interface DeliveryPolicy {
  bisectBatchOnFunctionError: boolean;
  /** -1 retries until the records expire. */
  maximumRetryAttempts: number;
  reportBatchItemFailures: boolean;
  /** Records older than this are discarded unprocessed; DynamoDB Streams keeps records 24 h. */
  maximumRecordAgeSeconds: number;
}

/** Running totals kept by one mapping, updated in place. */
export interface DeliveryCounters {
  invocations: number;
  functionErrors: number;
  partialBatchFailures: number;
  bisections: number;
  retries: number;
  recordsSucceeded: number;
  recordsDiscarded: number;
  /** Records no FilterCriteria pattern matched: dropped before batching, as Lambda does. */
  filteredOut: number;
}

export interface DeliveryHooks {
  invoke(event: DynamoDBStreamEvent): Promise<unknown>;
  /** Pauses before the `retry`-th retry of the same records. */
  waitBeforeRetry(retry: number): Promise<void>;
  discard(
    records: DynamoDBRecord[],
    detail: { condition: DiscardCondition; invokeCount: number; functionError: boolean },
  ): void;
  /** Told about each failed attempt, for the logs. */
  failed(reason: string, detail: { records: number; attempt: number }): void;
  /** True once the poller is closing: stop between attempts and leave the rest unprocessed. */
  stopped(): boolean;
  nowMs(): number;
}

interface PendingRun {
  records: DynamoDBRecord[];
  /** Invocations made with (a prefix-trimmed version of) these records. */
  attempts: number;
  lastFailedByFunctionError: boolean;
}

export function emptyCounters(): DeliveryCounters {
  return {
    invocations: 0,
    functionErrors: 0,
    partialBatchFailures: 0,
    bisections: 0,
    retries: 0,
    recordsSucceeded: 0,
    recordsDiscarded: 0,
    filteredOut: 0,
  };
}

function expiredPrefixLength(records: DynamoDBRecord[], policy: DeliveryPolicy, nowMs: number): number {
  const oldest = nowMs - policy.maximumRecordAgeSeconds * 1000;
  let count = 0;
  for (const record of records) {
    const created = record.dynamodb?.ApproximateCreationDateTime;
    if (created === undefined || created * 1000 >= oldest) break;
    count++;
  }
  return count;
}

/**
 * Hands one shard's batch to the function until every record has succeeded or been discarded,
 * as Lambda's stream event source mapping does, and in order: a later run of records is never
 * invoked before an earlier one is settled.
 *
 * - A function error (or, with ReportBatchItemFailures, a response Lambda cannot read) fails
 *   the whole batch; with BisectBatchOnFunctionError a batch of two or more is split in two
 *   and the halves go first-then-second. Splitting is not a retry (Lambda's documented rule),
 *   so each half starts its own retry count.
 * - A partial failure checkpoints before the lowest failed record; the rest is retried.
 * - Past MaximumRetryAttempts, or past the maximum record age, the records are discarded.
 *
 * @returns 'stopped' when the poller closed before the batch was settled.
 */
export async function deliverBatch(
  records: DynamoDBRecord[],
  policy: DeliveryPolicy,
  hooks: DeliveryHooks,
  counters: DeliveryCounters,
): Promise<'settled' | 'stopped'> {
  const exhausted = (attempts: number) => policy.maximumRetryAttempts >= 0 && attempts > policy.maximumRetryAttempts;
  const discard = (run: PendingRun, count: number, condition: DiscardCondition) => {
    const discarded = run.records.slice(0, count);
    run.records = run.records.slice(count);
    counters.recordsDiscarded += discarded.length;
    hooks.discard(discarded, {
      condition,
      invokeCount: run.attempts,
      functionError: run.lastFailedByFunctionError,
    });
  };

  const work: PendingRun[] = [{ records, attempts: 0, lastFailedByFunctionError: false }];
  while (work.length > 0) {
    const run = work[0];
    if (!run || hooks.stopped()) return 'stopped';

    const expired = expiredPrefixLength(run.records, policy, hooks.nowMs());
    if (expired > 0) discard(run, expired, 'RecordAgeExceeded');
    if (run.records.length === 0) {
      work.shift();
      continue;
    }

    if (run.attempts > 0) {
      counters.retries++;
      await hooks.waitBeforeRetry(run.attempts);
      if (hooks.stopped()) return 'stopped';
    }
    run.attempts++;
    counters.invocations++;

    let outcome: ReturnType<typeof interpretBatchResponse>;
    let thrown = false;
    try {
      const response = await hooks.invoke({ Records: run.records });
      outcome = policy.reportBatchItemFailures
        ? interpretBatchResponse(response, run.records.map(sequenceNumberOf))
        : { kind: 'success' };
    } catch (error) {
      thrown = true;
      outcome = { kind: 'failure', reason: error instanceof Error ? error.message : String(error) };
    }

    if (outcome.kind === 'success') {
      counters.recordsSucceeded += run.records.length;
      work.shift();
      continue;
    }

    hooks.failed(outcome.kind === 'partial' ? `record ${outcome.failedIndex} reported failed` : outcome.reason, {
      records: run.records.length,
      attempt: run.attempts,
    });
    if (outcome.kind === 'partial') {
      counters.partialBatchFailures++;
      counters.recordsSucceeded += outcome.failedIndex;
      run.records = run.records.slice(outcome.failedIndex);
      run.lastFailedByFunctionError = false;
      if (exhausted(run.attempts)) {
        discard(run, run.records.length, 'RetryAttemptsExhausted');
        work.shift();
      }
      continue;
    }

    if (thrown) counters.functionErrors++;
    run.lastFailedByFunctionError = thrown;
    if (policy.bisectBatchOnFunctionError && run.records.length > 1) {
      const middle = Math.ceil(run.records.length / 2);
      counters.bisections++;
      work.splice(
        0,
        1,
        { records: run.records.slice(0, middle), attempts: 0, lastFailedByFunctionError: false },
        { records: run.records.slice(middle), attempts: 0, lastFailedByFunctionError: false },
      );
      continue;
    }
    if (exhausted(run.attempts)) {
      discard(run, run.records.length, 'RetryAttemptsExhausted');
      work.shift();
    }
  }
  return 'settled';
}
