// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} strings are CloudFormation Fn::Sub syntax.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ASSUMPTIONS } from '../../../bench/lib/cost-model.js';
import {
  type CfnResource,
  type CfnTemplate,
  loadAllTemplates,
  REPO_ROOT,
  type TemplateName,
} from '../../helpers/cfn-template.js';

const templates = await loadAllTemplates();

type Json = Record<string, unknown>;

function resource(template: CfnTemplate, id: string): CfnResource {
  const found = template.Resources[id];
  if (!found) throw new Error(`no resource ${id}`);
  return found;
}

const props = (template: CfnTemplate, id: string): Json => resource(template, id).Properties ?? {};

/** The logical id a `{Ref: id}` value names. */
const refTarget = (value: unknown): unknown =>
  typeof value === 'object' && value !== null ? (value as Json).Ref : undefined;

/** A table's keys and indexes as `name: HASH/RANGE` strings, easy to compare with the architecture table. */
function tableShape(id: string) {
  const p = props(templates.db, id);
  const types = Object.fromEntries(
    (p.AttributeDefinitions as { AttributeName: string; AttributeType: string }[]).map((a) => [
      a.AttributeName,
      a.AttributeType,
    ]),
  );
  const keys = (schema: { AttributeName: string; KeyType: string }[]) =>
    schema.map((k) => `${k.AttributeName}:${types[k.AttributeName]}:${k.KeyType}`);
  const indexes = (p.GlobalSecondaryIndexes as Json[] | undefined) ?? [];
  return {
    keys: keys(p.KeySchema as never),
    indexes: Object.fromEntries(
      indexes.map((i): [string, string[]] => [String(i.IndexName), keys(i.KeySchema as never)]),
    ),
    projections: indexes.map((i) => (i.Projection as Json).ProjectionType),
    ttl: (p.TimeToLiveSpecification as Json | undefined)?.AttributeName,
    stream: (p.StreamSpecification as Json | undefined)?.StreamViewType,
    pitr: (p.PointInTimeRecoverySpecification as Json | undefined)?.PointInTimeRecoveryEnabled === true,
    retained: resource(templates.db, id).DeletionPolicy === 'Retain',
  };
}

describe('db/template.yaml matches docs/architecture.md', () => {
  it.each([
    [
      'ConnectionsTable',
      {
        keys: ['connectionId:S:HASH'],
        indexes: {
          // No connectedAt-index (seed 003's ConnectedAtIndex): no code reads it.
          'userId-index': ['userId:S:HASH', 'connectedAt:N:RANGE'],
        },
        ttl: 'expiresAt',
        stream: undefined,
        pitr: false,
        retained: false,
      },
    ],
    [
      'SubscriptionsTable',
      {
        keys: ['topic:S:HASH', 'connectionId:S:RANGE'],
        indexes: { 'connection-index': ['connectionId:S:HASH', 'topic:S:RANGE'] },
        ttl: 'expiresAt',
        stream: undefined,
        pitr: false,
        retained: false,
      },
    ],
    [
      'MessagesTable',
      {
        keys: ['room:S:HASH', 'sk:S:RANGE'],
        indexes: {
          'user-timestamp-index': ['user_id:S:HASH', 'sk:S:RANGE'],
          'pending-index': ['pendingFor:S:HASH', 'sk:S:RANGE'],
        },
        ttl: 'expiresAt',
        stream: 'NEW_AND_OLD_IMAGES',
        pitr: true,
        retained: true,
      },
    ],
    [
      'ConversationsTable',
      {
        keys: ['userId:S:HASH', 'sk:S:RANGE'],
        indexes: {},
        ttl: 'expiresAt',
        stream: undefined,
        pitr: true,
        retained: true,
      },
    ],
    [
      'MetricsTable',
      {
        keys: ['entity_id:S:HASH', 'timestamp:S:RANGE'],
        indexes: {},
        ttl: undefined,
        stream: 'NEW_AND_OLD_IMAGES',
        pitr: false,
        retained: false,
      },
    ],
    [
      'DeliveryFailuresTable',
      { keys: ['failureId:S:HASH'], indexes: {}, ttl: 'expiresAt', stream: undefined, pitr: false, retained: false },
    ],
    [
      'AttachmentsTable',
      { keys: ['pk:S:HASH'], indexes: {}, ttl: 'expiresAt', stream: undefined, pitr: false, retained: false },
    ],
    [
      // Memberships are what a private room is: kept (PITR, Retain) like messages.
      'RoomsTable',
      {
        keys: ['room:S:HASH', 'sk:S:RANGE'],
        indexes: { 'member-index': ['memberId:S:HASH', 'room:S:RANGE'] },
        ttl: 'expiresAt',
        stream: undefined,
        pitr: true,
        retained: true,
      },
    ],
  ])('%s', (id, expected) => {
    expect(tableShape(id)).toMatchObject(expected);
  });

  it('every table is on-demand, encrypted, projects what its readers need and declares only the attributes its keys use', () => {
    for (const [id, table] of Object.entries(templates.db.Resources)) {
      if (table.Type !== 'AWS::DynamoDB::Table') continue;
      const p = table.Properties ?? {};
      expect(p.BillingMode, id).toBe('PAY_PER_REQUEST');
      expect(p.SSESpecification, id).toEqual({ SSEEnabled: true });
      const shape = tableShape(id);
      // Connections' indexes project only what liveConnectionsOf reads, so rate-limit writes skip them.
      const expectedProjection = id === 'ConnectionsTable' ? ['INCLUDE'] : ['ALL'];
      expect(new Set(shape.projections), id).toEqual(new Set(shape.projections.length ? expectedProjection : []));
      const keyed = new Set([...shape.keys, ...Object.values(shape.indexes).flat()].map((k) => k.split(':')[0]));
      const declared = (p.AttributeDefinitions as { AttributeName: string }[]).map((a) => a.AttributeName);
      expect(new Set(declared), id).toEqual(keyed);
    }
  });
});

