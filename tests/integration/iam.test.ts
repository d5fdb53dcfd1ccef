import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STREAM_LABEL } from '../../local/cfn/stack.js';
import {
  credentialsForRole,
  functionRoleName,
  type LocalCredentials,
  OPERATOR_ROLE,
} from '../../local/iam/credentials.js';
import { ruleTargetRoleName } from '../../local/iam/roles.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalStack } from '../../local/stack.js';
import { startTestStack, useLocalStack } from '../helpers/local-stack.js';
import { copyTemplatesWith, type TemplateCopy } from '../helpers/template-copy.js';

/**
 * IAM at every local endpoint, through the unmodified SDK clients signed as the templates' roles: a call
 * the role's policies allow goes through; one outside them is refused with AWS's exact error.
 */

const region = LOCAL_REGION;
const account = LOCAL_ACCOUNT;
const clients: Array<{ destroy(): void }> = [];
afterAll(() => {
  for (const client of clients) client.destroy();
});

function tracked<T extends { destroy(): void }>(client: T): T {
  clients.push(client);
  return client;
}

const asFunction = (name: string): LocalCredentials => credentialsForRole(functionRoleName(name));
const dynamoDbAs = (stack: LocalStack, credentials: LocalCredentials) =>
  tracked(new DynamoDBClient({ endpoint: stack.urls.dynamoDb, region, credentials, maxAttempts: 1 }));

