import { performance } from 'node:perf_hooks';
import type { BenchSocket, ClientPool } from './harness.js';
import { type LatencySummary, summarize } from './stats.js';
import type { SwitchboardTarget } from './switchboard-target.js';
import { type PerOperation, perOperation } from './usage.js';

export interface PresenceCost {
  roomSize: number;
  cycles: number;
  perJoin: PerOperation;
  perLeave: PerOperation;
  /** joinRoom sent → presence `joined` frame at every member (the joiner included). */
  joinFanOutMs: LatencySummary;
  leaveFanOutMs: LatencySummary;
}

/**
 * Measures what one joinRoom and one leaveRoom cost in a room of `members.length` members: the
 * subscription write, the presence read the reply carries, and the presence fan-out to everyone.
 * Every visitor joins, then every visitor leaves.
 */
export async function measurePresence(
  target: SwitchboardTarget,
  pool: ClientPool,
  room: string,
  members: BenchSocket[],
  visitors: BenchSocket[],
  userIdOf: (socket: BenchSocket) => string,
  timeoutMs: number,
): Promise<PresenceCost> {
  const joinMs: number[] = [];
  const leaveMs: number[] = [];
  await target.idle();
  target.reset();
  const presenceOf = (visitor: BenchSocket, event: string) => (_socket: BenchSocket, frame: Record<string, unknown>) =>
    frame.type === 'presence' && frame.event === event && frame.room === room && frame.userId === userIdOf(visitor);
  // Visitors stay until all have joined, so the k-th join reaches members + k sockets.
  for (const [index, visitor] of visitors.entries()) {
    const started = performance.now();
    const joined = pool.waitForFrames(presenceOf(visitor, 'joined'), members.length + index + 1, timeoutMs);
    visitor.ws.send(JSON.stringify({ action: 'joinRoom', room }));
    await joined;
    joinMs.push(performance.now() - started);
    await target.idle();
  }
  const joins = target.usage();
  target.reset();
  for (const [index, visitor] of visitors.entries()) {
    const started = performance.now();
    // The leaver is unsubscribed first, so only those still in the room hear it.
    const left = pool.waitForFrames(
      presenceOf(visitor, 'left'),
      members.length + visitors.length - index - 1,
      timeoutMs,
    );
    visitor.ws.send(JSON.stringify({ action: 'leaveRoom', room }));
    await left;
    leaveMs.push(performance.now() - started);
    await target.idle();
  }
  const leaves = target.usage();
  return {
    roomSize: members.length,
    cycles: visitors.length,
    perJoin: perOperation(joins, visitors.length),
    perLeave: perOperation(leaves, visitors.length),
    joinFanOutMs: summarize(joinMs),
    leaveFanOutMs: summarize(leaveMs),
  };
}
