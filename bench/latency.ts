/**
 * `npm run bench:latency`: send → receive latency of both delivery paths (the direct path, default
 * DirectFanoutMaxMembers=100, and everything through EventBridge + Express, =0), with and without the
 * AWS latency model (`--latency aws`), per room size and for direct messages, beside the `ws` floor
 * measured in the same run with the same harness; plus cost per million messages for both paths and
 * the latency model's own floor per path. One stack and one set of sockets serve all six
 * configurations: the path is WebSocketActionsFunction's DIRECT_FANOUT_MAX_MEMBERS (changed as
 * UpdateFunctionConfiguration would) and the model is switched on and off, so the configurations
 * differ in nothing else. Rounds alternate the order of the configurations, so a slow spell on a
 * shared machine does not land on one of them only. The model runs twice: topping each hop up to its
 * draw (`aws`, what `--latency aws` does) and, as the baseline, adding the whole draw (`aws-additive`).
 *
 *   npm run bench:latency
 *   npm run bench:latency -- --sizes 2,10,100 --rounds 1 --no-write
 *
 * Rewrites the `latency` section of docs/benchmarks.md and bench/results/latency-latest.json.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AWS_HOPS, type Hop, type HopStats, LatencyModel, parseColdStartRate } from '../local/latency/model.js';
import { repoRoot } from '../local/stack.js';
import { startBaselineServer } from './baseline-server.js';
import { latencyModelFlags, runFlags } from './lib/cli.js';
import { type CostBreakdown, costPerMillion } from './lib/cost-model.js';
import { type BenchSocket, ClientPool } from './lib/harness.js';
import { DIRECT_DM, DIRECT_ROOM, modelFloor, STATE_MACHINE_ROOM } from './lib/latency-floor.js';
import { formatJson, loadAverage, type MachineInfo, machineInfo } from './lib/machine.js';
import { replaceSection } from './lib/report.js';
import { runRoom } from './lib/scenario.js';
import { fmt, type LatencySummary, summarize } from './lib/stats.js';
import {
  findDynamoDbLocalPid,
  pickBenchPorts,
  type SwitchboardTarget,
  startSwitchboard,
} from './lib/switchboard-target.js';
import { type PerOperation, perOperation } from './lib/usage.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '2,10,100,1000' },
    messages: { type: 'string', default: '2:40,10:30,100:15,1000:5' },
    dms: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '2' },
    'direct-max-members': { type: 'string', default: '100' },
    out: { type: 'string', default: 'docs/benchmarks.md' },
    json: { type: 'string', default: 'bench/results/latency-latest.json' },
    'from-json': { type: 'string' },
    ...runFlags('40'),
    // Seed and cold-start rate only: every round runs both with and without the model.
    ...latencyModelFlags,
  },
});

export const LATENCY_START = '<!-- latency:start — `npm run bench:latency` rewrites everything down to latency:end -->';
export const LATENCY_END = '<!-- latency:end -->';

type PathName = 'direct' | 'state machine';
/** `aws-additive`: the model before the top-up (each hop's whole draw on top of the local work), as a baseline. */
type ModelName = 'none' | 'aws' | 'aws-additive';
interface Config {
  path: PathName;
  model: ModelName;
}
const CONFIGS: Config[] = [
  { path: 'direct', model: 'none' },
  { path: 'state machine', model: 'none' },
  { path: 'direct', model: 'aws' },
  { path: 'state machine', model: 'aws' },
  { path: 'direct', model: 'aws-additive' },
  { path: 'state machine', model: 'aws-additive' },
];
const configKey = (config: Config) => `${config.path}/${config.model}`;
/** `dm` is a direct message between two users; numbers are room sizes. */
type Case = number | 'dm';
const caseKey = (item: Case) => String(item);

