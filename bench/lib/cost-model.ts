/**
 * AWS list prices (us-east-1, on-demand, first tier) used by the cost model, checked against the
 * pricing pages in November 2026: aws.amazon.com/api-gateway/pricing, /lambda/pricing,
 * /step-functions/pricing, /eventbridge/pricing, /dynamodb/pricing/on-demand.
 */
export const PRICES = {
  /** API Gateway WebSocket: per message sent or received, metered in 32 KB units. */
  apiGatewayMessage: 1.0 / 1e6,
  apiGatewayConnectionMinute: 0.25 / 1e6,
  lambdaRequest: 0.2 / 1e6,
  /** Lambda arm64, per GB-second. */
  lambdaGbSecond: 0.0000133334,
  stepFunctionsExpressRequest: 1.0 / 1e6,
  /** Express duration: $0.06 per GB-hour (first 1,000 GB-hours), billed in 64 MB and 100 ms units. */
  stepFunctionsExpressGbSecond: 0.00001667,
  /** Custom events, per 64 KB chunk. */
  eventBridgeEvent: 1.0 / 1e6,
  dynamoDbWriteUnit: 0.625 / 1e6,
  dynamoDbReadUnit: 0.125 / 1e6,
} as const;

/** What we cannot measure locally and therefore assume, stated in the report. */
export const ASSUMPTIONS = {
  /**
   * WebSocketActionsFunction: validate, rate-limit, TransactWrite, then PutEvents or (small rooms) the
   * direct posts. Its MemorySize in api/template.yaml (a test keeps the two equal).
   */
  actionsMs: 30,
  actionsMemoryMb: 1024,
  /** PostToConnectionsFunction: fixed part, plus one round trip per `concurrency` posts. */
  postFixedMs: 20,
  postRoundTripMs: 15,
  /** Its MemorySize in workflows/template.yaml (a test keeps the two equal): one full vCPU. */
  postMemoryMb: 1769,
  /** Lambda gives one vCPU at 1,769 MB, proportionally less below. */
  oneVcpuMemoryMb: 1769,
  /** CPU per post when none was measured (bench/post-cost.ts measures it). */
  postCpuMicros: 900,
  /** Express executions of this machine stay under 64 MB (50 MB + definition + small payloads). */
  expressMemoryMb: 64,
  /** One Query page inside AWS. */
  queryMs: 10,
  /** Map state MaxConcurrency of the PostBatches Map in message-distribution.asl.json. */
  postMapConcurrency: 10,
  expressOverheadMs: 20,
  /** Any other function on the path (the Messages stream consumer): short, at 256 MB. */
  otherMs: 20,
  otherMemoryMb: 256,
} as const;

/** Per-message quantities, measured on the local stack for one room size. */
export interface MeasuredPerMessage {
  roomSize: number;
  /** postToConnection calls (one per member). */
  posts: number;
  /** Frames the sender sent and received besides the fan-out: the sendMessage frame and its ack. */
  senderFrames: number;
  actionsInvocations: number;
  /**
   * Of `posts`, those WebSocketActionsFunction made itself (the direct path): they lengthen its
   * invocation, which is billed at its memory. Default 0 (every post from PostToConnectionsFunction).
   */
  directPosts?: number;
  postInvocations: number;
  /** Invocations of other functions per message (e.g. the Messages stream consumer's batches). */
  otherInvocations: number;
  executions: number;
  queryPages: number;
  eventEntries: number;
  writeUnits: number;
  readUnits: number;
  postConcurrency: number;
  /** Client CPU per postToConnection, µs (measured by bench/post-cost.ts, traced as on Lambda). */
  postCpuMicros?: number;
  /** PostToConnectionsFunction's memory, MB (default ASSUMPTIONS.postMemoryMb), to price other settings. */
  postMemoryMb?: number;
}

export interface CostLine {
  item: string;
  /** How the quantity was obtained, for the step-by-step table. */
  quantity: string;
  /** Dollars per million messages. */
  perMillion: number;
}

