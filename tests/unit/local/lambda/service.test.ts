import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsForRole, functionRoleName, type LocalCredentials } from '../../../../local/iam/credentials.js';
import type { AsyncInvocationRecord } from '../../../../local/lambda/destinations.js';
import {
  FunctionError,
  type LambdaService,
  startLambdaService,
  TooManyRequestsError,
  UnknownFunctionError,
} from '../../../../local/lambda/service.js';
import { type LocalFunction, loadLocalFunctions } from '../../../../local/stack-model.js';

const TEMPLATE = resolve(import.meta.dirname, '../../../fixtures/lambda/template.yaml');
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const MANAGEMENT = 'http://127.0.0.1:1/prod';

interface Described {
  env: Record<string, string | null>;
  envNames: string[];
  functionName: string;
  memoryLimitInMB: string;
  remainingMs: number;
  served: number;
}

const sleep = (ms: number) => new Promise((settle) => setTimeout(settle, ms));

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the invocation to fail');
}

let functions: LocalFunction[];
let service: LambdaService;
let scratch: string;
const records: Array<{ destination: string; record: AsyncInvocationRecord; credentials: LocalCredentials }> = [];

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'lambda-service-'));
  functions = await loadLocalFunctions({
    templatePath: TEMPLATE,
    stackName: 'fixture',
    region: REGION,
    accountId: ACCOUNT,
  });
  // A variable of the process running the service: no function may see it.
  process.env.STACK_PROCESS_ONLY = 'leaked';
  service = await startLambdaService({
    functions,
    region: REGION,
    endpoints: () => ({
      dynamoDb: 'http://127.0.0.1:2',
      eventBridge: 'http://127.0.0.1:3',
      stepFunctions: 'http://127.0.0.1:4',
      managementApi: MANAGEMENT,
    }),
    accountConcurrency: 4,
    // Lambda's one and two minutes between attempts become 60 and 120 ms.
    asyncRetryScale: 0.001,
    sendToDestination: async (destination, record, credentials) => {
      records.push({ destination, record: record as AsyncInvocationRecord, credentials });
    },
  });
});

afterAll(async () => {
  delete process.env.STACK_PROCESS_ONLY;
  await service?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the template model', () => {
  it('reads MemorySize, Timeout and ReservedConcurrentExecutions, with Globals applied as SAM applies them', () => {
    const byId = Object.fromEntries(functions.map((fn) => [fn.logicalId, fn]));
    expect(byId.DescribeFunction?.memorySize).toBe(1769);
    expect(byId.OtherDescribeFunction?.memorySize).toBe(256);
    expect(byId.SlowFunction?.timeoutSeconds).toBe(1);
    expect(byId.OtherDescribeFunction?.timeoutSeconds).toBe(5);
    expect(byId.ReservedFunction?.reservedConcurrency).toBe(1);
    expect(byId.OtherDescribeFunction?.reservedConcurrency).toBeUndefined();
    // Environment maps merge: the function's own value wins, the global one fills the rest.
    expect(byId.DescribeFunction?.environment.SHARED_SETTING).toBe('own');
    expect(byId.OtherDescribeFunction?.environment).toEqual({ SHARED_SETTING: 'global' });
    expect(byId.FailingFunction?.eventInvokeConfig).toEqual({
      maximumRetryAttempts: 2,
      maximumEventAgeInSeconds: 21_600,
      onFailure: `arn:aws:sqs:${REGION}:${ACCOUNT}:fixture-failures`,
    });
  });
});

