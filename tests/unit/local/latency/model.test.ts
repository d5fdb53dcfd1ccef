import { describe, expect, it } from 'vitest';
import {
  AWS_HOPS,
  fitLognormal,
  type Hop,
  type LatencyClock,
  LatencyModel,
  LatencyOptionError,
  latencyModelFor,
  parseColdStartRate,
  parseLatencyProfile,
  seededRandom,
  topUpMs,
  Z_99,
} from '../../../../local/latency/model.js';

const DRAWS = 40_000;

/** The q-quantile of sorted values (nearest rank). */
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

function drawMany(model: LatencyModel, hop: Hop, count = DRAWS): number[] {
  return Array.from({ length: count }, () => model.draw(hop)).sort((a, b) => a - b);
}

describe('fitLognormal', () => {
  it('puts the median at p50 and the 99th percentile at p99', () => {
    const { mu, sigma } = fitLognormal(148, 387);
    expect(Math.exp(mu)).toBeCloseTo(148, 9);
    expect(Math.exp(mu + Z_99 * sigma)).toBeCloseTo(387, 9);
    expect(sigma).toBeCloseTo(Math.log(387 / 148) / 2.326, 3);
  });

  it('refuses figures no lognormal has', () => {
    expect(() => fitLognormal(0, 10)).toThrow(RangeError);
    expect(() => fitLognormal(100, 50)).toThrow(RangeError);
  });
});

