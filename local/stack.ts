import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { AwsServiceError, DEFAULT_ACCOUNT, DEFAULT_REGION } from './aws-protocol.js';
import { createTables, type LocalDynamoDb, operatorCredentials, startDynamoDbLocal } from './dynamodb.js';
import { type LocalEventBridge, type LocalRule, startLocalEventBridge } from './eventbridge/server.js';
import type { DeliverFunction } from './eventbridge/types.js';
import { freePort } from './free-port.js';
import { type LocalHttpApi, startLocalHttpApi } from './gateway/http-api.js';
import { type LocalWebSocketGateway, startLocalWebSocketGateway } from './gateway/websocket-gateway.js';
import { type IamMode, LocalIam, type RequestCounts } from './iam/authorizer.js';
import { credentialsForRole, functionRoleName, OPERATOR_ROLE } from './iam/credentials.js';
import { type DynamoDbFront, startDynamoDbFront } from './iam/dynamodb-front.js';
import { apiGatewaySourceArn } from './iam/invoke-sources.js';
import type { Principal } from './iam/policy.js';
import { buildIamModel } from './iam/roles.js';
import { type DestinationSender, sqsDestinationSender } from './lambda/destinations.js';
import type { LocalEndpoints, LocalTokenIssuer } from './lambda/environment.js';
import { type LocalInvokeApi, startLocalInvokeApi } from './lambda/invoke-api.js';
import {
  type LambdaService,
  startLambdaService,
  TooManyRequestsError,
  UnknownFunctionError,
} from './lambda/service.js';
import { type Hop, type HopTimer, type LatencyModel, type LatencyProfile, latencyModelFor } from './latency/model.js';
import type { CorsRule } from './s3/cors.js';
import { type LocalBucket, type LocalS3, startLocalS3 } from './s3/server.js';
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
  /** The S3 stand-in (attachments); default 0 (a free port). */
  s3Port?: number;
  /** The Lambda Invoke API in front of the local Lambda service; default 0 (a free port). */
  lambdaPort?: number;
  /** The clock the S3 stand-in expires presigned URLs by; default Date.now (tests move it on). */
  s3Now?: () => number;
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
  endpoints?: { dynamoDb?: string; managementApi?: string; eventBridge?: string; lambda?: string };
  /** The local token issuer, in place of Cognito for the functions that verify tokens. */
  tokenIssuer?: LocalTokenIssuer;
  /** The functions' concurrency limit across the account (Lambda's is 1,000); default 64. */
  lambdaConcurrency?: number;
  /**
   * Scales Lambda's asynchronous retry schedule (about 1 then 2 minutes) and event age; default 1,
   * AWS's timing. Tests pass a small fraction.
   */
  asyncRetryScale?: number;
  /** Where asynchronous and stream on-failure records are sent; default the local SQS. */
  sqsEndpoint?: string;
  /** Sends destination records instead of SQS at sqsEndpoint (tests record them). */
  sendToDestination?: DestinationSender;
  idleTimeoutMs?: number;
  maxConnectionMs?: number;
  /**
   * `aws`: every stand-in adds the delay its hop takes on AWS (local/latency/hops.ts), drawn from a
   * lognormal fitted to published p50/p99 figures; `none` (the default) adds nothing. A model object
   * may be passed instead, e.g. to switch it on and off during a run.
   */
  latency?: LatencyProfile | LatencyModel;
  /** Seeds the latency model's generators; default 1. */
  latencySeed?: number;
  /** Fraction of Lambda invocations that pay a cold start under the latency model; default 0. */
  coldStartRate?: number;
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
  sqs: LocalSqs;
  s3: LocalS3;
  /** The Lambda Invoke API (AWS_ENDPOINT_URL_LAMBDA): functions that invoke functions call it. */
  lambdaApi: LocalInvokeApi;
  iam: LocalIam;
  dynamoDbFront: DynamoDbFront;
  /** The latency model the stand-ins draw from; undefined with `latency: 'none'`. */
  latency: LatencyModel | undefined;
  urls: {
    webSocket: string;
    management: string;
    rest: string;
    /** The authorising front; DynamoDB Local itself is at `dynamoDb.endpoint`. */
    dynamoDb: string;
    eventBridge: string;
    stepFunctions: string;
    sqs: string;
    s3: string;
    lambda: string;
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

/**
 * How EventBridge hands an event to a rule target: a StartExecution for a state machine, an
 * asynchronous Invoke for a function, which succeeds once Lambda has queued the event. A function
 * error is then Lambda's to retry and to send to the function's on-failure destination; the rule's
 * own retries and dead-letter queue only see what Lambda refused (an unknown function, a throttle).
 */
export function deliverToTarget(
  functions: Pick<LambdaService, 'invoke'>,
  startExecution: (stateMachineArn: string, input: unknown, rule: LocalRule) => Promise<void>,
  authorizeInvoke: (functionArn: string, rule: LocalRule) => void = () => {},
): DeliverFunction {
  return async (target, input, rule) => {
    if (target.arn.includes(':states:')) {
      await startExecution(target.arn, input, rule);
      return;
    }
    authorizeInvoke(target.arn, rule);
    await functions.invoke(target.arn, input, { invocationType: 'Event' });
  };
}

/**
 * Holds each delivery until EventBridge's hop from PutEvents to the target is over: `startHop` gets
 * how long the local bus already took since the attempt became due, and its timer waits the rest.
 */
export function withHop(
  startHop: (elapsedMs: number) => Pick<HopTimer, 'settle'> | undefined,
  deliver: DeliverFunction,
): DeliverFunction {
  return async (target, input, rule, event, dueAtMs) => {
    await startHop(Date.now() - dueAtMs)?.settle();
    return deliver(target, input, rule, event, dueAtMs);
  };
}

export const LOCAL_REGION = DEFAULT_REGION;
export const LOCAL_ACCOUNT = DEFAULT_ACCOUNT;

const EVENTS_SERVICE: Principal = { kind: 'service', service: 'events.amazonaws.com' };
const API_GATEWAY_SERVICE: Principal = { kind: 'service', service: 'apigateway.amazonaws.com' };

/**
 * Starts the whole stack on this machine: DynamoDB Local behind an authorising front, the local
 * EventBridge, Step Functions, SQS and API Gateway stand-ins, all configured from the SAM templates,
 * with the unchanged handlers running in the local Lambda service's sandboxes, each as its own role,
 * and reaching the stand-ins through AWS_ENDPOINT_URL_* alone. Nothing of a function's
 * configuration is written into this process.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const latency = latencyModelFor(options.latency, {
    ...(options.latencySeed !== undefined ? { seed: options.latencySeed } : {}),
    ...(options.coldStartRate !== undefined ? { coldStartRate: options.coldStartRate } : {}),
  });
  // Each stand-in tops its hop's real work up to the hop's draw where AWS would add it; with no model
  // nothing is wrapped. `settleBefore` makes a hop end where the handler gets its event.
  const settleBefore = (hop: Hop, elapsedMs = 0) => {
    const timer = latency?.start(hop, elapsedMs);
    return timer ? { beforeHandler: () => timer.settle() } : {};
  };
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
      ...(latency ? { requestHop: () => latency.start('dynamoDbRequest') } : {}),
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
      // SQS's hop is a visibility delay with no local work to subtract: the whole draw.
      ...(latency ? { deliveryDelayMs: () => latency.start('sqs').dueMs() } : {}),
    });
    closers.push(() => sqs.close());

    // The templates' buckets, with their CORS rules; presigned URLs are checked as the signing role.
    const buckets: LocalBucket[] = [...model.root.all()].flatMap((stack) =>
      stack.resources('AWS::S3::Bucket').map(([logicalId, resource]) => {
        const cors = stack.evaluate(resource.Properties?.CorsConfiguration) as { CorsRules?: CorsRule[] } | undefined;
        return { name: stack.physicalName(logicalId), cors: cors?.CorsRules ?? [] };
      }),
    );
    const s3 = await startLocalS3({
      host,
      port: options.s3Port ?? 0,
      buckets,
      iam,
      log,
      ...(options.s3Now ? { now: options.s3Now } : {}),
    });
    closers.push(() => s3.close());

    // The stand-ins start below; the functions read their endpoints at each cold start.
    const endpoints: LocalEndpoints = {
      dynamoDb: options.endpoints?.dynamoDb ?? dynamoDbFront.url,
      dynamoDbStreams: dynamoDbFront.url,
      eventBridge: '',
      stepFunctions: '',
      managementApi: '',
      sqs: options.sqsEndpoint ?? sqs.url,
      s3: s3.url,
      lambda: '',
    };
    let destinationSender = options.sendToDestination;
    if (!destinationSender) {
      // Lambda sends destination records as the function's execution role.
      const sqsSender = sqsDestinationSender({ endpoint: options.sqsEndpoint ?? sqs.url, region: LOCAL_REGION });
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
      sendToDestination: destinationSender,
      log,
    });
    closers.push(() => functions.close());
    log('functions bundled');
    // A synchronous Invoke; Lambda's own refusals reach a state machine as Lambda.* errors, function
    // errors with the function's errorType.
    const invokeForStateMachine = async (name: string, payload: unknown) => {
      return functions
        .invoke(name, payload, { invocationType: 'RequestResponse', ...settleBefore('lambdaInvoke') })
        .catch((error: unknown) => {
          if (error instanceof TooManyRequestsError || error instanceof UnknownFunctionError) {
            error.name = `Lambda.${error.name}`;
          }
          throw error;
        });
    };
    const functionArns = new Map(
      model.functions.flatMap((fn) => [[fn.name, fn.arn] as const, [fn.arn, fn.arn] as const]),
    );
    const functionArnOf = (nameOrArn: string) =>
      functionArns.get(nameOrArn) ?? `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${nameOrArn}`;

    // Functions that invoke functions (the moderation hook) call Lambda's Invoke API as their own role.
    const lambdaApi = await startLocalInvokeApi({
      host,
      port: options.lambdaPort ?? 0,
      functions: {
        // The hook's invoke is a hop like any other: topped up to its draw when the handler gets the event.
        invoke: (name, event, invokeOptions) =>
          functions.invoke(name, event, { ...invokeOptions, ...settleBefore('lambdaInvoke') }),
      },
      iam,
      resolveFunction: (nameOrArn) => ({ arn: functionArnOf(nameOrArn), exists: functionArns.has(nameOrArn) }),
      log,
    });
    closers.push(() => lambdaApi.close());
    endpoints.lambda = options.endpoints?.lambda ?? lambdaApi.url;

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
      invokeLambda: invokeForStateMachine,
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
            return invokeForStateMachine(name, payload);
          },
        };
      },
      iam,
      logger: log,
      ...(latency
        ? { startHop: (sync: boolean) => latency.start(sync ? 'stepFunctionsSyncStart' : 'stepFunctionsStart') }
        : {}),
    });
    closers.push(() => stepFunctions.close());
    endpoints.stepFunctions = stepFunctions.url;

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
      // Targets receive what EventBridge would hand them: a StartExecution as the rule target's role, or
      // an asynchronous Invoke that a Lambda permission naming the rule must allow.
      deliver: withHop(
        (elapsedMs) => latency?.start('eventBridgeDelivery', elapsedMs),
        deliverToTarget(
          functions,
          async (stateMachineArn, input, rule) => {
            const roleName = iam.model.ruleTargetRoles.get(rule.name) ?? OPERATOR_ROLE;
            await sfnAs(roleName).send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
          },
          (functionArn, rule) => iam.authorizeInvoke(EVENTS_SERVICE, functionArnOf(functionArn), ruleArn(rule)),
        ),
      ),
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
    endpoints.eventBridge = options.endpoints?.eventBridge ?? eventBridge.url;

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
      return functions.invoke(name, event, { invocationType: 'RequestResponse', ...settleBefore('apiGatewayInvoke') });
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
      ...(latency ? { postHop: () => latency.start('connectionsPost') } : {}),
    });
    closers.push(() => webSocket.close());
    // The management endpoint is configuration like any other: here it is the local gateway.
    endpoints.managementApi = options.endpoints?.managementApi ?? webSocket.managementUrl;

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

    // Lambda's event source mappings for the templates' DynamoDB stream events: each reads its stream
    // as its function's execution role (through the front), and sends its on-failure record as it too.
    const streams = await startStreamPollers({
      dynamoDbEndpoint: dynamoDbFront.url,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      mappings: model.streamMappings,
      credentials: operatorCredentials,
      credentialsFor: (functionName) => credentialsForRole(functionRoleName(functionName)),
      // The stream hop's figure is write → handler invoked, Lambda's own polling included: poll often
      // locally so the poller adds little on top of the drawn delay.
      ...(latency ? { pollIntervalMs: 50 } : {}),
      invoke: (name, event, pollMs) =>
        functions.invoke(name, event, { invocationType: 'RequestResponse', ...settleBefore('dynamoDbStream', pollMs) }),
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
      dynamoDbFront,
      eventBridge,
      stepFunctions,
      webSocket,
      httpApi,
      streams,
      sqs,
      s3,
      lambdaApi,
      iam,
      latency,
      tableNames,
      urls: {
        webSocket: webSocket.url,
        management: webSocket.managementUrl,
        rest: httpApi.url,
        dynamoDb: dynamoDbFront.url,
        eventBridge: eventBridge.url,
        stepFunctions: stepFunctions.url,
        sqs: sqs.url,
        s3: s3.url,
        lambda: lambdaApi.url,
      },
      stateMachineDynamoDb: (arn) => machineClients.get(arn),
      requests: () => iam.requests(),
      resetRequests: () => iam.resetRequests(),
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
