import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { type CfnResource, LocalCfnStack } from './cfn/stack.js';
import type { LocalRule, LocalTarget } from './eventbridge/types.js';

/** Everything the local runtime needs, read from the SAM templates. */
export interface LocalStackModel {
  root: LocalCfnStack;
  tables: LocalTable[];
  functions: LocalFunction[];
  webSocket: LocalWebSocketApi;
  httpApi: LocalHttpApi;
  buses: string[];
  rules: LocalRule[];
  stateMachines: LocalStateMachine[];
  streamMappings: LocalStreamMapping[];
  queues: LocalQueue[];
}

export interface LocalQueue {
  name: string;
  arn: string;
}

export interface LocalTable {
  logicalId: string;
  definition: CreateTableCommandInput;
  ttlAttribute?: string;
}

export interface LocalFunction {
  logicalId: string;
  name: string;
  arn: string;
  /** The function's CodeUri as an absolute directory: EntryPoints are relative to it, as in `sam build`. */
  codeRoot: string;
  /** TypeScript entry file, relative to codeRoot. */
  entry: string;
  /** `Handler` as the template gives it (`file.export`); Lambda's `_HANDLER`. */
  handler: string;
  exportName: string;
  /** The template's Environment.Variables, Globals merged in, every value resolved to text. */
  environment: Record<string, string>;
  timeoutSeconds: number;
  /** `nodejs22.x`: Lambda's AWS_EXECUTION_ENV names it. */
  runtime: string;
  /** LoggingConfig.LogGroup, else Lambda's default `/aws/lambda/<name>`. */
  logGroupName: string;
  /** MemorySize in MB; Lambda's default is 128. */
  memorySize: number;
  /** ReservedConcurrentExecutions, when the template sets it. */
  reservedConcurrency?: number;
  eventInvokeConfig: LocalEventInvokeConfig;
  /** How `sam build` bundles the function (Metadata.BuildProperties of BuildMethod esbuild). */
  build: LocalBuildProperties;
}

/** A function's asynchronous-invocation settings (SAM's EventInvokeConfig), with Lambda's defaults filled in. */
export interface LocalEventInvokeConfig {
  /** 0-2; Lambda's default is 2. */
  maximumRetryAttempts: number;
  /** 60-21600; Lambda's default is 21600 (six hours). */
  maximumEventAgeInSeconds: number;
  onFailure?: string;
  onSuccess?: string;
}

/** The esbuild BuildProperties SAM understands. */
export interface LocalBuildProperties {
  entryPoints: string[];
  format: 'esm' | 'cjs';
  target?: string;
  minify: boolean;
  sourcemap: boolean;
  external: string[];
  /** `js=...` strings, as SAM passes them to esbuild's --banner. */
  banner: string[];
  /** `.js=.mjs` strings. */
  outExtension: string[];
  mainFields?: string[];
  loader: string[];
}

export interface LocalWebSocketApi {
  /** The API id the templates' ARNs use (`Ref WebSocketApi`). */
  apiId: string;
  stage: string;
  routeSelectionExpression: string;
  routes: Record<string, { functionName: string; twoWay: boolean }>;
  authorizer?: { id: string; functionName: string; identitySource: string[] };
}

export interface LocalHttpApi {
  /** `Ref` of the HTTP API, the id in its execute-api ARNs. */
  apiId?: string;
  routes: Array<{ method: string; path: string; functionName: string; authorized: boolean }>;
  authorizer?: { functionName: string; identitySource: string[] };
  cors?: { allowOrigins: string[]; allowMethods: string[]; allowHeaders: string[]; maxAge?: number };
}

export interface LocalStateMachine {
  name: string;
  arn: string;
  type: 'EXPRESS' | 'STANDARD';
  /** The ASL text with DefinitionSubstitutions applied, as CloudFormation does. */
  definition: string;
}

export interface LocalStreamMapping {
  functionName: string;
  tableName: string;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  bisectBatchOnFunctionError: boolean;
  maximumRetryAttempts: number;
  reportBatchItemFailures: boolean;
  startingPosition: 'LATEST' | 'TRIM_HORIZON';
  onFailureDestination?: string;
  /**
   * FilterCriteria's patterns (EventBridge pattern syntax over the Lambda record); a record that
   * matches none is dropped before batching, as processed. Absent: every record is delivered.
   */
  filterPatterns?: unknown[];
}

const functionTypes = new Set(['AWS::Serverless::Function']);

