import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';

/** Any JSON value, as states pass them. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Runs one Task state locally: receives the state's processed Parameters, returns its raw result. */
export type TaskHandler = (input: JsonValue) => Promise<JsonValue>;

/**
 * Invokes a function locally. Resolve with the handler's result; throw to report a function error
 * (the error's `name` becomes the Task error, as Lambda's `errorType` does). Throw an error named
 * `Lambda.<Something>` to simulate a Lambda service error such as `Lambda.TooManyRequestsException`.
 */
export type InvokeLambda = (functionArnOrName: string, payload: unknown) => Promise<unknown>;

/** What Task states call locally. */
export interface TaskIntegrations {
  invokeLambda: InvokeLambda;
  /** A client pointed at DynamoDB Local: `aws-sdk:dynamodb:*` and `dynamodb:*Item` Tasks call it. */
  dynamoDbClient: DynamoDBClient;
  logger?: (msg: string, extra?: object) => void;
}

/**
 * A Task failure as Step Functions reports it: `name` is the error matched by `ErrorEquals`
 * (aws-local-stepfunctions reads `name`), `message` is the cause.
 */
export class TaskFailedError extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/** Task handlers keyed by state name (aws-local-stepfunctions overrides Tasks by name), plus retrying states. */
export interface PreparedTasks {
  handlers: Record<string, TaskHandler>;
  /** States with a Retry field, for shortening retry intervals locally. */
  retryingStates: string[];
}

const STATES_INTEGRATION = /^arn:aws[a-z-]*:states:[^:]*:[^:]*:(.+)$/;
const LAMBDA_FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:.+$/;
const OPTIMIZED_DYNAMODB = /^dynamodb:(getItem|putItem|updateItem|deleteItem)$/;
const AWS_SDK_DYNAMODB = /^aws-sdk:dynamodb:([a-zA-Z]+)$/;

/**
 * Builds a local handler for every Task state of a definition, nested Map and Parallel states
 * included. Throws when a Task uses a resource this stand-in cannot run, or when two states share
 * a name (overrides are keyed by name; AWS rejects duplicate names too).
 */
export function prepareTaskHandlers(definition: StateMachineDefinition, integrations: TaskIntegrations): PreparedTasks {
  const handlers: Record<string, TaskHandler> = {};
  const retryingStates: string[] = [];
  const seen = new Set<string>();
  const visit = (states: Record<string, unknown>): void => {
    for (const [name, raw] of Object.entries(states)) {
      if (seen.has(name)) throw new Error(`State name "${name}" is used twice; state names must be unique`);
      seen.add(name);
      const state = raw as Record<string, unknown>;
      if (Array.isArray(state.Retry)) retryingStates.push(name);
      if (state.Type === 'Task' && typeof state.Resource === 'string') {
        handlers[name] = handlerFor(state.Resource, integrations);
      }
      if (state.Type === 'Map') {
        const processor = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, unknown> } | undefined;
        if (processor?.States) visit(processor.States);
      }
      if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
        for (const branch of state.Branches as { States?: Record<string, unknown> }[]) {
          if (branch.States) visit(branch.States);
        }
      }
    }
  };
  visit(definition.States as Record<string, unknown>);
  return { handlers, retryingStates };
}

function handlerFor(resource: string, integrations: TaskIntegrations): TaskHandler {
  if (LAMBDA_FUNCTION_ARN.test(resource)) return lambdaFunctionResource(resource, integrations.invokeLambda);
  const integration = STATES_INTEGRATION.exec(resource)?.[1] ?? '';
  if (integration === 'lambda:invoke') return lambdaInvoke(integrations);
  const optimized = OPTIMIZED_DYNAMODB.exec(integration)?.[1];
  if (optimized) return dynamoDbCall(optimized, 'optimized', integrations.dynamoDbClient);
  const sdkAction = AWS_SDK_DYNAMODB.exec(integration)?.[1];
  if (sdkAction) return dynamoDbCall(sdkAction, 'aws-sdk', integrations.dynamoDbClient);
  throw new Error(
    `Task resource ${resource} is not supported locally (supported: lambda:invoke, Lambda function ARNs, ` +
      'aws-sdk:dynamodb:<action>, dynamodb:getItem|putItem|updateItem|deleteItem)',
  );
}

/** `arn:aws:states:::lambda:invoke`: result `{ExecutedVersion, Payload, StatusCode}`, as AWS returns it. */
function lambdaInvoke({ invokeLambda, logger }: TaskIntegrations): TaskHandler {
  return async (input) => {
    const parameters = asObject(input);
    const functionName = parameters.FunctionName;
    if (typeof functionName !== 'string' || functionName === '') {
      throw new TaskFailedError('Lambda.InvalidParameterValueException', 'FunctionName must be a non-empty string');
    }
    // Serialised before any await: the library hands Tasks objects it may share with other iterations.
    const payload = toJson(parameters.Payload ?? {});
    if (parameters.InvocationType === 'Event') {
      invokeLambda(functionName, payload).catch((err: unknown) =>
        logger?.('asynchronous Lambda invocation failed', { functionName, error: String(err) }),
      );
      return { ExecutedVersion: '$LATEST', Payload: '', StatusCode: 202 };
    }
    const result = await invokeLambda(functionName, payload).catch((err: unknown) => {
      throw lambdaError(err);
    });
    return { ExecutedVersion: '$LATEST', Payload: toJson(result), StatusCode: 200 };
  };
}

