import './promise-with-resolvers.js';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import {
  AwsServiceError,
  DEFAULT_ACCOUNT,
  DEFAULT_REGION,
  epochSeconds,
  jsonProtocolHandler,
} from '../aws-protocol.js';
import { ERROR_SHAPES, type LocalIam } from '../iam/authorizer.js';
import type { HopTimer } from '../latency/model.js';
import { listen } from '../listen.js';
import { findDefinitionPlaceholders } from './definition-substitutions.js';
import {
  type InvokeLambda,
  type JsonValue,
  prepareTaskHandlers,
  type TaskHandler,
  withAwsTaskTimeouts,
} from './task-handlers.js';

/** A state machine the stand-in serves. */
export interface LocalStateMachineConfig {
  name: string;
  arn: string;
  type: 'EXPRESS' | 'STANDARD';
  /** ASL text with DefinitionSubstitutions already applied. */
  definition: string;
}

/** Options of {@link startLocalStepFunctions}. */
export interface LocalStepFunctionsOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Default us-east-1. */
  region?: string;
  /** Default 000000000000. */
  accountId?: string;
  stateMachines: LocalStateMachineConfig[];
  /** Runs `lambda:invoke` Tasks and Lambda-ARN Tasks. */
  invokeLambda: InvokeLambda;
  /** Pointed at DynamoDB Local; runs `aws-sdk:dynamodb:*` and `dynamodb:*Item` Tasks. */
  dynamoDbClient: DynamoDBClient;
  logger?: (msg: string, extra?: object) => void;
  /** Finished executions kept for DescribeExecution. Default 1000. */
  maxExecutionHistory?: number;
  /** When set, every Retry waits this many ms instead of the definition's backoff (AWS waits seconds). */
  retryDelayMs?: number;
  /**
   * Per-machine integrations, e.g. a DynamoDB client signed with that machine's role, or an invoke that
   * checks the role may call the function; what it leaves out comes from the options above.
   */
  integrationsFor?: (machine: LocalStateMachineConfig) => {
    dynamoDbClient?: DynamoDBClient;
    invokeLambda?: InvokeLambda;
  };
  /** When set, every call needs `states:<Operation>` on the state machine (or execution) it names. */
  iam?: LocalIam;
  /**
   * Starts the latency model's hop between a start call and the execution's first state (`sync` for
   * StartSyncExecution) as the call arrives; the first state waits for what is left of its draw once
   * the stand-in's own work is done. Default none.
   */
  startHop?: (sync: boolean) => HopTimer;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One execution, as {@link LocalStepFunctions.executions} lists it. */
export interface ExecutionSummary {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  error?: string;
  cause?: string;
}

/** A running local Step Functions endpoint. */
export interface LocalStepFunctions {
  /** `http://host:port`, for `AWS_ENDPOINT_URL_SFN` or a client's `endpoint`. */
  url: string;
  port: number;
  /** Stops the server and aborts executions still running. */
  close(): Promise<void>;
  /** Running executions and the most recent finished ones, oldest first. */
  executions(): ExecutionSummary[];
  /** Resolves once no execution is running. */
  idle(): Promise<void>;
}

interface PreparedMachine {
  config: LocalStateMachineConfig;
  machine: StateMachine;
  handlers: Record<string, TaskHandler>;
  retryOverrides: Record<string, number>;
  createdAt: Date;
}

interface ExecutionRecord extends ExecutionSummary {
  input: string;
  output?: string;
  done: Promise<void>;
  abort?: () => void;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_INPUT_BYTES = 256 * 1024;
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * Starts a local Step Functions endpoint that the unmodified `@aws-sdk/client-sfn` talks to (JSON 1.0:
 * StartExecution, StartSyncExecution, DescribeExecution, DescribeStateMachine, ListStateMachines).
 * Machines run in memory with aws-local-stepfunctions; Tasks call `invokeLambda` and DynamoDB Local.
 * Throws before listening when a definition is invalid or uses a resource the stand-in cannot run.
 *
 * Unlike AWS, DescribeExecution also answers for EXPRESS executions, so tests can see outcomes.
 * StartSyncExecution needs a client built with `disableHostPrefix: true` (the SDK otherwise sends it
 * to `sync-<host>`).
 */
export async function startLocalStepFunctions(options: LocalStepFunctionsOptions): Promise<LocalStepFunctions> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? DEFAULT_REGION;
  const accountId = options.accountId ?? DEFAULT_ACCOUNT;
  const maxHistory = options.maxExecutionHistory ?? 1000;
  const log = options.logger ?? (() => {});
  const machines = new Map<string, PreparedMachine>();
  for (const config of options.stateMachines) {
    if (machines.has(config.arn)) throw new Error(`State machine ${config.arn} is configured twice`);
    machines.set(config.arn, prepareMachine(config, { ...options, ...options.integrationsFor?.(config) }));
  }

  const records = new Map<string, ExecutionRecord>();
  const finished: string[] = [];
  const running = new Set<ExecutionRecord>();
  let closing = false;

