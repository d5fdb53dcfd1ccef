/**
 * Runs inside one execution environment (a worker thread): Lambda's Node.js runtime client in
 * small. It imports the function's bundle once (the init phase), then takes one invocation at a
 * time from the parent, calls the handler with a Lambda context and posts back the JSON response
 * or the error as Lambda reports it. An unhandled rejection or uncaught exception ends this
 * environment only, as it ends the runtime process on Lambda.
 */
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerSetup } from './protocol.js';
import { toErrorPayload } from './protocol.js';

const setup = workerData as WorkerSetup;
const port = parentPort;
if (!port) throw new Error('worker-runtime runs only as a worker thread');
const post = (message: FromWorker) => port.postMessage(message);

// NODE_OPTIONS cannot reach a worker thread; honour the one flag the templates set through it.
if ((process.env.NODE_OPTIONS ?? '').includes('--enable-source-maps')) process.setSourceMapsEnabled(true);

let currentRequestId: string | undefined;

// Lambda's runtime reports these as the invocation's error and then exits, which discards the environment.
process.on('unhandledRejection', (reason) => {
  const error = new Error(String(reason instanceof Error ? `${reason.name}: ${reason.message}` : reason));
  error.name = 'Runtime.UnhandledPromiseRejection';
  if (reason instanceof Error && reason.stack) error.stack = reason.stack;
  post({ type: 'fatal', requestId: currentRequestId, error: toErrorPayload(error) });
  process.exit(128);
});
process.on('uncaughtException', (error) => {
  post({ type: 'fatal', requestId: currentRequestId, error: toErrorPayload(error) });
  process.exit(129);
});

type Handler = (event: unknown, context: unknown, callback?: (error: unknown, result?: unknown) => void) => unknown;

async function loadHandler(): Promise<Handler> {
  // An exception thrown while the module initialises is the init error itself, as on Lambda.
  const module = (await import(pathToFileURL(setup.bundlePath).href)) as Record<string, unknown>;
  const handler = module[setup.exportName];
  if (typeof handler !== 'function') {
    const error = new Error(`${setup.handler} is undefined or not exported`);
    error.name = 'Runtime.HandlerNotFound';
    throw error;
  }
  return handler as Handler;
}

function call(handler: Handler, event: unknown, context: object): Promise<unknown> {
  // Callback-style handlers (three parameters) still run on nodejs22.x.
  if (handler.length >= 3) {
    return new Promise((resolve, reject) => {
      const maybe = handler(event, context, (error, result) => (error ? reject(error) : resolve(result)));
      if (maybe && typeof (maybe as Promise<unknown>).then === 'function')
        (maybe as Promise<unknown>).then(resolve, reject);
    });
  }
  return Promise.resolve().then(() => handler(event, context));
}

try {
  const handler = await loadHandler();
  port.on('message', async (message: ToWorker) => {
    if (message.type !== 'invoke') return;
    currentRequestId = message.requestId;
    const context = {
      functionName: setup.functionName,
      functionVersion: setup.functionVersion,
      invokedFunctionArn: message.invokedFunctionArn,
      memoryLimitInMB: String(setup.memorySize),
      awsRequestId: message.requestId,
      logGroupName: setup.logGroupName,
      logStreamName: setup.logStreamName,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, message.deadlineMs - Date.now()),
      done: () => {},
      succeed: () => {},
      fail: () => {},
    };
    try {
      const result = await call(handler, JSON.parse(message.event) as unknown, context);
      post({ type: 'response', requestId: message.requestId, payload: JSON.stringify(result ?? null) });
    } catch (error) {
      post({ type: 'error', requestId: message.requestId, error: toErrorPayload(error) });
    } finally {
      currentRequestId = undefined;
    }
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'init-error', error: toErrorPayload(error) });
}
