import { readdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { topics } from '#core/domain/room';
import { connectionExpiry } from '#core/domain/time';
import { createSubscriptionStore } from '#db/subscriptions-store';
import { operatorCredentials } from '../../local/dynamodb.js';
import { functionRoleName } from '../../local/iam/credentials.js';
import type { LatencySettings } from '../../local/latency/cli.js';
import type { LatencyModel } from '../../local/latency/model.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalStack, repoRoot, startLocalStack } from '../../local/stack.js';
import { loadLocalStackModel } from '../../local/stack-model.js';
import { type LocalStepFunctions, startLocalStepFunctions } from '../../local/stepfunctions/server.js';
import { DynamoDbMeter, type DynamoDbMeterSnapshot } from './dynamodb-meter.js';
import type { BenchSocket } from './harness.js';

/** Ports kept for every stack this process starts: the handlers' SDK clients outlive a stack. */
export interface BenchPorts {
  dynamoDb: number;
  eventBridge: number;
  stepFunctions: number;
  webSocket: number;
  rest: number;
}

/** What the stack did between two {@link SwitchboardTarget.reset} calls. */
export interface StackUsage {
  /**
   * The functions' AWS requests by operation, e.g. `dynamodb:TransactWriteItems` or
   * `execute-api:PostToConnection`, as the stack's authorising endpoints counted them: every role but
   * the state machine's and EventBridge's (while the handlers share the operator's keys, theirs too).
   */
  handlerRequests: Record<string, number>;
  /** The handlers' DynamoDB requests and units. */
  handlerDynamoDb: DynamoDbMeterSnapshot;
  /** The state machine's own DynamoDB requests (the Query pages) and units. */
  stateMachineDynamoDb: DynamoDbMeterSnapshot;
  putEventsCalls: number;
  eventEntries: number;
  /** Rule target deliveries: StartExecution for the distribution machine, Lambda invokes otherwise. */
  targetDeliveries: number;
  executions: number;
  executionMs: number[];
  failedExecutions: number;
  /** Lambda invocations by function name. */
  invocations: Record<string, number>;
  /** Local handler durations by function name, in ms. */
  invocationMs: Record<string, number[]>;
  postsAccepted: number;
  postsGone: number;
  /** postToConnection calls WebSocketActionsFunction made itself (the direct path). */
  directPosts: number;
}

/** A running local stack plus the meters the benchmark reads. */
export interface SwitchboardTarget {
  stack: LocalStack;
  ports: BenchPorts;
  /** A document client of our own, kept out of the meters, for seeding. */
  seedClient: DynamoDBDocumentClient;
  urlFor(query: Record<string, string>): string;
  /** Makes `members` the subscribers of `room`, as joinRoom would, without presence fan-out. */
  seedRoom(room: string, members: BenchSocket[], userIdOf: (socket: BenchSocket) => string): Promise<void>;
  reset(): void;
  usage(): StackUsage;
  /** Resolves once no event, execution or invocation is in flight (follows a reconfigured machine). */
  idle(): Promise<void>;
  /**
   * Restarts only the Step Functions stand-in, on the same port, with the state machine built from
   * these template parameters (e.g. `ConnectionPageSize`, `PostBatchSize`): the sockets stay open.
   */
  reconfigureFanOut(parameters: Record<string, string>): Promise<void>;
  /** The JVM that runs DynamoDB Local, for memory sampling. */
  dynamoDbPid(): number | undefined;
  close(): Promise<void>;
}

/** Free TCP ports on 127.0.0.1. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export async function pickBenchPorts(): Promise<BenchPorts> {
  const [dynamoDbPort, eventBridge, stepFunctions, webSocket, rest] = await freePorts(5);
  return {
    dynamoDb: dynamoDbPort as number,
    eventBridge: eventBridge as number,
    stepFunctions: stepFunctions as number,
    webSocket: webSocket as number,
    rest: rest as number,
  };
}

const handlerMeter = new DynamoDbMeter();
let handlerMeterAttached = false;

export interface StartTargetOptions {
  ports: BenchPorts;
  /** Keep the template's per-connection rate limit instead of raising it for the benchmark. */
  keepRateLimit?: boolean;
  parameters?: Record<string, string>;
  /** Replacements for template-declared function variables, by function logical id. */
  functionEnvironment?: Record<string, Record<string, string>>;
  /** The latency model (`--latency`); a model object may be switched on and off during the run. */
  latency?: Partial<Omit<LatencySettings, 'latency'>> & { latency: LatencySettings['latency'] | LatencyModel };
}