describe('one sandbox per function', () => {
  it("gives each function exactly its own template's variables, Lambda's reserved ones and the local endpoints", async () => {
    const names = ['ONLY_IN_DESCRIBE', 'SHARED_SETTING', 'MANAGEMENT_API_ENDPOINT', 'STACK_PROCESS_ONLY', 'HOME'];
    const own = (await service.invoke('DescribeFunction', { names })) as Described;
    const other = (await service.invoke('OtherDescribeFunction', { names })) as Described;

    expect(own.env).toEqual({
      ONLY_IN_DESCRIBE: 'present',
      SHARED_SETTING: 'own',
      // A template-declared endpoint variable gets its local value.
      MANAGEMENT_API_ENDPOINT: MANAGEMENT,
      STACK_PROCESS_ONLY: null,
      HOME: null,
    });
    expect(other.env).toEqual({
      ONLY_IN_DESCRIBE: null,
      SHARED_SETTING: 'global',
      MANAGEMENT_API_ENDPOINT: null,
      STACK_PROCESS_ONLY: null,
      HOME: null,
    });
    const reserved = [
      'AWS_ACCESS_KEY_ID',
      'AWS_DEFAULT_REGION',
      'AWS_EXECUTION_ENV',
      'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
      'AWS_LAMBDA_FUNCTION_NAME',
      'AWS_LAMBDA_FUNCTION_VERSION',
      'AWS_LAMBDA_LOG_GROUP_NAME',
      'AWS_LAMBDA_LOG_STREAM_NAME',
      'AWS_REGION',
      'AWS_SECRET_ACCESS_KEY',
      'LAMBDA_TASK_ROOT',
      'TZ',
      '_HANDLER',
    ];
    for (const name of reserved) expect(other.envNames).toContain(name);
    const unexpected = other.envNames.filter(
      (name) =>
        !reserved.includes(name) &&
        !name.startsWith('AWS_ENDPOINT_URL_') &&
        !['SHARED_SETTING', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'LANG'].includes(name) &&
        // Only on a local Node older than Lambda's 22: keeps the SDK's version warning out of the log.
        name !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
    );
    expect(unexpected).toEqual([]);
  });

  it("signs as the function's own execution role", async () => {
    const described = (await service.invoke('OtherDescribeFunction', {
      names: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_LAMBDA_FUNCTION_NAME'],
    })) as Described;
    const fn = functions.find((candidate) => candidate.logicalId === 'OtherDescribeFunction');
    const role = credentialsForRole(functionRoleName(fn?.name ?? ''));
    expect(described.env).toEqual({
      AWS_ACCESS_KEY_ID: role.accessKeyId,
      AWS_SECRET_ACCESS_KEY: role.secretAccessKey,
      AWS_LAMBDA_FUNCTION_NAME: fn?.name,
    });
  });

  it("puts the template's MemorySize in the context and a real remaining time", async () => {
    const big = (await service.invoke('DescribeFunction', { names: ['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'] })) as Described;
    const small = (await service.invoke('OtherDescribeFunction', {})) as Described;
    expect(big.memoryLimitInMB).toBe('1769');
    expect(big.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE).toBe('1769');
    expect(small.memoryLimitInMB).toBe('256');
    expect(big.remainingMs).toBeGreaterThan(0);
    expect(big.remainingMs).toBeLessThanOrEqual(5000);
  });

  it('reuses a warm environment for the next invocation', async () => {
    const first = (await service.invoke('OtherDescribeFunction', {})) as Described;
    const second = (await service.invoke('OtherDescribeFunction', {})) as Described;
    expect(second.served).toBe(first.served + 1);
  });

  it('finds a function by name, logical id or ARN, and answers ResourceNotFoundException otherwise', async () => {
    const fn = functions.find((candidate) => candidate.logicalId === 'OtherDescribeFunction') as LocalFunction;
    for (const id of [fn.name, fn.logicalId, fn.arn]) {
      expect(((await service.invoke(id, {})) as Described).functionName).toBe(fn.name);
    }
    const error = await rejection(service.invoke('NoSuchFunction', {}));
    expect(error).toBeInstanceOf(UnknownFunctionError);
    expect(error.name).toBe('ResourceNotFoundException');
  });
});

describe('timeouts', () => {
  it('stops a handler that outlives its Timeout: the code after the deadline never runs, the next invoke cold-starts', async () => {
    const marker = join(scratch, 'after-deadline');
    const error = await rejection(service.invoke('SlowFunction', { sleepMs: 2500, marker }));
    expect(error).toBeInstanceOf(FunctionError);
    expect(error.name).toBe('Sandbox.Timedout');
    expect(error.message).toMatch(/^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/);
    // Well past the moment the handler would have written the marker, had it kept running.
    await sleep(2500);
    expect(existsSync(marker)).toBe(false);

    const next = (await service.invoke('SlowFunction', { sleepMs: 1, marker })) as { served: number };
    expect(next.served).toBe(1);
    expect(existsSync(marker)).toBe(true);
  });

  it('stops a handler that never yields, which no promise race could', async () => {
    const error = await rejection(service.invoke('SpinFunction', {}));
    expect(error.name).toBe('Sandbox.Timedout');
    const still = (await service.invoke('OtherDescribeFunction', {})) as Described;
    expect(still.memoryLimitInMB).toBe('256');
  });
});

describe('errors', () => {
  it("returns a handler's error as Lambda's {errorType, errorMessage, trace}", async () => {
    const error = await rejection(service.invoke('FailingFunction', {}));
    expect(error).toBeInstanceOf(FunctionError);
    const { payload } = error as FunctionError;
    expect(payload.errorType).toBe('FixtureFailure');
    expect(payload.errorMessage).toBe('failed on purpose');
    expect(payload.trace?.[0]).toBe('FixtureFailure: failed on purpose');
  });

  it('lets an unhandled rejection or process.exit end only that environment', async () => {
    const rejected = await rejection(service.invoke('CrashFunction', { how: 'rejection' }));
    expect(rejected.name).toBe('Runtime.UnhandledPromiseRejection');
    expect(rejected.message).toContain('nobody handles this');
    const exited = await rejection(service.invoke('CrashFunction', { how: 'exit' }));
    expect(exited.name).toBe('Runtime.ExitError');
    expect(exited.message).toMatch(/Runtime exited with error: exit status 3$/);
    expect(((await service.invoke('OtherDescribeFunction', {})) as Described).functionName).toContain('OtherDescribe');
  });
});

