import { randomBytes, randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { credentialsForRole, functionRoleName, type LocalCredentials } from '../iam/credentials.js';
import type { LocalFunction } from '../stack-model.js';
import { bundleFunction, bundleWorkerRuntime, defaultBundleCacheDir } from './bundle.js';
import { type AsyncCondition, asyncInvocationRecord, type DestinationSender } from './destinations.js';
import { checkOverrides, functionEnvironment, type LocalEndpoints, type LocalTokenIssuer } from './environment.js';
import { ExecutionEnvironment, type InvokeOutcome } from './execution-environment.js';
import type { LambdaErrorPayload } from './protocol.js';

/** Lambda's ResourceNotFoundException. EventBridge does not retry it. */
export class UnknownFunctionError extends Error {
  override name = 'ResourceNotFoundException';
  readonly statusCode = 404;
  readonly retryable = false;
}

/** Lambda's 429 for a synchronous invoke over the function's or the account's concurrency. */
export class TooManyRequestsError extends Error {
  override name = 'TooManyRequestsException';
  readonly statusCode = 429;
  constructor(
    readonly reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded',
  ) {
    super('Rate Exceeded.');
  }
}

/**
 * A function error (Invoke's 200 with X-Amz-Function-Error): `name` is the errorType and
 * `payload` the error body, `{errorType, errorMessage, trace}`.
 */
export class FunctionError extends Error {
  constructor(readonly payload: LambdaErrorPayload) {
    super(payload.errorMessage);
    this.name = payload.errorType;
    this.stack = [`${payload.errorType}: ${payload.errorMessage}`, ...(payload.trace ?? []).slice(1)].join('\n');
  }
}

export type InvocationType = 'RequestResponse' | 'Event';

export interface InvokeOptions {
  /** RequestResponse (default) waits for the result; Event queues the event and resolves once Lambda accepted it. */
  invocationType?: InvocationType;
  /**
   * RequestResponse only: awaited once an execution environment is ready and before the handler gets
   * the event, so the latency model's invoke hop can count the service's own work (a cold start
   * included) as part of its draw.
   */
  beforeHandler?: () => Promise<void>;
}

export interface LambdaServiceOptions {
  functions: LocalFunction[];
  region: string;
  /** The stand-ins' endpoints; read at each cold start, so stand-ins started later are seen. */
  endpoints: () => LocalEndpoints;
  tokenIssuer?: LocalTokenIssuer;
  /** Replacements for template-declared variables, by function logical id or name. */
  environmentOverrides?: Record<string, Record<string, string>>;
  /**
   * Concurrent executions across all functions: Lambda's account-level limit, past which (less
   * what functions reserve) a synchronous invoke is throttled. Default 1,000, Lambda's own default,
   * so local throttling happens where AWS's would and not because the machine is small.
   */
  accountConcurrency?: number;
  /**
   * Worker threads (execution environments) alive at once, across all functions, and per
   * function. These are the machine's limits, not Lambda's: an invocation that finds every
   * environment of its function busy and no room for another waits for one to free up, where
   * Lambda would start one more. A cold start costs about 300 ms of CPU (the real bundles) and an
   * environment some tens of MB. The defaults, 4 per function and 64 in all, suit two cores and
   * 24 GiB; 64 is above the templates' 9 functions times 4, so a burst touching every function
   * does not evict environments that then cold-start again (8 per function and 32 in all did, and
   * connecting 50 clients took 26 s instead of 7 s).
   */
  maxEnvironments?: number;
  maxEnvironmentsPerFunction?: number;
  /** An environment unused this long is discarded; default 5 minutes. */
  idleEnvironmentMs?: number;
  /**
   * Multiplies Lambda's asynchronous retry schedule (about 1 min, then 2 min) and the events'
   * maximum age; 1 (the default) keeps AWS's timing, tests use a small fraction.
   */
  asyncRetryScale?: number;
  /** Sends invocation records to destinations; without it a record is only logged. */
  sendToDestination?: DestinationSender;
  bundleCacheDir?: string;
  log?: (message: string, extra?: object) => void;
}

export interface LambdaServiceStats {
  environments: number;
  busy: number;
  coldStarts: number;
  timeouts: number;
  throttles: number;
  asyncQueued: number;
  asyncRetries: number;
  destinationRecords: number;
}

/** The local Lambda service: the templates' functions, each in its own execution environments. */
export interface LambdaService {
  functions: LocalFunction[];
  /**
   * Invokes a function by name, logical id or ARN. RequestResponse resolves with the handler's
   * result and rejects with a {@link FunctionError}, {@link TooManyRequestsError} or
   * {@link UnknownFunctionError}; Event resolves once the event is queued.
   */
  invoke(nameOrArn: string, event: unknown, options?: InvokeOptions): Promise<unknown>;
  /** Invocations that reached an environment, by function name. */
  invocations(): Record<string, number>;
  /**
   * Lambda's UpdateFunctionConfiguration for the environment: replaces template-declared
   * variables; the function's environments are replaced, so the next invocations cold-start.
   */
  updateFunctionConfiguration(nameOrArn: string, update: { environment: Record<string, string> }): void;
  /** Sends a record to a destination as the function's execution role (stream mappings use it too). */
  sendToDestination(nameOrArn: string, destinationArn: string, record: object): Promise<void>;
  stats(): LambdaServiceStats;
  /** Resolves once no asynchronous event is queued, waiting for a retry, or running. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Lambda's waits before the first and second retry of a failed asynchronous invocation. */
const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000];

interface QueuedEvent {
  requestId: string;
  payload: string;
  attempts: number;
  queuedAtMs: number;
  notBeforeMs: number;
  lastOutcome?: InvokeOutcome;
}

interface FunctionState {
  fn: LocalFunction;
  credentials: LocalCredentials;
  bundle?: Promise<string>;
  environments: Set<ExecutionEnvironment>;
  /** Invocations running or environments starting: what counts against concurrency. */
  inFlight: number;
  overrides: Record<string, string>;
  generation: number;
  queue: QueuedEvent[];
  asyncRunning: number;
  wakeTimer?: NodeJS.Timeout;
  /** Invocations waiting for an environment of this function to free up (the machine's limit). */
  waiters: Array<() => void>;
}

function logStreamName(): string {
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

/**
 * Starts the local Lambda service. Each function runs in its own execution environments
 * (worker threads): code bundled as `sam build` bundles it, an environment holding exactly the
 * variables Lambda would set, credentials of the function's own execution role, its MemorySize,
 * and its Timeout enforced by terminating the environment. Environments are reused while warm and
 * added under load up to the function's reserved concurrency or the account's limit; beyond that a
 * synchronous invoke is throttled and an asynchronous one waits in Lambda's queue.
 */
export async function startLambdaService(options: LambdaServiceOptions): Promise<LambdaService> {
  const log = options.log ?? (() => {});
  const cacheDir = options.bundleCacheDir ?? defaultBundleCacheDir;
  const accountConcurrency = options.accountConcurrency ?? 1000;
  const maxEnvironments = options.maxEnvironments ?? 64;
  const maxPerFunction = options.maxEnvironmentsPerFunction ?? 4;
  const idleEnvironmentMs = options.idleEnvironmentMs ?? 5 * 60_000;
  const retryScale = options.asyncRetryScale ?? 1;
  const states = new Map<string, FunctionState>();
  const counts: Record<string, number> = {};
  const counters = { coldStarts: 0, timeouts: 0, throttles: 0, asyncRetries: 0, destinationRecords: 0 };
  const idleWaiters: Array<() => void> = [];
  let closed = false;

  for (const fn of options.functions) {
    const overrides = { ...options.environmentOverrides?.[fn.logicalId], ...options.environmentOverrides?.[fn.name] };
    checkOverrides(fn, overrides);
    states.set(fn.name, {
      fn,
      credentials: credentialsForRole(functionRoleName(fn.name)),
      environments: new Set(),
      inFlight: 0,
      overrides,
      generation: 0,
      queue: [],
      asyncRunning: 0,
      waiters: [],
    });
  }
  for (const key of Object.keys(options.environmentOverrides ?? {})) {
    if (!options.functions.some((fn) => fn.logicalId === key || fn.name === key)) {
      throw new Error(`environment overrides name ${key}, which is not a function of the templates`);
    }
  }
  const reservedTotal = options.functions.reduce((sum, fn) => sum + (fn.reservedConcurrency ?? 0), 0);
  if (reservedTotal > accountConcurrency) {
    throw new Error(
      `the templates reserve ${reservedTotal} concurrent executions, over the local limit of ${accountConcurrency}`,
    );
  }
  const unreservedLimit = accountConcurrency - reservedTotal;

  // Bundling up front surfaces a build error at start, as `sam build` would, and keeps cold starts short.
  const runtimePath = await bundleWorkerRuntime(cacheDir);
  for (const state of states.values()) state.bundle = bundleFunction(state.fn, cacheDir);
  await Promise.all([...states.values()].map((state) => state.bundle));

  function lookup(nameOrArn: string): FunctionState {
    const name = /function:([^/:]+)/.exec(nameOrArn)?.[1] ?? nameOrArn;
    const state = states.get(name) ?? [...states.values()].find((candidate) => candidate.fn.logicalId === name);
    if (!state) throw new UnknownFunctionError(`Function not found: ${nameOrArn}`);
    return state;
  }

  const unreservedInFlight = () =>
    [...states.values()].reduce(
      (sum, state) => sum + (state.fn.reservedConcurrency === undefined ? state.inFlight : 0),
      0,
    );

  function throttleReason(state: FunctionState): TooManyRequestsError['reason'] | undefined {
    if (state.fn.reservedConcurrency !== undefined) {
      return state.inFlight >= state.fn.reservedConcurrency
        ? 'ReservedFunctionConcurrentInvocationLimitExceeded'
        : undefined;
    }
    return unreservedInFlight() >= unreservedLimit ? 'ConcurrentInvocationLimitExceeded' : undefined;
  }

  const totalEnvironments = () => [...states.values()].reduce((sum, state) => sum + state.environments.size, 0);

  /** Makes room for one more worker by discarding the environment idle the longest, of any function. */
  function evictIdle(): boolean {
    let oldest: { state: FunctionState; env: ExecutionEnvironment } | undefined;
    for (const state of states.values()) {
      for (const env of state.environments) {
        if (env.state === 'idle' && !env.claimed && (!oldest || env.lastUsedMs < oldest.env.lastUsedMs))
          oldest = { state, env };
      }
    }
    if (!oldest) return false;
    oldest.state.environments.delete(oldest.env);
    void oldest.env.terminate();
    return true;
  }

  /** An environment freed up or went away somewhere: each function's first waiter looks again. */
  function wakeWaiters(): void {
    for (const state of states.values()) state.waiters.shift()?.();
  }

  function pickIdle(state: FunctionState): ExecutionEnvironment | undefined {
    let env: ExecutionEnvironment | undefined;
    for (const candidate of state.environments) {
      if (candidate.state === 'idle' && !candidate.claimed && candidate.generation === state.generation) {
        if (!env || candidate.lastUsedMs > env.lastUsedMs) env = candidate;
      }
    }
    return env;
  }

  /** A warm environment, a new one if the machine has room, or the next one to free up. */
  async function acquire(state: FunctionState): Promise<ExecutionEnvironment | LambdaErrorPayload> {
    state.bundle ??= bundleFunction(state.fn, cacheDir);
    const bundlePath = await state.bundle;
    for (;;) {
      if (closed) return { errorType: 'ServiceException', errorMessage: 'the Lambda service is closing' };
      const warm = pickIdle(state);
      if (warm) {
        warm.claimed = true;
        return warm;
      }
      const live = [...state.environments].filter((env) => env.state !== 'dead').length;
      // Counted and added in the same synchronous step, so concurrent invocations cannot overshoot the caps.
      if (live < maxPerFunction && (totalEnvironments() < maxEnvironments || evictIdle())) {
        return coldStart(state, bundlePath);
      }
      await new Promise<void>((wake) => state.waiters.push(wake));
    }
  }

  async function coldStart(
    state: FunctionState,
    bundlePath: string,
  ): Promise<ExecutionEnvironment | LambdaErrorPayload> {
    const stream = logStreamName();
    const env = new ExecutionEnvironment({
      runtimePath,
      timeoutSeconds: state.fn.timeoutSeconds,
      setup: {
        bundlePath,
        handler: state.fn.handler,
        exportName: state.fn.exportName,
        functionName: state.fn.name,
        functionVersion: '$LATEST',
        memorySize: state.fn.memorySize,
        logGroupName: state.fn.logGroupName,
        logStreamName: stream,
      },
      env: functionEnvironment(state.fn, {
        region: options.region,
        credentials: state.credentials,
        endpoints: options.endpoints(),
        logStreamName: stream,
        taskRoot: dirname(bundlePath),
        overrides: state.overrides,
        ...(options.tokenIssuer ? { tokenIssuer: options.tokenIssuer } : {}),
      }),
      onExit: () => {
        state.environments.delete(env);
        wakeWaiters();
      },
    });
    env.generation = state.generation;
    state.environments.add(env);
    counters.coldStarts++;
    const initError = await env.init();
    return initError ?? env;
  }

  /** Runs one invocation in a warm environment, or a new one; the caller has counted it in flight. */
  async function run(
    state: FunctionState,
    requestId: string,
    payload: string,
    beforeHandler?: () => Promise<void>,
  ): Promise<InvokeOutcome> {
    // A new environment is claimed from birth, so no other invocation takes it once it is ready.
    const env = await acquire(state);
    if (!(env instanceof ExecutionEnvironment)) return { ok: false, error: env };
    if (beforeHandler) {
      try {
        await beforeHandler();
      } catch (error) {
        env.claimed = false;
        wakeWaiters();
        throw error;
      }
    }
    counts[state.fn.name] = (counts[state.fn.name] ?? 0) + 1;
    const outcome = await env.invoke({ requestId, event: payload, invokedFunctionArn: state.fn.arn });
    env.claimed = false;
    if (!outcome.ok && outcome.error.errorType === 'Sandbox.Timedout') {
      counters.timeouts++;
      log(`${state.fn.name}: ${outcome.error.errorMessage}`);
    }
    if (env.state === 'idle' && (env.generation !== state.generation || closed)) {
      state.environments.delete(env);
      void env.terminate();
    }
    wakeWaiters();
    return outcome;
  }

  function release(state: FunctionState): void {
    state.inFlight--;
    // A freed slot may let queued asynchronous events of any function run.
    for (const other of states.values()) if (other.queue.length > 0) pump(other);
    notifyIdle();
  }

  async function invokeSync(
    state: FunctionState,
    event: unknown,
    beforeHandler?: () => Promise<void>,
  ): Promise<unknown> {
    const reason = throttleReason(state);
    if (reason) {
      counters.throttles++;
      throw new TooManyRequestsError(reason);
    }
    state.inFlight++;
    try {
      const outcome = await run(state, randomUUID(), JSON.stringify(event ?? null), beforeHandler);
      if (!outcome.ok) throw new FunctionError(outcome.error);
      return JSON.parse(outcome.payload) as unknown;
    } finally {
      release(state);
    }
  }

  async function sendRecord(state: FunctionState, destinationArn: string, record: object): Promise<void> {
    counters.destinationRecords++;
    if (!options.sendToDestination) {
      log(`${state.fn.name}: no destination sender configured, record for ${destinationArn} only logged`, record);
      return;
    }
    await options.sendToDestination(destinationArn, record, state.credentials);
  }

  function finishAsync(state: FunctionState, item: QueuedEvent, condition: AsyncCondition): void {
    const { eventInvokeConfig } = state.fn;
    const destination = condition === 'Success' ? eventInvokeConfig.onSuccess : eventInvokeConfig.onFailure;
    if (condition !== 'Success') {
      log(`${state.fn.name}: asynchronous event ${item.requestId} discarded (${condition})`, {
        attempts: item.attempts,
        destination: destination ?? 'none',
      });
    }
    if (!destination) return;
    const outcome = item.lastOutcome;
    const record = asyncInvocationRecord({
      requestId: item.requestId,
      functionArn: state.fn.arn,
      condition,
      invokeCount: item.attempts,
      requestPayload: JSON.parse(item.payload) as unknown,
      ...(outcome
        ? { response: outcome.ok ? { payload: JSON.parse(outcome.payload) as unknown } : { error: outcome.error } }
        : {}),
      now: new Date(),
    });
    sendRecord(state, destination, record).catch((error: unknown) =>
      log(`${state.fn.name}: destination ${destination} failed`, {
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }

  async function runAsync(state: FunctionState, item: QueuedEvent): Promise<void> {
    try {
      item.attempts++;
      const outcome = await run(state, item.requestId, item.payload);
      item.lastOutcome = outcome;
      if (outcome.ok) {
        finishAsync(state, item, 'Success');
        return;
      }
      log(`${state.fn.name}: asynchronous invocation failed`, {
        requestId: item.requestId,
        attempt: item.attempts,
        ...outcome.error,
      });
      if (item.attempts > state.fn.eventInvokeConfig.maximumRetryAttempts) {
        finishAsync(state, item, 'RetriesExhausted');
        return;
      }
      counters.asyncRetries++;
      const delay = (ASYNC_RETRY_DELAYS_MS[item.attempts - 1] ?? ASYNC_RETRY_DELAYS_MS.at(-1) ?? 0) * retryScale;
      item.notBeforeMs = Date.now() + delay;
      state.queue.push(item);
    } finally {
      state.asyncRunning--;
      release(state);
    }
  }

  /** Starts every queued event of the function that is due and has a free concurrency slot. */
  function pump(state: FunctionState): void {
    if (closed) return;
    clearTimeout(state.wakeTimer);
    state.wakeTimer = undefined;
    const now = Date.now();
    const maxAgeMs = state.fn.eventInvokeConfig.maximumEventAgeInSeconds * 1000 * retryScale;
    let nextDue = Number.POSITIVE_INFINITY;
    for (let index = 0; index < state.queue.length; ) {
      const item = state.queue[index] as QueuedEvent;
      if (now - item.queuedAtMs > maxAgeMs) {
        state.queue.splice(index, 1);
        finishAsync(state, item, 'EventAgeExceeded');
        continue;
      }
      if (item.notBeforeMs > now) {
        nextDue = Math.min(nextDue, item.notBeforeMs);
        index++;
        continue;
      }
      // Throttled: the event stays queued until a slot frees (release() pumps again).
      if (throttleReason(state)) break;
      state.queue.splice(index, 1);
      state.inFlight++;
      state.asyncRunning++;
      void runAsync(state, item);
    }
    if (Number.isFinite(nextDue)) {
      state.wakeTimer = setTimeout(() => pump(state), Math.max(0, nextDue - now));
    }
    notifyIdle();
  }

  function busyWithAsync(): boolean {
    return [...states.values()].some((state) => state.queue.length > 0 || state.asyncRunning > 0);
  }

  function notifyIdle(): void {
    if (busyWithAsync()) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  }

  const reaper = setInterval(
    () => {
      const cutoff = Date.now() - idleEnvironmentMs;
      for (const state of states.values()) {
        for (const env of state.environments) {
          if (env.state === 'idle' && !env.claimed && env.lastUsedMs < cutoff) {
            state.environments.delete(env);
            void env.terminate();
          }
        }
      }
    },
    Math.max(1000, Math.min(idleEnvironmentMs / 2, 60_000)),
  );
  reaper.unref();

  return {
    functions: options.functions,
    invocations: () => ({ ...counts }),
    async invoke(nameOrArn, event, invokeOptions = {}) {
      if (closed) throw new Error('the Lambda service is closed');
      const state = lookup(nameOrArn);
      if (invokeOptions.invocationType === 'Event') {
        const now = Date.now();
        state.queue.push({
          requestId: randomUUID(),
          payload: JSON.stringify(event ?? null),
          attempts: 0,
          queuedAtMs: now,
          notBeforeMs: now,
        });
        pump(state);
        return undefined;
      }
      return invokeSync(state, event, invokeOptions.beforeHandler);
    },
    updateFunctionConfiguration(nameOrArn, update) {
      const state = lookup(nameOrArn);
      checkOverrides(state.fn, update.environment);
      state.overrides = { ...update.environment };
      state.generation++;
      for (const env of state.environments) {
        if (env.state === 'idle' && !env.claimed) {
          state.environments.delete(env);
          void env.terminate();
        }
      }
    },
    sendToDestination(nameOrArn, destinationArn, record) {
      return sendRecord(lookup(nameOrArn), destinationArn, record);
    },
    stats() {
      const all = [...states.values()];
      return {
        environments: totalEnvironments(),
        busy: all.reduce((sum, state) => sum + [...state.environments].filter((env) => env.state === 'busy').length, 0),
        ...counters,
        asyncQueued: all.reduce((sum, state) => sum + state.queue.length + state.asyncRunning, 0),
      };
    },
    idle() {
      if (!busyWithAsync()) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    async close() {
      closed = true;
      clearInterval(reaper);
      for (const state of states.values()) {
        clearTimeout(state.wakeTimer);
        state.queue.length = 0;
      }
      for (const resolve of idleWaiters.splice(0)) resolve();
      for (const state of states.values()) for (const wake of state.waiters.splice(0)) wake();
      await Promise.all([...states.values()].flatMap((state) => [...state.environments].map((env) => env.terminate())));
    },
  };
}