it('the Connections indexes carry every attribute a live-connection lookup returns', () => {
  const indexes = (templates.db.Resources.ConnectionsTable?.Properties?.GlobalSecondaryIndexes ?? []) as Array<{
    IndexName: string;
    Projection: { NonKeyAttributes?: string[] };
  }>;
  const userIndex = indexes.find((index) => index.IndexName === 'userId-index');
  expect(userIndex?.Projection.NonKeyAttributes).toEqual(expect.arrayContaining(['userName', 'expiresAt']));
});

describe('api/template.yaml: WebSocket API', () => {
  const routes = Object.entries(templates.api.Resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Route');
  const routeResponses = Object.values(templates.api.Resources).filter(
    (r) => r.Type === 'AWS::ApiGatewayV2::RouteResponse',
  );
  const routeKey = (r: CfnResource) => String(r.Properties?.RouteKey);
  const integrationFunction = (target: unknown): string => {
    const integrationId = String((target as { 'Fn::Sub': string })['Fn::Sub']).replace(
      /^integrations\/\$\{(.+)\}$/,
      '$1',
    );
    const uri = props(templates.api, integrationId).IntegrationUri as { 'Fn::Sub': string };
    return /\$\{(\w+)\.Arn\}/.exec(uri['Fn::Sub'])?.[1] ?? '';
  };

  it('routes on $request.body.action', () => {
    expect(props(templates.api, 'WebSocketApi')).toMatchObject({
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
  });

  it('has one route per client action, each to the right function', () => {
    const actions = [
      '$default',
      'sendMessage',
      'joinRoom',
      'leaveRoom',
      'listRooms',
      'ping',
      'markRead',
      'deleteMessage',
      'subscribe',
      'unsubscribe',
      'resume',
      'editMessage',
      'react',
      'unreact',
    ];
    const byKey = Object.fromEntries(routes.map(([, r]) => [routeKey(r), integrationFunction(r.Properties?.Target)]));
    expect(byKey).toEqual({
      $connect: 'ConnectFunction',
      $disconnect: 'DisconnectFunction',
      ...Object.fromEntries(actions.map((a) => [a, 'WebSocketActionsFunction'])),
    });
  });

  it('authorizes $connect only (the only route WebSocket authorizers run on)', () => {
    for (const [id, route] of routes) {
      if (routeKey(route) === '$connect') {
        expect(route.Properties).toMatchObject({
          AuthorizationType: 'CUSTOM',
          AuthorizerId: { Ref: 'WebSocketAuthorizer' },
        });
      } else {
        expect(route.Properties?.AuthorizationType, id).toBeUndefined();
      }
    }
  });

  it('every action route is two-way: $default route response selection plus a $default RouteResponse', () => {
    for (const [id, route] of routes) {
      const twoWay = !['$connect', '$disconnect'].includes(routeKey(route));
      expect(route.Properties?.RouteResponseSelectionExpression, id).toBe(twoWay ? '$default' : undefined);
      const responses = routeResponses.filter((r) => refTarget(r.Properties?.RouteId) === id);
      expect(
        responses.map((r) => r.Properties?.RouteResponseKey),
        id,
      ).toEqual(twoWay ? ['$default'] : []);
    }
  });

  it('the stage is created after every route and route response', () => {
    const stage = resource(templates.api, 'WebSocketStage');
    const dependsOn = new Set([stage.DependsOn ?? []].flat());
    for (const [id, r] of Object.entries(templates.api.Resources)) {
      if (r.Type !== 'AWS::ApiGatewayV2::Route' && r.Type !== 'AWS::ApiGatewayV2::RouteResponse') continue;
      const coveredByResponse = routeResponses.some(
        (rr) =>
          refTarget(rr.Properties?.RouteId) === id && [...dependsOn].some((d) => templates.api.Resources[d] === rr),
      );
      expect(dependsOn.has(id) || coveredByResponse, id).toBe(true);
    }
    expect(stage.Properties).toMatchObject({ StageName: { Ref: 'Stage' }, AutoDeploy: true });
  });

  it('asks for ?token= only in cognito mode, so none mode reaches the authorizer without one', () => {
    expect(templates.api.Conditions?.IsCognitoAuth).toEqual({ 'Fn::Equals': [{ Ref: 'AuthMode' }, 'cognito'] });
    expect(props(templates.api, 'WebSocketAuthorizer')).toMatchObject({
      AuthorizerType: 'REQUEST',
      IdentitySource: { 'Fn::If': ['IsCognitoAuth', ['route.request.querystring.token'], { Ref: 'AWS::NoValue' }] },
    });
  });

  it('lets API Gateway invoke each function, scoped to this API', () => {
    const permissions = Object.values(templates.api.Resources).filter((r) => r.Type === 'AWS::Lambda::Permission');
    const invoked = permissions.map((p) => refTarget(p.Properties?.FunctionName)).sort();
    expect(invoked).toEqual([
      'AuthorizerFunction',
      'ConnectFunction',
      'DisconnectFunction',
      'WebSocketActionsFunction',
    ]);
    for (const p of permissions) {
      expect(p.Properties?.Principal).toBe('apigateway.amazonaws.com');
      expect(p.Properties?.SourceArn).toEqual({ 'Fn::Sub': expect.stringContaining(':${WebSocketApi}/') });
    }
  });
});

describe('api/template.yaml: HTTP API', () => {
  const events = (props(templates.api, 'RestApiFunction').Events ?? {}) as Record<
    string,
    { Type: string; Properties: Json }
  >;

  it('serves the REST routes, all authorized except /health', () => {
    const routes = Object.values(events).map((e) => `${e.Properties.Method} ${e.Properties.Path}`);
    expect(routes.sort()).toEqual(
      [
        'GET /',
        'GET /conversations',
        'GET /conversations/{conversationId}/messages',
        'GET /health',
        'GET /messages/{messageId}/versions',
        'GET /rooms',
        'GET /rooms/{room}/messages',
        'GET /rooms/{room}/presence',
        'GET /rooms/{room}/audit',
        'GET /rooms/{room}/unread',
        'GET /users/{userId}/messages',
        'POST /message',
        'GET /attachments/{attachmentId}',
      ].sort(),
    );
    for (const event of Object.values(events)) {
      expect(event.Type).toBe('HttpApi');
      expect(event.Properties.ApiId).toEqual({ Ref: 'HttpApi' });
      const open = event.Properties.Path === '/health';
      expect(event.Properties.Auth, String(event.Properties.Path)).toEqual(open ? { Authorizer: 'NONE' } : undefined);
    }
  });

  it('uses the shared authorizer with no identity source and no caching, so both auth modes reach it', () => {
    const auth = props(templates.api, 'HttpApi').Auth as Json;
    expect(auth.DefaultAuthorizer).toBe('SwitchboardAuthorizer');
    expect((auth.Authorizers as Json).SwitchboardAuthorizer).toEqual({
      FunctionArn: { 'Fn::GetAtt': ['AuthorizerFunction', 'Arn'] },
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      EnableFunctionDefaultPermissions: true,
      Identity: { ReauthorizeEvery: 0 },
    });
    expect((props(templates.api, 'HttpApi').CorsConfiguration as Json).AllowOrigins).toEqual([
      { Ref: 'AllowedOrigin' },
    ]);
  });
});

describe('workflows/template.yaml', () => {
  /** detail-type → target, from docs/architecture.md's events table. */
  async function documentedEvents(): Promise<Map<string, string>> {
    const doc = await readFile(resolve(REPO_ROOT, 'docs/architecture.md'), 'utf8');
    const section = doc.split('### Events')[1]?.split('\n### ')[0] ?? '';
    const rows = new Map<string, string>();
    for (const line of section.split('\n')) {
      const cells = line.split('|').map((c) => c.trim());
      const detailType = /^`(\w+)`$/.exec(cells[1] ?? '')?.[1];
      if (detailType) rows.set(detailType, cells[3] ?? '');
    }
    return rows;
  }

  const rule = (id: string, event: string) =>
    (props(templates.workflows, id).Events as Record<string, { Type: string; Properties: Json }>)[event] ?? {
      Type: '',
      Properties: {},
    };

  it('routes the documented detail-types to the state machine and to SessionStartFunction', async () => {
    const documented = await documentedEvents();
    const toStateMachine = [...documented].filter(([, target]) => target.includes('state machine')).map(([d]) => d);
    const toSessionStart = [...documented]
      .filter(([, target]) => target.includes('SessionStartFunction'))
      .map(([d]) => d);
    expect(toStateMachine.length).toBeGreaterThan(0);

    const deliverable = rule('MessageDistributionStateMachine', 'DeliverableEvents');
    const sessionStart = rule('SessionStartFunction', 'ConnectionOpened');
    for (const [r, detailTypes] of [
      [deliverable, toStateMachine],
      [sessionStart, toSessionStart],
    ] as const) {
      expect(r.Type).toBe('EventBridgeRule');
      expect(r.Properties.EventBusName).toEqual({ Ref: 'EventBusName' });
      expect(r.Properties.Pattern).toEqual({ source: ['switchboard.messaging'], 'detail-type': detailTypes });
      expect(r.Properties.DeadLetterConfig).toEqual({ Arn: { Ref: 'EventTargetDeadLetterQueueArn' } });
      expect(r.Properties.RetryPolicy).toBeDefined();
    }
  });

  it('the state machine is Express, traced unless Tracing is Disabled, and logs errors without execution data', () => {
    expect(props(templates.workflows, 'MessageDistributionStateMachine')).toMatchObject({
      Type: 'EXPRESS',
      DefinitionUri: 'statemachine/message-distribution.asl.json',
      Tracing: { Enabled: { 'Fn::If': ['TracingActive', true, false] } },
      Logging: { Level: 'ERROR', IncludeExecutionData: false },
    });
  });

  it.each([
    ['MessagesStreamFunction', 'MessagesStream', { Ref: 'MessagesTableStreamArn' }, 1],
    [
      'MetricsStreamFunction',
      'MetricsStream',
      { Ref: 'MetricsTableStreamArn' },
      { Ref: 'StreamBatchingWindowSeconds' },
    ],
  ])('%s consumes its stream with partial batch failures and an on-failure queue', (id, event, stream, window) => {
    const { FilterCriteria, ...properties } = rule(id, event).Properties;
    // Only the Messages stream is filtered (messages-stream-filter.test.ts); metrics acts on every record.
    expect(FilterCriteria !== undefined, 'FilterCriteria').toBe(id === 'MessagesStreamFunction');
    expect({ ...rule(id, event), Properties: properties }).toEqual({
      Type: 'DynamoDB',
      Properties: {
        Stream: stream,
        StartingPosition: 'LATEST',
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: window,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 3,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: { OnFailure: { Type: 'SQS', Destination: { Ref: 'StreamFailureQueueArn' } } },
      },
    });
  });

  it('SessionStartFunction errors go to their own queue after two retries (a rule DLQ never sees them)', () => {
    expect(props(templates.workflows, 'SessionStartFunction').EventInvokeConfig).toEqual({
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Type: 'SQS', Destination: { Ref: 'SessionStartFailureQueueArn' } } },
    });
    expect((props(templates.root, 'Workflows').Parameters as Json).SessionStartFailureQueueArn).toEqual({
      'Fn::GetAtt': ['Shared', 'Outputs.SessionStartFailureQueueArn'],
    });
    expect(templates.shared.Outputs?.SessionStartFailureQueueArn?.Value).toEqual({
      'Fn::GetAtt': ['SessionStartFailureQueue', 'Arn'],
    });
  });

  it('every queue is encrypted and keeps messages for the SQS maximum of 14 days', () => {
    const queues = Object.entries(templates.shared.Resources).filter(([, r]) => r.Type === 'AWS::SQS::Queue');
    expect(queues.map(([id]) => id).sort()).toEqual([
      'EventTargetDeadLetterQueue',
      'SessionStartFailureQueue',
      'StreamFailureQueue',
    ]);
    for (const [id, queue] of queues) {
      expect(queue.Properties, id).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    }
  });

  it('DeliveryFailures retention has one source: the state machine and PostToConnectionsFunction read the same parameter', () => {
    const retention = { Ref: 'DeliveryFailureRetentionSeconds' };
    const machine = props(templates.workflows, 'MessageDistributionStateMachine');
    expect((machine.DefinitionSubstitutions as Json).DeliveryFailureRetentionSeconds).toEqual(retention);
    const environment = (props(templates.workflows, 'PostToConnectionsFunction').Environment as Json).Variables as Json;
    expect(environment.DELIVERY_FAILURE_RETENTION_SECONDS).toEqual(retention);
    // 14 days, like the dead-letter queues, so a DLQ message and its failure records age out together.
    expect(templates.workflows.Parameters?.DeliveryFailureRetentionSeconds?.Default).toBe(14 * 24 * 3600);
  });

  it('PostToConnectionsFunction gets one full vCPU (1,769 MB), as the cost model prices it', () => {
    expect(props(templates.workflows, 'PostToConnectionsFunction').MemorySize).toBe(1769);
    expect(ASSUMPTIONS.postMemoryMb).toBe(1769);
  });

  it('WebSocketActionsFunction has the memory the cost model prices (its direct path posts)', () => {
    expect(props(templates.api, 'WebSocketActionsFunction').MemorySize).toBe(ASSUMPTIONS.actionsMemoryMb);
  });
});

describe('globals', () => {
  it.each(['api', 'workflows'] as const)(
    '%s functions run nodejs22.x on arm64, traced unless Tracing is Disabled, with Powertools settings',
    (name) => {
      expect(templates[name].Conditions?.TracingActive).toEqual({ 'Fn::Equals': [{ Ref: 'Tracing' }, 'Active'] });
      expect(templates[name].Parameters?.Tracing?.AllowedValues).toEqual(['Active', 'Disabled']);
      expect(templates[name].Globals?.Function).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        // A plain Ref that SAM resolves while transforming: `Disabled` drops TracingConfig and, unlike an
        // !If, the AWSXrayWriteOnlyAccess policy too (samtranslator's _construct_role).
        Tracing: { Ref: 'Tracing' },
        Environment: {
          Variables: {
            NODE_OPTIONS: '--enable-source-maps',
            POWERTOOLS_SERVICE_NAME: 'switchboard',
            POWERTOOLS_LOG_LEVEL: { Ref: 'LogLevel' },
            // Off, the handlers never load the X-Ray SDK (shared/src/aws/observability.ts).
            POWERTOOLS_TRACE_ENABLED: { 'Fn::If': ['TracingActive', 'true', 'false'] },
          },
        },
      });
    },
  );
});