describe('concurrency', () => {
  it('throttles a synchronous invoke past ReservedConcurrentExecutions with TooManyRequestsException', async () => {
    const running = service.invoke('ReservedFunction', { sleepMs: 500 });
    const error = await rejection(service.invoke('ReservedFunction', { sleepMs: 1 }));
    expect(error).toBeInstanceOf(TooManyRequestsError);
    expect(error.name).toBe('TooManyRequestsException');
    expect((error as TooManyRequestsError).reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    await running;
    // The slot is free again.
    await expect(service.invoke('ReservedFunction', { sleepMs: 1 })).resolves.toMatchObject({ slept: 1 });
  });

  it('throttles past the account limit, minus what other functions reserve', async () => {
    // accountConcurrency 4, of which ReservedFunction keeps 1: three unreserved executions at once.
    const running = [1, 2, 3].map(() => service.invoke('SlowFunction', { sleepMs: 600 }));
    const error = await rejection(service.invoke('OtherDescribeFunction', {}));
    expect((error as TooManyRequestsError).reason).toBe('ConcurrentInvocationLimitExceeded');
    await Promise.all(running);
  });

  it('runs several environments of one function side by side under load', async () => {
    const results = (await Promise.all(
      [1, 2, 3].map(() => service.invoke('SlowFunction', { sleepMs: 300 })),
    )) as Array<{ served: number }>;
    expect(results).toHaveLength(3);
    expect(service.stats().environments).toBeGreaterThanOrEqual(3);
  });

  it("waits for a free environment when the machine's worker cap is reached, instead of throttling", async () => {
    const small = await startLambdaService({
      functions,
      region: REGION,
      endpoints: () => ({ dynamoDb: '', eventBridge: '', stepFunctions: '', managementApi: '' }),
      maxEnvironmentsPerFunction: 1,
    });
    try {
      const results = (await Promise.all(
        [1, 2, 3].map(() => small.invoke('OtherDescribeFunction', {})),
      )) as Described[];
      // One environment served all three, one after the other.
      expect(results.map((result) => result.served).sort()).toEqual([1, 2, 3]);
      expect(small.stats()).toMatchObject({ coldStarts: 1, throttles: 0 });
    } finally {
      await small.close();
    }
  });

  it('queues asynchronous events past the limit instead of refusing them', async () => {
    const before = service.invocations()[functions.find((fn) => fn.logicalId === 'ReservedFunction')?.name ?? ''] ?? 0;
    await Promise.all(
      [1, 2, 3].map(() => service.invoke('ReservedFunction', { sleepMs: 50 }, { invocationType: 'Event' })),
    );
    await service.idle();
    const after = service.invocations()[functions.find((fn) => fn.logicalId === 'ReservedFunction')?.name ?? ''] ?? 0;
    expect(after - before).toBe(3);
  });
});

describe('asynchronous invocation', () => {
  it('retries a failing event twice, then sends Lambda’s record to the on-failure destination as the function', async () => {
    const attempts = join(scratch, 'attempts');
    const accepted = await service.invoke('FailingFunction', { attempts }, { invocationType: 'Event' });
    expect(accepted).toBeUndefined();
    await service.idle();

    expect(readFileSync(attempts, 'utf8')).toBe('xxx');
    const fn = functions.find((candidate) => candidate.logicalId === 'FailingFunction') as LocalFunction;
    const sent = records.filter(
      (entry) =>
        entry.record.requestPayload && (entry.record.requestPayload as { attempts?: string }).attempts === attempts,
    );
    expect(sent).toHaveLength(1);
    const [entry] = sent;
    expect(entry?.destination).toBe(`arn:aws:sqs:${REGION}:${ACCOUNT}:fixture-failures`);
    expect(entry?.credentials).toEqual(credentialsForRole(functionRoleName(fn.name)));
    expect(entry?.record).toMatchObject({
      version: '1.0',
      requestContext: { functionArn: `${fn.arn}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { attempts },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'FixtureFailure', errorMessage: 'failed on purpose' },
    });
  });

  it('refuses an event for a function that does not exist, so EventBridge can dead-letter it', async () => {
    const error = await rejection(service.invoke('NoSuchFunction', {}, { invocationType: 'Event' }));
    expect(error).toBeInstanceOf(UnknownFunctionError);
    expect((error as UnknownFunctionError).retryable).toBe(false);
  });
});

describe('configuration changes', () => {
  it('replaces a declared variable in new environments, and refuses one the template does not declare', async () => {
    service.updateFunctionConfiguration('DescribeFunction', { environment: { SHARED_SETTING: 'changed' } });
    const changed = (await service.invoke('DescribeFunction', { names: ['SHARED_SETTING'] })) as Described;
    expect(changed.env.SHARED_SETTING).toBe('changed');
    expect(changed.served).toBe(1);
    expect(() =>
      service.updateFunctionConfiguration('OtherDescribeFunction', { environment: { ONLY_IN_DESCRIBE: 'sneaked' } }),
    ).toThrow(/does not declare ONLY_IN_DESCRIBE/);
    service.updateFunctionConfiguration('DescribeFunction', { environment: {} });
  });
});