function denial(role: string, session: string, action: string, resource: string): string {
  return `User: arn:aws:sts::${account}:assumed-role/${role}/${session} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
}

async function refusal(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('the call was allowed');
}

const tableArn = (name: string) => `arn:aws:dynamodb:${region}:${account}:table/${name}`;

describe('IAM enforced at the local endpoints', () => {
  const logged: string[] = [];
  const fixture = useLocalStack({ log: (message, extra) => logged.push(`${message} ${JSON.stringify(extra ?? {})}`) });
  const fn = (logicalId: string) => {
    const found = fixture.stack.model.functions.find((candidate) => candidate.logicalId === logicalId);
    if (!found) throw new Error(`no function ${logicalId}`);
    return found.name;
  };

  it('DynamoDB: a granted GetItem passes; $connect may only write Connections, and its GetItem is refused', async () => {
    const { stack } = fixture;
    const connections = stack.tableNames.ConnectionsTable ?? '';
    const key = { connectionId: { S: 'nobody' } };
    const sessionStart = dynamoDbAs(stack, asFunction(fn('SessionStartFunction')));
    await expect(sessionStart.send(new GetItemCommand({ TableName: connections, Key: key }))).resolves.toBeDefined();

    const connect = fn('ConnectFunction');
    const refused = await refusal(
      dynamoDbAs(stack, asFunction(connect)).send(new GetItemCommand({ TableName: connections, Key: key })),
    );
    expect(refused).toEqual({
      name: 'AccessDeniedException',
      status: 400,
      message: denial(functionRoleName(connect), connect, 'dynamodb:GetItem', tableArn(connections)),
    });
    // The stack's logger (npm start -- --verbose) names the refused call.
    expect(logged).toContainEqual(
      `iam: denied dynamodb:GetItem on ${tableArn(connections)} ${JSON.stringify({ principal: functionRoleName(connect), reason: 'no-allow' })}`,
    );
  });

  it('DynamoDB: a Query on an index needs the index ARN', async () => {
    const { stack } = fixture;
    const messages = stack.tableNames.MessagesTable ?? '';
    const query = new QueryCommand({
      TableName: messages,
      IndexName: 'user-timestamp-index',
      KeyConditionExpression: 'user_id = :u',
      ExpressionAttributeValues: { ':u': { S: 'alice' } },
    });
    await expect(dynamoDbAs(stack, asFunction(fn('RestApiFunction'))).send(query)).resolves.toBeDefined();

    const metrics = fn('MetricsStreamFunction');
    const refused = await refusal(dynamoDbAs(stack, asFunction(metrics)).send(query));
    expect(refused.name).toBe('AccessDeniedException');
    expect(refused.message).toBe(
      denial(functionRoleName(metrics), metrics, 'dynamodb:Query', `${tableArn(messages)}/index/user-timestamp-index`),
    );
  });

  it('DynamoDB: TransactWriteItems is authorised as the writes inside it', async () => {
    const { stack } = fixture;
    const connections = stack.tableNames.ConnectionsTable ?? '';
    const put = { Put: { TableName: connections, Item: { connectionId: { S: 'iam-test-a' } } } };
    const update = {
      Update: {
        TableName: connections,
        Key: { connectionId: { S: 'iam-test-a' } },
        UpdateExpression: 'SET seen = :t',
        ExpressionAttributeValues: { ':t': { BOOL: true } },
      },
    };
    // ConnectFunction may PutItem on Connections (the new connection) but not UpdateItem.
    const connect = fn('ConnectFunction');
    const client = dynamoDbAs(stack, asFunction(connect));
    await expect(client.send(new TransactWriteItemsCommand({ TransactItems: [put] }))).resolves.toBeDefined();
    const refused = await refusal(
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { ...put.Put, Item: { connectionId: { S: 'iam-test-b' } } } }, update],
        }),
      ),
    );
    expect(refused).toMatchObject({
      name: 'AccessDeniedException',
      message: denial(functionRoleName(connect), connect, 'dynamodb:UpdateItem', tableArn(connections)),
    });
    // The refused transaction wrote nothing.
    const operator = stack.dynamoDb.client;
    const b = await operator.send(
      new GetItemCommand({ TableName: connections, Key: { connectionId: { S: 'iam-test-b' } } }),
    );
    expect(b.Item).toBeUndefined();
  });

  it("DynamoDB Streams: reads are checked on the stream's ARN", async () => {
    const { stack } = fixture;
    const messages = stack.tableNames.MessagesTable ?? '';
    const { Table } = await stack.dynamoDb.client.send(new DescribeTableCommand({ TableName: messages }));
    const StreamArn = Table?.LatestStreamArn ?? '';
    const as = (credentials: LocalCredentials) =>
      tracked(new DynamoDBStreamsClient({ endpoint: stack.urls.dynamoDb, region, credentials, maxAttempts: 1 }));
    // AWSLambdaDynamoDBExecutionRole, which SAM attaches for the stream event, allows the reads.
    const consumer = as(asFunction(fn('MessagesStreamFunction')));
    const { StreamDescription } = await consumer.send(new DescribeStreamCommand({ StreamArn }));
    const ShardId = StreamDescription?.Shards?.[0]?.ShardId ?? '';
    const { ShardIterator } = await consumer.send(
      new GetShardIteratorCommand({ StreamArn, ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    await expect(consumer.send(new GetRecordsCommand({ ShardIterator }))).resolves.toBeDefined();

    const connect = fn('ConnectFunction');
    const refused = await refusal(as(asFunction(connect)).send(new GetRecordsCommand({ ShardIterator })));
    const streamArn = StreamArn.replace(
      /^arn:aws:dynamodb:[^:]*:[^:]*:/,
      `arn:aws:dynamodb:${region}:${account}:`,
    ).replace(/\/stream\/[^/]+$/, `/stream/${LOCAL_STREAM_LABEL}`);
    expect(refused).toMatchObject({
      name: 'AccessDeniedException',
      message: denial(functionRoleName(connect), connect, 'dynamodb:GetRecords', streamArn),
    });
  });

  it('refuses an access key no local role issued, and an unsigned request', async () => {
    const { stack } = fixture;
    const stranger = dynamoDbAs(stack, { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' });
    const refused = await refusal(
      stranger.send(new GetItemCommand({ TableName: 'ConnectionsTable', Key: { connectionId: { S: 'x' } } })),
    );
    expect(refused).toEqual({
      name: 'UnrecognizedClientException',
      status: 400,
      message: 'The security token included in the request is invalid.',
    });
    const unsigned = await fetch(stack.urls.dynamoDb, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0' },
      body: '{}',
    });
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as { __type: string }).__type).toMatch(/MissingAuthenticationTokenException$/);
  });

  it('execute-api: POST to a connection is granted, DELETE has its own method segment and is refused', async () => {
    const { stack } = fixture;
    const member = await fixture.join({ userId: 'iam-alice', room: 'iam' });
    const session = fn('SessionStartFunction');
    const management = tracked(
      new ApiGatewayManagementApiClient({
        endpoint: stack.urls.management,
        region,
        credentials: asFunction(session),
        maxAttempts: 1,
      }),
    );
    await management.send(
      new PostToConnectionCommand({ ConnectionId: member.connectionId, Data: JSON.stringify({ type: 'iam-probe' }) }),
    );
    await member.waitFor((frame) => frame.type === 'iam-probe');

    const refused = await refusal(management.send(new DeleteConnectionCommand({ ConnectionId: member.connectionId })));
    const resource = `arn:aws:execute-api:${region}:${account}:${stack.model.webSocket.apiId}/${stack.model.webSocket.stage}/DELETE/@connections/${member.connectionId}`;
    expect(refused).toEqual({
      name: 'AccessDeniedException',
      status: 403,
      message: denial(functionRoleName(session), session, 'execute-api:ManageConnections', resource),
    });
    expect(member.closed).toBe(false);
  });

  it('EventBridge: PutEvents on the bus is granted to the functions that publish, refused to the authorizer', async () => {
    const { stack } = fixture;
    const bus = stack.model.buses.find((name) => name !== 'default') ?? '';
    const entry = { EventBusName: bus, Source: 'iam.test', DetailType: 'Probe', Detail: '{}' };
    const as = (name: string) =>
      tracked(
        new EventBridgeClient({
          endpoint: stack.urls.eventBridge,
          region,
          credentials: asFunction(name),
          maxAttempts: 1,
        }),
      );
    const ok = await as(fn('ConnectFunction')).send(new PutEventsCommand({ Entries: [entry] }));
    expect(ok.FailedEntryCount).toBe(0);

    const authorizer = fn('AuthorizerFunction');
    const refused = await refusal(as(authorizer).send(new PutEventsCommand({ Entries: [entry] })));
    expect(refused).toEqual({
      name: 'AccessDeniedException',
      status: 400,
      message: denial(
        functionRoleName(authorizer),
        authorizer,
        'events:PutEvents',
        `arn:aws:events:${region}:${account}:event-bus/${bus}`,
      ),
    });
  });

  it("Step Functions: the rule target's role may start the machine, a function's role may not", async () => {
    const { stack } = fixture;
    const machine = stack.model.stateMachines[0];
    if (!machine) throw new Error('no state machine');
    const rule = stack.model.rules.find((candidate) => candidate.targets.some((t) => t.arn === machine.arn));
    if (!rule) throw new Error('no rule targets the state machine');
    const as = (credentials: LocalCredentials) =>
      tracked(new SFNClient({ endpoint: stack.urls.stepFunctions, region, credentials, maxAttempts: 1 }));
    const input = JSON.stringify({ detail: { version: 1, now: 0, deliveries: [] } });
    const started = await as(credentialsForRole(ruleTargetRoleName(rule.name))).send(
      new StartExecutionCommand({ stateMachineArn: machine.arn, input }),
    );
    expect(started.executionArn).toContain(machine.name);

    const connect = fn('ConnectFunction');
    const refused = await refusal(
      as(asFunction(connect)).send(new StartExecutionCommand({ stateMachineArn: machine.arn, input })),
    );
    expect(refused).toEqual({
      name: 'AccessDeniedException',
      status: 400,
      message: denial(functionRoleName(connect), connect, 'states:StartExecution', machine.arn),
    });
    await stack.idle();
  });

  it('SQS: a stream consumer may send to its on-failure queue, another function may not; EventBridge may use the DLQ', async () => {
    const { stack } = fixture;
    const sqsAs = (credentials: LocalCredentials) =>
      tracked(new SQSClient({ endpoint: stack.urls.sqs, region, credentials, maxAttempts: 1 }));
    const consumer = sqsAs(asFunction(fn('MessagesStreamFunction')));
    // The role may send, nothing more: not even look the queue up (sqs:GetQueueUrl), as in AWS.
    expect((await refusal(consumer.send(new GetQueueUrlCommand({ QueueName: 'StreamFailureQueue' })))).name).toBe(
      'AccessDeniedException',
    );
    const QueueUrl = stack.sqs.queueUrl('StreamFailureQueue');
    // Earlier tests' raw writes to Messages may already have sent a poison record here: count from now.
    const queued = async () => {
      const { Attributes } = await sqsAs(credentialsForRole(OPERATOR_ROLE)).send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      return Number(Attributes?.ApproximateNumberOfMessages);
    };
    await stack.idle();
    const before = await queued();
    await consumer.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"probe":true}' }));
    expect(await queued()).toBe(before + 1);

    const connect = fn('ConnectFunction');
    const refused = await refusal(
      sqsAs(asFunction(connect)).send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' })),
    );
    expect(refused).toEqual({
      name: 'AccessDeniedException',
      status: 400,
      message: denial(functionRoleName(connect), connect, 'sqs:SendMessage', stack.sqs.queueArn('StreamFailureQueue')),
    });

    // The DLQ's queue policy lets rules on our bus send, and nobody else.
    const events = { kind: 'service', service: 'events.amazonaws.com' } as const;
    const dlq = stack.sqs.queueArn('EventTargetDeadLetterQueue');
    const bus = stack.model.buses.find((name) => name !== 'default') ?? '';
    stack.sqs.sendAs(events, dlq, '{}', { 'aws:SourceArn': `arn:aws:events:${region}:${account}:rule/${bus}/AnyRule` });
    expect(() =>
      stack.sqs.sendAs(events, dlq, '{}', { 'aws:SourceArn': `arn:aws:events:${region}:${account}:rule/other-bus/R` }),
    ).toThrow(/is not authorized to perform: sqs:SendMessage/);
  });

  it('Lambda: the state machine may invoke PostToConnections only; EventBridge needs a permission naming its rule', () => {
    const { stack } = fixture;
    const machine = stack.model.stateMachines[0];
    const role = machine ? stack.iam.model.stateMachineRoles.get(machine.arn) : undefined;
    if (!role) throw new Error('no state machine role');
    const functionArn = (logicalId: string) => `arn:aws:lambda:${region}:${account}:function:${fn(logicalId)}`;
    const principal = stack.iam.rolePrincipal(role);
    expect(() => stack.iam.authorizeInvoke(principal, functionArn('PostToConnectionsFunction'))).not.toThrow();
    expect(() => stack.iam.authorizeInvoke(principal, functionArn('ConnectFunction'))).toThrow(
      /not authorized to perform: lambda:InvokeFunction/,
    );
    const events = { kind: 'service', service: 'events.amazonaws.com' } as const;
    const sessionRule = stack.model.rules.find((rule) =>
      rule.targets.some((t) => t.arn === functionArn('SessionStartFunction')),
    );
    const bus = stack.model.buses.find((name) => name !== 'default') ?? '';
    const ruleArn = `arn:aws:events:${region}:${account}:rule/${bus}/${sessionRule?.name}`;
    expect(() => stack.iam.authorizeInvoke(events, functionArn('SessionStartFunction'), ruleArn)).not.toThrow();
    expect(() => stack.iam.authorizeInvoke(events, functionArn('ConnectFunction'), ruleArn)).toThrow(
      /no resource-based policy allows/,
    );
  });

  it('counts requests per role and operation, and the message path needed no denial', async () => {
    const { stack } = fixture;
    const deniedBefore = stack.iam.deniedCount();
    stack.resetRequests();
    const writer = await fixture.join({ userId: 'iam-bob', room: 'iam-count' });
    await writer.request({ action: 'sendMessage', room: 'iam-count', message: 'counted' });
    await stack.idle();
    const counts = stack.requests();
    const machineRole = stack.iam.model.stateMachineRoles.get(stack.model.stateMachines[0]?.arn ?? '') ?? '';
    expect(counts[machineRole]?.['dynamodb:Query']).toBeGreaterThan(0);
    expect(counts[machineRole]?.['lambda:Invoke']).toBeGreaterThan(0);
    // The handler signs as its own function's role, never as the operator; a one-member room takes the
    // direct path, so sendMessage posts the message itself.
    const actions = functionRoleName(fn('WebSocketActionsFunction'));
    expect(counts[actions]?.['dynamodb:TransactWriteItems']).toBeGreaterThan(0);
    expect(counts[actions]?.['execute-api:PostToConnection']).toBeGreaterThan(0);
    expect(counts['local-operator']).toBeUndefined();
    expect(stack.iam.deniedCount()).toBe(deniedBefore);
  });
});

describe('a grant removed from a copy of the templates', () => {
  let stack: LocalStack;
  let copy: TemplateCopy;
  beforeAll(async () => {
    // SessionStartFunction's only GetItem grant: whether the connection is still open.
    copy = await copyTemplatesWith([
      {
        file: 'workflows/template.yaml',
        find: '\n            - Sid: ConnectionStillOpen\n              Effect: Allow\n              Action: dynamodb:GetItem\n              Resource: !Ref ConnectionsTableArn',
        replace: '',
      },
    ]);
    stack = await startTestStack({ templatePath: copy.templatePath });
  });
  afterAll(async () => {
    await stack?.close();
    await copy?.remove();
  });

  it('turns the allowed GetItem into AccessDenied', async () => {
    const session = stack.model.functions.find((f) => f.logicalId === 'SessionStartFunction')?.name ?? '';
    const connections = stack.tableNames.ConnectionsTable ?? '';
    const refused = await refusal(
      dynamoDbAs(stack, asFunction(session)).send(
        new GetItemCommand({ TableName: connections, Key: { connectionId: { S: 'x' } } }),
      ),
    );
    expect(refused).toMatchObject({
      name: 'AccessDeniedException',
      message: denial(functionRoleName(session), session, 'dynamodb:GetItem', tableArn(connections)),
    });
    // Its other grants are untouched: it still asks whether this is the user's only connection.
    await expect(
      dynamoDbAs(stack, asFunction(session)).send(
        new QueryCommand({
          TableName: connections,
          IndexName: 'userId-index',
          KeyConditionExpression: 'userId = :u',
          ExpressionAttributeValues: { ':u': { S: 'x' } },
        }),
      ),
    ).resolves.toBeDefined();
  });
  it("dead-letters an event its target never accepted to the rule's DLQ, as events.amazonaws.com under the queue policy", async () => {
    const session = stack.model.functions.find((f) => f.logicalId === 'SessionStartFunction');
    if (!session) throw new Error('no SessionStartFunction');
    const invoke = stack.functions.invoke.bind(stack.functions);
    // Every delivery to SessionStartFunction fails until EventBridge gives up.
    stack.functions.invoke = async (nameOrArn, event) => {
      if (nameOrArn === session.arn || nameOrArn === session.name) throw new Error('target unavailable');
      return invoke(nameOrArn, event);
    };
    try {
      const bus = stack.model.buses.find((name) => name !== 'default') ?? '';
      const events = tracked(
        new EventBridgeClient({
          endpoint: stack.urls.eventBridge,
          region,
          credentials: credentialsForRole(OPERATOR_ROLE),
        }),
      );
      const detail = { version: 1, connectionId: 'dlq-probe', userId: 'dlq', userName: 'dlq', rooms: [] };
      const sent = await events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: bus,
              Source: 'switchboard.messaging',
              DetailType: 'ConnectionOpened',
              Detail: JSON.stringify(detail),
            },
          ],
        }),
      );
      await stack.idle();
      const dead = stack.sqs.messages('EventTargetDeadLetterQueue').map((message) => JSON.parse(message.body));
      expect(dead).toContainEqual(expect.objectContaining({ id: sent.Entries?.[0]?.EventId, detail }));
      expect(stack.requests()['events.amazonaws.com']?.['sqs:SendMessage']).toBeGreaterThan(0);
    } finally {
      stack.functions.invoke = invoke;
    }
  });
});