interface LatencyResults {
  startedAt: string;
  finishedAt?: string;
  durationSeconds?: number;
  machine: MachineInfo;
  note: string;
  settings: {
    sizes: number[];
    messages: Record<string, number>;
    dms: number;
    rounds: number;
    seed: number;
    coldStartRate: number;
    directMaxMembers: number;
    connections: number;
    connectSeconds: number;
  };
  /** Send → receive (ms) by configuration and case, every round's per-member samples together. */
  latency: Record<string, Record<string, LatencySummary>>;
  /** The ws floor per case (a DM's floor is a 2-socket room). */
  floor: Record<string, LatencySummary>;
  /** Requests per message by path and case, measured with the model off. */
  usage: Record<string, Record<string, PerOperation>>;
  /**
   * The model's draws per hop over the top-up (`aws`) configurations: count, mean draw, and mean wait
   * on top of the local work (the draw less what the stand-in already spent), to check it did what it says.
   */
  modelStats: Partial<Record<Hop, { draws: number; meanMs: number; meanWaitedMs?: number }>>;
  skipped: string[];
}

const sizes = (args.sizes ?? '')
  .split(',')
  .map(Number)
  .filter((size) => Number.isInteger(size) && size > 0);
const messagesBySize = new Map(
  (args.messages ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => pair.split(':').map(Number) as [number, number]),
);
const dmCount = Number(args.dms);
const rounds = Number(args.rounds);
const seed = Number(args['latency-seed']);
const coldStartRate = parseColdStartRate(args['cold-start-rate']);
const directMaxMembers = String(Number(args['direct-max-members']) || 100);
const deadline = Date.now() + Number(args['max-minutes']) * 60_000;
const MESSAGE_TIMEOUT_MS = 60_000;
const POSTER_CPU_MICROS = 241;
const started = performance.now();
const log = (text: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
const userIdOf = (socket: BenchSocket) => `bench-u${socket.index}`;

async function main(): Promise<void> {
  const results: LatencyResults = {
    startedAt: new Date().toISOString(),
    machine: machineInfo(),
    note: args.note ?? '',
    settings: {
      sizes,
      messages: Object.fromEntries(sizes.map((size) => [size, messagesBySize.get(size) ?? 10])),
      dms: dmCount,
      rounds,
      seed,
      coldStartRate,
      directMaxMembers: Number(directMaxMembers),
      connections: 0,
      connectSeconds: 0,
    },
    latency: Object.fromEntries(CONFIGS.map((config) => [configKey(config), {}])),
    floor: {},
    usage: { direct: {}, 'state machine': {} },
    modelStats: {},
    skipped: [],
  };
  // Raw samples stay in memory; the results keep their summaries (1,000-member rooms make megabytes).
  const samplesBy: Record<string, Record<string, number[]>> = Object.fromEntries(
    CONFIGS.map((config) => [configKey(config), {}]),
  );
  const ports = await pickBenchPorts();
  // Off while the sockets connect; switched per configuration below.
  const model = new LatencyModel({ profile: 'aws', seed, coldStartRate });
  model.enabled = false;
  const target = await startSwitchboard({ ports, latency: { latency: model } });
  const baseline = await startBaselineServer({ port: 0 });
  const ours = new ClientPool({ urlFor: (index) => target.urlFor({ userId: `bench-u${index}`, room: `p${index}` }) });
  const floor = new ClientPool({ urlFor: (index) => `${baseline.url}/?userId=bench-u${index}&room=p${index}` });
  const hardStop = setTimeout(
    () => {
      console.error('bench:latency: overall deadline passed by 3 minutes; exiting');
      const pid = findDynamoDbLocalPid(ports.dynamoDb);
      if (pid) process.kill(pid, 'SIGTERM');
      process.exit(2);
    },
    Number(args['max-minutes']) * 60_000 + 180_000,
  );
  hardStop.unref();

  try {
    const needed = Math.max(...sizes, 2 * Math.max(1, Math.min(dmCount, 10)));
    let clock = performance.now();
    await ours.connect(needed, 16, 180_000);
    results.settings.connections = needed;
    results.settings.connectSeconds = (performance.now() - clock) / 1000;
    log(`${needed} Switchboard connections in ${results.settings.connectSeconds.toFixed(1)} s`);
    await target.idle();
    clock = performance.now();
    await floor.connect(Math.max(...sizes, 2), 32);

    for (const size of sizes) {
      await target.seedRoom(`r${size}`, ours.sockets.slice(0, size), userIdOf);
      const baseMembers = floor.sockets.slice(0, size);
      const joined = floor.waitForFrames(
        (_s, frame) => frame.type === 'joined' && frame.room === `r${size}`,
        size,
        30_000,
      );
      for (const member of baseMembers) member.ws.send(JSON.stringify({ action: 'joinRoom', room: `r${size}` }));
      await joined;
    }
    // Conversations exist before anything is measured: the first DM of a pair creates one.
    await runDirectMessages(ours, 'dmwarm', Math.min(10, dmCount), 10);
    await target.idle();

    // The floor, once per case: it has no paths and no model.
    for (const size of sizes) {
      const run = await runRoom(floor, floor.sockets.slice(0, size), roomOptions(size, `ws${size}`));
      results.floor[caseKey(size)] = run.latency;
    }
    const dmFloor = await runRoom(floor, floor.sockets.slice(0, 2), roomOptions(2, 'wsdm', dmCount));
    results.floor.dm = dmFloor.latency;
    log(`ws floor: ${sizes.map((size) => `${size}: ${fmt(results.floor[size]?.p50 ?? Number.NaN, 2)} ms`).join(', ')}`);

    let sequence = 0;
    const topUpStats: Partial<Record<Hop, HopStats>> = {};
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? CONFIGS : [...CONFIGS].reverse();
      for (const config of order) {
        if (Date.now() > deadline - 60_000) {
          results.skipped.push(`round ${round + 1} ${configKey(config)} (deadline)`);
          continue;
        }
        await configure(target, model, config);
        const statsBefore = model.stats();
        const cases: Case[] = [...sizes, 'dm'];
        for (const item of cases) {
          const measureUsage = round === 0 && config.model === 'none';
          await settle(target);
          if (measureUsage) target.reset();
          const prefix = `c${sequence++}`;
          let samples: number[];
          let operations: number;
          if (item === 'dm') {
            samples = await runDirectMessages(ours, prefix, dmCount, Math.min(10, dmCount));
            operations = dmCount;
          } else {
            const run = await runRoom(ours, ours.sockets.slice(0, item), {
              ...roomOptions(item, prefix),
              untilAnswered: true,
            });
            samples = [...ours.latencies];
            operations = 1 + run.latencyMessages;
          }
          if (measureUsage) {
            await settle(target);
            (results.usage[config.path] as Record<string, PerOperation>)[caseKey(item)] = perOperation(
              target.usage(),
              operations,
            );
          }
          const bucket = samplesBy[configKey(config)] as Record<string, number[]>;
          bucket[caseKey(item)] = [...(bucket[caseKey(item)] ?? []), ...samples];
          (results.latency[configKey(config)] as Record<string, LatencySummary>)[caseKey(item)] = summarize(
            bucket[caseKey(item)] ?? [],
          );
          const summary = summarize(samples);
          log(
            `round ${round + 1} ${configKey(config)} ${item === 'dm' ? 'DM' : `room ${item}`}: ` +
              `p50 ${fmt(summary.p50)} ms, p99 ${fmt(summary.p99)} ms (${summary.count} receipts)`,
          );
        }
        if (config.model === 'aws') addStats(topUpStats, statsBefore, model.stats());
      }
    }
    await configure(target, model, { path: 'direct', model: 'none' });
    results.modelStats = Object.fromEntries(
      Object.entries(topUpStats).map(([hop, stats]) => [
        hop,
        {
          draws: stats.draws,
          meanMs: stats.draws > 0 ? stats.totalMs / stats.draws : 0,
          meanWaitedMs: stats.draws > 0 ? stats.waitedMs / stats.draws : 0,
        },
      ]),
    );
  } finally {
    log('closing');
    await Promise.allSettled([ours.close(), floor.close()]);
    await Promise.allSettled([target.close(), baseline.close()]);
  }
  results.machine.loadAtEnd = loadAverage();
  results.finishedAt = new Date().toISOString();
  results.durationSeconds = (performance.now() - started) / 1000;
  console.log(render(results));
  if (!args['no-write']) await writeOutputs(results);
}

