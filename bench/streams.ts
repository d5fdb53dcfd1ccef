/**
 * Stream → client benchmark (seed 003 dashboards): writes to the Metrics table, measures the
 * time until each write reaches a subscribed socket as part of a METRICS_UPDATE, and the records
 * per second through the stream processor. Runs at the template's batching window and with none,
 * and writes its section of docs/benchmarks.md. Bounded: a fixed record count per phase, and a
 * timeout per phase.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import WebSocket from 'ws';
import { freePort } from '../local/free-port.js';
import { startLocalStack } from '../local/stack.js';
import { loadAverage, machineInfo } from './lib/machine.js';
import { replaceSection } from './lib/report.js';
import { fmt, summarize } from './lib/stats.js';

const START = '<!-- streams:start — `npm run bench:streams` rewrites everything down to streams:end -->';
const END = '<!-- streams:end -->';

const { values: flags } = parseArgs({
  options: {
    records: { type: 'string', default: '500' },
    'timeout-s': { type: 'string', default: '120' },
    'no-write': { type: 'boolean', default: false },
  },
});
const records = Number(flags.records);

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

interface PhaseResult {
  window: number;
  latency: ReturnType<typeof summarize>;
  /** Write → the batch holding the record handed to the function: DynamoDB Local's stream and the poller. */
  toFunction: ReturnType<typeof summarize>;
  /** How long each invocation of the function ran. */
  invocation: ReturnType<typeof summarize>;
  recordsPerSecond: number;
  frames: number;
}

// The handlers run in this process and keep the AWS clients they built for the first stack, as a
// Lambda container would: every phase reuses the same ports.
const ports = {
  restPort: await freePort(),
  webSocketPort: await freePort(),
  eventBridgePort: await freePort(),
  stepFunctionsPort: await freePort(),
  dynamoDbPort: await freePort(),
};

