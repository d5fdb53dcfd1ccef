/** Reconnect timing: exponential growth from `baseMs`, capped at `maxMs`. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** The browser's timing: 0.5 s doubling up to 30 s. */
export const defaultBackoff: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * The wait before reconnect attempt `attempt` (0 for the first): "equal jitter", half fixed and
 * half random, so a server restart is not met by every client at the same instant, yet no client
 * retries immediately.
 */
export function reconnectDelay(
  attempt: number,
  options: BackoffOptions = defaultBackoff,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