/** An event source's `FilterCriteria: {Filters: [{Pattern: '<JSON>'}]}` as parsed patterns. */
function filterPatternsOf(criteria: unknown): { filterPatterns?: unknown[] } {
  const filters = (criteria as { Filters?: Array<{ Pattern?: unknown }> } | undefined)?.Filters;
  if (!filters || filters.length === 0) return {};
  return {
    filterPatterns: filters.map(({ Pattern }) => (typeof Pattern === 'string' ? JSON.parse(Pattern) : Pattern)),
  };
}

function asString(value: unknown, what: string): string {
  if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`${what} is not a string`);
  return String(value);
}

/** `arn:...:function:Name/invocations` or a bare ARN → the function name. */
export function functionNameFromArn(value: string): string {
  const match = /function:([^/:]+)/.exec(value);
  if (!match?.[1]) throw new Error(`not a Lambda ARN: ${value}`);
  return match[1];
}

function tableNameFromStreamArn(value: string): string {
  const match = /table\/([^/]+)\/stream/.exec(value);
  if (!match?.[1]) throw new Error(`not a stream ARN: ${value}`);
  return match[1];
}

function evaluated<T>(stack: LocalCfnStack, resource: CfnResource): T {
  return stack.evaluate(resource.Properties ?? {}) as T;
}

function tablesOf(stack: LocalCfnStack): LocalTable[] {
  return stack.resources('AWS::DynamoDB::Table').map(([logicalId, resource]) => {
    const props = evaluated<Record<string, unknown>>(stack, resource);
    const stream = props.StreamSpecification as { StreamViewType?: string } | undefined;
    const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    const indexes = props.GlobalSecondaryIndexes as Array<Record<string, unknown>> | undefined;
    const definition: CreateTableCommandInput = {
      TableName: stack.physicalName(logicalId),
      KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
      AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
      BillingMode: 'PAY_PER_REQUEST',
      ...(indexes
        ? {
            GlobalSecondaryIndexes: indexes.map(({ IndexName, KeySchema, Projection }) => ({
              IndexName,
              KeySchema,
              Projection,
            })) as CreateTableCommandInput['GlobalSecondaryIndexes'],
          }
        : {}),
      ...(stream?.StreamViewType
        ? {
            StreamSpecification: { StreamEnabled: true, StreamViewType: stream.StreamViewType as 'NEW_AND_OLD_IMAGES' },
          }
        : {}),
    };
    return { logicalId, definition, ...(ttl?.Enabled ? { ttlAttribute: ttl.AttributeName } : {}) };
  });
}

const isMap = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * SAM's Globals rule: maps merge key by key (the function's entries win), everything else the
 * function gives replaces the global value.
 */
export function mergeGlobals(globals: Record<string, unknown>, own: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...globals };
  for (const [key, value] of Object.entries(own)) {
    const global = merged[key];
    merged[key] = isMap(global) && isMap(value) ? mergeGlobals(global, value) : value;
  }
  return merged;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)];

function buildPropertiesOf(logicalId: string, metadata: Record<string, unknown> | undefined): LocalBuildProperties {
  const build = (metadata?.BuildProperties ?? {}) as Record<string, unknown>;
  const entryPoints = strings(build.EntryPoints);
  if (entryPoints.length === 0) throw new Error(`${logicalId} has no esbuild EntryPoints`);
  const truthy = (value: unknown) => value === true || value === 'true';
  return {
    entryPoints,
    format: build.Format === 'esm' ? 'esm' : 'cjs',
    ...(build.Target !== undefined ? { target: String(build.Target) } : {}),
    minify: truthy(build.Minify),
    sourcemap: truthy(build.Sourcemap),
    external: strings(build.External),
    banner: strings(build.Banner),
    outExtension: strings(build.OutExtension),
    ...(build.MainFields !== undefined ? { mainFields: strings(build.MainFields).flatMap((f) => f.split(',')) } : {}),
    loader: strings(build.Loader),
  };
}

function eventInvokeConfigOf(value: unknown): LocalEventInvokeConfig {
  const config = (isMap(value) ? value : {}) as {
    MaximumRetryAttempts?: unknown;
    MaximumEventAgeInSeconds?: unknown;
    DestinationConfig?: { OnFailure?: { Destination?: unknown }; OnSuccess?: { Destination?: unknown } };
  };
  const onFailure = config.DestinationConfig?.OnFailure?.Destination;
  const onSuccess = config.DestinationConfig?.OnSuccess?.Destination;
  return {
    maximumRetryAttempts: Number(config.MaximumRetryAttempts ?? 2),
    maximumEventAgeInSeconds: Number(config.MaximumEventAgeInSeconds ?? 21_600),
    ...(onFailure !== undefined ? { onFailure: String(onFailure) } : {}),
    ...(onSuccess !== undefined ? { onSuccess: String(onSuccess) } : {}),
  };
}