export interface CostBreakdown {
  roomSize: number;
  lines: CostLine[];
  totalPerMillion: number;
  /** WebSocketActionsFunction's assumed duration per invocation, the direct posts included. */
  actionsMs: number;
  /** PostToConnectionsFunction's assumed duration per batch and memory, and the billed Express duration. */
  postBatchMs: number;
  postMemoryMb: number;
  expressBilledMs: number;
}

const roundUp = (value: number, unit: number) => Math.ceil(value / unit - 1e-9) * unit;

/**
 * Assumed PostToConnectionsFunction duration for a batch of `batch` connections: the longer of the
 * network-bound time (round trips of `concurrency` posts) and the CPU-bound time (the posts' CPU
 * on the fraction of a vCPU that `memoryMb` buys).
 */
export function postInvocationMs(
  batch: number,
  concurrency: number,
  cpuMicrosPerPost: number = ASSUMPTIONS.postCpuMicros,
  memoryMb: number = ASSUMPTIONS.postMemoryMb,
): number {
  const network = Math.ceil(batch / Math.max(1, concurrency)) * ASSUMPTIONS.postRoundTripMs;
  const cpu = (batch * cpuMicrosPerPost) / 1000 / Math.min(1, memoryMb / ASSUMPTIONS.oneVcpuMemoryMb);
  return Math.round(ASSUMPTIONS.postFixedMs + Math.max(network, cpu));
}

/** Assumed billed Express duration in ms (100 ms units) for one message. */
export function expressBilledMs(measured: MeasuredPerMessage): number {
  const batch = measured.postInvocations > 0 ? measured.posts / measured.postInvocations : 0;
  const waves = Math.ceil(measured.postInvocations / ASSUMPTIONS.postMapConcurrency);
  const raw =
    ASSUMPTIONS.expressOverheadMs +
    measured.queryPages * ASSUMPTIONS.queryMs +
    waves * postInvocationMs(batch, measured.postConcurrency, measured.postCpuMicros, measured.postMemoryMb);
  return roundUp(Math.max(raw, 1), 100);
}

/**
 * Assumed WebSocketActionsFunction duration per invocation: its fixed part, plus the direct path's
 * posts timed as a PostToConnectionsFunction batch of that size would be at the actions function's
 * memory (network round trips or CPU, whichever is longer), less that batch's own fixed part.
 */
export function actionsInvocationMs(measured: MeasuredPerMessage): number {
  const perInvocation = measured.actionsInvocations > 0 ? (measured.directPosts ?? 0) / measured.actionsInvocations : 0;
  if (perInvocation <= 0) return ASSUMPTIONS.actionsMs;
  const posting =
    postInvocationMs(perInvocation, measured.postConcurrency, measured.postCpuMicros, ASSUMPTIONS.actionsMemoryMb) -
    ASSUMPTIONS.postFixedMs;
  return ASSUMPTIONS.actionsMs + posting;
}

