import { parseParameterOverrides } from '../../local/cfn/parameters.js';
import { type LatencySettings, latencyFlags, latencySettingsOf } from '../../local/latency/cli.js';

/** Run-control flags every bench script takes (node:util parseArgs options); `maxMinutes` is the script's own cap. */
export function runFlags(maxMinutes: string) {
  return {
    'max-minutes': { type: 'string', default: maxMinutes },
    'no-write': { type: 'boolean', default: false },
    note: { type: 'string', default: '' },
  } as const;
}

/** The latency model's seed and cold-start rate without `--latency`, for a bench that runs with and without it. */
export const latencyModelFlags = {
  'latency-seed': latencyFlags['latency-seed'],
  'cold-start-rate': latencyFlags['cold-start-rate'],
} as const;

/** Flags of a bench that starts one stack for the whole run. */
export const stackFlags = {
  // Template parameter overrides for the whole run, e.g. `--parameter Tracing=Active` (repeatable).
  parameter: { type: 'string' as const, multiple: true as const, default: [] as string[] },
  // --latency aws|none, --latency-seed, --cold-start-rate: the per-hop AWS delays (local/latency/).
  ...latencyFlags,
};

export interface StackSettings {
  templateParameters: ReturnType<typeof parseParameterOverrides>;
  latency: LatencySettings;
}

/** What `stackFlags` asked for; throws on a malformed `--parameter` or latency value. */
export function stackSettingsOf(args: {
  parameter?: string[];
  latency?: string;
  'latency-seed'?: string;
  'cold-start-rate'?: string;
}): StackSettings {
  return { templateParameters: parseParameterOverrides(args.parameter ?? []), latency: latencySettingsOf(args) };
}
