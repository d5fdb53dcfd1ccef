import { setTimeout as sleep } from 'node:timers/promises';
import { AWS_HOPS, type Hop, type HopFigure, INVOKE_HOPS } from './hops.js';

export type { Hop, HopFigure } from './hops.js';
export { AWS_HOPS } from './hops.js';

/** `aws`: each stand-in adds its hop's delay; `none`: nothing is added (the default). */
export type LatencyProfile = 'aws' | 'none';

export const LATENCY_PROFILES: readonly LatencyProfile[] = ['aws', 'none'];

export class LatencyOptionError extends Error {
  override name = 'LatencyOptionError';
}

/** Reads `--latency`: `aws` or `none`. */
export function parseLatencyProfile(value: string | undefined): LatencyProfile {
  const profile = value ?? 'none';
  if (profile === 'aws' || profile === 'none') return profile;
  throw new LatencyOptionError(`--latency must be aws or none, not ${profile}`);
}

/** Reads a cold-start rate: a fraction of invocations between 0 and 1. */
export function parseColdStartRate(value: string | undefined): number {
  const rate = Number(value ?? '0');
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new LatencyOptionError(`the cold-start rate must be a fraction between 0 and 1, not ${value}`);
  }
  return rate;
}

/** z of the 99th percentile of the standard normal distribution. */
export const Z_99 = 2.326347874;

/** Parameters of a lognormal whose median is `p50` and whose 99th percentile is `p99`. */
export function fitLognormal(p50: number, p99: number): { mu: number; sigma: number } {
  if (!(p50 > 0) || !(p99 >= p50)) throw new RangeError(`cannot fit a lognormal to p50 ${p50} and p99 ${p99}`);
  return { mu: Math.log(p50), sigma: Math.log(p99 / p50) / Z_99 };
}

/**
 * mulberry32: a small, fast 32-bit generator. Not for secrets; here so that a bench run with the same
 * seed draws the same delays per hop (Math.random cannot be seeded).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One standard normal draw (Box-Muller), from two uniforms in [0, 1). */
