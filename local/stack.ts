import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { createTables, type LocalDynamoDb, operatorCredentials, startDynamoDbLocal } from './dynamodb.js';
import { type LocalEventBridge, startLocalEventBridge } from './eventbridge/server.js';
import type { DeliverFunction } from './eventbridge/types.js';
import { type LocalHttpApi, startLocalHttpApi } from './gateway/http-api.js';
import { type LocalWebSocketGateway, startLocalWebSocketGateway } from './gateway/websocket-gateway.js';
import { credentialsForRole, functionRoleName } from './iam/credentials.js';
import { type DestinationSender, sqsDestinationSender } from './lambda/destinations.js';
import type { LocalEndpoints, LocalTokenIssuer } from './lambda/environment.js';
import {
  type LambdaService,
  startLambdaService,
  TooManyRequestsError,
  UnknownFunctionError,
} from './lambda/service.js';
import { type LocalStackModel, loadLocalStackModel } from './stack-model.js';
import { type LocalStepFunctions, startLocalStepFunctions } from './stepfunctions/server.js';
import { type StreamPollers, startStreamPollers } from './streams/stream-pollers.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface LocalStackOptions {
  host?: string;
  /** REST (HTTP API); default 3000. 0 picks a free port. */
  restPort?: number;
  /** WebSocket and its @connections API; default 3001. */
  webSocketPort?: number;
  /** DynamoDB Local; default 8000. */
  dynamoDbPort?: number;
  /** EventBridge and Step Functions stand-ins; default 0 (free ports). */
  eventBridgePort?: number;
  stepFunctionsPort?: number;
  /** Keep DynamoDB data here across restarts; in memory when absent. */
  dataDir?: string;
  /** Template parameter overrides; AuthMode defaults to `none` locally. */
  parameters?: Record<string, string>;
  /**
   * Replacements for variables a function's template Environment declares, by logical id or
   * name. A variable the template does not give that function is refused: locally, as on AWS, a
   * function sees only its own template's variables.
   */
  functionEnvironment?: Record<string, Record<string, string>>;
  /**
   * Endpoints the functions should use instead of the stand-ins' own (fault-injecting proxies in
   * tests): they replace AWS_ENDPOINT_URL_* and the template-declared MANAGEMENT_API_ENDPOINT.
   */
  endpoints?: { dynamoDb?: string; managementApi?: string };
  /** The local token issuer, in place of Cognito for the functions that verify tokens. */
  tokenIssuer?: LocalTokenIssuer;
  /** The functions' concurrency limit across the account (Lambda's is 1,000); default 64. */
  lambdaConcurrency?: number;
  /**
   * Scales Lambda's asynchronous retry schedule (about 1 then 2 minutes) and event age; default 1,
   * AWS's timing. Tests pass a small fraction.
   */
  asyncRetryScale?: number;
  /** The local SQS endpoint, where asynchronous and stream on-failure records are sent. */
  sqsEndpoint?: string;
  /** Sends destination records instead of SQS at sqsEndpoint (tests record them). */
  sendToDestination?: DestinationSender;
  idleTimeoutMs?: number;
  maxConnectionMs?: number;
  log?: (message: string, extra?: object) => void;
}

