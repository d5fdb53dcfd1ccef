import { Worker } from 'node:worker_threads';
import type { FromWorker, LambdaErrorPayload, ToWorker, WorkerSetup } from './protocol.js';

/** The result of one invocation in an environment: Lambda's response payload or its error body. */
export type InvokeOutcome = { ok: true; payload: string } | { ok: false; error: LambdaErrorPayload };

/** Lambda gives a function's init phase 10 s of its own, outside the invocation's timeout. */
const INIT_LIMIT_MS = 10_000;

export interface ExecutionEnvironmentOptions {
  /** The bundled worker runtime (worker-runtime.ts). */
  runtimePath: string;
  setup: WorkerSetup;
  /** The environment's whole process.env. */
  env: Record<string, string>;
  timeoutSeconds: number;
  /** Called once when the environment is gone (timed out, crashed, or terminated). */
  onExit?: () => void;
}

const errorBody = (errorType: string, errorMessage: string): LambdaErrorPayload => ({ errorType, errorMessage });

/**
 * One Lambda execution environment: a worker thread with its own `process.env`, module graph and
 * heap (capped at the function's MemorySize), serving one invocation at a time. A timeout or a
 * crash terminates the worker; the environment is then dead and the service starts a fresh one
 * for the next invocation (a cold start), as Lambda does.
 */
export class ExecutionEnvironment {
  state: 'starting' | 'idle' | 'busy' | 'dead' = 'starting';
  lastUsedMs = Date.now();
  /** Taken by an invocation (from birth for a cold start), so no other invocation picks it. */
  claimed = true;
  /** Set by the service to retire the environment once its invocation ends (configuration changed). */
  generation = 0;
  private readonly worker: Worker;
  private readonly initialised: Promise<LambdaErrorPayload | undefined>;
  private settleInit: (error: LambdaErrorPayload | undefined) => void = () => {};
  private current: { requestId: string; settle: (outcome: InvokeOutcome) => void } | undefined;
  private exitReported = false;

  constructor(private readonly options: ExecutionEnvironmentOptions) {
    this.initialised = new Promise((resolve) => {
      this.settleInit = resolve;
    });
    this.worker = new Worker(options.runtimePath, {
      workerData: options.setup,
      env: options.env,
      // Nothing of the stack process's flags (tsx loaders, inspector) leaks into the sandbox.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, options.setup.memorySize) },
    });
    this.worker.on('message', (message: FromWorker) => this.onMessage(message));
    this.worker.on('error', (error: Error & { code?: string }) => {
      const body =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? errorBody('Runtime.OutOfMemory', this.withRequestId('Runtime exited with error: signal: killed'))
          : { errorType: error.name || 'Error', errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
      this.fail(body);
    });
    this.worker.on('exit', (code) => {
      this.fail(errorBody('Runtime.ExitError', this.withRequestId(`Runtime exited with error: exit status ${code}`)));
    });
  }

  private withRequestId(message: string): string {
    return this.current ? `RequestId: ${this.current.requestId} Error: ${message}` : message;
  }

  private onMessage(message: FromWorker): void {
    switch (message.type) {
      case 'ready':
        this.state = 'idle';
        this.settleInit(undefined);
        return;
      case 'init-error':
        this.settleInit(message.error);
        void this.terminate();
        return;
      case 'response':
      case 'error': {
        const current = this.current;
        if (!current || current.requestId !== message.requestId) return;
        this.current = undefined;
        this.state = 'idle';
        this.lastUsedMs = Date.now();
        current.settle(
          message.type === 'response' ? { ok: true, payload: message.payload } : { ok: false, error: message.error },
        );
        return;
      }
      case 'fatal':
        this.fail(message.error);
        return;
    }
  }

  /** The environment is gone: whatever waited on it gets this error. */
  private fail(error: LambdaErrorPayload): void {
    const wasAlive = this.state !== 'dead';
    this.state = 'dead';
    this.settleInit(error);
    const current = this.current;
    this.current = undefined;
    current?.settle({ ok: false, error });
    if (wasAlive) void this.worker.terminate();
    if (!this.exitReported) {
      this.exitReported = true;
      this.options.onExit?.();
    }
  }

  /** Resolves once the handler module is loaded, with the init error if it failed. */
  async init(): Promise<LambdaErrorPayload | undefined> {
    let timer: NodeJS.Timeout | undefined;
    // On-demand init gets 10 s; past that Lambda retries it within the invocation's own timeout.
    const limitMs = INIT_LIMIT_MS + this.options.timeoutSeconds * 1000;
    const timedOut = new Promise<LambdaErrorPayload>((resolve) => {
      timer = setTimeout(
        () =>
          resolve(
            errorBody('Sandbox.Timedout', `INIT_REPORT Init Duration: ${limitMs} ms Phase: init Status: timeout`),
          ),
        limitMs,
      );
    });
    try {
      const error = await Promise.race([this.initialised, timedOut]);
      if (error) this.fail(error);
      return error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs one invocation. Past the function's timeout the worker is terminated, whatever the
   * handler is doing, and Lambda's `Sandbox.Timedout` error is the outcome.
   */
  invoke(request: { requestId: string; event: string; invokedFunctionArn: string }): Promise<InvokeOutcome> {
    if (this.state !== 'idle') throw new Error(`environment is ${this.state}, not idle`);
    this.state = 'busy';
    const timeoutMs = this.options.timeoutSeconds * 1000;
    const deadlineMs = Date.now() + timeoutMs;
    return new Promise<InvokeOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.fail(
          errorBody(
            'Sandbox.Timedout',
            `RequestId: ${request.requestId} Error: Task timed out after ${this.options.timeoutSeconds.toFixed(2)} seconds`,
          ),
        );
      }, timeoutMs);
      this.current = {
        requestId: request.requestId,
        settle: (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
      };
      const message: ToWorker = { type: 'invoke', ...request, deadlineMs };
      this.worker.postMessage(message);
    });
  }

  /** Discards the environment (the idle reaper, a configuration change, the stack closing). */
  async terminate(): Promise<void> {
    if (this.state === 'dead' && this.exitReported) {
      await this.worker.terminate();
      return;
    }
    this.fail(errorBody('Runtime.ExitError', this.withRequestId('Runtime exited with error: environment discarded')));
    await this.worker.terminate();
  }
}