function roomOptions(size: number, prefix: string, count?: number) {
  return {
    prefix,
    room: `r${size}`,
    latencyMessages: count ?? messagesBySize.get(size) ?? 10,
    throughputMessages: 0,
    window: 1,
    warmupMessages: 1,
    timeoutMs: MESSAGE_TIMEOUT_MS,
    budgetMs: 90_000,
    minMessages: 3,
  };
}

/** Nothing in flight anywhere, stream consumers included (their status frames would leak into the next window). */
async function settle(target: SwitchboardTarget): Promise<void> {
  await target.idle();
  await target.stack.idle();
}

/** Stream reads are Lambda's event source mapping reading as the function's role, not the handler's requests. */
const STREAM_READS = new Set(['GetRecords', 'GetShardIterator', 'DescribeStream', 'ListStreams']);
const handlerRequests = (usage: PerOperation) =>
  Object.entries(usage.handlerDynamoDb).filter(([operation]) => !STREAM_READS.has(operation));

/** The path is the function's DIRECT_FANOUT_MAX_MEMBERS, as UpdateFunctionConfiguration sets it. */
async function configure(target: SwitchboardTarget, model: LatencyModel, config: Config): Promise<void> {
  await settle(target);
  target.stack.functions.updateFunctionConfiguration('WebSocketActionsFunction', {
    environment: { DIRECT_FANOUT_MAX_MEMBERS: config.path === 'direct' ? directMaxMembers : '0' },
  });
  model.enabled = config.model !== 'none';
  model.topUp = config.model === 'aws';
}

