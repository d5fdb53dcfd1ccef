/**
 * `npm run bench`: end-to-end latency, throughput, AWS requests per message, a cost model, history
 * paging and presence cost on the local stack, each beside a plain `ws` broadcast server measured
 * in the same run with the same client harness. Bounded by message counts, per-phase time budgets
 * and an overall deadline; rewrites docs/benchmarks.md and docs/images/latency.svg.
 *
 *   npm run bench -- --sizes 1,2,10,100 --messages 1:50,100:20 --budget 20 --no-write
 *   npm run bench -- --quick
 *
 * Flags: --sizes (room sizes), --messages and --window (`size:count` pairs; the count is the
 * maximum for the latency phase and again for the throughput phase), --budget (seconds per
 * phase), --warmup, --history (messages in the history room; 0 skips), --history-pages,
 * --scan-table (connections in the Scan comparison; 0 skips), --presence-size, --tuning-size,
 * --tuning-messages, --tuning-rounds, --post-cost-posts, --skip (baseline, presence, tuning,
 * history, scan, post-cost), --max-minutes, --out, --json, --no-write, --quick, --note, and
 * --from-json <file> to re-render the document and chart from saved results without measuring.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { operatorCredentials } from '../local/dynamodb.js';
import { describeLatency } from '../local/latency/cli.js';
import { repoRoot } from '../local/stack.js';
import { startBaselineServer } from './baseline-server.js';
import { runFlags, stackFlags, stackSettingsOf } from './lib/cli.js';
import { type CostBreakdown, costPerMillion, type MeasuredPerMessage } from './lib/cost-model.js';
import { type BenchSocket, ClientPool } from './lib/harness.js';
import { fillRoom, type HistoryResult, readHistory } from './lib/history.js';
import { formatJson, loadAverage, machineInfo } from './lib/machine.js';
import { measurePresence } from './lib/presence.js';
import { type BenchResults, renderReport, replaceGeneratedPart, type TuningVariant } from './lib/report.js';
import { compareScanWithQuery } from './lib/scan-comparison.js';
import { type RoomRun, runRoom } from './lib/scenario.js';
import { renderLogLogChart } from './lib/svg-chart.js';
import {
  type BenchPorts,
  findDynamoDbLocalPid,
  pickBenchPorts,
  type SwitchboardTarget,
  startSwitchboard,
} from './lib/switchboard-target.js';
import { perOperation } from './lib/usage.js';
import { measurePostCost } from './post-cost.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,2,10,100,500,1000' },
    messages: { type: 'string', default: '1:100,2:100,10:60,100:30,500:10,1000:6' },
    window: { type: 'string', default: '1:8,2:8,10:8,100:4,500:2,1000:2' },
    budget: { type: 'string', default: '25' },
    warmup: { type: 'string', default: '3' },
    history: { type: 'string', default: '10000' },
    'history-pages': { type: 'string', default: '200' },
    'scan-table': { type: 'string', default: '10000' },
    'presence-size': { type: 'string', default: '100' },
    'tuning-size': { type: 'string', default: '500' },
    'tuning-messages': { type: 'string', default: '5' },
    'tuning-rounds': { type: 'string', default: '2' },
    skip: { type: 'string', default: '' },
    'post-cost-posts': { type: 'string', default: '4000' },
    out: { type: 'string', default: 'docs/benchmarks.md' },
    json: { type: 'string', default: 'bench/results/bench-latest.json' },
    quick: { type: 'boolean', default: false },
    'from-json': { type: 'string' },
    ...runFlags('14'),
    ...stackFlags,
  },
});
const { templateParameters, latency } = stackSettingsOf(args);

if (args.quick) {
  Object.assign(args, {
    sizes: '1,2,10,50',
    messages: '1:20,2:20,10:15,50:8',
    window: '1:4,2:4,10:4,50:2',
    budget: '10',
    history: '1000',
    'history-pages': '20',
    'scan-table': '2000',
    'post-cost-posts': '1000',
    'presence-size': '10',
    'tuning-size': '50',
    'tuning-messages': '3',
    'tuning-rounds': '2',
  });
}

const perSize = (spec: string, fallback: number) => {
  const map = new Map(
    spec
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split(':').map(Number) as [number, number]),
  );
  return (size: number) => map.get(size) ?? fallback;
};

const sizes = (args.sizes ?? '')
  .split(',')
  .map(Number)
  .filter((size) => Number.isInteger(size) && size > 0);
const messagesFor = perSize(args.messages ?? '', 10);
const windowFor = perSize(args.window ?? '', 2);
const budgetMs = Number(args.budget) * 1000;
const warmup = Number(args.warmup);
const skip = new Set((args.skip ?? '').split(',').filter(Boolean));
const presenceSize = Number(args['presence-size']);
const presenceVisitors = 5;
const tuningSize = Number(args['tuning-size']);
const deadline = Date.now() + Number(args['max-minutes']) * 60_000;
const MESSAGE_TIMEOUT_MS = 90_000;

const started = performance.now();
const log = (text: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
const timeLeft = () => deadline - Date.now();
const userIdOf = (socket: BenchSocket) => `bench-u${socket.index}`;
let ports: BenchPorts | undefined;

async function main(): Promise<void> {
  const machine = machineInfo();
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    machine,
    note: args.note ?? '',
    options: {
      sizes,
      messages: Object.fromEntries(sizes.map((size) => [size, messagesFor(size)])),
      windows: Object.fromEntries(sizes.map((size) => [size, windowFor(size)])),
      budgetSeconds: budgetMs / 1000,
      warmup,
    },
    setup: { stackStartSeconds: 0, connectSeconds: 0, connections: 0, baselineConnectSeconds: 0 },
    rooms: [],
    skipped: [],
  };

  log(`machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadAtStart.toFixed(1)}`);
  ports = await pickBenchPorts();
  let clock = performance.now();
  const target = await startSwitchboard({ ports, parameters: templateParameters, latency });
  results.setup.stackStartSeconds = (performance.now() - clock) / 1000;
  results.parameters = {
    ConnectionPageSize: '1000',
    PostBatchSize: '100',
    POST_CONCURRENCY: '32',
    ...templateParameters,
  };
  results.latency = describeLatency(latency);
  log(`local stack up in ${results.setup.stackStartSeconds.toFixed(1)} s`);
  const baseline = await startBaselineServer({ port: 0 });
  const ours = new ClientPool({ urlFor: (index) => target.urlFor({ userId: `bench-u${index}`, room: `p${index}` }) });
  const floor = new ClientPool({ urlFor: (index) => `${baseline.url}/?userId=bench-u${index}&room=p${index}` });

  const cleanup = async () => {
    await Promise.allSettled([ours.close(), floor.close()]);
    await Promise.allSettled([target.close(), baseline.close()]);
  };
  process.once('SIGINT', () => {
    log('interrupted: closing');
    void cleanup().then(() => process.exit(130));
  });

  try {
    const needed = Math.max(
      ...sizes,
      skip.has('presence') ? 0 : presenceSize + presenceVisitors,
      skip.has('tuning') ? 0 : tuningSize,
    );
    clock = performance.now();
    await ours.connect(needed, 16, 120_000);
    results.setup.connectSeconds = (performance.now() - clock) / 1000;
    results.setup.connections = needed;
    log(`${needed} Switchboard connections in ${results.setup.connectSeconds.toFixed(1)} s`);
    await target.idle();
    if (!skip.has('baseline')) {
      clock = performance.now();
      await floor.connect(Math.max(...sizes), 32);
      results.setup.baselineConnectSeconds = (performance.now() - clock) / 1000;
    }

    for (const size of sizes) {
      if (timeLeft() < 60_000) {
        results.skipped.push(`room size ${size} (deadline)`);
        continue;
      }
      const room = `r${size}`;
      const members = ours.sockets.slice(0, size);
      await target.seedRoom(room, members, userIdOf);
      await target.idle();
      target.reset();
      const options = {
        room,
        latencyMessages: messagesFor(size),
        throughputMessages: messagesFor(size),
        window: windowFor(size),
        warmupMessages: warmup,
        timeoutMs: MESSAGE_TIMEOUT_MS,
        budgetMs,
        minMessages: 3,
      };
      const run = await runRoom(ours, members, { ...options, prefix: `sb${size}`, untilAnswered: true });
      await target.idle();
      const usage = perOperation(target.usage(), warmup + run.latencyMessages + run.throughputMessages);
      let base: RoomRun | undefined;
      if (!skip.has('baseline')) {
        const baseMembers = floor.sockets.slice(0, size);
        const joined = floor.waitForFrames((_s, frame) => frame.type === 'joined' && frame.room === room, size, 30_000);
        for (const member of baseMembers) member.ws.send(JSON.stringify({ action: 'joinRoom', room }));
        await joined;
        base = await runRoom(floor, baseMembers, { ...options, prefix: `ws${size}` });
      }
      results.rooms.push({ size, ours: run, usage, ...(base ? { baseline: base } : {}) });
      log(
        `room ${size}: p50 ${run.latency.p50.toFixed(1)} ms p99 ${run.latency.p99.toFixed(1)} ms, ` +
          `${run.deliveriesPerSecond.toFixed(0)} deliveries/s` +
          (base
            ? ` | ws p50 ${base.latency.p50.toFixed(2)} ms, ${base.deliveriesPerSecond.toFixed(0)} deliveries/s`
            : ''),
      );
    }

    if (!skip.has('presence') && timeLeft() > 60_000) {
      const room = `presence${presenceSize}`;
      const members = ours.sockets.slice(0, presenceSize);
      await target.seedRoom(room, members, userIdOf);
      const visitors = ours.sockets.slice(presenceSize, presenceSize + presenceVisitors);
      results.presence = await measurePresence(target, ours, room, members, visitors, userIdOf, 60_000);
      log(`presence in a room of ${presenceSize}: ${results.presence.perJoin.postToConnection.toFixed(0)} posts/join`);
    } else if (!skip.has('presence')) results.skipped.push('presence (deadline)');

    if (!skip.has('tuning') && timeLeft() > 120_000) {
      results.tuning = await runTuning(target, ours);
    } else if (!skip.has('tuning')) results.skipped.push('before/after tuning (deadline)');

    const history = Number(args.history);
    if (!skip.has('history') && history > 0 && timeLeft() > 60_000) {
      const room = 'history-bench';
      const writeSeconds = await fillRoom(
        target.seedClient,
        target.stack.tableNames.MessagesTable ?? '',
        room,
        history,
      );
      log(`${history} history messages written in ${writeSeconds.toFixed(1)} s`);
      const read = await readHistory(target.stack.urls.rest, room, 50, Number(args['history-pages']), 30);
      results.history = { ...read, messages: history, writeSeconds } satisfies HistoryResult;
      log(`history pages: p50 ${read.pageMs.p50.toFixed(1)} ms, p99 ${read.pageMs.p99.toFixed(1)} ms`);
    } else if (!skip.has('history')) results.skipped.push('history (deadline)');

    const scanItems = Number(args['scan-table']);
    if (!skip.has('scan') && scanItems > 0 && timeLeft() > 60_000) {
      const raw = new DynamoDBClient({
        endpoint: target.stack.urls.dynamoDb,
        region: 'us-east-1',
        credentials: operatorCredentials,
      });
      try {
        results.scan = await compareScanWithQuery({
          raw,
          client: target.seedClient,
          connectionsTable: target.stack.tableNames.ConnectionsTable ?? '',
          subscriptionsTable: target.stack.tableNames.SubscriptionsTable ?? '',
          sampleConnectionId: ours.sockets[0]?.connectionId ?? '',
          tableItems: scanItems,
          scans: 5,
          queries: 20,
          rooms: results.rooms.slice(-3).map((room) => ({ room: `r${room.size}`, size: room.size })),
        });
        log(`Scan of ${scanItems} connections: p50 ${results.scan.scanMs.p50.toFixed(0)} ms`);
      } finally {
        raw.destroy();
      }
    } else if (!skip.has('scan')) results.skipped.push('scan comparison (deadline)');
  } finally {
    log('closing');
    await cleanup();
  }

  const postCostPosts = Number(args['post-cost-posts']);
  if (!skip.has('post-cost') && postCostPosts > 0 && timeLeft() > 30_000) {
    results.postCost = await measurePostCost(
      postCostPosts,
      ['http', 'signed', 'poster', 'sdk', 'sdk+cache', 'sdk+xray', 'sdk+tracing'],
      3,
    );
    log(
      `postToConnection CPU: ${results.postCost.map((r) => `${r.variant} ${r.cpuMicrosPerPost.toFixed(0)} µs`).join(', ')}`,
    );
  } else if (!skip.has('post-cost')) results.skipped.push('postToConnection cost (deadline)');

  results.costs = costTable(results);
  results.costsAtOldPostMemory = costTable(results, PREVIOUS_POST_MEMORY_MB);
  results.machine.loadAtEnd = loadAverage();
  results.finishedAt = new Date().toISOString();
  results.durationSeconds = (performance.now() - started) / 1000;
  printSummary(results);
  if (!args['no-write']) await writeOutputs(results);
  log(`done in ${(results.durationSeconds / 60).toFixed(1)} min`);
}

/**
 * Before/after: the same room under different fan-out settings, on the same open sockets. Rounds
 * alternate the order (A…E, E…A) so that a slow spell on a shared machine hits every setting.
 */
