import { randomBytes } from 'node:crypto';

/** The logging port of the local gateways; `console` and the Powertools Logger both fit. */
export interface GatewayLogger {
  debug(message: string, ...extra: unknown[]): void;
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}

/** A logger that drops everything: the default, so test output stays readable. */
export const silentLogger: GatewayLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Calls a Lambda function by name with an event and resolves with what the handler returned. */
export type InvokeFunction = (functionName: string, event: unknown) => Promise<unknown>;

/**
 * A 16-character id ending in `=`, shaped like API Gateway's connection, request and message ids
 * (base64 of 11 bytes). Ids containing `+` or `/` are redrawn so they stay safe in URL paths even
 * when a caller forgets to encode them.
 */
export function newAwsStyleId(): string {
  for (;;) {
    const id = randomBytes(11).toString('base64');
    if (!/[+/]/.test(id)) return id;
  }
}

/** A 10-character lower-case id, shaped like an API Gateway API id. */
export function newApiId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(10);
  let id = '';
  for (const byte of bytes) id += alphabet[byte % alphabet.length];
  return id;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Formats a time the way API Gateway fills `requestTime`/`time`: `12/Mar/2020:19:03:58 +0000`. */
export function formatClfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} +0000`;
}

/** An X-Ray style trace header value, as API Gateway adds to requests it forwards. */
export function newTraceId(epochMs: number): string {
  const seconds = Math.floor(epochMs / 1000).toString(16);
  return `Root=1-${seconds}-${randomBytes(12).toString('hex')}`;
}

/** The client address without the IPv4-mapped IPv6 prefix Node reports on dual-stack sockets. */
export function normalizeIp(address: string | undefined): string {
  if (!address) return '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/** The integration did not answer within API Gateway's integration timeout. */
export class IntegrationTimeoutError extends Error {
  override readonly name = 'IntegrationTimeoutError';
  constructor(functionName: string, timeoutMs: number) {
    super(`${functionName} did not answer within ${timeoutMs} ms`);
  }
}

/** Invokes a function and rejects with IntegrationTimeoutError when it outlives API Gateway's integration timeout. */
export async function invokeWithTimeout(
  invoke: InvokeFunction,
  functionName: string,
  event: unknown,
  timeoutMs: number,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IntegrationTimeoutError(functionName, timeoutMs)), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([invoke(functionName, event), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a thrown value is Lambda's way of saying "Unauthorized" (the authorizer convention API Gateway maps to 401). */
export function isUnauthorizedError(err: unknown): boolean {
  if (err === 'Unauthorized') return true;
  return err instanceof Error && err.message === 'Unauthorized';
}

/** Whether a value is a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Keeps fire-and-forget work (invocations, handshakes) visible so `close()` can wait for it.
 * Tasks are wrapped so a rejection is logged instead of becoming an unhandled rejection.
 */
export class TaskTracker {
  readonly #tasks = new Set<Promise<void>>();
  readonly #logger: GatewayLogger;

  constructor(logger: GatewayLogger) {
    this.#logger = logger;
  }

  run(label: string, task: Promise<unknown>): void {
    const guarded: Promise<void> = task.then(
      () => undefined,
      (err: unknown) => this.#logger.error(`${label} failed`, err),
    );
    this.#tasks.add(guarded);
    void guarded.finally(() => this.#tasks.delete(guarded));
  }

  /** Waits until no task is left, including tasks started by the ones being waited for. */
  async drain(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }
}
