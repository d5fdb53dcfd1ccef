import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';

/** The machine a benchmark ran on, as the report prints it. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  platform: string;
  /** 1-minute load averages when the run started and ended: other work on the machine shows here. */
  loadAtStart: number;
  loadAtEnd?: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} (${os.arch()})`,
    loadAtStart: os.loadavg()[0] ?? 0,
  };
}

export function loadAverage(): number {
  return os.loadavg()[0] ?? 0;
}

/** Resident set size of a process, in MB, from /proc (Linux); undefined when unreadable. */
export function processRssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match?.[1] ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Formats written JSON the way the repository's linter wants it (Biome), so `npm run lint` stays
 * clean after a run; a missing or failing Biome leaves the file as written.
 */
export function formatJson(path: string, repoRoot: string): void {
  spawnSync(resolve(repoRoot, 'node_modules/.bin/biome'), ['format', '--write', path], {
    cwd: repoRoot,
    stdio: 'ignore',
    timeout: 30_000,
  });
}
