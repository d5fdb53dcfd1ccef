import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalWebSocketGateway } from '../../../../local/gateway/websocket-gateway.js';
import { LocalIam } from '../../../../local/iam/authorizer.js';
import { startDynamoDbFront } from '../../../../local/iam/dynamodb-front.js';
import type { HopTimer } from '../../../../local/latency/model.js';
import { startLocalSqs } from '../../../../local/sqs/server.js';
import { withHop } from '../../../../local/stack.js';
import { startLocalStepFunctions } from '../../../../local/stepfunctions/server.js';
import { connectClient } from '../gateway/ws-test-client.js';

// Each stand-in asks the model for its hop at the point AWS adds it. Checked by counting the draws and
// by what is (not yet) visible while a long delay runs, never by timing.

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const closers: Array<() => Promise<unknown> | unknown> = [];

/** A hop timer that always has `ms` left, counting how often a stand-in asked. */
function fixedHop(ms: number, asked: { count: number }): HopTimer {
  return {
    dueMs: () => {
      asked.count++;
      return ms;
    },
    settle: async () => {},
  };
}
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('Step Functions start delay', () => {
  const arn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:Pass`;
  const start = async (delayMs: number, asked: boolean[]) => {
    const sfn = await startLocalStepFunctions({
      port: 0,
      stateMachines: [
        {
          arn,
          name: 'Pass',
          type: 'EXPRESS',
          definition: JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }),
        },
      ],
      invokeLambda: async () => ({}),
      dynamoDbClient: new DynamoDBClient({ region: REGION, credentials }),
      startHop: (sync) => {
        asked.push(sync);
        return fixedHop(delayMs, { count: 0 });
      },
    });
    const client = new SFNClient({ endpoint: sfn.url, region: REGION, credentials, disableHostPrefix: true });
    closers.push(() => client.destroy());
    return { sfn, client };
  };

  it('keeps an execution RUNNING until its drawn start, and aborts it if the service closes first', async () => {
    const asked: boolean[] = [];
    const { sfn, client } = await start(600_000, asked);
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{}' }));
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described.status).toBe('RUNNING');
    expect(asked).toEqual([false]);
    await sfn.close(); // would hang if the waiting execution were not aborted
    expect(sfn.executions().map((execution) => execution.status)).toEqual(['ABORTED']);
  });

  it('draws the synchronous start for StartSyncExecution and then runs the machine', async () => {
    const asked: boolean[] = [];
    const { sfn, client } = await start(1, asked);
    closers.push(() => sfn.close());
    const result = await client.send(new StartSyncExecutionCommand({ stateMachineArn: arn, input: '{"a":1}' }));
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toBe('{"a":1}');
    expect(asked).toEqual([true]);
  });
});

describe('SQS delivery delay', () => {
  it('keeps a sent message invisible for the drawn delay', async () => {
    let draws = 0;
    const sqs = await startLocalSqs({
      port: 0,
      queues: [{ name: 'Q' }],
      deliveryDelayMs: () => {
        draws++;
        return 600_000;
      },
    });
    closers.push(() => sqs.close());
    const client = new SQSClient({ endpoint: sqs.url, region: REGION, credentials });
    closers.push(() => client.destroy());
    const QueueUrl = `${sqs.url}/${ACCOUNT}/Q`;
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
    const received = await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }));
    expect(received.Messages ?? []).toEqual([]);
    expect(draws).toBe(1);
  });
});

describe('DynamoDB front delay', () => {
  it('draws once per DynamoDB request and never for stream reads', async () => {
    const targets: string[] = [];
    const upstream: Server = createServer((req, res) => {
      targets.push(String(req.headers['x-amz-target']));
      req.resume();
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => upstream.close(resolve)));
    const draws = { count: 0 };
    const front = await startDynamoDbFront({
      host: '127.0.0.1',
      port: 0,
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      iam: new LocalIam({
        model: {
          roles: new Map(),
          resourcePolicies: new Map(),
          stateMachineRoles: new Map(),
          ruleTargetRoles: new Map(),
        },
        mode: 'off',
        accountId: ACCOUNT,
      }),
      region: REGION,
      accountId: ACCOUNT,
      requestHop: () => fixedHop(1, draws),
    });
    closers.push(() => front.close());
    const client = new DynamoDBClient({ endpoint: front.url, region: REGION, credentials });
    closers.push(() => client.destroy());
    await client.send(new GetItemCommand({ TableName: 'T', Key: { id: { S: 'x' } } }));
    await client.send(new GetItemCommand({ TableName: 'T', Key: { id: { S: 'y' } } }));
    const streamRead = await fetch(front.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDBStreams_20120810.GetRecords', 'content-type': 'application/x-amz-json-1.0' },
      body: '{"ShardIterator":"x"}',
    });
    await streamRead.text();
    expect(targets).toEqual([
      'DynamoDB_20120810.GetItem',
      'DynamoDB_20120810.GetItem',
      'DynamoDBStreams_20120810.GetRecords',
    ]);
    expect(draws.count).toBe(2);
  });
});

describe('@connections post delay and EventBridge delivery delay', () => {
  it('draws once per postToConnection and still delivers the frame', async () => {
    const draws = { count: 0 };
    const gateway = await startLocalWebSocketGateway({
      port: 0,
      stage: 'prod',
      routeSelectionExpression: '$request.body.action',
      routes: { $connect: { functionName: 'connect', twoWay: false } },
      invoke: async () => ({ statusCode: 200 }),
      postHop: () => fixedHop(1, draws),
    });
    closers.push(() => gateway.close());
    const client = await connectClient(gateway.url);
    closers.push(() => client.socket.terminate());
    const [connectionId] = gateway.connectionIds();
    const sdk = new ApiGatewayManagementApiClient({ endpoint: gateway.managementUrl, region: REGION, credentials });
    closers.push(() => sdk.destroy());
    await sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('hi') }));
    expect(await client.nextMessage()).toBe('hi');
    expect(draws.count).toBe(1);
  });

  it('waits for the EventBridge hop before handing the event to the target, counting the bus time since due', async () => {
    const order: string[] = [];
    const elapsed: number[] = [];
    const deliver = withHop(
      (elapsedMs) => {
        elapsed.push(elapsedMs);
        return {
          settle: async () => {
            order.push('hop');
          },
        };
      },
      async () => {
        order.push('target');
      },
    );
    const target = { id: 't', arn: 'arn:aws:lambda:us-east-1:000000000000:function:F' };
    await deliver(
      target as Parameters<typeof deliver>[0],
      {},
      {} as Parameters<typeof deliver>[2],
      {} as Parameters<typeof deliver>[3],
      Date.now() - 1_000,
    );
    expect(order).toEqual(['hop', 'target']);
    expect(elapsed[0]).toBeGreaterThanOrEqual(1_000);
  });
});