async function runTuning(target: SwitchboardTarget, pool: ClientPool): Promise<BenchResults['tuning']> {
  const size = tuningSize;
  const room = `tune${size}`;
  const members = pool.sockets.slice(0, size);
  await target.seedRoom(room, members, userIdOf);
  const settings: Array<{ name: string; parameters: Record<string, string>; postConcurrency: string }> = [
    { name: 'defaults', parameters: {}, postConcurrency: '32' },
    { name: 'PostBatchSize 25', parameters: { PostBatchSize: '25' }, postConcurrency: '32' },
    { name: 'ConnectionPageSize 100', parameters: { ConnectionPageSize: '100' }, postConcurrency: '32' },
    { name: 'POST_CONCURRENCY 8', parameters: {}, postConcurrency: '8' },
    { name: 'POST_CONCURRENCY 64', parameters: {}, postConcurrency: '64' },
  ];
  const measured: TuningVariant[] = settings.map((setting) => ({ ...setting, rounds: [] }));
  const rounds = Number(args['tuning-rounds']);
  const messages = Number(args['tuning-messages']);
  let current = '{}';
  let sequence = 0;
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [...measured.keys()] : [...measured.keys()].reverse();
    for (const index of order) {
      const variant = measured[index] as TuningVariant;
      if (timeLeft() < 60_000) break;
      if (JSON.stringify(variant.parameters) !== current) {
        await target.reconfigureFanOut(variant.parameters);
        current = JSON.stringify(variant.parameters);
      }
      // Lambda's UpdateFunctionConfiguration: the function's environments are replaced with the new value.
      target.stack.functions.updateFunctionConfiguration('PostToConnectionsFunction', {
        environment: { POST_CONCURRENCY: variant.postConcurrency },
      });
      await target.idle();
      target.reset();
      const run = await runRoom(pool, members, {
        prefix: `tune${sequence++}`,
        room,
        latencyMessages: messages,
        throughputMessages: messages,
        window: 2,
        warmupMessages: 1,
        timeoutMs: MESSAGE_TIMEOUT_MS,
        budgetMs,
        minMessages: 3,
      });
      await target.idle();
      const usage = perOperation(target.usage(), 1 + run.latencyMessages + run.throughputMessages);
      variant.rounds.push({ run, usage });
      log(
        `tuning round ${round + 1} ${variant.name}: p50 ${run.latency.p50.toFixed(0)} ms, ` +
          `${run.deliveriesPerSecond.toFixed(0)} deliveries/s`,
      );
    }
  }
  target.stack.functions.updateFunctionConfiguration('PostToConnectionsFunction', {
    environment: { POST_CONCURRENCY: '32' },
  });
  if (current !== '{}') await target.reconfigureFanOut({});
  return { roomSize: size, variants: measured.filter((variant) => variant.rounds.length > 0) };
}

