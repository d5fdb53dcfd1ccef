import { type LatencyProfile, parseColdStartRate, parseLatencyProfile } from './model.js';

/** The latency flags `npm start`, `npm run bench` and `npm run load` share (node:util parseArgs options). */
export const latencyFlags = {
  // `aws`: each stand-in tops its hop up to a draw of its AWS delay (local/latency/hops.ts); `none` adds nothing.
  latency: { type: 'string', default: process.env.SWITCHBOARD_LATENCY ?? 'none' },
  'latency-seed': { type: 'string', default: '1' },
  'cold-start-rate': { type: 'string', default: '0' },
} as const;

export const latencyHelp = `  --latency aws|none     make each hop take as long as on AWS            SWITCHBOARD_LATENCY
                         (EventBridge, Step Functions, Lambda, DynamoDB,
                         @connections, streams, SQS): lognormals fitted to
                         published p50/p99, local time counted towards
                         each draw (default none)
  --latency-seed <n>     seed of the model's generators (default 1)
  --cold-start-rate <f>  fraction of invocations paying a cold start
                         under --latency aws (default 0)`;

/** What the stack options take, read from parsed flags; throws LatencyOptionError on a bad value. */
export interface LatencySettings {
  latency: LatencyProfile;
  latencySeed: number;
  coldStartRate: number;
}

export function latencySettingsOf(values: {
  latency?: string;
  'latency-seed'?: string;
  'cold-start-rate'?: string;
}): LatencySettings {
  const seed = Number(values['latency-seed'] ?? '1');
  return {
    latency: parseLatencyProfile(values.latency),
    latencySeed: Number.isInteger(seed) ? seed : 1,
    coldStartRate: parseColdStartRate(values['cold-start-rate']),
  };
}

/** One line for a report: what was modelled, reproducibly. */
export function describeLatency(settings: LatencySettings): string {
  if (settings.latency === 'none') return 'latency model off (`--latency none`)';
  return (
    `latency model \`--latency aws\` (seed ${settings.latencySeed}` +
    `${settings.coldStartRate > 0 ? `, cold starts at ${settings.coldStartRate}` : ''})`
  );
}
