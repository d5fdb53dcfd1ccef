import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDefinitionSubstitutions } from '../../../../local/stepfunctions/definition-substitutions.js';
import {
  type LocalStateMachineConfig,
  type LocalStepFunctions,
  startLocalStepFunctions,
} from '../../../../local/stepfunctions/server.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../../helpers/dynamodb-local.js';

const ASL_PATH = fileURLToPath(
  new URL('../../../../workflows/statemachine/message-distribution.asl.json', import.meta.url),
);
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const SUBSCRIPTIONS_TABLE = 'sfn-test-Subscriptions';
const FAILURES_TABLE = 'sfn-test-DeliveryFailures';
const PROBE_TABLE = 'sfn-test-Probe';
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:PostToConnections`;
const LIVE_CONNECTIONS = 250;
const EXPIRED_CONNECTIONS = 30;
const NOW = Math.floor(Date.now() / 1000);

const machineArn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;
const DISTRIBUTION_ARN = machineArn('MessageDistribution');
const PROBE_ARN = machineArn('Probe');

/** Exercises the stand-in's error names with real DynamoDB Local and Lambda failures. */
const probeDefinition = {
  StartAt: 'Probes',
  States: {
    Probes: {
      Type: 'Parallel',
      End: true,
      Branches: [
        {
          StartAt: 'SdkGetMissingTable',
          States: {
            SdkGetMissingTable: {
              Type: 'Task',
              Resource: 'arn:aws:states:::aws-sdk:dynamodb:getItem',
              Parameters: { TableName: 'no-such-table', Key: { id: { S: 'x' } } },
              Catch: [{ ErrorEquals: ['DynamoDb.ResourceNotFoundException'], Next: 'SdkCaught' }],
              End: true,
            },
            SdkCaught: { Type: 'Pass', End: true },
          },
        },
        {
          StartAt: 'PutOnce',
          States: {
            PutOnce: {
              Type: 'Task',
              Resource: 'arn:aws:states:::dynamodb:putItem',
              Parameters: {
                TableName: PROBE_TABLE,
                Item: { id: { S: 'probe' } },
                ConditionExpression: 'attribute_not_exists(id)',
              },
              ResultPath: null,
              Next: 'PutAgain',
            },
            PutAgain: {
              Type: 'Task',
              Resource: 'arn:aws:states:::dynamodb:putItem',
              Parameters: {
                TableName: PROBE_TABLE,
                Item: { id: { S: 'probe' } },
                ConditionExpression: 'attribute_not_exists(id)',
              },
              Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], Next: 'OptimizedCaught' }],
              End: true,
            },
            OptimizedCaught: { Type: 'Pass', End: true },
          },
        },
        {
          StartAt: 'InvokeFailing',
          States: {
            InvokeFailing: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { FunctionName: 'failing', Payload: { probe: true } },
              Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'LambdaCaught' }],
              End: true,
            },
            LambdaCaught: { Type: 'Pass', End: true },
          },
        },
      ],
    },
  },
};

class DeliveryRefusedError extends Error {
  override name = 'DeliveryRefusedError';
}

describe('local Step Functions', () => {
  let dynamo: DynamoDbLocal;
  let stepFunctions: LocalStepFunctions;
  let sfn: SFNClient;
  const invocations: { functionName: string; payload: { connectionIds: string[]; topic: string } }[] = [];

  beforeAll(async () => {
    dynamo = await startDynamoDbLocal();
    await createTables(dynamo.client);
    await putSubscriptions(dynamo.client);

    const definition = applyDefinitionSubstitutions(readFileSync(ASL_PATH, 'utf8'), {
      SubscriptionsTableName: SUBSCRIPTIONS_TABLE,
      PostToConnectionsFunctionArn: FUNCTION_ARN,
      DeliveryFailuresTableName: FAILURES_TABLE,
      ConnectionPageSize: 100,
      PostBatchSize: 25,
      DeliveryFailureRetentionSeconds: 1209600,
    });
    const stateMachines: LocalStateMachineConfig[] = [
      { name: 'MessageDistribution', arn: DISTRIBUTION_ARN, type: 'EXPRESS', definition },
      { name: 'Probe', arn: PROBE_ARN, type: 'STANDARD', definition: JSON.stringify(probeDefinition) },
    ];
    stepFunctions = await startLocalStepFunctions({
      port: 0,
      region: REGION,
      accountId: ACCOUNT,
      stateMachines,
      dynamoDbClient: dynamo.client,
      retryDelayMs: 0,
      invokeLambda: async (functionName, payload) => {
        const post = payload as { connectionIds: string[]; topic: string };
        invocations.push({ functionName, payload: post });
        if (functionName === 'failing' || post.topic === 'room#refusing') {
          throw new DeliveryRefusedError('refused');
        }
        return { delivered: post.connectionIds.length, gone: 0, failed: 0 };
      },
    });
    sfn = new SFNClient({
      endpoint: stepFunctions.url,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      disableHostPrefix: true,
    });
  });

  afterAll(async () => {
    sfn?.destroy();
    await stepFunctions?.close();
    await dynamo?.stop();
  });

  it('runs the real distribution machine against DynamoDB Local and posts every live subscriber once', async () => {
    invocations.length = 0;
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: DISTRIBUTION_ARN,
        input: JSON.stringify(event('room#lobby')),
      }),
    );
    expect(started.executionArn).toMatch(/^arn:aws:states:us-east-1:000000000000:express:MessageDistribution:/);
    expect(started.startDate).toBeInstanceOf(Date);

    await stepFunctions.idle();

    const posted = invocations.flatMap((i) => i.payload.connectionIds);
    expect(posted).toHaveLength(LIVE_CONNECTIONS);
    expect(new Set(posted).size).toBe(LIVE_CONNECTIONS);
    expect(posted.every((id) => id.startsWith('live-'))).toBe(true);
    expect(invocations.every((i) => i.functionName === FUNCTION_ARN && i.payload.connectionIds.length <= 25)).toBe(
      true,
    );

    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(described.status).toBe('SUCCEEDED');
    expect(described.stopDate).toBeInstanceOf(Date);
    expect(JSON.parse(described.output ?? 'null')).toEqual({
      deliveries: [{ topic: 'room#lobby', pages: 3, connections: LIVE_CONNECTIONS }],
    });
    expect(stepFunctions.executions()).toContainEqual(
      expect.objectContaining({ executionArn: started.executionArn, status: 'SUCCEEDED' }),
    );
  });

  it('writes a failed batch to the DeliveryFailures table through the optimized putItem integration', async () => {
    invocations.length = 0;
    const result = await sfn.send(
      new StartSyncExecutionCommand({
        stateMachineArn: DISTRIBUTION_ARN,
        input: JSON.stringify(event('room#refusing', 'room#lobby')),
      }),
    );

    expect(result.status).toBe('SUCCEEDED');
    const lobby = invocations.filter((i) => i.payload.topic === 'room#lobby').flatMap((i) => i.payload.connectionIds);
    expect(new Set(lobby).size).toBe(LIVE_CONNECTIONS);
    expect(lobby).toHaveLength(LIVE_CONNECTIONS);
    // A function error is retried twice (States.TaskFailed) before the batch is recorded.
    expect(invocations.filter((i) => i.payload.topic === 'room#refusing')).toHaveLength(3);
    const failures = await dynamo.client.send(new ScanCommand({ TableName: FAILURES_TABLE }));
    expect(failures.Items).toHaveLength(1);
    expect(failures.Items?.[0]).toMatchObject({
      kind: { S: 'post' },
      topic: { S: 'room#refusing' },
      messageId: { S: 'm-1' },
      connectionIds: { S: '["refusing-1"]' },
      error: { S: 'DeliveryRefusedError' },
      executionId: { S: result.executionArn },
    });
    expect(JSON.parse(failures.Items?.[0]?.cause?.S ?? '{}')).toMatchObject({
      errorType: 'DeliveryRefusedError',
      errorMessage: 'refused',
    });
  });

  it('names DynamoDB and Lambda task errors as Step Functions does', async () => {
    const result = await sfn.send(new StartExecutionCommand({ stateMachineArn: PROBE_ARN, name: 'probe-1' }));
    await stepFunctions.idle();

    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: result.executionArn }));
    expect(described.status).toBe('SUCCEEDED');
    const [sdk, optimized, lambda] = JSON.parse(described.output ?? '[]') as { Error: string; Cause: string }[];
    expect(sdk?.Error).toBe('DynamoDb.ResourceNotFoundException');
    expect(sdk?.Cause).toContain('Service: DynamoDb');
    expect(optimized?.Error).toBe('DynamoDB.ConditionalCheckFailedException');
    expect(optimized?.Cause).toContain('Service: AmazonDynamoDBv2');
    expect(lambda?.Error).toBe('DeliveryRefusedError');
    const stored = await dynamo.client.send(
      new GetItemCommand({ TableName: PROBE_TABLE, Key: { id: { S: 'probe' } } }),
    );
    expect(stored.Item).toBeDefined();
  });

  it('answers like AWS for unknown machines and executions, and lists its machines', async () => {
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('Missing'), input: '{}' })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(
      sfn.send(
        new DescribeExecutionCommand({ executionArn: `${DISTRIBUTION_ARN.replace('stateMachine', 'express')}:x:y` }),
      ),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);

    const listed = await sfn.send(new ListStateMachinesCommand({}));
    expect(listed.stateMachines?.map((m) => [m.name, m.type])).toEqual([
      ['MessageDistribution', 'EXPRESS'],
      ['Probe', 'STANDARD'],
    ]);
  });

  it('keeps a bounded execution history', async () => {
    const small = await startLocalStepFunctions({
      port: 0,
      maxExecutionHistory: 2,
      stateMachines: [
        {
          name: 'Echo',
          arn: machineArn('Echo'),
          type: 'EXPRESS',
          definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
        },
      ],
      dynamoDbClient: dynamo.client,
      invokeLambda: async () => null,
    });
    const client = new SFNClient({
      endpoint: small.url,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const arns: string[] = [];
      for (const n of [1, 2, 3]) {
        const started = await client.send(
          new StartExecutionCommand({ stateMachineArn: machineArn('Echo'), input: JSON.stringify({ n }) }),
        );
        arns.push(started.executionArn ?? '');
        await small.idle();
      }
      expect(small.executions().map((e) => e.executionArn)).toEqual(arns.slice(1));
      const last = await client.send(new DescribeExecutionCommand({ executionArn: arns[2] }));
      expect(JSON.parse(last.output ?? 'null')).toEqual({ n: 3 });
    } finally {
      client.destroy();
      await small.close();
    }
  });
});

function event(...topics: string[]) {
  return {
    version: '0',
    id: '6f1c1c8e-0000-4000-8000-000000000001',
    'detail-type': 'MessagePosted',
    source: 'switchboard.messaging',
    account: ACCOUNT,
    time: new Date(NOW * 1000).toISOString(),
    region: REGION,
    resources: [],
    detail: {
      version: 1,
      now: NOW,
      deliveries: topics.map((topic) => ({ topic, frame: { type: 'message', messageId: 'm-1', text: 'hi' } })),
    },
  };
}

async function createTables(client: DynamoDBClient): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: SUBSCRIPTIONS_TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'topic', AttributeType: 'S' },
        { AttributeName: 'connectionId', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'topic', KeyType: 'HASH' },
        { AttributeName: 'connectionId', KeyType: 'RANGE' },
      ],
    }),
  );
  for (const [table, key] of [
    [FAILURES_TABLE, 'failureId'],
    [PROBE_TABLE, 'id'],
  ] as const) {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
      }),
    );
  }
}

/** Live and expired subscriptions interleaved, so some Query pages come back partly filtered. */
async function putSubscriptions(client: DynamoDBClient): Promise<void> {
  const items = [
    ...Array.from({ length: LIVE_CONNECTIONS }, (_, i) => ['room#lobby', `live-${i}`, NOW + 3600] as const),
    ...Array.from({ length: EXPIRED_CONNECTIONS }, (_, i) => ['room#lobby', `live-${i}-expired`, NOW - 60] as const),
    ['room#refusing', 'refusing-1', NOW + 3600] as const,
  ];
  for (let i = 0; i < items.length; i += 25) {
    const requests = items.slice(i, i + 25).map(([topic, connectionId, expiresAt]) => ({
      PutRequest: {
        Item: { topic: { S: topic }, connectionId: { S: connectionId }, expiresAt: { N: String(expiresAt) } },
      },
    }));
    const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [SUBSCRIPTIONS_TABLE]: requests } }));
    expect(Object.keys(result.UnprocessedItems ?? {})).toEqual([]);
  }
}