/** PostToConnectionsFunction's MemorySize before it became one full vCPU, priced for the before/after. */
const PREVIOUS_POST_MEMORY_MB = 512;

/** The per-message inputs of the cost model, for the room sizes the report prices. */
function costTable(results: BenchResults, postMemoryMb?: number): CostBreakdown[] {
  const priced: CostBreakdown[] = [];
  // The handlers post through connections-poster.ts; older results only have the SDK client, traced.
  const tracedPost =
    results.postCost?.find((cost) => cost.variant === 'poster') ??
    results.postCost?.find((cost) => cost.variant === 'sdk+tracing');
  for (const size of [2, 100, 1000]) {
    const room = results.rooms.find((candidate) => candidate.size === size);
    if (!room) continue;
    const usage = room.usage;
    const lambda = (name: string) => usage.lambda[name] ?? 0;
    const all = Object.values(usage.lambda).reduce((sum, count) => sum + count, 0);
    const measured: MeasuredPerMessage = {
      roomSize: size,
      posts: usage.postToConnection,
      senderFrames: 2,
      actionsInvocations: lambda('WebSocketActionsFunction'),
      directPosts: usage.directPosts ?? 0,
      postInvocations: lambda('PostToConnectionsFunction'),
      otherInvocations: all - lambda('WebSocketActionsFunction') - lambda('PostToConnectionsFunction'),
      executions: usage.startExecutions,
      queryPages: usage.queryPages,
      eventEntries: usage.eventEntries,
      writeUnits: usage.writeUnits,
      readUnits: usage.readUnits,
      postConcurrency: 32,
      // Production traces PostToConnectionsFunction (Tracing: Active), so the traced figure applies.
      ...(tracedPost ? { postCpuMicros: tracedPost.cpuMicrosPerPost } : {}),
      ...(postMemoryMb ? { postMemoryMb } : {}),
    };
    priced.push(costPerMillion(measured));
  }
  return priced;
}