describe('access logs and alarms', () => {
  it.each([
    ['WebSocketStage', ['requestId', 'eventType', 'routeKey', 'connectionId', 'status', 'integrationError', 'error']],
    ['HttpApi', ['requestId', 'routeKey', 'status', 'integrationError', 'error']],
  ])('%s writes JSON access logs to a log group with the retention parameter', (id, fields) => {
    const settings = props(templates.api, id).AccessLogSettings as { DestinationArn: Json; Format: string };
    const groupId = (settings.DestinationArn['Fn::GetAtt'] as string[])[0] ?? '';
    expect(resource(templates.api, groupId).Type).toBe('AWS::Logs::LogGroup');
    expect(props(templates.api, groupId).RetentionInDays).toEqual({ Ref: 'LogRetentionDays' });
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(Object.keys(format)).toEqual(expect.arrayContaining(fields));
    for (const value of Object.values(format)) expect(value).toMatch(/^\$context\.[A-Za-z.]+$/);
    // The WebSocket token travels in the query string: no variable that could carry it.
    expect(settings.Format).not.toMatch(/querystring|header|requestOverride|path/i);
  });

  it('the WebSocket stage waits for the account logging role when this stack sets it', () => {
    expect([resource(templates.api, 'WebSocketStage').DependsOn].flat()).toContain('ApiGatewayAccountSettingsReady');
    expect(resource(templates.api, 'ApiGatewayAccountSettingsReady').Metadata).toEqual({
      AccountSettings: {
        'Fn::If': ['CreateApiGatewayCloudWatchRole', { Ref: 'ApiGatewayAccountSettings' }, 'existing'],
      },
    });
    for (const id of ['ApiGatewayAccountSettings', 'ApiGatewayCloudWatchLogsRole']) {
      expect(resource(templates.api, id).Condition, id).toBe('CreateApiGatewayCloudWatchRole');
    }
    // One role per account and Region: other APIs may use it after this stack is gone.
    expect(resource(templates.api, 'ApiGatewayCloudWatchLogsRole').DeletionPolicy).toBe('Retain');
  });

  it('every dead-letter and failure queue alarms on its first visible message', () => {
    const queues = Object.entries(templates.shared.Resources)
      .filter(([, r]) => r.Type === 'AWS::SQS::Queue')
      .map(([id]) => id);
    const alarms = Object.values(templates.shared.Resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => r.Properties ?? {});
    const watched = alarms.map((a) => ((a.Dimensions as { Value: Json }[])[0] as { Value: Json }).Value['Fn::GetAtt']);
    expect(watched).toEqual(expect.arrayContaining(queues.map((q) => [q, 'QueueName'])));
    expect(alarms).toHaveLength(queues.length);
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
      });
    }
  });
});