/** Adds what the model drew and waited since `before` to `into` (the top-up configurations' totals). */
function addStats(into: Partial<Record<Hop, HopStats>>, before: Partial<Record<Hop, HopStats>>, after: typeof before) {
  for (const [hop, stats] of Object.entries(after) as Array<[Hop, HopStats]>) {
    const base = before[hop] ?? { draws: 0, totalMs: 0, waitedMs: 0 };
    const sum = into[hop] ?? { draws: 0, totalMs: 0, waitedMs: 0 };
    sum.draws += stats.draws - base.draws;
    sum.totalMs += stats.totalMs - base.totalMs;
    sum.waitedMs += stats.waitedMs - base.waitedMs;
    into[hop] = sum;
  }
}

/**
 * `count` direct messages, one at a time, across `pairs` pairs of users (sockets 2k and 2k+1): each
 * reaches the recipient and the sender's own connection. Returns the receipt latencies.
 */
async function runDirectMessages(pool: ClientPool, prefix: string, count: number, pairs: number): Promise<number[]> {
  pool.resetCounters();
  pool.recording = true;
  for (let sequence = 0; sequence < count; sequence++) {
    const pair = sequence % Math.max(1, pairs);
    const sender = pool.sockets[2 * pair + (sequence % 2)] as BenchSocket;
    const recipient = pool.sockets[2 * pair + 1 - (sequence % 2)] as BenchSocket;
    const flight = pool.sendDirect(sender, userIdOf(recipient), `${prefix}-d${sequence}`, 2);
    if (!(await pool.settle(flight, MESSAGE_TIMEOUT_MS, { untilAnswered: true })))
      log(`DM ${prefix}-d${sequence} incomplete`);
  }
  return [...pool.latencies];
}

