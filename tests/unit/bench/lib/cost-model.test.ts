import { describe, expect, it } from 'vitest';
import {
  costPerMillion,
  expressBilledMs,
  itemSizeBytes,
  type MeasuredPerMessage,
  postInvocationMs,
  scanReadUnits,
} from '../../../../bench/lib/cost-model.js';

const twoMembers: MeasuredPerMessage = {
  roomSize: 2,
  posts: 2,
  senderFrames: 2,
  actionsInvocations: 1,
  postInvocations: 1,
  otherInvocations: 0,
  executions: 1,
  queryPages: 1,
  eventEntries: 1,
  writeUnits: 9,
  readUnits: 0.5,
  postConcurrency: 32,
};

describe('costPerMillion', () => {
  it('prices every AWS line from the per-message counts', () => {
    const cost = costPerMillion({ ...twoMembers, postMemoryMb: 512 });
    const line = (item: string) => cost.lines.find((entry) => entry.item === item)?.perMillion;
    expect(line('API Gateway messages')).toBeCloseTo(4); // 2 posts + the frame and its ack, at $1/M
    expect(line('Lambda requests')).toBeCloseTo(0.4);
    expect(line('Step Functions Express requests')).toBeCloseTo(1);
    expect(line('EventBridge events')).toBeCloseTo(1);
    expect(line('DynamoDB writes')).toBeCloseTo(9 * 0.625);
    expect(line('DynamoDB reads')).toBeCloseTo(0.5 * 0.125);
    // 30 ms × 1 GB (WebSocketActionsFunction) + 35 ms × 0.5 GB = 0.0475 GB-s per message.
    expect(line('Lambda duration')).toBeCloseTo(0.0475 * 0.0000133334 * 1e6);
    // One 100 ms unit at 64 MB.
    expect(line('Step Functions Express duration')).toBeCloseTo(0.1 * 0.0625 * 0.00001667 * 1e6);
    expect(cost.totalPerMillion).toBeCloseTo(cost.lines.reduce((sum, entry) => sum + entry.perMillion, 0));
  });

  it('prices PostToConnectionsFunction at the memory the template gives it unless told otherwise', () => {
    const duration = (measured: MeasuredPerMessage) =>
      costPerMillion(measured).lines.find((entry) => entry.item === 'Lambda duration')?.perMillion;
    // 30 ms × 1 GB + 35 ms × 1769/1024 GB per message.
    expect(duration(twoMembers)).toBeCloseTo((0.03 * 1 + 0.035 * (1769 / 1024)) * 0.0000133334 * 1e6);
    expect(duration({ ...twoMembers, postMemoryMb: 1769 })).toBeCloseTo(duration(twoMembers) ?? Number.NaN);
  });

  it("charges the direct path's posts to WebSocketActionsFunction's duration", () => {
    const direct = { ...twoMembers, postInvocations: 0, executions: 0, eventEntries: 0, queryPages: 0 };
    const line = (measured: MeasuredPerMessage, item: string) =>
      costPerMillion(measured).lines.find((entry) => entry.item === item)?.perMillion ?? Number.NaN;
    // No posts of its own: the fixed 30 ms.
    expect(costPerMillion(direct).actionsMs).toBe(30);
    // 100 posts at 32 in flight and no CPU: 4 round trips of 15 ms on top.
    const hundred = { ...direct, roomSize: 100, posts: 100, directPosts: 100, postCpuMicros: 0 };
    expect(costPerMillion(hundred).actionsMs).toBe(30 + 60);
    // CPU-bound: 100 posts × 900 µs on the 1024/1769 of a vCPU that 1,024 MB buys.
    expect(costPerMillion({ ...hundred, postCpuMicros: 900 }).actionsMs).toBe(30 + Math.round(90 / (1024 / 1769)));
    expect(line(hundred, 'Lambda duration')).toBeGreaterThan(line({ ...hundred, directPosts: 0 }, 'Lambda duration'));
    // Every post is still an API Gateway message, whoever makes it.
    expect(line(hundred, 'API Gateway messages')).toBeCloseTo(102);
  });

  it('lets API Gateway dominate as rooms grow', () => {
    const thousand = costPerMillion({ ...twoMembers, roomSize: 1000, posts: 1000, postInvocations: 10, queryPages: 2 });
    const api = thousand.lines.find((entry) => entry.item === 'API Gateway messages')?.perMillion ?? 0;
    expect(api).toBeCloseTo(1002);
    expect(api / thousand.totalPerMillion).toBeGreaterThan(0.9);
  });
});

describe('duration assumptions', () => {
  it('takes one round trip per POST_CONCURRENCY posts when the posts cost no CPU', () => {
    expect(postInvocationMs(100, 32, 0)).toBe(20 + 4 * 15);
    expect(postInvocationMs(2, 32, 0)).toBe(35);
  });

  it('is CPU-bound when the posts need more CPU than 512 MB buys', () => {
    // 100 posts × 0.9 ms on 512/1769 of a vCPU = 311 ms.
    expect(postInvocationMs(100, 32, 900, 512)).toBe(20 + 311);
    // A full vCPU at 1,769 MB: 90 ms.
    expect(postInvocationMs(100, 32, 900, 1769)).toBe(20 + 90);
  });

  it('bills Express in 100 ms units', () => {
    expect(expressBilledMs(twoMembers)).toBe(100);
    const thousand = { ...twoMembers, posts: 1000, postInvocations: 10, queryPages: 2 };
    // 20 + 2 pages × 10 + one wave of 10 batches of 100 (110 ms each on a full vCPU) = 150 → 200 ms.
    expect(expressBilledMs(thousand)).toBe(200);
    // At 512 MB each batch is CPU-bound at 331 ms: 371 → 400 ms.
    expect(expressBilledMs({ ...thousand, postMemoryMb: 512 })).toBe(400);
  });
});

describe('scanReadUnits', () => {
  it('charges half a unit per 4 KB, rounded up per 1 MB page', () => {
    expect(scanReadUnits(4096)).toBe(0.5);
    expect(scanReadUnits(4097)).toBe(1);
    expect(scanReadUnits(1024 * 1024)).toBe(128);
    expect(scanReadUnits(1024 * 1024 + 1)).toBe(128.5);
    expect(scanReadUnits(0)).toBe(0);
  });
});

describe('itemSizeBytes', () => {
  it('counts attribute names and values', () => {
    expect(itemSizeBytes({ connectionId: 'abc' })).toBe('connectionId'.length + 3);
    // A number is about one byte per two significant digits, plus one.
    expect(itemSizeBytes({ n: 1234 })).toBe(1 + 3);
    expect(itemSizeBytes({ flag: true })).toBe(4 + 1);
  });
});