function functionsOf(stack: LocalCfnStack): LocalFunction[] {
  const globals = (stack.evaluate(stack.template.Globals?.Function ?? {}) ?? {}) as Record<string, unknown>;
  return stack
    .resources()
    .filter(([, resource]) => functionTypes.has(resource.Type))
    .map(([logicalId, resource]) => {
      const props = mergeGlobals(globals, evaluated<Record<string, unknown>>(stack, resource));
      const env = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
        {}) as Record<string, unknown>;
      const build = buildPropertiesOf(logicalId, resource.Metadata);
      const handler = asString(props.Handler, `${logicalId}.Handler`);
      const environment: Record<string, string> = {};
      for (const [key, value] of Object.entries(env)) {
        if (value !== undefined) environment[key] = String(value);
      }
      const reserved = props.ReservedConcurrentExecutions;
      const name = stack.physicalName(logicalId);
      const logGroup = (props.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup;
      return {
        logicalId,
        name,
        arn: stack.arnOf(logicalId),
        codeRoot: resolve(dirname(stack.templatePath), asString(props.CodeUri ?? '.', `${logicalId}.CodeUri`)),
        entry: build.entryPoints[0] as string,
        handler,
        exportName: handler.slice(handler.lastIndexOf('.') + 1),
        environment,
        timeoutSeconds: Number(props.Timeout ?? 3),
        runtime: String(props.Runtime ?? 'nodejs22.x'),
        logGroupName: typeof logGroup === 'string' ? logGroup : `/aws/lambda/${name}`,
        memorySize: Number(props.MemorySize ?? 128),
        ...(reserved !== undefined ? { reservedConcurrency: Number(reserved) } : {}),
        eventInvokeConfig: eventInvokeConfigOf(props.EventInvokeConfig),
        build,
      };
    });
}

function functionFromIntegrationUri(stack: LocalCfnStack, uri: unknown): string {
  return functionNameFromArn(asString(stack.evaluate(uri), 'IntegrationUri'));
}