const ms = (value: number) => fmt(value, value < 10 ? 2 : 1);
const pair = (summary: LatencySummary | undefined) => (summary ? `${ms(summary.p50)} / ${ms(summary.p99)}` : '–');
const table = (header: string[], rows: string[][]) =>
  [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');

function summaryOf(results: LatencyResults, config: Config, item: Case): LatencySummary | undefined {
  const summary = results.latency[configKey(config)]?.[caseKey(item)];
  return summary && summary.count > 0 ? summary : undefined;
}

/** Cost per million messages for one path and case, from its measured requests. */
function costOf(results: LatencyResults, path: PathName, item: Case): CostBreakdown | undefined {
  const usage = results.usage[path]?.[caseKey(item)];
  if (!usage) return undefined;
  const lambda = (name: string) => usage.lambda[name] ?? 0;
  const all = Object.values(usage.lambda).reduce((sum, count) => sum + count, 0);
  return costPerMillion({
    roomSize: item === 'dm' ? 2 : item,
    posts: usage.postToConnection,
    senderFrames: 2,
    actionsInvocations: lambda('WebSocketActionsFunction'),
    directPosts: usage.directPosts ?? 0,
    postInvocations: lambda('PostToConnectionsFunction'),
    otherInvocations: all - lambda('WebSocketActionsFunction') - lambda('PostToConnectionsFunction'),
    executions: usage.startExecutions,
    queryPages: usage.queryPages,
    eventEntries: usage.eventEntries,
    ...estimatedUnits(usage),
    // POST_CONCURRENCY on both paths (workflows/template.yaml, api/src/composition.ts).
    postConcurrency: 32,
    // CPU per post of connections-poster.ts, as bench/post-cost.ts measured it (docs/benchmarks.md, 2026-12-03).
    postCpuMicros: POSTER_CPU_MICROS,
  });
}

/**
 * Capacity units per message. The sandboxed handlers' requests are counted but their units are not
 * metered, so theirs are estimated from the requests. A message's TransactWriteItems writes three items
 * under 1 KB at 2 WRU each (the room's seq counter, the idempotency marker, the message) plus the
 * message's copy in the user-time index (2 WRU, as the 2026-11-23 run metered it): 8 WRU, charged for a
 * cancelled one too (the sender's read position, in it until 2026-12-03 evening, is now an UpdateItem
 * of its own). A rate-limit or read-position UpdateItem is 1 WRU, a GetItem 1 RRU
 * (the seq counter's is strongly consistent; the others count the same, an upper bound), a Query page
 * of a small room 0.5 RRU, a BatchGetItem 2 RRU (the room-access check reads the member and the ban
 * item, strongly consistent, found or not), and 1 WRU for any other write (a lower bound where an item
 * has index copies, as a DM's do); the state machine's own units are metered.
 */
export const TRANSACTION_WRITE_UNITS = 8;
function estimatedUnits(usage: PerOperation): { writeUnits: number; readUnits: number } {
  const requests = usage.handlerDynamoDb;
  const count = (operation: string) => requests[operation] ?? 0;
  const writes =
    TRANSACTION_WRITE_UNITS * count('TransactWriteItems') +
    count('UpdateItem') +
    count('PutItem') +
    count('DeleteItem');
  const reads = 0.5 * count('Query') + count('GetItem') + 2 * count('BatchGetItem');
  return { writeUnits: writes + usage.writeUnits, readUnits: reads + usage.readUnits };
}

export function render(results: LatencyResults): string {
  const { machine, settings } = results;
  const cases: Case[] = [...settings.sizes, 'dm'];
  const label = (item: Case) => (item === 'dm' ? 'DM (2 sockets)' : `room ${item}`);
  const lines: string[] = [];
  lines.push(
    '## Latency by path, with and without the AWS latency model',
    '',
    `_\`npm run bench:latency\`, ${results.startedAt.replace('T', ' ').slice(0, 16)} UTC, ` +
      `${fmt((results.durationSeconds ?? 0) / 60, 1)} min, on ${machine.cpu} × ${machine.cores} ` +
      `(${machine.memoryGb} GB, Node ${machine.node}), load average ${machine.loadAtStart.toFixed(1)} → ` +
      `${(machine.loadAtEnd ?? Number.NaN).toFixed(1)}. Raw: \`bench/results/latency-latest.json\`.` +
      `${results.note ? ` ${results.note}` : ''}_`,
    '',
    `${settings.connections.toLocaleString('en-US')} sockets through \`$connect\` (${fmt(settings.connectSeconds, 1)} s), ` +
      'room membership written as `joinRoom` would; one message in flight at a time, every member timed from send ' +
      `to first receipt (the sender is a member); ${settings.rounds} rounds, the six configurations in alternating ` +
      `order, ${Object.entries(settings.messages)
        .map(([size, count]) => `${count} messages per round at ${size}`)
        .join(', ')}, ${settings.dms} DMs per round across ${Math.min(10, settings.dms)} pairs of users. ` +
      `"direct" is the default (\`DirectFanoutMaxMembers=${settings.directMaxMembers}\`: rooms and conversations with ` +
      'at most that many live connections are posted by sendMessage itself), "state machine" is ' +
      '`DirectFanoutMaxMembers=0` (every message through EventBridge and Express). ' +
      `\`--latency aws\` draws each hop's delay from the model (seed ${settings.seed}` +
      `${settings.coldStartRate > 0 ? `, cold starts at ${settings.coldStartRate}` : ', no cold starts'}) and tops ` +
      "each hop's real local work up to its draw (max(0, draw − local time of the hop)), so local time is not counted " +
      'twice; "additive" is the model before that change, the whole draw on top of the local work, kept as the ' +
      "baseline. The ws floor is `bench/baseline-server.ts` in the same run (a DM's floor is a 2-socket room).",
    '',
    '**send → receive, p50 / p99 ms**',
    '',
    table(
      [
        'case',
        'direct',
        'state machine',
        'direct, `--latency aws`',
        'state machine, `--latency aws`',
        'direct, aws additive (before)',
        'state machine, aws additive (before)',
        'ws floor',
      ],
      cases.map((item) => [
        label(item),
        ...CONFIGS.map((config) => pair(summaryOf(results, config, item))),
        pair(results.floor[caseKey(item)]),
      ]),
    ),
    '',
    "**The model's own floor** (Monte Carlo of the modelled hops alone, every local cost at zero: API Gateway → " +
      'Lambda, the DynamoDB requests in series, the posts at 32 in flight; on the long path also EventBridge, the ' +
      'Express start, the batch invoke; PutEvents itself is not modelled), p50 / p99 ms:',
    '',
    table(
      ['case', 'direct path', 'state machine path'],
      [
        ...settings.sizes.map((size) => {
          const messages = Math.max(100, Math.round(20_000 / size));
          return [
            label(size),
            size <= settings.directMaxMembers
              ? pair(modelFloor(size, DIRECT_ROOM, messages))
              : 'takes the state machine',
            pair(modelFloor(size, STATE_MACHINE_ROOM, messages)),
          ];
        }),
        [
          label('dm'),
          pair(modelFloor(2, DIRECT_DM, 10_000)),
          pair(modelFloor(2, { ...STATE_MACHINE_ROOM, dynamoDbInSeries: DIRECT_DM.dynamoDbInSeries }, 10_000)),
        ],
      ],
    ),
    '',
    'Requests per message, measured with the model off (handler DynamoDB requests from the authorising front):',
    '',
    table(
      [
        'case',
        'path',
        'handler DynamoDB',
        'WRU / RRU (estimated)',
        'PutEvents',
        'executions',
        'PostToConnection',
        'Lambda invocations',
      ],
      cases.flatMap((item) =>
        (['direct', 'state machine'] as PathName[]).map((path) => {
          const usage = results.usage[path]?.[caseKey(item)];
          if (!usage) return [label(item), path, '–', '–', '–', '–', '–', '–'];
          const units = estimatedUnits(usage);
          return [
            label(item),
            path,
            handlerRequests(usage)
              .map(([operation, count]) => `${operation} ${fmt(count, 2)}`)
              .join(', '),
            `${fmt(units.writeUnits, 1)} / ${fmt(units.readUnits, 1)}`,
            fmt(usage.putEvents, 2),
            fmt(usage.executions, 2),
            fmt(usage.postToConnection, 2),
            Object.entries(usage.lambda)
              .map(([name, count]) => `${name.replace(/Function$/, '')} ${fmt(count, 2)}`)
              .join(', '),
          ];
        }),
      ),
    ),
    '',
    "The model's draws in the top-up (`--latency aws`) configurations (count, mean draw, and mean wait added on " +
      "top of the hop's local work, the rest of the draw being local time already spent), a check that each " +
      'stand-in added its hop:',
    '',
    table(
      ['hop', 'fitted p50 / p99 ms', 'draws', 'mean draw ms', 'mean wait ms'],
      (Object.keys(AWS_HOPS) as Hop[]).map((hop) => [
        hop,
        `${AWS_HOPS[hop].p50} / ${AWS_HOPS[hop].p99}`,
        String(results.modelStats[hop]?.draws ?? 0),
        fmt(results.modelStats[hop]?.meanMs ?? Number.NaN, 1),
        fmt(results.modelStats[hop]?.meanWaitedMs ?? Number.NaN, 1),
      ]),
    ),
    '',
    "**Cost per million messages by path** (the cost model below, fed with this run's measured requests: the " +
      "direct path's posts are WebSocketActionsFunction's, at its 1,024 MB; the handlers' DynamoDB units " +
      'estimated from their requests as `estimatedUnits` in bench/latency.ts says):',
    '',
    table(
      ['case', 'direct $/M', 'state machine $/M', 'API Gateway floor $/M (posts + in/ack only)', 'direct ÷ floor'],
      cases.map((item) => {
        const direct = costOf(results, 'direct', item);
        const long = costOf(results, 'state machine', item);
        const gatewayFloor = (item === 'dm' ? 2 : item) + 2;
        return [
          label(item),
          direct ? `$${direct.totalPerMillion.toFixed(2)}` : '–',
          long ? `$${long.totalPerMillion.toFixed(2)}` : '–',
          `$${gatewayFloor.toFixed(2)}`,
          direct ? `${(direct.totalPerMillion / gatewayFloor).toFixed(2)}×` : '–',
        ];
      }),
    ),
  );
  if (results.skipped.length > 0) lines.push('', `Skipped: ${results.skipped.join(', ')}.`);
  return lines.join('\n');
}

async function writeOutputs(results: LatencyResults): Promise<void> {
  const outPath = resolve(repoRoot, args.out ?? 'docs/benchmarks.md');
  const jsonPath = resolve(repoRoot, args.json ?? 'bench/results/latency-latest.json');
  await mkdir(dirname(jsonPath), { recursive: true });
  await writeFile(jsonPath, `${JSON.stringify(results)}\n`);
  formatJson(jsonPath, repoRoot);
  const previous = await readFile(outPath, 'utf8');
  await writeFile(outPath, replaceSection(previous, LATENCY_START, LATENCY_END, render(results)));
  log(`wrote ${outPath} and ${jsonPath}`);
}

async function renderOnly(path: string): Promise<void> {
  const saved = JSON.parse(await readFile(resolve(repoRoot, path), 'utf8')) as LatencyResults & {
    samples?: Record<string, Record<string, number[]>>;
  };
  // The first saved run kept raw samples; summarise them once.
  const { samples, ...results } = saved;
  if (samples) {
    results.latency = Object.fromEntries(
      Object.entries(samples).map(([key, cases]) => [
        key,
        Object.fromEntries(Object.entries(cases).map(([item, list]) => [item, summarize(list)])),
      ]),
    );
  }
  await writeOutputs(results);
}

(args['from-json'] ? renderOnly(args['from-json']) : main()).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
