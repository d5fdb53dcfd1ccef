/**
 * Load and soak on the local stack: N connections across R rooms (joined through `$connect`),
 * M room messages, every client dropping repeats by messageId, and a check that every message
 * reached every member of its room exactly once. Exits non-zero on any lost, duplicate or
 * misrouted delivery.
 *
 *   npm run load                                  # 1,000 connections, 50 rooms, 50,000 messages
 *   npm run load -- --connections 200 --rooms 10 --messages 2000
 *   npm run load -- --soak-minutes 10 --soak-rate 20
 *
 * Soak mode sends at a fixed rate for the given time instead, and every `--sample-seconds`
 * records this process's heap and RSS (the gateway and handlers run here) and DynamoDB Local's
 * JVM RSS, then reports whether memory stayed flat (first third against last third).
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describeLatency } from '../local/latency/cli.js';
import { repoRoot } from '../local/stack.js';
import { runFlags, stackFlags, stackSettingsOf } from './lib/cli.js';
import { type BenchSocket, ClientPool, type Flight } from './lib/harness.js';
import { formatJson, loadAverage, type MachineInfo, machineInfo, processRssMb } from './lib/machine.js';
import { LOAD_END, LOAD_START, replaceSection, SOAK_END, SOAK_START } from './lib/report.js';
import { fmt, LatencyHistogram, type LatencySummary } from './lib/stats.js';
import { type BenchPorts, findDynamoDbLocalPid, pickBenchPorts, startSwitchboard } from './lib/switchboard-target.js';
import { type PerOperation, perOperation } from './lib/usage.js';

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    rooms: { type: 'string', default: '50' },
    messages: { type: 'string', default: '50000' },
    inflight: { type: 'string', default: '64' },
    'soak-minutes': { type: 'string', default: '0' },
    'soak-rate': { type: 'string', default: '20' },
    'sample-seconds': { type: 'string', default: '10' },
    'message-timeout': { type: 'string', default: '120' },
    'connect-concurrency': { type: 'string', default: '16' },
    ...runFlags('60'),
    ...stackFlags,
  },
});

const connections = Number(args.connections);
const roomCount = Math.max(1, Math.min(Number(args.rooms), connections));
const messageCount = Number(args.messages);
const inflightCap = Math.max(1, Number(args.inflight));
const soakMinutes = Number(args['soak-minutes']);
const soak = soakMinutes > 0;
const soakRate = Number(args['soak-rate']);
const sampleMs = Number(args['sample-seconds']) * 1000;
const messageTimeoutMs = Number(args['message-timeout']) * 1000;
const deadline = Date.now() + Number(args['max-minutes']) * 60_000;
const { templateParameters, latency: latencySettings } = stackSettingsOf(args);

/** `global.gc`, exposed at run time so `npm run load` needs no node flag. */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const started = performance.now();
const log = (text: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${text}`);

/** One memory sample. */
interface MemorySample {
  seconds: number;
  heapUsedMb: number;
  rssMb: number;
  javaRssMb?: number;
  delivered: number;
}

interface MemoryTrend {
  metric: string;
  firstThirdMb: number;
  lastThirdMb: number;
  growthMb: number;
  growthPercent: number;
  flat: boolean;
}

interface LoadResults {
  mode: 'load' | 'soak';
  startedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  note: string;
  openFilesLimit?: number;
  settings: {
    connections: number;
    rooms: number;
    messages: number;
    inflight: number;
    soakMinutes?: number;
    soakRate?: number;
    rateLimit: string;
    /** Template parameter overrides given with --parameter. */
    parameters?: Record<string, string>;
    /** `--latency`, as describeLatency words it. */
    latency?: string;
  };
  connectSeconds: number;
  sent: number;
  expectedDeliveries: number;
  delivered: number;
  lost: number;
  duplicates: number;
  misrouted: number;
  unexpected: number;
  refused: number;
  /** Soak sends skipped because the in-flight cap was reached (the stack fell behind the rate). */
  skippedSends: number;
  incompleteMessages: number;
  sendSeconds: number;
  messagesPerSecond: number;
  deliveriesPerSecond: number;
  latency: LatencySummary;
  usage: PerOperation;
  samples: MemorySample[];
  trends: MemoryTrend[];
  passed: boolean;
}

function openFilesLimit(): number | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\d+)/m.exec(limits);
    return match?.[1] ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function trend(metric: string, values: number[]): MemoryTrend | undefined {
  if (values.length < 3) return undefined;
  const third = Math.max(1, Math.floor(values.length / 3));
  const mean = (list: number[]) => list.reduce((sum, value) => sum + value, 0) / list.length;
  const first = mean(values.slice(0, third));
  const last = mean(values.slice(-third));
  const growthMb = last - first;
  // Flat: the last third within 10% (or 16 MB, for small heaps) of the first third.
  return {
    metric,
    firstThirdMb: first,
    lastThirdMb: last,
    growthMb,
    growthPercent: (growthMb / first) * 100,
    flat: growthMb <= Math.max(16, first * 0.1),
  };
}

let ports: BenchPorts | undefined;

async function main(): Promise<number> {
  const machine = machineInfo();
  const limit = openFilesLimit();
  // Both ends of every socket live in this process, plus keep-alive connections to the stand-ins.
  const needed = connections * 2 + 256;
  log(
    `load: ${connections} connections, ${roomCount} rooms, ${soak ? `${soakMinutes} min soak at ${soakRate} msg/s` : `${messageCount} messages`}; open files limit ${limit ?? 'unknown'}`,
  );
  if (limit !== undefined && limit < needed) {
    console.error(`open files limit ${limit} < ${needed} needed for ${connections} connections: raise it (ulimit -n)`);
    return 2;
  }

  ports = await pickBenchPorts();
  const target = await startSwitchboard({
    ports,
    keepRateLimit: true,
    parameters: templateParameters,
    latency: latencySettings,
  });
  log('local stack up');
  const latency = new LatencyHistogram();
  const pool = new ClientPool({
    urlFor: (index) => target.urlFor({ userId: `load-u${index}`, room: `load${index % roomCount}` }),
    onDelivery: (ms) => latency.add(ms),
  });
  pool.recording = false;
  const samples: MemorySample[] = [];
  const javaPid = target.dynamoDbPid();
  const sample = () => {
    // After a full collection the heap holds only what is live: without it, samples land anywhere on
    // the sawtooth between collections (80–250 MB in one run) and say nothing about a leak.
    collectGarbage();
    const memory = process.memoryUsage();
    const javaRssMb = javaPid ? processRssMb(javaPid) : undefined;
    samples.push({
      seconds: (performance.now() - started) / 1000,
      heapUsedMb: memory.heapUsed / 1024 ** 2,
      rssMb: memory.rss / 1024 ** 2,
      ...(javaRssMb !== undefined ? { javaRssMb } : {}),
      delivered: pool.counters.deliveries,
    });
  };

  let results: LoadResults | undefined;
  try {
    let clock = performance.now();
    await pool.connect(connections, Number(args['connect-concurrency']), 120_000);
    const connectSeconds = (performance.now() - clock) / 1000;
    log(`${connections} connections open in ${connectSeconds.toFixed(1)} s`);
    await target.idle();
    target.reset();
    pool.resetCounters();

    const rooms = Array.from({ length: roomCount }, (_, room) =>
      pool.sockets.filter((socket) => socket.index % roomCount === room),
    );
    const memberSets = rooms.map((members) => new Set(members.map((member) => member.index)));
    let sequence = 0;
    let inflight = 0;
    let refusedSends = 0;
    const open = new Set<Promise<void>>();
    const sendOne = () => {
      const seq = sequence++;
      const room = seq % roomCount;
      const members = rooms[room] as BenchSocket[];
      const sender = members[Math.floor(seq / roomCount) % members.length] as BenchSocket;
      const flight = pool.send(sender, `load${room}`, `L-${seq}`, members.length, `load ${seq}`, memberSets[room]);
      inflight++;
      const settled = pool.settle(flight, messageTimeoutMs).then(() => {
        inflight--;
        open.delete(settled);
      });
      open.add(settled);
    };

    clock = performance.now();
    sample();
    let nextSample = performance.now() + sampleMs;
    const progress = () => {
      sample();
      const last = samples[samples.length - 1] as MemorySample;
      log(
        `sent ${sequence}, in flight ${inflight}, delivered ${pool.counters.deliveries}, heap ${last.heapUsedMb.toFixed(0)} MB, ` +
          `rss ${last.rssMb.toFixed(0)} MB${last.javaRssMb ? `, DynamoDB Local ${last.javaRssMb.toFixed(0)} MB` : ''}`,
      );
      // Complete flights older than the in-flight window are forgotten (a later copy still counts as a
      // duplicate), so the harness's own memory stays flat.
      pool.retire('L', Math.max(0, sequence - inflightCap * 4));
    };
    if (soak) {
      const endAt = performance.now() + soakMinutes * 60_000;
      const interval = 1000 / soakRate;
      let due = performance.now();
      while (performance.now() < endAt && Date.now() < deadline) {
        if (performance.now() >= due) {
          due += interval;
          if (inflight < inflightCap) sendOne();
          else refusedSends++;
          continue;
        }
        if (performance.now() >= nextSample) {
          nextSample += sampleMs;
          progress();
        }
        await new Promise((settle) => setTimeout(settle, Math.max(1, Math.min(due, nextSample) - performance.now())));
      }
    } else {
      while (sequence < messageCount && Date.now() < deadline) {
        while (inflight < inflightCap && sequence < messageCount) sendOne();
        await Promise.race([...open, new Promise((settle) => setTimeout(settle, 1000))]);
        if (performance.now() >= nextSample) {
          nextSample += sampleMs;
          progress();
        }
      }
    }
    log(`sending stopped after ${sequence} messages; waiting for ${inflight} in flight`);
    await Promise.all(open);
    const sendSeconds = (performance.now() - clock) / 1000;
    await target.idle();
    // Late repeats (at-least-once redelivery) would arrive now.
    await new Promise((settle) => setTimeout(settle, 2000));
    sample();

    let lost = 0;
    let incompleteMessages = 0;
    let refused = 0;
    let expectedDeliveries = 0;
    const flights: Flight[] = pool.allFlights();
    for (const flight of flights) {
      if (flight.error !== undefined) refused++;
      const missing = flight.expected - flight.receivedBy.size;
      if (missing > 0) {
        lost += missing;
        incompleteMessages++;
      }
    }
    // Retired flights were complete when forgotten.
    expectedDeliveries = pool.counters.deliveries + lost;
    const usage = perOperation(target.usage(), sequence);
    // The first minute (or fifth) of sending is warm-up: pools, JIT and caches fill, then level off.
    const sendStart = samples[0]?.seconds ?? 0;
    const warm = samples.filter((s) => s.seconds - sendStart >= Math.min(60, sendSeconds / 5));
    const steady = warm.length >= 6 ? warm : samples;
    const trends = [
      trend(
        'process heap used',
        steady.map((s) => s.heapUsedMb),
      ),
      trend(
        'process RSS',
        steady.map((s) => s.rssMb),
      ),
      trend(
        'DynamoDB Local JVM RSS',
        steady.flatMap((s) => (s.javaRssMb !== undefined ? [s.javaRssMb] : [])),
      ),
    ].filter((entry): entry is MemoryTrend => entry !== undefined);
    const passed =
      lost === 0 && pool.counters.duplicates === 0 && pool.counters.misrouted === 0 && refused === 0 && sequence > 0;
    results = {
      mode: soak ? 'soak' : 'load',
      startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
      durationSeconds: (performance.now() - started) / 1000,
      machine: { ...machine, loadAtEnd: loadAverage() },
      note: args.note ?? '',
      ...(limit !== undefined ? { openFilesLimit: limit } : {}),
      settings: {
        connections,
        rooms: roomCount,
        messages: soak ? sequence : messageCount,
        inflight: inflightCap,
        ...(soak ? { soakMinutes, soakRate } : {}),
        rateLimit: 'template defaults (10/s, burst 20 per connection)',
        ...(Object.keys(templateParameters).length > 0 ? { parameters: templateParameters } : {}),
        ...(latencySettings.latency !== 'none' ? { latency: describeLatency(latencySettings) } : {}),
      },
      connectSeconds,
      sent: sequence,
      expectedDeliveries,
      delivered: pool.counters.deliveries,
      lost,
      duplicates: pool.counters.duplicates,
      misrouted: pool.counters.misrouted,
      unexpected: pool.counters.unexpected,
      refused,
      skippedSends: refusedSends,
      incompleteMessages,
      sendSeconds,
      messagesPerSecond: sequence / sendSeconds,
      deliveriesPerSecond: pool.counters.deliveries / sendSeconds,
      latency: latency.summary(),
      usage,
      samples,
      trends,
      passed,
    };
    if (refusedSends > 0) log(`${refusedSends} sends skipped because ${inflightCap} were already in flight`);
  } finally {
    log('closing');
    await pool.close();
    await target.close();
  }

  print(results);
  if (!args['no-write']) await write(results);
  return results.passed ? 0 : 1;
}

function print(results: LoadResults): void {
  log(
    `${results.mode}: ${results.sent} messages, ${results.delivered}/${results.expectedDeliveries} deliveries, ` +
      `lost ${results.lost}, duplicates ${results.duplicates}, misrouted ${results.misrouted}, refused ${results.refused}`,
  );
  log(
    `${fmt(results.messagesPerSecond)} msgs/s, ${fmt(results.deliveriesPerSecond, 0)} deliveries/s, ` +
      `latency p50 ${fmt(results.latency.p50)} ms p99 ${fmt(results.latency.p99)} ms`,
  );
  for (const entry of results.trends) {
    log(
      `${entry.metric}: ${entry.firstThirdMb.toFixed(0)} → ${entry.lastThirdMb.toFixed(0)} MB (${entry.flat ? 'flat' : 'growing'})`,
    );
  }
  log(results.passed ? 'PASS: every message reached every member exactly once' : 'FAIL');
}

async function write(results: LoadResults): Promise<void> {
  const jsonPath = resolve(repoRoot, `bench/results/${results.mode}-latest.json`);
  await mkdir(dirname(jsonPath), { recursive: true });
  await writeFile(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  formatJson(jsonPath, repoRoot);
  const docPath = resolve(repoRoot, 'docs/benchmarks.md');
  const previous = await readFile(docPath, 'utf8').catch(() => '# Benchmarks\n');
  const [start, end] = results.mode === 'load' ? [LOAD_START, LOAD_END] : [SOAK_START, SOAK_END];
  await writeFile(docPath, replaceSection(previous, start, end, render(results)));
  log(`wrote ${jsonPath} and the ${results.mode} section of ${docPath}`);
}

function render(results: LoadResults): string {
  const s = results.settings;
  const title = results.mode === 'load' ? '## Load' : '## Soak';
  const u = results.usage;
  const lines = [
    title,
    '',
    `_\`npm run load${results.mode === 'soak' ? ` -- --soak-minutes ${s.soakMinutes} --soak-rate ${s.soakRate}` : ''}\`, ` +
      `${results.startedAt.replace('T', ' ').slice(0, 16)} UTC, ${fmt(results.durationSeconds / 60, 1)} min, on ` +
      `${results.machine.cpu} × ${results.machine.cores}, load average ${results.machine.loadAtStart.toFixed(1)} → ` +
      `${(results.machine.loadAtEnd ?? Number.NaN).toFixed(1)}. Raw: \`bench/results/${results.mode}-latest.json\`.` +
      `${
        s.parameters
          ? ` Template parameters: ${Object.entries(s.parameters)
              .map(([key, value]) => `${key}=${value}`)
              .join(', ')}.`
          : ''
      }` +
      `${s.latency ? ` With the ${s.latency}.` : ''}` +
      `${results.note ? ` ${results.note}` : ''}_`,
    '',
    `${s.connections.toLocaleString('en-US')} connections in ${s.rooms} rooms (joined through \`$connect\`, ` +
      `${fmt(results.connectSeconds, 1)} s to open), ` +
      (results.mode === 'soak'
        ? `${s.soakRate} messages/s for ${s.soakMinutes} min`
        : `${s.messages.toLocaleString('en-US')} messages`) +
      `, at most ${s.inflight} in flight, senders rotating through each room, rate limit at the ${s.rateLimit}. ` +
      `Open files limit ${results.openFilesLimit ?? 'unknown'}. Latency is send → receipt at each member and ` +
      'includes queueing whenever the stack is saturated (the in-flight cap is reached).',
    '',
    '| sent | deliveries expected | delivered | lost | duplicates | misrouted | refused | msgs/s | deliveries/s | latency p50 / p95 / p99 ms | verdict |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${results.sent.toLocaleString('en-US')} | ${results.expectedDeliveries.toLocaleString('en-US')} | ` +
      `${results.delivered.toLocaleString('en-US')} | ${results.lost} | ${results.duplicates} | ${results.misrouted} | ` +
      `${results.refused} | ${fmt(results.messagesPerSecond)} | ${fmt(results.deliveriesPerSecond, 0)} | ` +
      `${fmt(results.latency.p50)} / ${fmt(results.latency.p95)} / ${fmt(results.latency.p99)} | ` +
      `${results.passed ? '**pass**: every message reached every member exactly once' : '**FAIL**'} |`,
    '',
    ...(results.skippedSends > 0
      ? [
          `${results.skippedSends.toLocaleString('en-US')} sends were skipped because ${s.inflight} messages were ` +
            'already in flight: the stack could not keep up with the requested rate.',
          '',
        ]
      : []),
    `Per message: ${Object.entries(u.handlerDynamoDb)
      .map(([op, n]) => `${op} ${n.toFixed(2)}`)
      .join(', ')}, PutEvents ${u.putEvents.toFixed(2)}, StartExecution ${u.startExecutions.toFixed(2)}, ` +
      `Query pages ${u.queryPages.toFixed(2)}, PostToConnection ${u.postToConnection.toFixed(2)}, ` +
      `${u.writeUnits + u.readUnits > 0 ? `${u.writeUnits.toFixed(2)} WRU, ${u.readUnits.toFixed(2)} RRU` : 'capacity units not metered (the handlers run in sandboxes)'}; ` +
      `failed executions ${u.failedExecutions}.`,
    '',
  ];
  if (results.trends.length > 0) {
    lines.push(
      `Memory, sampled every ${Number(args['sample-seconds'])} s after a full garbage collection (${results.samples.length} samples; the first ` +
        'minute of sending is warm-up and left out; flat = last third within 10% or 16 MB of the first third). ' +
        'DynamoDB Local runs in memory and keeps every message and its idempotency marker, so its RSS also ' +
        'grows with the data it holds:',
      '',
      '| metric | first third MB | last third MB | growth | verdict |',
      '| --- | --- | --- | --- | --- |',
      ...results.trends.map(
        (entry) =>
          `| ${entry.metric} | ${entry.firstThirdMb.toFixed(0)} | ${entry.lastThirdMb.toFixed(0)} | ` +
          `${entry.growthMb >= 0 ? '+' : ''}${entry.growthMb.toFixed(0)} MB (${entry.growthPercent.toFixed(0)}%) | ` +
          `${entry.flat ? 'flat' : 'growing'} |`,
      ),
      '',
    );
  }
  return lines.join('\n');
}

const hardStop = setTimeout(
  () => {
    console.error('load: overall deadline passed by 5 minutes; exiting');
    const pid = ports ? findDynamoDbLocalPid(ports.dynamoDb) : undefined;
    if (pid) process.kill(pid, 'SIGTERM');
    process.exit(3);
  },
  Number(args['max-minutes']) * 60_000 + 300_000,
);
hardStop.unref();

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