  const forget = (): void => {
    while (finished.length > maxHistory) {
      const arn = finished.shift();
      if (arn) records.delete(arn);
    }
  };

  const start = (
    prepared: PreparedMachine,
    name: string,
    inputText: string,
    hop: HopTimer | undefined,
  ): ExecutionRecord => {
    const { config } = prepared;
    const executionArn = executionArnFor(config, name, region, accountId);
    const startDate = new Date();
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: config.arn,
      name,
      status: 'RUNNING',
      startDate,
      input: inputText,
      done: Promise.resolve(),
    };
    const context: NonNullable<RunOptions['context']> = {
      Execution: {
        Id: executionArn,
        Name: name,
        RoleArn: `arn:aws:iam::${accountId}:role/local-stepfunctions`,
        StartTime: startDate.toISOString(),
        RedriveCount: 0,
      },
      StateMachine: { Id: config.arn, Name: config.name },
    };
    const run = () => {
      const execution = prepared.machine.run(JSON.parse(inputText) as JsonValue, {
        overrides: {
          taskResourceLocalHandlers: prepared.handlers,
          retryIntervalOverrides: prepared.retryOverrides,
        },
        context,
      });
      record.abort = execution.abort;
      return execution.result;
    };
    // The execution is RUNNING (listed, awaited by idle()) while Step Functions has yet to start it.
    const delayMs = hop?.dueMs() ?? 0;
    const result =
      delayMs > 0
        ? new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), delayMs);
            record.abort = () => {
              clearTimeout(timer);
              resolve(true);
            };
          }).then((aborted) => {
            if (aborted) throw new ExecutionAbortedError();
            return run();
          })
        : run();
    record.done = result
      .then(
        (output) => {
          record.status = 'SUCCEEDED';
          record.output = JSON.stringify(output ?? null);
        },
        (err: unknown) => {
          Object.assign(record, failureOf(err));
          log('execution did not succeed', {
            executionArn,
            status: record.status,
            error: record.error,
            cause: record.cause,
          });
        },
      )
      .then(() => {
        record.stopDate = new Date();
        record.abort = undefined;
        running.delete(record);
        finished.push(executionArn);
        forget();
      });
    records.set(executionArn, record);
    running.add(record);
    log('execution started', { executionArn });
    return record;
  };

  const machineFor = (body: Record<string, unknown>): PreparedMachine => {
    const arn = body.stateMachineArn;
    if (typeof arn !== 'string' || !arn.startsWith('arn:'))
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
    const prepared = machines.get(arn);
    if (!prepared) throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return prepared;
  };

  const startExecution = (body: Record<string, unknown>, sync: boolean): ExecutionRecord => {
    const hop = options.startHop?.(sync);
    const prepared = machineFor(body);
    if (sync && prepared.config.type !== 'EXPRESS') {
      throw new AwsServiceError(
        'StateMachineTypeNotSupported',
        'This operation is not supported by this type of state machine',
      );
    }
    const inputText = typeof body.input === 'string' ? body.input : '{}';
    checkInput(inputText);
    const name = typeof body.name === 'string' ? body.name : randomUUID();
    if (!EXECUTION_NAME.test(name)) throw new AwsServiceError('InvalidName', `Invalid Name: '${name}'`);
    if (prepared.config.type === 'STANDARD') {
      // Standard executions are idempotent by name; Express ones are not.
      const existing = records.get(executionArnFor(prepared.config, name, region, accountId));
      if (existing) {
        if (existing.status === 'RUNNING' && existing.input === inputText) return existing;
        throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.executionArn}'`);
      }
    }
    return start(prepared, name, inputText, hop);
  };

  const operations: Record<string, (body: Record<string, unknown>) => Promise<object>> = {
    StartExecution: async (body) => {
      const record = startExecution(body, false);
      return { executionArn: record.executionArn, startDate: epochSeconds(record.startDate) };
    },
    StartSyncExecution: async (body) => {
      const record = startExecution(body, true);
      await record.done;
      return {
        ...describe(record),
        billingDetails: { billedDurationInMilliseconds: 0, billedMemoryUsedInMB: 0 },
      };
    },
    DescribeExecution: async (body) => {
      const arn = body.executionArn;
      if (typeof arn !== 'string' || !arn.startsWith('arn:'))
        throw new AwsServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
      const record = records.get(arn);
      if (!record) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
      return describe(record);
    },
    DescribeStateMachine: async (body) => {
      const { config, createdAt } = machineFor(body);
      return {
        stateMachineArn: config.arn,
        name: config.name,
        status: 'ACTIVE',
        definition: config.definition,
        roleArn: `arn:aws:iam::${accountId}:role/local-stepfunctions`,
        type: config.type,
        creationDate: epochSeconds(createdAt),
      };
    },
    ListStateMachines: async () => ({
      stateMachines: [...machines.values()].map(({ config, createdAt }) => ({
        stateMachineArn: config.arn,
        name: config.name,
        type: config.type,
        creationDate: epochSeconds(createdAt),
      })),
    }),
  };

  const handler = jsonProtocolHandler({
    targetPrefix: 'AWSStepFunctions',
    protocol: 'json1.0',
    maxBodyBytes: MAX_BODY_BYTES,
    authorize: (operation, body, req) => {
      if (closing) throw new AwsServiceError('ServiceUnavailable', 'The local Step Functions endpoint is closing', 503);
      const iam = options.iam;
      if (!iam) return;
      const principal = iam.principalOf(req.headers, ERROR_SHAPES.states);
      iam.count(principal, `states:${operation}`);
      const named = body.stateMachineArn ?? body.executionArn;
      const resource = typeof named === 'string' ? named : `arn:aws:states:${region}:${accountId}:stateMachine:*`;
      iam.authorize(principal, [{ action: `states:${operation}`, resource }], ERROR_SHAPES.states);
    },
    onInternalError: (error) => log('request failed', { error: String(error) }),
    operations,
  });

  const server = createServer((req, res) => {
    void handler(req, res);
  });
  const { port } = await listen(server, options.port, host);
  const url = `http://${host}:${port}`;
  log('local Step Functions listening', { url, stateMachines: [...machines.keys()] });

  const idle = async (): Promise<void> => {
    while (running.size > 0) {
      await Promise.all([...running].map((record) => record.done));
    }
  };

  return {
    url,
    port,
    executions: () => [...records.values()].map(summaryOf),
    idle,
    close: async () => {
      closing = true;
      for (const record of running) record.abort?.();
      await idle();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function prepareMachine(config: LocalStateMachineConfig, options: LocalStepFunctionsOptions): PreparedMachine {
  const leftovers = findDefinitionPlaceholders(config.definition);
  if (leftovers.length > 0) {
    throw new Error(`${config.name}: apply DefinitionSubstitutions first (still has ${leftovers.join(', ')})`);
  }
  let definition: StateMachineDefinition;
  try {
    definition = withAwsTaskTimeouts(JSON.parse(config.definition) as StateMachineDefinition);
  } catch (err) {
    throw new Error(`${config.name}: definition is not valid JSON: ${(err as Error).message}`);
  }
  // The constructor validates the definition (asl-validator, paths and ARNs included).
  const machine = new StateMachine(definition);
  const { handlers, retryingStates } = prepareTaskHandlers(definition, {
    invokeLambda: options.invokeLambda,
    dynamoDbClient: options.dynamoDbClient,
    logger: options.logger,
  });
  const retryOverrides: Record<string, number> = {};
  if (options.retryDelayMs !== undefined) {
    for (const name of retryingStates) retryOverrides[name] = options.retryDelayMs;
  }
  return { config, machine, handlers, retryOverrides, createdAt: new Date() };
}

function executionArnFor(config: LocalStateMachineConfig, name: string, region: string, accountId: string): string {
  const match = /^(arn:aws[a-z-]*:states:[^:]+:[^:]+):stateMachine:([^:]+)$/.exec(config.arn);
  const prefix = match?.[1] ?? `arn:aws:states:${region}:${accountId}`;
  const machineName = match?.[2] ?? config.name;
  // Express execution ARNs carry a unique suffix because their names need not be unique.
  return config.type === 'EXPRESS'
    ? `${prefix}:express:${machineName}:${name}:${randomUUID()}`
    : `${prefix}:execution:${machineName}:${name}`;
}

function failureOf(err: unknown): Pick<ExecutionSummary, 'status' | 'error' | 'cause'> {
  if (err instanceof ExecutionTimeoutError) {
    return { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution timed out' };
  }
  if (err instanceof ExecutionAbortedError) {
    return { status: 'ABORTED', error: 'States.Aborted', cause: 'The execution was aborted' };
  }
  const failure = err instanceof ExecutionError && err.cause instanceof Error ? err.cause : err;
  if (failure instanceof Error) return { status: 'FAILED', error: failure.name, cause: failure.message };
  return { status: 'FAILED', error: 'States.Runtime', cause: String(failure) };
}

function summaryOf(record: ExecutionRecord): ExecutionSummary {
  const { executionArn, stateMachineArn, name, status, startDate, stopDate, error, cause } = record;
  return { executionArn, stateMachineArn, name, status, startDate, stopDate, error, cause };
}

function describe(record: ExecutionRecord): Record<string, unknown> {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: epochSeconds(record.startDate),
    ...(record.stopDate ? { stopDate: epochSeconds(record.stopDate) } : {}),
    input: record.input,
    inputDetails: { included: true },
    ...(record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
    ...(record.cause !== undefined ? { cause: record.cause } : {}),
  };
}

function checkInput(input: string): void {
  if (Buffer.byteLength(input) > MAX_INPUT_BYTES) {
    throw new AwsServiceError('InvalidExecutionInput', 'Execution input exceeds the 256 KiB limit');
  }
  try {
    JSON.parse(input);
  } catch {
    throw new AwsServiceError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not valid JSON');
  }
}
