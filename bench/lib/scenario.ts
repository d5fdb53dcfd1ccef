import { performance } from 'node:perf_hooks';
import type { BenchSocket, ClientPool } from './harness.js';
import { type LatencySummary, summarize } from './stats.js';

export interface RoomRunOptions {
  /** Unique per run in this pool: message ids are `<prefix>-l<n>`, `<prefix>-t<n>`, `<prefix>-w<n>`. */
  prefix: string;
  room: string;
  /** Sent one at a time, each waiting for every member: end-to-end latency without queueing. */
  latencyMessages: number;
  /** Sent with up to `window` in flight: throughput. */
  throughputMessages: number;
  window: number;
  /** Unrecorded messages first (module loading, JIT, connection pools). */
  warmupMessages: number;
  timeoutMs: number;
  /** Each phase stops early once it has run this long (after at least `minMessages`). */
  budgetMs: number;
  minMessages: number;
  /**
   * Latency phase: send the next message only after the sender's ack as well as every receipt
   * (Switchboard acks; the ws floor does not). See ClientPool.settle.
   */
  untilAnswered?: boolean;
}

/** One room size against one target. */
export interface RoomRun {
  size: number;
  latencyMessages: number;
  throughputMessages: number;
  /** Send → receipt, one sample per member per message, latency phase only. */
  latency: LatencySummary;
  /** Send → ack (Switchboard only): store and publish, before any fan-out. */
  ack: LatencySummary;
  messagesPerSecond: number;
  deliveriesPerSecond: number;
  throughputSeconds: number;
  /** Messages that did not reach every member before the timeout. */
  incomplete: number;
  duplicates: number;
}

/**
 * Runs the latency phase then the throughput phase in one room. Senders rotate through the
 * members; every member (the sender too) must receive every message.
 */
export async function runRoom(pool: ClientPool, members: BenchSocket[], options: RoomRunOptions): Promise<RoomRun> {
  const size = members.length;
  const senderFor = (sequence: number) => members[sequence % size] as BenchSocket;
  let incomplete = 0;

  pool.recording = false;
  for (let sequence = 0; sequence < options.warmupMessages; sequence++) {
    const flight = pool.send(senderFor(sequence), options.room, `${options.prefix}-w${sequence}`, size);
    await pool.settle(flight, options.timeoutMs, { untilAnswered: options.untilAnswered ?? false });
  }

  pool.resetCounters();
  pool.recording = true;
  const latencyStarted = performance.now();
  let latencyMessages = 0;
  for (let sequence = 0; sequence < options.latencyMessages; sequence++) {
    if (sequence >= options.minMessages && performance.now() - latencyStarted > options.budgetMs) break;
    const flight = pool.send(senderFor(sequence), options.room, `${options.prefix}-l${sequence}`, size);
    latencyMessages++;
    if (!(await pool.settle(flight, options.timeoutMs, { untilAnswered: options.untilAnswered ?? false })))
      incomplete++;
  }
  const latency = summarize(pool.latencies);
  const ack = summarize(pool.ackLatencies);

  pool.recording = false;
  const started = performance.now();
  let next = 0;
  let sent = 0;
  const lane = async () => {
    while (next < options.throughputMessages) {
      if (next >= options.minMessages && performance.now() - started > options.budgetMs) break;
      const sequence = next++;
      sent++;
      const flight = pool.send(senderFor(sequence), options.room, `${options.prefix}-t${sequence}`, size);
      if (!(await pool.settle(flight, options.timeoutMs))) incomplete++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.window, options.throughputMessages)) }, lane));
  const seconds = (performance.now() - started) / 1000;
  const duplicates = pool.counters.duplicates;
  pool.recording = true;
  return {
    size,
    latencyMessages,
    throughputMessages: sent,
    latency,
    ack,
    messagesPerSecond: sent / seconds,
    deliveriesPerSecond: (sent * size) / seconds,
    throughputSeconds: seconds,
    incomplete,
    duplicates,
  };
}