describe('front/template.yaml', () => {
  it('names the origin access control after the stack id, so it stays within 64 characters and unique', () => {
    const config = props(templates.front, 'FrontendOriginAccessControl').OriginAccessControlConfig as Json;
    const [text, variables] = (config.Name as { 'Fn::Sub': [string, Json] })['Fn::Sub'];
    // arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>: the third '/' part is the 36-character UUID.
    expect(variables).toEqual({ StackUuid: { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] } });
    expect(text.replace('${StackUuid}', '0'.repeat(36)).length).toBeLessThanOrEqual(64);
    expect(text).not.toContain('AWS::StackName');
  });
});

describe('template.yaml (root)', () => {
  it('declares the deployment parameters with their defaults', () => {
    const defaults = Object.fromEntries(
      Object.entries(templates.root.Parameters ?? {}).map(([name, p]) => [name, p.Default]),
    );
    expect(defaults).toEqual({
      Stage: 'prod',
      MessageRetentionDays: 30,
      LogLevel: 'INFO',
      LogRetentionDays: 14,
      Tracing: 'Active',
      AuthMode: 'cognito',
      AllowSelfSignUp: 'false',
      AllowedOrigin: '',
      ApiGatewayCloudWatchRole: 'create',
      AlarmTopicArn: '',
      DirectFanoutMaxMembers: 100,
      ConnectionPageSize: 1000,
      PostBatchSize: 100,
      StreamBatchingWindowSeconds: 5,
      RateLimitPerSecond: 10,
      RateLimitBurst: 20,
      AttachmentMaxBytes: 10485760,
      AttachmentAllowedTypes: 'image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain',
      AttachmentQuotaBytesPerDay: 104857600,
      ModerationFunction: '',
      ModerationTimeoutMs: 1000,
      ModerationFailMode: 'closed',
      ModerationBlockedWords: '',
      ModerationBlockedWordsAction: 'deny',
      ModerationMaxLinks: 3,
    });
    expect(templates.root.Parameters?.LogLevel?.AllowedValues).toEqual(['DEBUG', 'INFO', 'WARN', 'ERROR']);
    expect(templates.root.Parameters?.AuthMode?.AllowedValues).toEqual(['cognito', 'none']);
    expect(templates.root.Parameters?.Tracing?.AllowedValues).toEqual(['Active', 'Disabled']);
  });

  it('only administrators create Cognito users unless the deployer opts in to self sign-up', () => {
    expect(templates.root.Parameters?.AllowSelfSignUp?.AllowedValues).toEqual(['false', 'true']);
    expect(templates.shared.Parameters?.AllowSelfSignUp?.Default).toBe('false');
    expect(templates.shared.Conditions?.SelfSignUp).toEqual({ 'Fn::Equals': [{ Ref: 'AllowSelfSignUp' }, 'true'] });
    expect(props(templates.shared, 'UserPool').AdminCreateUserConfig).toEqual({
      AllowAdminCreateUserOnly: { 'Fn::If': ['SelfSignUp', false, true] },
    });
  });

  it('outputs what a client and an operator need', () => {
    expect(Object.keys(templates.root.Outputs ?? {})).toEqual(
      expect.arrayContaining([
        'WebSocketUrl',
        'ManagementApiEndpoint',
        'RestApiUrl',
        'ConnectionsTableName',
        'SubscriptionsTableName',
        'MessagesTableName',
        'ConversationsTableName',
        'MetricsTableName',
        'StateMachineArn',
        'EventBusName',
        'UserPoolId',
        'UserPoolClientId',
      ]),
    );
    expect(templates.api.Outputs?.WebSocketUrl?.Value).toEqual({
      'Fn::Sub': 'wss://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${WebSocketStage}',
    });
  });
});