async function phase(windowSeconds: number): Promise<PhaseResult> {
  const stack = await startLocalStack({
    ...ports,
    parameters: { LogLevel: 'ERROR', StreamBatchingWindowSeconds: String(windowSeconds) },
  });
  try {
    const socket = new WebSocket(`${stack.urls.webSocket}/?userId=dashboard&room=ops`);
    const sentAt = new Map<string, number>();
    // Splits the latency in two: until the event source mapping hands a record to the function,
    // and the function's run. The stack's mappings call the runtime's invoke, wrapped here.
    const metricsTable = stack.tableNames.MetricsTable as string;
    const metricsFunction = stack.model.streamMappings.find(
      (mapping) => mapping.tableName === metricsTable,
    )?.functionName;
    const toFunction: number[] = [];
    const invocations: number[] = [];
    const handed = new Set<string>();
    const invoke = stack.functions.invoke.bind(stack.functions);
    stack.functions.invoke = async (name, event, invokeOptions) => {
      if (name !== metricsFunction) return invoke(name, event, invokeOptions);
      const at = performance.now();
      let measured = false;
      for (const record of (event as DynamoDBStreamEvent).Records ?? []) {
        const id = record.dynamodb?.NewImage?.entity_id?.S;
        const started = id === undefined ? undefined : sentAt.get(id);
        if (id === undefined || started === undefined) continue;
        measured = true;
        if (handed.has(id)) continue;
        handed.add(id);
        toFunction.push(at - started);
      }
      try {
        return await invoke(name, event, invokeOptions);
      } finally {
        if (measured) invocations.push(performance.now() - at);
      }
    };
    const latencies: number[] = [];
    let frames = 0;
    let lastAt = 0;
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${latencies.length}/${records} records arrived`)),
        Number(flags['timeout-s']) * 1000,
      );
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; updates?: Array<{ data: { entity_id: string } }> };
        if (frame.type !== 'METRICS_UPDATE') return;
        frames++;
        const now = performance.now();
        for (const update of frame.updates ?? []) {
          const started = sentAt.get(update.data.entity_id);
          if (started === undefined) continue;
          sentAt.delete(update.data.entity_id);
          latencies.push(now - started);
          lastAt = now;
        }
        if (latencies.length === records) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ action: 'subscribe', entity_type: 'stream' }));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Warm-up: one record end to end, so the handler's cold start is not in the numbers.
    const warm = new Promise<void>((resolve) =>
      socket.on('message', (data) => {
        if (String(data).includes('"warm-up"')) resolve();
      }),
    );
    await stack.dynamoDb.client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [stack.tableNames.MetricsTable as string]: [
            {
              PutRequest: {
                Item: {
                  entity_id: { S: 'warm-up' },
                  entity_type: { S: 'stream' },
                  metric_value: { N: '0' },
                  timestamp: { S: new Date().toISOString() },
                },
              },
            },
          ],
        },
      }),
    );
    await warm;
    frames = 0;

    // Batches of 25 (BatchWriteItem's limit), back to back, as a busy metrics pipeline would write.
    const firstAt = performance.now();
    for (let start = 0; start < records; start += 25) {
      const items = Array.from({ length: Math.min(25, records - start) }, (_, offset) => {
        const id = `stream-${String(start + offset).padStart(5, '0')}`;
        return {
          PutRequest: {
            Item: {
              entity_id: { S: id },
              entity_type: { S: 'stream' },
              metric_value: { N: String(start + offset) },
              timestamp: { S: new Date().toISOString() },
            },
          },
        };
      });
      for (const item of items) sentAt.set(item.PutRequest.Item.entity_id.S, performance.now());
      await stack.dynamoDb.client.send(
        new BatchWriteItemCommand({ RequestItems: { [stack.tableNames.MetricsTable as string]: items } }),
      );
    }
    await done;
    // The last invocation returns after its frame went out: let it finish before counting.
    await stack.streams.idle();
    socket.close();
    return {
      window: windowSeconds,
      latency: summarize(latencies),
      toFunction: summarize(toFunction),
      invocation: summarize(invocations),
      recordsPerSecond: records / ((lastAt - firstAt) / 1000),
      frames,
    };
  } finally {
    await stack.close();
  }
}

const started = Date.now();
const loadBefore = loadAverage();
const results = [await phase(0), await phase(5)];
const machine = machineInfo();
const rows = results
  .map(
    (r) =>
      `| ${r.window} s | ${records} | ${fmt(r.latency.p50)} / ${fmt(r.latency.p95)} / ${fmt(r.latency.p99)} | ${fmt(r.toFunction.p50)} / ${fmt(r.toFunction.p95)} | ${fmt(r.invocation.mean)} (${r.invocation.count}) | ${fmt(r.recordsPerSecond)} | ${r.frames} |`,
  )
  .join('\n');
const body = `## Stream → client (seed 003 dashboards)

_\`npm run bench:streams\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${((Date.now() - started) / 60000).toFixed(1)} min, on ${machine.cpu} × ${machine.cores}, load average ${loadBefore.toFixed(1)} → ${loadAverage().toFixed(1)}._

One dashboard socket subscribed to \`entity_type: stream\`; ${records} Metrics items written with BatchWriteItem (25 per call, back to back). Latency is write → the METRICS_UPDATE frame carrying that item, through DynamoDB Local's stream, the local event source mapping (BatchSize 100, polling 4×/s like Lambda), MetricsStreamFunction and postToConnection. Records/s is records ÷ (first write → last update). Write → function is the part spent in DynamoDB Local's stream and the event source mapping (including the batching window, and waiting for the shard's previous invocation); function ms is MetricsStreamFunction's mean run per invocation, which includes postToConnection. A shard has one invocation at a time, as in Lambda, so when a batch takes longer to process than the next takes to arrive, the next waits for it.

| batching window | records | latency p50 / p95 / p99 ms | write → function p50 / p95 ms | function ms per invocation (invocations) | records/s | METRICS_UPDATE frames |
| --- | --- | --- | --- | --- | --- | --- |
${rows}

The window trades latency for fewer, larger frames: seed 003's 5 s window holds each record up to 5 s so one frame carries up to 100 updates. For a live dashboard, set \`StreamBatchingWindowSeconds=0\`.`;
if (!flags['no-write']) {
  const path = new URL('../docs/benchmarks.md', import.meta.url);
  await writeFile(path, replaceSection(await readFile(path, 'utf8'), START, END, body));
}
console.log(body);
process.exit(0);