function webSocketOf(stacks: LocalCfnStack[]): LocalWebSocketApi {
  for (const stack of stacks) {
    const api = stack
      .resources('AWS::ApiGatewayV2::Api')
      .find(([, resource]) => resource.Properties?.ProtocolType === 'WEBSOCKET');
    if (!api) continue;
    const [apiId, apiResource] = api;
    const byId = (logicalId: string) => stack.template.Resources[logicalId];
    const refTarget = (value: unknown) =>
      value && typeof value === 'object' && 'Ref' in value ? String((value as { Ref: unknown }).Ref) : undefined;
    const routes: LocalWebSocketApi['routes'] = {};
    let authorizer: LocalWebSocketApi['authorizer'];
    for (const [, route] of stack.resources('AWS::ApiGatewayV2::Route')) {
      if (refTarget(route.Properties?.ApiId) !== apiId) continue;
      const props = route.Properties ?? {};
      const target = asString(stack.evaluate(props.Target), 'Route.Target');
      const integration = byId(target.replace(/^integrations\//, ''));
      if (!integration) throw new Error(`route ${String(props.RouteKey)} targets unknown ${target}`);
      routes[String(props.RouteKey)] = {
        functionName: functionFromIntegrationUri(stack, integration.Properties?.IntegrationUri),
        twoWay: props.RouteResponseSelectionExpression !== undefined,
      };
      const authorizerId = refTarget(props.AuthorizerId);
      const authorizerResource = authorizerId ? byId(authorizerId) : undefined;
      if (authorizerId && authorizerResource) {
        const authProps = evaluated<Record<string, unknown>>(stack, authorizerResource);
        authorizer = {
          id: String(stack.ref(authorizerId)),
          functionName: functionFromIntegrationUri(stack, authorizerResource.Properties?.AuthorizerUri),
          identitySource: (authProps.IdentitySource as string[] | undefined) ?? [],
        };
      }
    }
    const stage = stack.resources('AWS::ApiGatewayV2::Stage').find(([, s]) => refTarget(s.Properties?.ApiId) === apiId);
    return {
      apiId: String(stack.ref(apiId)),
      stage: stage ? asString(stack.evaluate(stage[1].Properties?.StageName), 'StageName') : 'prod',
      routeSelectionExpression: asString(apiResource.Properties?.RouteSelectionExpression, 'RouteSelectionExpression'),
      routes,
      ...(authorizer ? { authorizer } : {}),
    };
  }
  throw new Error('no WebSocket API in the templates');
}

function httpApiOf(stacks: LocalCfnStack[]): LocalHttpApi {
  const result: LocalHttpApi = { routes: [] };
  for (const stack of stacks) {
    for (const [apiLogicalId, api] of stack.resources('AWS::Serverless::HttpApi')) {
      result.apiId = String(stack.ref(apiLogicalId));
      const props = evaluated<Record<string, unknown>>(stack, api);
      const auth = props.Auth as
        | {
            DefaultAuthorizer?: string;
            Authorizers?: Record<
              string,
              { FunctionArn?: string; Identity?: { Headers?: string[]; QueryStrings?: string[] } }
            >;
          }
        | undefined;
      const chosen = auth?.DefaultAuthorizer ? auth.Authorizers?.[auth.DefaultAuthorizer] : undefined;
      if (chosen?.FunctionArn) {
        result.authorizer = {
          functionName: functionNameFromArn(chosen.FunctionArn),
          identitySource: [
            ...(chosen.Identity?.Headers ?? []).map((header) => `$request.header.${header}`),
            ...(chosen.Identity?.QueryStrings ?? []).map((query) => `$request.querystring.${query}`),
          ],
        };
      }
      const cors = props.CorsConfiguration as Record<string, unknown> | undefined;
      if (cors) {
        result.cors = {
          allowOrigins: (cors.AllowOrigins as string[] | undefined) ?? ['*'],
          allowMethods: (cors.AllowMethods as string[] | undefined) ?? ['*'],
          allowHeaders: (cors.AllowHeaders as string[] | undefined) ?? ['*'],
          ...(cors.MaxAge !== undefined ? { maxAge: Number(cors.MaxAge) } : {}),
        };
      }
    }
    for (const [logicalId, resource] of stack.resources('AWS::Serverless::Function')) {
      const events = (resource.Properties?.Events ?? {}) as Record<string, { Type: string; Properties?: unknown }>;
      for (const event of Object.values(events)) {
        if (event.Type !== 'HttpApi') continue;
        const props = stack.evaluate(event.Properties ?? {}) as {
          Method?: string;
          Path?: string;
          Auth?: { Authorizer?: string };
        };
        result.routes.push({
          method: (props.Method ?? 'ANY').toUpperCase(),
          path: props.Path ?? '/{proxy+}',
          functionName: stack.physicalName(logicalId),
          authorized: props.Auth?.Authorizer !== 'NONE',
        });
      }
    }
  }
  return result;
}

function rulesOf(stack: LocalCfnStack): LocalRule[] {
  const rules: LocalRule[] = [];
  for (const [logicalId, resource] of stack.resources()) {
    if (!functionTypes.has(resource.Type) && resource.Type !== 'AWS::Serverless::StateMachine') continue;
    const events = (resource.Properties?.Events ?? {}) as Record<string, { Type: string; Properties?: unknown }>;
    for (const [eventId, event] of Object.entries(events)) {
      if (event.Type !== 'EventBridgeRule') continue;
      const props = stack.evaluate(event.Properties ?? {}) as {
        EventBusName?: string;
        Pattern: object;
        InputPath?: string;
        Input?: string;
        RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
        DeadLetterConfig?: { Arn?: string };
      };
      const target: LocalTarget = {
        id: `${logicalId}${eventId}`,
        arn: stack.arnOf(logicalId),
        ...(props.InputPath ? { inputPath: props.InputPath } : {}),
        ...(props.Input ? { input: props.Input } : {}),
        ...(props.RetryPolicy
          ? {
              retryPolicy: {
                maximumRetryAttempts: Number(props.RetryPolicy.MaximumRetryAttempts ?? 185),
                maximumEventAgeInSeconds: Number(props.RetryPolicy.MaximumEventAgeInSeconds ?? 86400),
              },
            }
          : {}),
        ...(props.DeadLetterConfig?.Arn ? { deadLetterArn: props.DeadLetterConfig.Arn } : {}),
      };
      rules.push({
        name: `${logicalId}${eventId}`,
        eventBusName: props.EventBusName ?? 'default',
        eventPattern: props.Pattern,
        targets: [target],
      });
    }
  }
  return rules;
}

async function stateMachinesOf(stack: LocalCfnStack): Promise<LocalStateMachine[]> {
  const machines: LocalStateMachine[] = [];
  for (const [logicalId, resource] of stack.resources('AWS::Serverless::StateMachine')) {
    const props = evaluated<Record<string, unknown>>(stack, resource);
    const uri = asString(props.DefinitionUri, `${logicalId}.DefinitionUri`);
    const text = await readFile(resolve(dirname(stack.templatePath), uri), 'utf8');
    const substitutions = (props.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
    const definition = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (match, name: string) =>
      name in substitutions ? String(substitutions[name]) : match,
    );
    machines.push({
      name: stack.physicalName(logicalId),
      arn: stack.arnOf(logicalId),
      type: props.Type === 'STANDARD' ? 'STANDARD' : 'EXPRESS',
      definition,
    });
  }
  return machines;
}

function streamMappingsOf(stack: LocalCfnStack): LocalStreamMapping[] {
  const mappings: LocalStreamMapping[] = [];
  for (const [logicalId, resource] of stack.resources('AWS::Serverless::Function')) {
    const events = (resource.Properties?.Events ?? {}) as Record<string, { Type: string; Properties?: unknown }>;
    for (const event of Object.values(events)) {
      if (event.Type !== 'DynamoDB') continue;
      const props = stack.evaluate(event.Properties ?? {}) as Record<string, unknown>;
      const destination = (props.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)?.OnFailure
        ?.Destination;
      mappings.push({
        functionName: stack.physicalName(logicalId),
        tableName: tableNameFromStreamArn(asString(props.Stream, `${logicalId} stream`)),
        batchSize: Number(props.BatchSize ?? 100),
        maximumBatchingWindowInSeconds: Number(props.MaximumBatchingWindowInSeconds ?? 0),
        bisectBatchOnFunctionError: props.BisectBatchOnFunctionError === true,
        maximumRetryAttempts: Number(props.MaximumRetryAttempts ?? -1),
        reportBatchItemFailures: ((props.FunctionResponseTypes as string[] | undefined) ?? []).includes(
          'ReportBatchItemFailures',
        ),
        startingPosition: props.StartingPosition === 'TRIM_HORIZON' ? 'TRIM_HORIZON' : 'LATEST',
        ...(destination ? { onFailureDestination: destination } : {}),
        ...filterPatternsOf(props.FilterCriteria),
      });
    }
  }
  return mappings;
}

/** Only the functions of a template and its nested ones: for the Lambda service on its own (tests, tools). */
export async function loadLocalFunctions(options: {
  templatePath: string;
  stackName: string;
  parameters?: Record<string, string>;
  region: string;
  accountId: string;
}): Promise<LocalFunction[]> {
  const root = await LocalCfnStack.load(options.templatePath, {
    name: options.stackName,
    parameters: options.parameters,
    env: { region: options.region, accountId: options.accountId },
  });
  return [...root.all()].flatMap(functionsOf);
}

/** Loads the root template and every nested one, and reads the local runtime's model from them. */
export async function loadLocalStackModel(options: {
  templatePath: string;
  stackName: string;
  parameters?: Record<string, string>;
  region: string;
  accountId: string;
}): Promise<LocalStackModel> {
  const root = await LocalCfnStack.load(options.templatePath, {
    name: options.stackName,
    parameters: options.parameters,
    env: { region: options.region, accountId: options.accountId },
  });
  const stacks = [...root.all()];
  return {
    root,
    tables: stacks.flatMap(tablesOf),
    functions: stacks.flatMap(functionsOf),
    webSocket: webSocketOf(stacks),
    httpApi: httpApiOf(stacks),
    buses: [
      'default',
      ...stacks.flatMap((stack) => stack.resources('AWS::Events::EventBus').map(([id]) => stack.physicalName(id))),
    ],
    rules: stacks.flatMap(rulesOf),
    stateMachines: (await Promise.all(stacks.map(stateMachinesOf))).flat(),
    streamMappings: stacks.flatMap(streamMappingsOf),
    queues: stacks.flatMap((stack) =>
      stack.resources('AWS::SQS::Queue').map(([id]) => ({ name: stack.physicalName(id), arn: stack.arnOf(id) })),
    ),
  };
}