/**
 * A Resource entry as a short name: `!Ref ConnectionsTableArn` → `Connections`,
 * `!Sub ${ConnectionsTableArn}/index/userId-index` → `Connections/index/userId-index`, the
 * @connections ARN → `@connections POST`, `!GetAtt Fn.Arn` → `Fn`.
 */
function resourceName(value: unknown): string {
  if (typeof value === 'string') return value;
  const entry = value as Json;
  const short = (name: string) =>
    name
      .replace(/TableStreamArn$/, ' stream')
      .replace(/TableArn$/, '')
      .replace(/Arn$/, '');
  if (typeof entry.Ref === 'string') return short(entry.Ref);
  if (Array.isArray(entry['Fn::GetAtt'])) return String(entry['Fn::GetAtt'][0]);
  const sub = String(entry['Fn::Sub']);
  const connections = /:execute-api:.*\/(\w+)\/@connections\/\*$/.exec(sub);
  if (connections) return `@connections ${connections[1]}`;
  return sub.replace(/\$\{(\w+)(?:\.Arn)?\}/g, (_m, name: string) => short(name));
}

/**
 * A SAM resource's inline statements as `resource → sorted actions`. Deny statements read
 * `deny all but <resource>` (NotResource); a statement under `!If [Cond, statement, NoValue]`
 * reads `<resource> if Cond`.
 */
