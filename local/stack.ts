import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { AwsServiceError, DEFAULT_ACCOUNT, DEFAULT_REGION } from './aws-protocol.js';
import { createTables, type LocalDynamoDb, localCredentials, startDynamoDbLocal } from './dynamodb.js';
import { type LocalEventBridge, type LocalRule, startLocalEventBridge } from './eventbridge/server.js';
import { freePort } from './free-port.js';
import { createFunctionRuntime, type FunctionRuntime, mergedEnvironment } from './functions.js';
import { type LocalHttpApi, startLocalHttpApi } from './gateway/http-api.js';
import { type LocalWebSocketGateway, startLocalWebSocketGateway } from './gateway/websocket-gateway.js';
import { type IamMode, LocalIam, type RequestCounts } from './iam/authorizer.js';
import { credentialsForRole, OPERATOR_ROLE } from './iam/credentials.js';
import { type DynamoDbFront, startDynamoDbFront } from './iam/dynamodb-front.js';
import { apiGatewaySourceArn } from './iam/invoke-sources.js';
import type { Principal } from './iam/policy.js';
import { buildIamModel } from './iam/roles.js';
import { type LocalSqs, startLocalSqs } from './sqs/server.js';
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
  /** DynamoDB (the authorising front before DynamoDB Local); default 8000. */
  dynamoDbPort?: number;
  /** EventBridge, Step Functions and SQS stand-ins; default 0 (free ports). */
  eventBridgePort?: number;
  stepFunctionsPort?: number;
  sqsPort?: number;
  /**
   * IAM at every endpoint: `enforce` (the default) refuses what the templates' roles do not allow, as
   * AWS would; `off` lets everything through (requests are still counted).
   */
  iam?: IamMode;
  /** The root template; default template.yaml at the repo root (tests load edited copies). */
  templatePath?: string;
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
  sqs: LocalSqs;
  iam: LocalIam;
  dynamoDbFront: DynamoDbFront;
  urls: {
    webSocket: string;
    management: string;
    rest: string;
    /** The authorising front; DynamoDB Local itself is at `dynamoDb.endpoint`. */
    dynamoDb: string;
    eventBridge: string;
    stepFunctions: string;
    sqs: string;
  };
  tableNames: Record<string, string>;
  /** The DynamoDB client a state machine's Tasks use, signed with its role (benchmarks meter it). */
  stateMachineDynamoDb(stateMachineArn: string): DynamoDBClient | undefined;
  /** AWS requests per role and operation (e.g. `{ 'X-role': { 'dynamodb:Query': 3 } }`) since the last reset. */
  requests(): RequestCounts;
  resetRequests(): void;
  /** Resolves once no event, execution or invocation is in flight. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export const LOCAL_REGION = DEFAULT_REGION;
export const LOCAL_ACCOUNT = DEFAULT_ACCOUNT;

const EVENTS_SERVICE: Principal = { kind: 'service', service: 'events.amazonaws.com' };
const API_GATEWAY_SERVICE: Principal = { kind: 'service', service: 'apigateway.amazonaws.com' };

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
      templatePath: options.templatePath ? resolve(options.templatePath) : resolve(repoRoot, 'template.yaml'),
      stackName: 'switchboard',
      // Locally the app is served from another port, so CORS allows any origin. There is no X-Ray
      // daemon to send traces to, so tracing is off (the template's own switch, as a deployer sets it).
      parameters: { AuthMode: 'none', AllowedOrigin: '*', Tracing: 'Disabled', ...options.parameters },
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
    });
    const iam = new LocalIam({
      model: buildIamModel(model.root, { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT }),
      mode: options.iam ?? 'enforce',
      accountId: LOCAL_ACCOUNT,
      log,
    });
    log('templates loaded', { iam: iam.mode, roles: iam.model.roles.size });

    // DynamoDB Local ignores signatures, so it listens on a port of its own and every client goes
    // through the authorising front on the DynamoDB port.
    const dynamoDb = await startDynamoDbLocal({
      host,
      port: await freePort(),
      dataDir: options.dataDir ? resolve(options.dataDir) : undefined,
      region: LOCAL_REGION,
    });
    closers.push(() => dynamoDb.stop());
    const dynamoDbFront = await startDynamoDbFront({
      host,
      port: options.dynamoDbPort ?? 8000,
      upstream: dynamoDb.endpoint,
      iam,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
    });
    closers.push(() => dynamoDbFront.close());
    log('DynamoDB Local answering', { front: dynamoDbFront.url, local: dynamoDb.endpoint });
    await createTables(dynamoDb.client, model.tables);
    log('tables ready');

    const sqs = await startLocalSqs({
      host,
      port: options.sqsPort ?? 0,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      queues: model.queues,
      iam,
    });
    closers.push(() => sqs.close());

    // The handlers' environment: the templates' variables plus the local endpoints. Until each function
    // runs with its own role's keys, they share the operator's, which every endpoint allows.
    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoDbFront.url,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamoDbFront.url,
      AWS_ENDPOINT_URL_SQS: sqs.url,
      ...mergedEnvironment(model.functions),
      ...options.environment,
    });
    delete process.env.AWS_SESSION_TOKEN;

    const functions = createFunctionRuntime(model.functions, repoRoot);
    const functionArns = new Map(
      model.functions.flatMap((fn) => [[fn.name, fn.arn] as const, [fn.arn, fn.arn] as const]),
    );
    const functionArnOf = (nameOrArn: string) =>
      functionArns.get(nameOrArn) ?? `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${nameOrArn}`;

    const roleClients: Array<{ destroy(): void }> = [];
    const machineClients = new Map<string, DynamoDBClient>();
    closers.push(async () => {
      for (const client of roleClients) client.destroy();
    });
    const stepFunctions = await startLocalStepFunctions({
      host,
      port: options.stepFunctionsPort ?? 0,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      stateMachines: model.stateMachines,
      invokeLambda: (name, payload) => functions.invoke(name, payload),
      dynamoDbClient: dynamoDb.client,
      // Each machine calls DynamoDB and Lambda as its own role, as Step Functions does.
      integrationsFor: (machine) => {
        const roleName = iam.model.stateMachineRoles.get(machine.arn) ?? OPERATOR_ROLE;
        const client = new DynamoDBClient({
          endpoint: dynamoDbFront.url,
          region: LOCAL_REGION,
          credentials: credentialsForRole(roleName),
        });
        roleClients.push(client);
        machineClients.set(machine.arn, client);
        const principal = iam.rolePrincipal(roleName);
        return {
          dynamoDbClient: client,
          invokeLambda: async (name, payload) => {
            try {
              iam.authorizeInvoke(principal, functionArnOf(name));
            } catch (error) {
              // Step Functions reports Lambda's 403 as a service error of the Task.
              if (error instanceof AwsServiceError) error.name = 'Lambda.AWSLambdaException';
              throw error;
            }
            return functions.invoke(name, payload);
          },
        };
      },
      iam,
      logger: log,
    });
    closers.push(() => stepFunctions.close());
    process.env.AWS_ENDPOINT_URL_SFN = stepFunctions.url;

    // EventBridge calls Step Functions with the role SAM made for the rule's target.
    const sfnClients = new Map<string, SFNClient>();
    const sfnAs = (roleName: string): SFNClient => {
      let client = sfnClients.get(roleName);
      if (!client) {
        client = new SFNClient({
          endpoint: stepFunctions.url,
          region: LOCAL_REGION,
          credentials: credentialsForRole(roleName),
        });
        sfnClients.set(roleName, client);
        roleClients.push(client);
      }
      return client;
    };
    const rulesByTarget = new Map(
      model.rules.flatMap((rule) => rule.targets.map((target) => [target.id, rule] as const)),
    );
    const ruleArn = (rule: LocalRule) => {
      const bus = rule.eventBusName === 'default' ? '' : `${rule.eventBusName.replace(/^.*:event-bus\//, '')}/`;
      return `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${bus}${rule.name}`;
    };
    const eventBridge = await startLocalEventBridge({
      host,
      port: options.eventBridgePort ?? 0,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      buses: model.buses,
      rules: model.rules,
      // Targets receive what EventBridge would hand them: a StartExecution, or an async Lambda invoke.
      deliver: async (target, input, rule) => {
        if (target.arn.includes(':states:')) {
          const roleName = iam.model.ruleTargetRoles.get(rule.name) ?? OPERATOR_ROLE;
          await sfnAs(roleName).send(
            new StartExecutionCommand({ stateMachineArn: target.arn, input: JSON.stringify(input) }),
          );
        } else {
          iam.authorizeInvoke(EVENTS_SERVICE, functionArnOf(target.arn), ruleArn(rule));
          await functions.invoke(target.arn, input);
        }
      },
      onDeadLetter: (target, event, error) => {
        const rule = rulesByTarget.get(target.id);
        if (!target.deadLetterArn || !rule) return;
        try {
          sqs.sendAs(EVENTS_SERVICE, target.deadLetterArn, JSON.stringify(event), { 'aws:SourceArn': ruleArn(rule) });
          log(`event dead-lettered to ${target.deadLetterArn}`, { error: error.message });
        } catch (refused) {
          log(`event could not be dead-lettered to ${target.deadLetterArn}`, { error: String(refused) });
        }
      },
      iam,
      logger: log,
    });
    closers.push(() => eventBridge.close());
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = eventBridge.url;

    // API Gateway may invoke a function only where a Lambda permission names it and the route.
    const apis = {
      webSocketApiId: model.webSocket.apiId,
      ...(model.webSocket.authorizer ? { webSocketAuthorizerId: model.webSocket.authorizer.id } : {}),
      ...(model.httpApi.apiId ? { httpApiId: model.httpApi.apiId } : {}),
    };
    const invokeFromApiGateway = async (name: string, event: unknown) => {
      iam.authorizeInvoke(
        API_GATEWAY_SERVICE,
        functionArnOf(name),
        apiGatewaySourceArn(event, apis, LOCAL_REGION, LOCAL_ACCOUNT),
      );
      return functions.invoke(name, event);
    };

    const webSocket = await startLocalWebSocketGateway({
      host,
      port: options.webSocketPort ?? 3001,
      apiId: model.webSocket.apiId,
      stage: model.webSocket.stage,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      routeSelectionExpression: model.webSocket.routeSelectionExpression,
      routes: model.webSocket.routes,
      ...(model.webSocket.authorizer ? { authorizer: model.webSocket.authorizer } : {}),
      invoke: invokeFromApiGateway,
      ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...(options.maxConnectionMs ? { maxConnectionMs: options.maxConnectionMs } : {}),
      iam,
    });
    closers.push(() => webSocket.close());
    // The management endpoint is configuration like any other: here it is the local gateway.
    process.env.MANAGEMENT_API_ENDPOINT = webSocket.managementUrl;
    process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI = webSocket.managementUrl;

    const httpApi = await startLocalHttpApi({
      host,
      port: options.restPort ?? 3000,
      ...(model.httpApi.apiId ? { apiId: model.httpApi.apiId } : {}),
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      routes: model.httpApi.routes,
      ...(model.httpApi.authorizer ? { authorizer: model.httpApi.authorizer } : {}),
      ...(model.httpApi.cors ? { cors: model.httpApi.cors } : {}),
      invoke: invokeFromApiGateway,
    });
    closers.push(() => httpApi.close());

    // Lambda's event source mappings for the templates' DynamoDB stream events. The pollers are
    // Lambda's own machinery, so they read the streams (through the front) as the operator.
    const streams = await startStreamPollers({
      dynamoDbEndpoint: dynamoDbFront.url,
      credentials: localCredentials,
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
      dynamoDbFront,
      eventBridge,
      stepFunctions,
      webSocket,
      httpApi,
      streams,
      sqs,
      iam,
      tableNames,
      urls: {
        webSocket: webSocket.url,
        management: webSocket.managementUrl,
        rest: httpApi.url,
        dynamoDb: dynamoDbFront.url,
        eventBridge: eventBridge.url,
        stepFunctions: stepFunctions.url,
        sqs: sqs.url,
      },
      stateMachineDynamoDb: (arn) => machineClients.get(arn),
      requests: () => iam.requests(),
      resetRequests: () => iam.resetRequests(),
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
