import {
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ResourceNotFoundException,
  type _Record as StreamRecord,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';

/** GetRecords answers at most 1000 records per call. */
export const GET_RECORDS_LIMIT = 1000;

export type StartingPosition = 'LATEST' | 'TRIM_HORIZON';

/**
 * Reads one shard in order and keeps its place. The place is the last sequence number handed
 * out, so when an iterator dies (expired after 15 minutes unused, e.g. while a batch is retried
 * for that long) reading resumes right after it; if the records there have been trimmed, it
 * restarts at the oldest record still kept, as Lambda does.
 */
export class ShardReader {
  private iterator: string | undefined;
  private lastSequenceNumber: string | undefined;
  /** The shard is closed and every record in it has been read. */
  ended = false;

  constructor(
    private readonly client: DynamoDBStreamsClient,
    private readonly streamArn: string,
    readonly shardId: string,
    private readonly startingPosition: StartingPosition,
    private readonly log: (message: string, extra?: object) => void,
  ) {}

  private async freshIterator(signal: AbortSignal): Promise<string | undefined> {
    const position = this.lastSequenceNumber
      ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: this.lastSequenceNumber }
      : { ShardIteratorType: this.startingPosition };
    const answer = await this.client.send(
      new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: this.shardId, ...position }),
      { abortSignal: signal },
    );
    return answer.ShardIterator;
  }

  /**
   * Takes the starting position now. LATEST means "after what is in the shard when the mapping
   * starts", so it must be pinned before the mapping reports ready, not at the first poll.
   */
  async open(signal: AbortSignal): Promise<void> {
    this.iterator ??= await this.freshIterator(signal);
  }

  private isNew(record: StreamRecord): boolean {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    if (this.lastSequenceNumber === undefined || sequenceNumber === undefined) return true;
    return BigInt(sequenceNumber) > BigInt(this.lastSequenceNumber);
  }

  /** The next records, oldest first; an empty list when the reader is caught up. */
  async read(signal: AbortSignal, limit = GET_RECORDS_LIMIT): Promise<StreamRecord[]> {
    if (this.ended) return [];
    for (let attempt = 0; ; attempt++) {
      try {
        this.iterator ??= await this.freshIterator(signal);
        if (this.iterator === undefined) {
          this.ended = true;
          return [];
        }
        const answer = await this.client.send(new GetRecordsCommand({ ShardIterator: this.iterator, Limit: limit }), {
          abortSignal: signal,
        });
        // After a restart at TRIM_HORIZON, never hand out a record twice.
        const records = (answer.Records ?? []).filter((record) => this.isNew(record));
        const last = records[records.length - 1]?.dynamodb?.SequenceNumber;
        if (last !== undefined) this.lastSequenceNumber = last;
        this.iterator = answer.NextShardIterator;
        // No next iterator: the shard is closed and this was its end.
        if (this.iterator === undefined) this.ended = true;
        return records;
      } catch (error) {
        if (error instanceof ResourceNotFoundException) {
          // The shard aged out of the stream, or the table (and its stream) is gone.
          this.log('shard no longer exists; stopped reading it', { shardId: this.shardId, error: error.message });
          this.ended = true;
          return [];
        }
        if (attempt > 0) throw error;
        if (error instanceof ExpiredIteratorException) {
          this.iterator = undefined;
          continue;
        }
        if (error instanceof TrimmedDataAccessException) {
          // Real trimming (records older than 24 h) loses what was skipped; DynamoDB Local also
          // answers this for a position in a still-empty shard once another table's stream has
          // taken the next sequence number (see stream-pollers.ts), where nothing is lost.
          if (this.lastSequenceNumber !== undefined) {
            this.log('stream records were trimmed before they were read; continuing at the oldest record kept', {
              shardId: this.shardId,
              after: this.lastSequenceNumber,
            });
          }
          this.iterator = await this.client
            .send(
              new GetShardIteratorCommand({
                StreamArn: this.streamArn,
                ShardId: this.shardId,
                ShardIteratorType: 'TRIM_HORIZON',
              }),
              { abortSignal: signal },
            )
            .then((answer) => answer.ShardIterator);
          continue;
        }
        throw error;
      }
    }
  }
}
