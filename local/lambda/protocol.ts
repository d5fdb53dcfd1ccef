/** Messages between the local Lambda service and one execution environment (worker thread). */

/** Lambda's error response body, as Invoke returns it with X-Amz-Function-Error. */
export interface LambdaErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/** What the worker is started with (workerData). */
export interface WorkerSetup {
  bundlePath: string;
  handler: string;
  exportName: string;
  functionName: string;
  functionVersion: string;
  memorySize: number;
  logGroupName: string;
  logStreamName: string;
}

export type ToWorker = {
  type: 'invoke';
  requestId: string;
  /** The payload as JSON text: what crosses Lambda's Invoke API. */
  event: string;
  invokedFunctionArn: string;
  /** Epoch ms at which the invocation times out, for getRemainingTimeInMillis. */
  deadlineMs: number;
};

export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: LambdaErrorPayload }
  | { type: 'response'; requestId: string; payload: string }
  | { type: 'error'; requestId: string; error: LambdaErrorPayload }
  /** An unhandled rejection or uncaught exception: the environment exits right after. */
  | { type: 'fatal'; requestId: string | undefined; error: LambdaErrorPayload };

/** How Lambda's Node.js runtime reports a thrown value. */
export function toErrorPayload(error: unknown): LambdaErrorPayload {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n'),
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}