/** Dollars per million messages, line by line, from per-message counts. */
export function costPerMillion(measured: MeasuredPerMessage): CostBreakdown {
  const million = 1e6;
  const batch = measured.postInvocations > 0 ? measured.posts / measured.postInvocations : 0;
  const postMemoryMb = measured.postMemoryMb ?? ASSUMPTIONS.postMemoryMb;
  const postMs = postInvocationMs(batch, measured.postConcurrency, measured.postCpuMicros, postMemoryMb);
  const expressMs = expressBilledMs(measured);
  const apiMessages = measured.posts + measured.senderFrames;
  const actionsMs = actionsInvocationMs(measured);
  const actionsGbS = (actionsMs / 1000) * (ASSUMPTIONS.actionsMemoryMb / 1024);
  const postGbS = (postMs / 1000) * (postMemoryMb / 1024);
  const otherGbS = (ASSUMPTIONS.otherMs / 1000) * (ASSUMPTIONS.otherMemoryMb / 1024);
  const invocations = measured.actionsInvocations + measured.postInvocations + measured.otherInvocations;
  const lambdaGbS =
    measured.actionsInvocations * actionsGbS +
    measured.postInvocations * postGbS +
    measured.otherInvocations * otherGbS;
  const expressGbS = (expressMs / 1000) * (ASSUMPTIONS.expressMemoryMb / 1024);
  const lines: CostLine[] = [
    {
      item: 'API Gateway messages',
      quantity: `${fmtQ(apiMessages)} msgs (${fmtQ(measured.posts)} posts + ${measured.senderFrames} in/ack) × $1.00/M`,
      perMillion: apiMessages * PRICES.apiGatewayMessage * million,
    },
    {
      item: 'Lambda requests',
      quantity: `${fmtQ(invocations)} invocations × $0.20/M`,
      perMillion: invocations * PRICES.lambdaRequest * million,
    },
    {
      item: 'Lambda duration',
      quantity:
        `${fmtQ(measured.actionsInvocations)} × ${actionsMs} ms × ${fmtQ(ASSUMPTIONS.actionsMemoryMb / 1024, 3)} GB + ` +
        `${fmtQ(measured.postInvocations)} × ${postMs} ms × ${fmtQ(postMemoryMb / 1024, 3)} GB + ` +
        `${fmtQ(measured.otherInvocations)} × ${ASSUMPTIONS.otherMs} ms × 0.25 GB = ` +
        `${fmtQ(lambdaGbS, 5)} GB-s × $0.0000133334`,
      perMillion: lambdaGbS * PRICES.lambdaGbSecond * million,
    },
    {
      item: 'Step Functions Express requests',
      quantity: `${fmtQ(measured.executions)} executions × $1.00/M`,
      perMillion: measured.executions * PRICES.stepFunctionsExpressRequest * million,
    },
    {
      item: 'Step Functions Express duration',
      quantity: `${fmtQ(measured.executions)} × ${expressMs} ms × 0.0625 GB = ${fmtQ(measured.executions * expressGbS, 5)} GB-s × $0.00001667`,
      perMillion: measured.executions * expressGbS * PRICES.stepFunctionsExpressGbSecond * million,
    },
    {
      item: 'EventBridge events',
      quantity: `${fmtQ(measured.eventEntries)} events × $1.00/M`,
      perMillion: measured.eventEntries * PRICES.eventBridgeEvent * million,
    },
    {
      item: 'DynamoDB writes',
      quantity: `${fmtQ(measured.writeUnits)} WRU × $0.625/M`,
      perMillion: measured.writeUnits * PRICES.dynamoDbWriteUnit * million,
    },
    {
      item: 'DynamoDB reads',
      quantity: `${fmtQ(measured.readUnits)} RRU × $0.125/M`,
      perMillion: measured.readUnits * PRICES.dynamoDbReadUnit * million,
    },
  ];
  return {
    roomSize: measured.roomSize,
    lines,
    totalPerMillion: lines.reduce((sum, line) => sum + line.perMillion, 0),
    actionsMs,
    postBatchMs: postMs,
    postMemoryMb,
    expressBilledMs: expressMs,
  };
}

/**
 * Read units of one eventually consistent Scan over `tableBytes`: DynamoDB charges per 4 KB read,
 * half a unit each, rounded up per 1 MB page.
 */
export function scanReadUnits(tableBytes: number): number {
  const page = 1024 * 1024;
  let units = 0;
  for (let left = tableBytes; left > 0; left -= page) units += Math.ceil(Math.min(left, page) / 4096) * 0.5;
  return units;
}

/** An item's size as DynamoDB bills it: attribute names plus values (numbers approximated). */
export function itemSizeBytes(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace(/[.-]/g, '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null || value === undefined) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, entry) => sum + 1 + valueSize(entry), 0);
  if (typeof value === 'object') {
    return 3 + itemSizeBytes(value as Record<string, unknown>) + Object.keys(value as object).length;
  }
  return 0;
}

function fmtQ(value: number, digits = 2): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toFixed(digits);
}