function standardNormal(random: () => number): number {
  const u = 1 - random(); // (0, 1]: log(0) would be -Infinity
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Where the model reads the time and waits; injected by tests so that no assertion depends on timing. */
export interface LatencyClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: LatencyClock = {
  now: () => performance.now(),
  sleep: (ms) => sleep(ms),
};

/**
 * What is left to wait of a hop's drawn delay once the stand-in has spent `elapsedMs` doing the hop's
 * real work (DynamoDB Local answering, a sandbox starting...): the draw is the whole hop, so local
 * time is counted once, not on top of it. Never negative: local work slower than the draw adds nothing.
 */
export function topUpMs(drawnMs: number, elapsedMs: number): number {
  return Math.max(0, drawnMs - Math.max(0, elapsedMs));
}

/**
 * One hop in progress: its clock starts when the stand-in starts the hop's real work, and `dueMs()`,
 * asked where the hop ends (before the answer, the frame, the handler), says how much of the draw is
 * still to wait. What a stand-in needs, so that it can wait with its own (abortable) timers.
 */
export interface HopTimer {
  /** Milliseconds still to wait now (max(0, draw − elapsed)); the first call draws and is counted. */
  dueMs(): number;
  /** Waits what is due on the model's clock. */
  settle(): Promise<void>;
}

/** A timer that never waits: the stand-ins' default when no model is given. */
export const NO_WAIT: HopTimer = { dueMs: () => 0, settle: async () => {} };

export interface LatencyModelOptions {
  profile: LatencyProfile;
  /** Seeds every hop's generator; default 1. */
  seed?: number;
  /** Fraction of Lambda invocations that pay a cold start on top of their hop; default 0. */
  coldStartRate?: number;
  /** Replaces figures of the `aws` profile (tests). */
  figures?: Partial<Record<Hop, HopFigure>>;
  /** Default: performance.now and timers (tests inject a fake one). */
  clock?: LatencyClock;
}

export interface HopStats {
  draws: number;
  /** Sum of the draws, ms. */
  totalMs: number;
  /** Sum of what the stand-ins waited on top of their real work (the draws less local time), ms. */
  waitedMs: number;
}

/**
 * The delays AWS would add between the services the local stack stands in for, one lognormal per
 * hop fitted to its published p50 and p99. Each hop draws from its own seeded generator, so the
 * sequence a hop sees does not depend on how other hops interleave. `enabled` may be switched at run
 * time (the latency bench compares both on the same sockets); a disabled model draws nothing.
 */
export class LatencyModel {
  readonly profile: LatencyProfile;
  readonly seed: number;
  readonly coldStartRate: number;
  enabled: boolean;
  /**
   * True (the default): a hop waits its draw less the real work it already did. False: the whole draw
   * on top of the real work, as the model did before the top-up, kept so a bench can show both.
   */
  topUp = true;
  private readonly fits = new Map<Hop, { mu: number; sigma: number }>();
  private readonly generators = new Map<Hop, () => number>();
  private readonly coldStartCoin: () => number;
  private readonly counters = new Map<Hop, HopStats>();
  readonly figures: Readonly<Record<Hop, HopFigure>>;
  readonly clock: LatencyClock;

  constructor(options: LatencyModelOptions) {
    this.clock = options.clock ?? systemClock;
    this.profile = options.profile;
    this.seed = options.seed ?? 1;
    this.coldStartRate = options.coldStartRate ?? 0;
    this.enabled = options.profile === 'aws';
    this.figures = { ...AWS_HOPS, ...options.figures };
    let index = 0;
    for (const [hop, figure] of Object.entries(this.figures) as Array<[Hop, HopFigure]>) {
      this.fits.set(hop, fitLognormal(figure.p50, figure.p99));
      // Distinct, fixed streams per hop: the seed times a large odd constant, plus the hop's position.
      this.generators.set(hop, seededRandom(Math.imul(this.seed, 0x9e3779b1) + ++index * 0x85ebca6b));
    }
    this.coldStartCoin = seededRandom(Math.imul(this.seed, 0x9e3779b1) ^ 0x27d4eb2f);
  }

  /** One delay for `hop` in ms (0 when disabled); invocation hops add a cold start at `coldStartRate`. */
  draw(hop: Hop): number {
    if (!this.enabled) return 0;
    let ms = this.sample(hop);
    if (this.coldStartRate > 0 && INVOKE_HOPS.has(hop) && this.coldStartCoin() < this.coldStartRate) {
      ms += this.sample('coldStart');
    }
    this.statsOf(hop).draws++;
    this.statsOf(hop).totalMs += ms;
    return ms;
  }

  /**
   * Starts `hop` now (or `elapsedMs` ago, when the stand-in knows the hop began earlier on another
   * clock): the returned timer tops the hop's real work up to one draw. The draw is taken at the first
   * `dueMs()`, so a hop that never reaches its end (a post to a gone connection) draws nothing, and
   * each hop's seeded sequence is drawn in the order its hops end. A disabled model never waits.
   */
  start(hop: Hop, elapsedMs = 0): HopTimer {
    if (!this.enabled) return NO_WAIT;
    const startedAt = this.clock.now() - Math.max(0, elapsedMs);
    let drawnMs: number | undefined;
    const dueMs = (): number => {
      const first = drawnMs === undefined;
      drawnMs ??= this.draw(hop);
      const due = this.topUp ? topUpMs(drawnMs, this.clock.now() - startedAt) : drawnMs;
      if (first) this.statsOf(hop).waitedMs += due;
      return due;
    };
    return {
      dueMs,
      settle: async () => {
        const due = dueMs();
        if (due > 0) await this.clock.sleep(due);
      },
    };
  }

  /** Waits one whole draw of `hop`, for a hop with no local work to subtract. Resolves at once when off. */
  async delay(hop: Hop): Promise<void> {
    await this.start(hop).settle();
  }

  /** Draws and delays so far, per hop. */
  stats(): Partial<Record<Hop, HopStats>> {
    return Object.fromEntries([...this.counters].map(([hop, stats]) => [hop, { ...stats }]));
  }

  private statsOf(hop: Hop): HopStats {
    let stats = this.counters.get(hop);
    if (!stats) {
      stats = { draws: 0, totalMs: 0, waitedMs: 0 };
      this.counters.set(hop, stats);
    }
    return stats;
  }

  private sample(hop: Hop): number {
    const fit = this.fits.get(hop);
    const random = this.generators.get(hop);
    if (!fit || !random) throw new RangeError(`no latency figure for ${hop}`);
    return Math.exp(fit.mu + fit.sigma * standardNormal(random));
  }
}

/** A model for a stack option: undefined for `none`, so nothing is wrapped at all. */
export function latencyModelFor(
  profile: LatencyProfile | LatencyModel | undefined,
  options: Omit<LatencyModelOptions, 'profile'> = {},
): LatencyModel | undefined {
  if (profile instanceof LatencyModel) return profile;
  if (!profile || profile === 'none') return undefined;
  return new LatencyModel({ profile, ...options });
}