function grantsOf(resource: CfnResource): Record<string, string[]> {
  const grants: Record<string, Set<string>> = {};
  const add = (key: string, actions: unknown) => {
    grants[key] ??= new Set();
    for (const action of [actions].flat()) grants[key].add(String(action));
  };
  for (const policy of (resource.Properties?.Policies as Json[] | undefined) ?? []) {
    for (const raw of (policy.Statement as Json[] | undefined) ?? []) {
      const conditional = raw['Fn::If'] as [string, Json, unknown] | undefined;
      const statement = conditional ? conditional[1] : raw;
      const suffix = conditional ? ` if ${conditional[0]}` : '';
      if (statement.Effect === 'Deny') {
        for (const r of [statement.NotResource].flat())
          add(`deny all but ${resourceName(r)}${suffix}`, statement.Action);
        continue;
      }
      expect(statement.Effect).toBe('Allow');
      for (const r of [statement.Resource].flat()) add(`${resourceName(r)}${suffix}`, statement.Action);
    }
  }
  return Object.fromEntries(Object.entries(grants).map(([key, actions]) => [key, [...actions].sort()]));
}

describe('IAM: every function and the state machine get exactly the calls their code makes', () => {
  const ddb = (...actions: string[]) => actions.map((action) => `dynamodb:${action}`).sort();
  const publish = { EventBus: ['events:PutEvents'] };
  const post = { '@connections POST': ['execute-api:ManageConnections'] };
  const streamReads = ddb('DescribeStream', 'GetRecords', 'GetShardIterator');
  /**
   * What a 410 costs (dropGoneConnection → closeConnection): Connections GetItem (still opening?) and
   * DeleteItem, the subscriptions on connection-index and their BatchWriteItem delete, userId-index
   * (does the user have another connection?), and a PresenceChanged event.
   */
  const goneConnection = {
    Connections: ddb('DeleteItem', 'GetItem'),
    'Connections/index/userId-index': ddb('Query'),
    Subscriptions: ddb('BatchWriteItem'),
    'Subscriptions/index/connection-index': ddb('Query'),
    ...publish,
  };

  // Each row is read off the handler's use cases and stores (db/src/*.ts); docs/security.md has the same table.
  it.each<[TemplateName, string, Record<string, string[]>]>([
    [
      'api',
      'ConnectFunction',
      {
        Connections: ddb('PutItem'),
        Subscriptions: ddb('BatchWriteItem', 'PutItem'),
        // rooms=: the room-access check (member and ban items) per starting room.
        Rooms: ddb('BatchGetItem'),
        ...publish,
      },
    ],
    [
      'api',
      'DisconnectFunction',
      {
        Connections: ddb('DeleteItem'),
        'Connections/index/userId-index': ddb('Query'),
        Subscriptions: ddb('BatchWriteItem'),
        'Subscriptions/index/connection-index': ddb('Query'),
        ...publish,
      },
    ],
    [
      'api',
      'WebSocketActionsFunction',
      {
        // sendMessage's direct path: the @connections POST, and a 410's dropGoneConnection (goneConnection).
        ...post,
        // BatchGetItem: a room's seq counter and the user's read position (markRead).
        Messages: ddb('BatchGetItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'),
        Subscriptions: ddb('BatchWriteItem', 'DeleteItem', 'PutItem', 'Query'),
        'Subscriptions/index/connection-index': ddb('Query'),
        Connections: ddb('DeleteItem', 'GetItem', 'UpdateItem'),
        'Connections/index/userId-index': ddb('Query'),
        Conversations: ddb('GetItem', 'PutItem', 'UpdateItem'),
        ...publish,
        // requestUpload, sendMessage's attachments, getAttachment (shared/src/core/use-cases/attachments.ts).
        Attachments: ddb('GetItem', 'PutItem', 'UpdateItem'),
        'AttachmentsBucket/uploads/*': ['s3:GetObject', 's3:PutObject'],
        'AttachmentsBucket/attachments/*': ['s3:GetObject', 's3:PutObject'],
        // The room-access check (BatchGetItem) and room administration (room-admin.ts, db/src/rooms-store.ts).
        Rooms: ddb(
          'BatchGetItem',
          'BatchWriteItem',
          'ConditionCheckItem',
          'DeleteItem',
          'GetItem',
          'PutItem',
          'Query',
          'UpdateItem',
        ),
        'Rooms/index/member-index': ddb('Query'),
      },
    ],
    [
      'api',
      'RestApiFunction',
      {
        // UpdateItem: seed 000's post takes the room's next seq; BatchGetItem: unread counts.
        Messages: ddb('BatchGetItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'),
        'Messages/index/user-timestamp-index': ddb('Query'),
        Subscriptions: ddb('Query'),
        'Subscriptions/index/connection-index': ddb('Query'),
        'Connections/index/userId-index': ddb('Query'),
        Conversations: ddb('GetItem', 'Query'),
        ...publish,
        // GET /attachments/{attachmentId}: the record, then a presigned GET of the attached copy.
        Attachments: ddb('GetItem'),
        'AttachmentsBucket/attachments/*': ['s3:GetObject'],
        // The room-access check on every room route; GET /rooms: the caller's memberships;
        // GET /rooms/{room}/audit: the caller's role.
        Rooms: ddb('BatchGetItem', 'GetItem'),
        'Rooms/index/member-index': ddb('Query'),
      },
    ],
    [
      'workflows',
      'PostToConnectionsFunction',
      { ...post, ...goneConnection, Messages: ddb('UpdateItem'), DeliveryFailures: ddb('PutItem') },
    ],
    [
      'workflows',
      'SessionStartFunction',
      {
        ...post,
        Connections: ddb('GetItem'),
        'Connections/index/userId-index': ddb('Query'),
        Subscriptions: ddb('Query'),
        'Messages/index/pending-index': ddb('Query'),
        // BatchGetItem: the welcome's unread counts.
        Messages: ddb('BatchGetItem', 'UpdateItem'),
        ...publish,
      },
    ],
    [
      'workflows',
      'MessagesStreamFunction',
      {
        // UpdateItem: an echo takes the room's next seq.
        Messages: ddb('GetItem', 'PutItem', 'UpdateItem'),
        ...publish,
        'Messages stream': streamReads,
        'deny all but Messages stream': streamReads,
        '*': ddb('ListStreams'),
      },
    ],
    [
      'workflows',
      'MetricsStreamFunction',
      {
        ...post,
        ...goneConnection,
        Subscriptions: ddb('BatchWriteItem', 'Query'),
        'Metrics stream': streamReads,
        'deny all but Metrics stream': streamReads,
        '*': ddb('ListStreams'),
      },
    ],
    [
      'workflows',
      'MessageDistributionStateMachine',
      {
        PostToConnectionsFunction: ['lambda:InvokeFunction'],
        'PostToConnectionsFunction:*': ['lambda:InvokeFunction'],
        Subscriptions: ddb('Query'),
        DeliveryFailures: ddb('PutItem'),
        '*': [
          'logs:CreateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:DescribeLogGroups',
          'logs:DescribeResourcePolicies',
          'logs:GetLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:UpdateLogDelivery',
        ],
        '* if TracingActive': [
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ],
      },
    ],
  ])('%s/%s', (name, id, expected) => {
    expect(grantsOf(resource(templates[name], id))).toEqual(expected);
  });

  it('the authorizer has no policy: it verifies tokens against public JWKS', () => {
    expect(props(templates.api, 'AuthorizerFunction').Policies).toBeUndefined();
  });

  it('the state machine is traced exactly when its X-Ray statement is there', () => {
    const tracing = props(templates.workflows, 'MessageDistributionStateMachine').Tracing as Json;
    expect(tracing.Enabled).toEqual({ 'Fn::If': ['TracingActive', true, false] });
  });
});