/**
 * Starts the local stack on fixed ports with the benchmark's meters attached. The handlers build
 * their SDK clients once per process from the endpoints in the environment, so every stack a
 * benchmark starts in one process must use the same ports.
 */
export async function startSwitchboard(options: StartTargetOptions): Promise<SwitchboardTarget> {
  const parameters = {
    AuthMode: 'none',
    LogLevel: 'ERROR',
    // The benchmark sends faster than one person types; the limiter's own cost is still counted.
    ...(options.keepRateLimit ? {} : { RateLimitPerSecond: '100000', RateLimitBurst: '100000' }),
    ...options.parameters,
  };
  const stack = await startLocalStack({
    dynamoDbPort: options.ports.dynamoDb,
    eventBridgePort: options.ports.eventBridge,
    stepFunctionsPort: options.ports.stepFunctions,
    webSocketPort: options.ports.webSocket,
    restPort: options.ports.rest,
    parameters,
    ...(options.functionEnvironment ? { functionEnvironment: options.functionEnvironment } : {}),
    ...options.latency,
  });
  let stepFunctions: LocalStepFunctions = stack.stepFunctions;
  if (!handlerMeterAttached) {
    // Imported only now: the module's logger reads POWERTOOLS_LOG_LEVEL, which the stack just set.
    const { dynamoDb } = await import('#aws/clients/dynamodb');
    handlerMeter.attach(dynamoDb(), 'benchHandlerDynamoDbMeter');
    handlerMeterAttached = true;
  }
  const machineArn = stack.model.stateMachines[0]?.arn ?? '';
  // The state machine's Tasks call DynamoDB with a client signed as its role; meter that one.
  const stateMachineClient = stack.stateMachineDynamoDb(machineArn) ?? stack.dynamoDb.client;
  const stateMachineMeter = new DynamoDbMeter();
  stateMachineMeter.attach(stateMachineClient, 'benchStateMachineDynamoDbMeter');
  const serviceRoles = new Set([
    ...stack.iam.model.stateMachineRoles.values(),
    ...stack.iam.model.ruleTargetRoles.values(),
  ]);
  const dynamoDbOperations = (requests: Record<string, number>): Record<string, number> =>
    Object.fromEntries(
      Object.entries(requests)
        .filter(([operation]) => operation.startsWith('dynamodb:'))
        .map(([operation, count]) => [operation.slice('dynamodb:'.length), count]),
    );
  const handlerRequests = (): Record<string, number> => {
    const total: Record<string, number> = {};
    for (const [role, operations] of Object.entries(stack.requests())) {
      if (serviceRoles.has(role) || role.endsWith('.amazonaws.com')) continue;
      for (const [operation, count] of Object.entries(operations)) total[operation] = (total[operation] ?? 0) + count;
    }
    return total;
  };

  const invocationMs: Record<string, number[]> = {};
  const invoke = stack.functions.invoke.bind(stack.functions);
  // The gateway and the state machine call functions.invoke through the object, so this sees them all.
  stack.functions.invoke = async (nameOrArn, event, invokeOptions) => {
    const started = performance.now();
    try {
      return await invoke(nameOrArn, event, invokeOptions);
    } finally {
      const name = /function:([^/:]+)/.exec(nameOrArn)?.[1] ?? nameOrArn;
      const list = invocationMs[name] ?? [];
      list.push(performance.now() - started);
      invocationMs[name] = list;
    }
  };

  const seedBase = new DynamoDBClient({
    endpoint: stack.urls.dynamoDb,
    region: 'us-east-1',
    credentials: operatorCredentials,
  });
  const seedClient = DynamoDBDocumentClient.from(seedBase, { marshallOptions: { removeUndefinedValues: true } });
  const subscriptions = createSubscriptionStore(seedClient, stack.tableNames.SubscriptionsTable ?? '');

  let since = new Date();
  let eventBridgeBase = stack.eventBridge.stats();
  let invocationBase = stack.functions.invocations();
  let gatewayBase = stack.webSocket.stats();

  const idle = async () => {
    for (let pass = 0; pass < 50; pass++) {
      const before = JSON.stringify([stack.eventBridge.stats(), stepFunctions.executions().length]);
      await stack.eventBridge.idle();
      await stepFunctions.idle();
      await new Promise((settle) => setTimeout(settle, 20));
      if (JSON.stringify([stack.eventBridge.stats(), stepFunctions.executions().length]) === before) return;
    }
  };

  const reset = () => {
    stack.resetRequests();
    handlerMeter.reset();
    stateMachineMeter.reset();
    for (const key of Object.keys(invocationMs)) delete invocationMs[key];
    since = new Date();
    eventBridgeBase = stack.eventBridge.stats();
    invocationBase = stack.functions.invocations();
    gatewayBase = stack.webSocket.stats();
  };

  return {
    stack,
    ports: options.ports,
    seedClient,
    urlFor: (query) => `${stack.urls.webSocket}/?${new URLSearchParams(query)}`,
    async seedRoom(room, members, userIdOf) {
      const expiresAt = connectionExpiry(Date.now());
      await subscriptions.subscribe(
        members.map((member) => ({
          topic: topics.room(room),
          connectionId: member.connectionId ?? '',
          userId: userIdOf(member),
          userName: userIdOf(member),
          expiresAt,
        })),
      );
    },
    reset,
    idle,
    async reconfigureFanOut(overrides) {
      await idle();
      const model = await loadLocalStackModel({
        templatePath: resolve(repoRoot, 'template.yaml'),
        stackName: 'switchboard',
        parameters: { ...parameters, ...overrides },
        region: LOCAL_REGION,
        accountId: LOCAL_ACCOUNT,
      });
      await stepFunctions.close();
      stepFunctions = await startLocalStepFunctions({
        host: '127.0.0.1',
        port: options.ports.stepFunctions,
        region: LOCAL_REGION,
        accountId: LOCAL_ACCOUNT,
        stateMachines: model.stateMachines,
        invokeLambda: async (name, payload) => {
          await stack.latency?.delay('lambdaInvoke');
          return stack.functions.invoke(name, payload);
        },
        dynamoDbClient: stateMachineClient,
        iam: stack.iam,
        ...(stack.latency
          ? {
              startDelayMs: (sync: boolean) =>
                stack.latency?.draw(sync ? 'stepFunctionsSyncStart' : 'stepFunctionsStart') ?? 0,
            }
          : {}),
      });
    },
    usage() {
      const eventBridge = stack.eventBridge.stats();
      const invocations = stack.functions.invocations();
      const gateway = stack.webSocket.stats();
      const executions = stepFunctions.executions().filter((execution) => execution.startDate >= since);
      const invocationDelta: Record<string, number> = {};
      for (const [name, count] of Object.entries(invocations)) {
        const delta = count - (invocationBase[name] ?? 0);
        if (delta > 0) invocationDelta[name] = delta;
      }
      return {
        handlerRequests: handlerRequests(),
        // The handlers run in sandboxes, out of reach of an in-process meter: their DynamoDB requests are
        // the authorising front's counts (capacity units are metered only where a client is in-process).
        handlerDynamoDb: { ...handlerMeter.snapshot(), requests: dynamoDbOperations(handlerRequests()) },
        stateMachineDynamoDb: stateMachineMeter.snapshot(),
        putEventsCalls: eventBridge.putEvents - eventBridgeBase.putEvents,
        eventEntries: eventBridge.entries - eventBridgeBase.entries,
        targetDeliveries: eventBridge.delivered - eventBridgeBase.delivered,
        executions: executions.length,
        executionMs: executions
          .filter((execution) => execution.stopDate)
          .map((execution) => (execution.stopDate?.getTime() ?? 0) - execution.startDate.getTime()),
        failedExecutions: executions.filter((execution) => execution.status !== 'SUCCEEDED').length,
        invocations: invocationDelta,
        invocationMs: Object.fromEntries(Object.entries(invocationMs).map(([name, list]) => [name, [...list]])),
        postsAccepted: gateway.postsAccepted - gatewayBase.postsAccepted,
        directPosts:
          stack.requests()[functionRoleName('WebSocketActionsFunction')]?.['execute-api:PostToConnection'] ?? 0,
        postsGone: gateway.postsGone - gatewayBase.postsGone,
      };
    },
    // The fixed port is the authorising front's; the JVM listens on a port of its own behind it.
    dynamoDbPid: () => findDynamoDbLocalPid(Number(new URL(stack.dynamoDb.endpoint).port)),
    async close() {
      seedBase.destroy();
      if (stepFunctions !== stack.stepFunctions) await stepFunctions.close();
      await stack.close();
    },
  };
}

/** The DynamoDB Local JVM listening on `port`: the stack does not expose its child process. */
export function findDynamoDbLocalPid(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.some((part) => part.includes('DynamoDBLocal')) && cmdline.includes(String(port))) {
        return Number(entry);
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}
