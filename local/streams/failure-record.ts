import { randomUUID } from 'node:crypto';
import type { DynamoDBRecord } from 'aws-lambda';

/** Why Lambda gave up on a batch. */
export type DiscardCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/**
 * The invocation record Lambda sends to a stream mapping's on-failure destination. It names the
 * discarded records by shard and sequence range only; the records themselves stay in the stream.
 */
export interface StreamFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: DiscardCondition;
    approximateInvokeCount: number;
  };
  responseContext?: { statusCode: number; executedVersion: string; functionError?: string };
  version: '1.0';
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

/** Lambda prints arrival times to the second, without milliseconds. */
function arrivalTime(record: DynamoDBRecord | undefined): string {
  const seconds = record?.dynamodb?.ApproximateCreationDateTime ?? 0;
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Builds the invocation record for a discarded, non-empty run of one shard's records. */
export function failureRecord(input: {
  functionArn: string;
  condition: DiscardCondition;
  invokeCount: number;
  /** Whether the last attempt ended in a function error (rather than reported item failures). */
  functionError: boolean;
  records: DynamoDBRecord[];
  shardId: string;
  streamArn: string;
  now: Date;
}): StreamFailureRecord {
  const first = input.records[0];
  const last = input.records[input.records.length - 1];
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: input.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.invokeCount,
    },
    ...(input.invokeCount > 0
      ? {
          responseContext: {
            statusCode: 200,
            executedVersion: '$LATEST',
            ...(input.functionError ? { functionError: 'Unhandled' } : {}),
          },
        }
      : {}),
    version: '1.0',
    timestamp: input.now.toISOString(),
    DDBStreamBatchInfo: {
      shardId: input.shardId,
      startSequenceNumber: first?.dynamodb?.SequenceNumber ?? '',
      endSequenceNumber: last?.dynamodb?.SequenceNumber ?? '',
      approximateArrivalOfFirstRecord: arrivalTime(first),
      approximateArrivalOfLastRecord: arrivalTime(last),
      batchSize: input.records.length,
      streamArn: input.streamArn,
    },
  };
}