/** A Lambda ARN as Resource: the state input is the payload, the function's result is the state result. */
function lambdaFunctionResource(functionArn: string, invokeLambda: InvokeLambda): TaskHandler {
  return async (input) => {
    const payload = toJson(input);
    const result = await invokeLambda(functionArn, payload).catch((err: unknown) => {
      throw lambdaError(err);
    });
    return toJson(result);
  };
}

/**
 * A function error surfaces with the function's errorType as Error and Lambda's error JSON as Cause;
 * errors already named `Lambda.*` or `States.*` stand for service errors and keep their name.
 */
function lambdaError(err: unknown): TaskFailedError {
  const error = err instanceof Error ? err : new Error(String(err));
  if (/^(Lambda|States)\./.test(error.name)) return new TaskFailedError(error.name, error.message);
  // The local Lambda service hands over the function's own error body (a timeout's Sandbox.Timedout
  // included): that body is the Cause, as the lambda:invoke integration reports it.
  const body = (error as { payload?: unknown }).payload as { errorType?: unknown; errorMessage?: unknown } | undefined;
  if (body && typeof body.errorType === 'string') return new TaskFailedError(body.errorType, JSON.stringify(body));
  const errorType = error.name || 'Error';
  const cause = JSON.stringify({
    errorType,
    errorMessage: error.message,
    trace: (error.stack ?? '').split('\n'),
  });
  return new TaskFailedError(errorType, cause);
}

/**
 * The longest timer Node holds (2^31-1 ms), in seconds: aws-local-stepfunctions turns TimeoutSeconds
 * into a setTimeout, and a longer one would fire at once.
 */
const LONGEST_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * A Task without TimeoutSeconds runs as long as it takes on AWS (the default is 99999999 s), but
 * aws-local-stepfunctions gives it 60 s. This sets the missing ones to the longest a timer can wait,
 * so a Task's budget is what the definition says and a function's own Timeout is what stops it.
 */
export function withAwsTaskTimeouts(definition: StateMachineDefinition): StateMachineDefinition {
  const copy = structuredClone(definition);
  const visit = (states: Record<string, unknown> | undefined): void => {
    for (const raw of Object.values(states ?? {})) {
      const state = raw as Record<string, unknown>;
      if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
        state.TimeoutSeconds = LONGEST_TIMER_SECONDS;
      }
      const processor = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, unknown> } | undefined;
      if (state.Type === 'Map') visit(processor?.States);
      if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
        for (const branch of state.Branches as { States?: Record<string, unknown> }[]) visit(branch.States);
      }
    }
  };
  visit(copy.States as Record<string, unknown>);
  return copy;
}

type DynamoDbStyle = 'aws-sdk' | 'optimized';
type CommandConstructor = new (input: unknown) => unknown;

/** Calls the action on the real client and returns the API response without SDK metadata. */
function dynamoDbCall(action: string, style: DynamoDbStyle, client: DynamoDBClient): TaskHandler {
  const commandName = `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`;
  const Command = (dynamodb as unknown as Record<string, unknown>)[commandName];
  if (typeof Command !== 'function') throw new Error(`DynamoDB has no action "${action}" (no ${commandName})`);
  const send = client.send.bind(client) as (command: unknown) => Promise<Record<string, unknown>>;
  return async (input) => {
    const parameters = toJson(input);
    let response: Record<string, unknown>;
    try {
      response = await send(new (Command as CommandConstructor)(parameters));
    } catch (err) {
      throw dynamoDbError(err, style);
    }
    const { $metadata: _metadata, ...body } = response;
    return toJson(body);
  };
}

/**
 * Names DynamoDB errors as Step Functions does: the optimized integration reports
 * `DynamoDB.<ErrorCode>`, AWS SDK integrations `DynamoDb.<Name>Exception` (service name in Pascal
 * case, "Exception" appended when the code lacks it).
 */
function dynamoDbError(err: unknown, style: DynamoDbStyle): TaskFailedError {
  const error = err instanceof Error ? err : new Error(String(err));
  const { $fault, $metadata } = error as Error & {
    $fault?: string;
    $metadata?: { httpStatusCode?: number; requestId?: string };
  };
  if (typeof $fault !== 'string') {
    return new TaskFailedError(
      style === 'optimized' ? 'DynamoDB.AmazonDynamoDBException' : 'DynamoDb.SdkClientException',
      error.message,
    );
  }
  const code = error.name;
  const status = $metadata?.httpStatusCode ?? ($fault === 'server' ? 500 : 400);
  const requestId = $metadata?.requestId ?? 'local';
  if (style === 'optimized') {
    return new TaskFailedError(
      `DynamoDB.${code}`,
      `${error.message} (Service: AmazonDynamoDBv2; Status Code: ${status}; Error Code: ${code}; Request ID: ${requestId}; Proxy: null)`,
    );
  }
  const name = code.endsWith('Exception') ? code : `${code}Exception`;
  return new TaskFailedError(
    `DynamoDb.${name}`,
    `${error.message} (Service: DynamoDb, Status Code: ${status}, Request ID: ${requestId})`,
  );
}

function asObject(value: JsonValue): Record<string, JsonValue> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TaskFailedError('States.Runtime', 'Task parameters must be a JSON object');
  }
  return value;
}

/** JSON round trip: what crosses a service boundary. Binary values become base64, as AWS returns them. */
export function toJson(value: unknown): JsonValue {
  const text = JSON.stringify(value, (_key, v: unknown) =>
    v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
  );
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}