function printSummary(results: BenchResults): void {
  console.log('\nroom  ours p50/p99 ms     ws p50/p99 ms    ours deliv/s   ws deliv/s   posts/msg  queries/msg');
  for (const room of results.rooms) {
    const base = room.baseline;
    console.log(
      [
        String(room.size).padStart(4),
        `${room.ours.latency.p50.toFixed(1)}/${room.ours.latency.p99.toFixed(1)}`.padStart(18),
        (base ? `${base.latency.p50.toFixed(2)}/${base.latency.p99.toFixed(2)}` : '–').padStart(16),
        room.ours.deliveriesPerSecond.toFixed(0).padStart(14),
        (base ? base.deliveriesPerSecond.toFixed(0) : '–').padStart(12),
        room.usage.postToConnection.toFixed(2).padStart(10),
        room.usage.queryPages.toFixed(2).padStart(12),
      ].join(' '),
    );
  }
  for (const cost of results.costs ?? []) {
    console.log(`cost at room size ${cost.roomSize}: $${cost.totalPerMillion.toFixed(2)} per million messages`);
  }
  if (results.skipped.length > 0) console.log(`skipped: ${results.skipped.join(', ')}`);
}

async function writeOutputs(results: BenchResults): Promise<void> {
  const outPath = resolve(repoRoot, args.out ?? 'docs/benchmarks.md');
  const chartPath = resolve(dirname(outPath), 'images/latency.svg');
  const jsonPath = resolve(repoRoot, args.json ?? 'bench/results/bench-latest.json');
  const series = (pick: (room: BenchResults['rooms'][number]) => RoomRun | undefined, stat: 'p50' | 'p99') =>
    results.rooms.flatMap((room) => {
      const run = pick(room);
      return run ? [{ x: room.size, y: run.latency[stat] }] : [];
    });
  const chart = renderLogLogChart(
    [
      { name: 'Switchboard p50', color: '#2563eb', points: series((room) => room.ours, 'p50') },
      { name: 'Switchboard p99', color: '#2563eb', dashed: true, points: series((room) => room.ours, 'p99') },
      { name: 'ws baseline p50', color: '#dc2626', points: series((room) => room.baseline, 'p50') },
      { name: 'ws baseline p99', color: '#dc2626', dashed: true, points: series((room) => room.baseline, 'p99') },
    ],
    {
      title: `End-to-end latency vs room size (${results.startedAt.slice(0, 10)}, local stack)`,
      xLabel: 'members in the room (log)',
      yLabel: 'send → receipt at every member, ms (log)',
    },
  );
  await mkdir(dirname(chartPath), { recursive: true });
  await mkdir(dirname(jsonPath), { recursive: true });
  await writeFile(chartPath, chart);
  await writeFile(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  formatJson(jsonPath, repoRoot);
  const previous = await readFile(outPath, 'utf8').catch(() => '');
  await writeFile(outPath, replaceGeneratedPart(previous, renderReport(results)));
  log(`wrote ${outPath}, ${chartPath} and ${jsonPath}`);
}

const hardStop = setTimeout(
  () => {
    console.error('bench: overall deadline passed by 3 minutes; exiting');
    // The DynamoDB Local JVM is a child that would outlive us.
    const pid = ports ? findDynamoDbLocalPid(ports.dynamoDb) : undefined;
    if (pid) process.kill(pid, 'SIGTERM');
    process.exit(2);
  },
  Number(args['max-minutes']) * 60_000 + 180_000,
);
hardStop.unref();

/** Re-renders the document and chart from saved results, measuring nothing. */
async function renderOnly(path: string): Promise<void> {
  const results = JSON.parse(await readFile(resolve(repoRoot, path), 'utf8')) as BenchResults;
  await writeOutputs(results);
}

(args['from-json'] ? renderOnly(args['from-json']) : main()).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