describe('LatencyModel (aws profile)', () => {
  // Statistical, not timed: the draws' own median and 99th percentile against the published figures.
  it.each(Object.keys(AWS_HOPS) as Hop[])('draws %s with the published median and p99', (hop) => {
    const model = new LatencyModel({ profile: 'aws', seed: 7 });
    const figure = AWS_HOPS[hop];
    const sorted = drawMany(model, hop);
    // Sampling error of a quantile of 40,000 lognormal draws is ~1% at the median and ~3% at p99.
    expect(quantile(sorted, 0.5)).toBeGreaterThan(figure.p50 * 0.96);
    expect(quantile(sorted, 0.5)).toBeLessThan(figure.p50 * 1.04);
    expect(quantile(sorted, 0.99)).toBeGreaterThan(figure.p99 * 0.9);
    expect(quantile(sorted, 0.99)).toBeLessThan(figure.p99 * 1.1);
    expect(sorted[0]).toBeGreaterThan(0);
  });

  it('draws the same delays for the same seed, and other delays for another', () => {
    const first = drawMany(new LatencyModel({ profile: 'aws', seed: 42 }), 'eventBridgeDelivery', 50);
    const again = drawMany(new LatencyModel({ profile: 'aws', seed: 42 }), 'eventBridgeDelivery', 50);
    const other = drawMany(new LatencyModel({ profile: 'aws', seed: 43 }), 'eventBridgeDelivery', 50);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it("keeps each hop's sequence independent of the other hops' draws", () => {
    const alone = new LatencyModel({ profile: 'aws', seed: 3 });
    const interleaved = new LatencyModel({ profile: 'aws', seed: 3 });
    const a = Array.from({ length: 20 }, () => alone.draw('dynamoDbRequest'));
    const b = Array.from({ length: 20 }, () => {
      interleaved.draw('connectionsPost');
      return interleaved.draw('dynamoDbRequest');
    });
    expect(b).toEqual(a);
  });

  it('adds a cold start to invocation hops at the given rate, and never to other hops', () => {
    const warm = new LatencyModel({ profile: 'aws', seed: 5 });
    const cold = new LatencyModel({ profile: 'aws', seed: 5, coldStartRate: 1 });
    const warmInvokes = drawMany(warm, 'lambdaInvoke', 2000);
    const coldInvokes = drawMany(cold, 'lambdaInvoke', 2000);
    // A cold start's median is 250 ms; a warm invoke's 5 ms.
    expect(quantile(coldInvokes, 0.5)).toBeGreaterThan(quantile(warmInvokes, 0.5) + 150);
    expect(drawMany(cold, 'dynamoDbRequest', 2000)).toEqual(
      drawMany(new LatencyModel({ profile: 'aws', seed: 5 }), 'dynamoDbRequest', 2000),
    );
    const some = new LatencyModel({ profile: 'aws', seed: 9, coldStartRate: 0.1 });
    const slow = drawMany(some, 'apiGatewayInvoke', 10_000).filter((ms) => ms > 100).length;
    // ~10% cold (almost all over 100 ms) plus the warm tail beyond 100 ms (well under 0.1%).
    expect(slow).toBeGreaterThan(800);
    expect(slow).toBeLessThan(1200);
  });

  it('counts draws and draws nothing while disabled', () => {
    const model = new LatencyModel({ profile: 'aws' });
    model.draw('sqs');
    model.enabled = false;
    expect(model.draw('sqs')).toBe(0);
    expect(model.stats().sqs?.draws).toBe(1);
  });
});

/** A clock that moves only when told: `advance` stands for the stand-in's real work, `sleep` records the wait. */
function fakeClock(): LatencyClock & { advance(ms: number): void; slept: number[] } {
  let now = 1_000;
  const slept: number[] = [];
  return {
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
    slept,
  };
}

describe('top-up: each hop waits its draw less the real work it already did', () => {
  it('topUpMs subtracts the elapsed time and never goes below zero', () => {
    expect(topUpMs(10, 0)).toBe(10);
    expect(topUpMs(10, 3.5)).toBe(6.5);
    expect(topUpMs(10, 10)).toBe(0);
    expect(topUpMs(10, 25)).toBe(0);
    // A clock step backwards is not negative work.
    expect(topUpMs(10, -4)).toBe(10);
  });

  it('waits the same draws as before, less the time the clock moved between start and settle', async () => {
    const clock = fakeClock();
    const model = new LatencyModel({ profile: 'aws', seed: 21, clock });
    const reference = new LatencyModel({ profile: 'aws', seed: 21 });
    const draws = Array.from({ length: 5 }, () => reference.draw('dynamoDbRequest'));
    const work = [0, 2, 5, 50, 1];
    for (const ms of work) {
      const timer = model.start('dynamoDbRequest');
      clock.advance(ms);
      await timer.settle();
    }
    const expected = draws.map((draw, i) => topUpMs(draw, work[i] ?? 0)).filter((ms) => ms > 0);
    expect(clock.slept).toEqual(expected);
    // Work that outlasted its draw (50 ms against a 6 / 20 ms lognormal) added nothing: no sleep at all.
    expect(clock.slept.length).toBeLessThan(work.length);
    const stats = model.stats().dynamoDbRequest;
    expect(stats?.draws).toBe(5);
    expect(stats?.totalMs).toBeCloseTo(
      draws.reduce((sum, draw) => sum + draw, 0),
      9,
    );
    expect(stats?.waitedMs).toBeCloseTo(
      expected.reduce((sum, ms) => sum + ms, 0),
      9,
    );
  });

  it('counts work done before the timer started (elapsedMs), and draws at the first dueMs only', () => {
    const clock = fakeClock();
    const model = new LatencyModel({ profile: 'aws', seed: 4, clock });
    const [draw] = [new LatencyModel({ profile: 'aws', seed: 4 }).draw('eventBridgeDelivery')];
    const timer = model.start('eventBridgeDelivery', 30);
    expect(model.stats().eventBridgeDelivery).toBeUndefined();
    clock.advance(20);
    const due = timer.dueMs();
    expect(due).toBeCloseTo(topUpMs(draw ?? 0, 50), 9);
    clock.advance(due / 2);
    expect(timer.dueMs()).toBeCloseTo(due / 2, 9);
    expect(model.stats().eventBridgeDelivery?.draws).toBe(1);
  });

  it('keeps seeded determinism: a hop never started draws nothing and shifts no other draw', async () => {
    const clock = fakeClock();
    const model = new LatencyModel({ profile: 'aws', seed: 8, clock });
    model.start('connectionsPost'); // a post to a gone connection: never reaches its end
    const timer = model.start('connectionsPost');
    await timer.settle();
    expect(clock.slept).toEqual([new LatencyModel({ profile: 'aws', seed: 8 }).draw('connectionsPost')]);
  });

  it('waits the whole draw on top of the work when top-up is switched off (the old, additive model)', async () => {
    const clock = fakeClock();
    const model = new LatencyModel({ profile: 'aws', seed: 2, clock });
    model.topUp = false;
    const timer = model.start('lambdaInvoke');
    clock.advance(1_000);
    await timer.settle();
    expect(clock.slept).toEqual([new LatencyModel({ profile: 'aws', seed: 2 }).draw('lambdaInvoke')]);
  });

  it('waits nothing while disabled', async () => {
    const clock = fakeClock();
    const model = new LatencyModel({ profile: 'aws', clock });
    model.enabled = false;
    const timer = model.start('eventBridgeDelivery');
    expect(timer.dueMs()).toBe(0);
    await timer.settle();
    expect(clock.slept).toEqual([]);
    expect(model.stats()).toEqual({});
  });
});

describe('profiles and options', () => {
  it('builds no model for none', () => {
    expect(latencyModelFor('none')).toBeUndefined();
    expect(latencyModelFor(undefined)).toBeUndefined();
    expect(latencyModelFor('aws')?.enabled).toBe(true);
    expect(new LatencyModel({ profile: 'none' }).draw('eventBridgeDelivery')).toBe(0);
  });

  it('parses --latency and the cold-start rate, refusing anything else', () => {
    expect(parseLatencyProfile(undefined)).toBe('none');
    expect(parseLatencyProfile('aws')).toBe('aws');
    expect(() => parseLatencyProfile('azure')).toThrow(LatencyOptionError);
    expect(parseColdStartRate('0.01')).toBe(0.01);
    expect(() => parseColdStartRate('2')).toThrow(LatencyOptionError);
    expect(() => parseColdStartRate('x')).toThrow(LatencyOptionError);
  });

  it('seeded uniforms cover [0, 1) evenly', () => {
    const random = seededRandom(11);
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 50_000; i++) {
      const value = random();
      if (value < 0 || value >= 1) outside++;
      const bucket = Math.floor(value * 10);
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    expect(outside).toBe(0);
    for (const count of buckets) expect(Math.abs(count - 5000)).toBeLessThan(300);
  });
});