export interface LocalStack {
  model: LocalStackModel;
  functions: LambdaService;
  dynamoDb: LocalDynamoDb;
  eventBridge: LocalEventBridge;
  stepFunctions: LocalStepFunctions;
  webSocket: LocalWebSocketGateway;
  httpApi: LocalHttpApi;
  streams: StreamPollers;
  urls: {
    webSocket: string;
    management: string;
    rest: string;
    dynamoDb: string;
    eventBridge: string;
    stepFunctions: string;
  };
  tableNames: Record<string, string>;
  /** Resolves once no event, execution or invocation is in flight. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * How EventBridge hands an event to a rule target: a StartExecution for a state machine, an
 * asynchronous Invoke for a function, which succeeds once Lambda has queued the event. A function
 * error is then Lambda's to retry and to send to the function's on-failure destination; the rule's
 * own retries and dead-letter queue only see what Lambda refused (an unknown function, a throttle).
 */
export function deliverToTarget(
  functions: Pick<LambdaService, 'invoke'>,
  startExecution: (stateMachineArn: string, input: unknown) => Promise<void>,
): DeliverFunction {
  return async (target, input) => {
    if (target.arn.includes(':states:')) await startExecution(target.arn, input);
    else await functions.invoke(target.arn, input, { invocationType: 'Event' });
  };
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

/**
 * Starts the whole stack on this machine: DynamoDB Local, the local EventBridge, Step Functions
 * and API Gateway stand-ins, all configured from the SAM templates, with the unchanged handlers
 * running in the local Lambda service's sandboxes and reaching the stand-ins through
 * AWS_ENDPOINT_URL_* alone. Nothing of a function's configuration is written into this process.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  };

  try {
    const model = await loadLocalStackModel({
      templatePath: resolve(repoRoot, 'template.yaml'),
      stackName: 'switchboard',
      // Locally the app is served from another port, so CORS allows any origin. There is no X-Ray
      // daemon to send traces to, so tracing is off (the template's own switch, as a deployer sets it).
      parameters: { AuthMode: 'none', AllowedOrigin: '*', Tracing: 'Disabled', ...options.parameters },
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
    });

    log('templates loaded');
    const dynamoDb = await startDynamoDbLocal({
      host,
      port: options.dynamoDbPort ?? 8000,
      dataDir: options.dataDir ? resolve(options.dataDir) : undefined,
      region: LOCAL_REGION,
    });
    closers.push(() => dynamoDb.stop());
    log('DynamoDB Local answering');
    await createTables(dynamoDb.client, model.tables);
    log('tables ready');

    // The stand-ins start below; the functions read their endpoints at each cold start.
    const endpoints: LocalEndpoints = {
      dynamoDb: options.endpoints?.dynamoDb ?? dynamoDb.endpoint,
      dynamoDbStreams: dynamoDb.endpoint,
      eventBridge: '',
      stepFunctions: '',
      managementApi: '',
      ...(options.sqsEndpoint ? { sqs: options.sqsEndpoint } : {}),
    };
    let destinationSender = options.sendToDestination;
    if (!destinationSender && options.sqsEndpoint) {
      const sqsSender = sqsDestinationSender({ endpoint: options.sqsEndpoint, region: LOCAL_REGION });
      closers.push(async () => sqsSender.destroy());
      destinationSender = sqsSender;
    }
    const functions = await startLambdaService({
      functions: model.functions,
      region: LOCAL_REGION,
      endpoints: () => endpoints,
      ...(options.tokenIssuer ? { tokenIssuer: options.tokenIssuer } : {}),
      ...(options.functionEnvironment ? { environmentOverrides: options.functionEnvironment } : {}),
      ...(options.lambdaConcurrency ? { accountConcurrency: options.lambdaConcurrency } : {}),
      ...(options.asyncRetryScale !== undefined ? { asyncRetryScale: options.asyncRetryScale } : {}),
      ...(destinationSender ? { sendToDestination: destinationSender } : {}),
      log,
    });
    closers.push(() => functions.close());
    log('functions bundled');

    const stepFunctions = await startLocalStepFunctions({
      host,
      port: options.stepFunctionsPort ?? 0,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      stateMachines: model.stateMachines,
      // The lambda:invoke integration is a synchronous Invoke; Lambda's own refusals reach the
      // state machine as Lambda.* errors, function errors with the function's errorType.
      invokeLambda: (name, payload) =>
        functions.invoke(name, payload, { invocationType: 'RequestResponse' }).catch((error: unknown) => {
          if (error instanceof TooManyRequestsError || error instanceof UnknownFunctionError) {
            error.name = `Lambda.${error.name}`;
          }
          throw error;
        }),
      dynamoDbClient: dynamoDb.client,
      logger: log,
    });
    closers.push(() => stepFunctions.close());
    endpoints.stepFunctions = stepFunctions.url;

    // EventBridge starts executions as the rule target's role; locally the operator stands in for it.
    const sfn = new SFNClient({ endpoint: stepFunctions.url, region: LOCAL_REGION, credentials: operatorCredentials });
    closers.push(async () => sfn.destroy());
    const eventBridge = await startLocalEventBridge({
      host,
      port: options.eventBridgePort ?? 0,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      buses: model.buses,
      rules: model.rules,
      deliver: deliverToTarget(functions, async (stateMachineArn, input) => {
        await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
      }),
      onDeadLetter: (target, _event, error) =>
        log(`event dead-lettered to ${target.deadLetterArn}`, { error: error.message }),
      logger: log,
    });
    closers.push(() => eventBridge.close());
    endpoints.eventBridge = eventBridge.url;

    const webSocket = await startLocalWebSocketGateway({
      host,
      port: options.webSocketPort ?? 3001,
      stage: model.webSocket.stage,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      routeSelectionExpression: model.webSocket.routeSelectionExpression,
      routes: model.webSocket.routes,
      ...(model.webSocket.authorizer ? { authorizer: model.webSocket.authorizer } : {}),
      invoke: (name, event) => functions.invoke(name, event, { invocationType: 'RequestResponse' }),
      ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...(options.maxConnectionMs ? { maxConnectionMs: options.maxConnectionMs } : {}),
    });
    closers.push(() => webSocket.close());
    // The management endpoint is configuration like any other: here it is the local gateway.
    endpoints.managementApi = options.endpoints?.managementApi ?? webSocket.managementUrl;

    const httpApi = await startLocalHttpApi({
      host,
      port: options.restPort ?? 3000,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      routes: model.httpApi.routes,
      ...(model.httpApi.authorizer ? { authorizer: model.httpApi.authorizer } : {}),
      ...(model.httpApi.cors ? { cors: model.httpApi.cors } : {}),
      invoke: (name, event) => functions.invoke(name, event, { invocationType: 'RequestResponse' }),
    });
    closers.push(() => httpApi.close());

    // Lambda's event source mappings for the templates' DynamoDB stream events.
    const streams = await startStreamPollers({
      dynamoDbEndpoint: dynamoDb.endpoint,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      mappings: model.streamMappings,
      credentials: operatorCredentials,
      credentialsFor: (functionName) => credentialsForRole(functionRoleName(functionName)),
      invoke: (name, event) => functions.invoke(name, event, { invocationType: 'RequestResponse' }),
      // The mapping sends its on-failure record as the function's execution role, as Lambda does.
      onFailure: (destination, failure) => {
        functions.sendToDestination(failure.requestContext.functionArn, destination, failure).catch((error: unknown) =>
          log(`stream on-failure record not sent to ${destination}`, {
            error: error instanceof Error ? error.message : String(error),
          }),
        );
      },
      logger: log,
    });
    closers.push(() => streams.close());

    const tableNames = Object.fromEntries(
      model.tables.map((table) => [table.logicalId, table.definition.TableName ?? '']),
    );
    return {
      model,
      functions,
      dynamoDb,
      eventBridge,
      stepFunctions,
      webSocket,
      httpApi,
      streams,
      tableNames,
      urls: {
        webSocket: webSocket.url,
        management: webSocket.managementUrl,
        rest: httpApi.url,
        dynamoDb: dynamoDb.endpoint,
        eventBridge: eventBridge.url,
        stepFunctions: stepFunctions.url,
      },
      async idle() {
        // Events start executions which post, write and publish again, and stream records start
        // more: settle until a full pass finds nothing new anywhere.
        const snapshot = () =>
          JSON.stringify([
            eventBridge.stats(),
            stepFunctions.executions().length,
            streams.stats(),
            functions.invocations(),
            functions.stats().asyncQueued,
          ]);
        for (let pass = 0; pass < 20; pass++) {
          const before = snapshot();
          await eventBridge.idle();
          await functions.idle();
          await stepFunctions.idle();
          await streams.idle();
          await new Promise((resolve) => setTimeout(resolve, 20));
          if (snapshot() === before) return;
        }
      },
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
