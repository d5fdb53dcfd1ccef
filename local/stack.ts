import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { createTables, type LocalDynamoDb, localCredentials, startDynamoDbLocal } from './dynamodb.js';
import { type LocalEventBridge, startLocalEventBridge } from './eventbridge/server.js';
import { createFunctionRuntime, type FunctionRuntime, mergedEnvironment } from './functions.js';
import { type LocalHttpApi, startLocalHttpApi } from './gateway/http-api.js';
import { type LocalWebSocketGateway, startLocalWebSocketGateway } from './gateway/websocket-gateway.js';
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
  /** Extra environment for the functions (e.g. the local token issuer's settings). */
  environment?: Record<string, string>;
  idleTimeoutMs?: number;
  maxConnectionMs?: number;
  log?: (message: string, extra?: object) => void;
}

export interface LocalStack {
  model: LocalStackModel;
  functions: FunctionRuntime;
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

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

/**
 * Starts the whole stack on this machine: DynamoDB Local, the local EventBridge, Step Functions
 * and API Gateway stand-ins, all configured from the SAM templates, with the unchanged handlers
 * running in this process and reaching the stand-ins through AWS_ENDPOINT_URL_* alone.
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

    // The handlers' environment: the templates' variables plus the local endpoints. Credentials are
    // dummies; the stand-ins ignore signatures but the SDK insists on signing.
    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? localCredentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoDb.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamoDb.endpoint,
      ...mergedEnvironment(model.functions),
      ...options.environment,
    });

    const functions = createFunctionRuntime(model.functions, repoRoot);

    const stepFunctions = await startLocalStepFunctions({
      host,
      port: options.stepFunctionsPort ?? 0,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      stateMachines: model.stateMachines,
      invokeLambda: (name, payload) => functions.invoke(name, payload),
      dynamoDbClient: dynamoDb.client,
      logger: log,
    });
    closers.push(() => stepFunctions.close());
    process.env.AWS_ENDPOINT_URL_SFN = stepFunctions.url;

    const sfn = new SFNClient({ endpoint: stepFunctions.url, region: LOCAL_REGION, credentials: localCredentials });
    closers.push(async () => sfn.destroy());
    const eventBridge = await startLocalEventBridge({
      host,
      port: options.eventBridgePort ?? 0,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      buses: model.buses,
      rules: model.rules,
      // Targets receive what EventBridge would hand them: a StartExecution, or an async Lambda invoke.
      deliver: async (target, input) => {
        if (target.arn.includes(':states:')) {
          await sfn.send(new StartExecutionCommand({ stateMachineArn: target.arn, input: JSON.stringify(input) }));
        } else {
          await functions.invoke(target.arn, input);
        }
      },
      onDeadLetter: (target, _event, error) =>
        log(`event dead-lettered to ${target.deadLetterArn}`, { error: error.message }),
      logger: log,
    });
    closers.push(() => eventBridge.close());
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = eventBridge.url;

    const webSocket = await startLocalWebSocketGateway({
      host,
      port: options.webSocketPort ?? 3001,
      stage: model.webSocket.stage,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      routeSelectionExpression: model.webSocket.routeSelectionExpression,
      routes: model.webSocket.routes,
      ...(model.webSocket.authorizer ? { authorizer: model.webSocket.authorizer } : {}),
      invoke: (name, event) => functions.invoke(name, event),
      ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...(options.maxConnectionMs ? { maxConnectionMs: options.maxConnectionMs } : {}),
    });
    closers.push(() => webSocket.close());
    // The management endpoint is configuration like any other: here it is the local gateway.
    process.env.MANAGEMENT_API_ENDPOINT = webSocket.managementUrl;
    process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI = webSocket.managementUrl;

    const httpApi = await startLocalHttpApi({
      host,
      port: options.restPort ?? 3000,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      routes: model.httpApi.routes,
      ...(model.httpApi.authorizer ? { authorizer: model.httpApi.authorizer } : {}),
      ...(model.httpApi.cors ? { cors: model.httpApi.cors } : {}),
      invoke: (name, event) => functions.invoke(name, event),
    });
    closers.push(() => httpApi.close());

    // Lambda's event source mappings for the templates' DynamoDB stream events.
    const streams = await startStreamPollers({
      dynamoDbEndpoint: dynamoDb.endpoint,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      mappings: model.streamMappings,
      invoke: (name, event) => functions.invoke(name, event),
      onFailure: (destination, failure) => log(`stream batch discarded to ${destination}`, failure),
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
          JSON.stringify([eventBridge.stats(), stepFunctions.executions().length, streams.stats()]);
        for (let pass = 0; pass < 20; pass++) {
          const before = snapshot();
          await eventBridge.idle();
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
