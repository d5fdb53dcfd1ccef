import '../../../local/stepfunctions/promise-with-resolvers.js';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { loadCfnTemplate } from '../../../local/cfn/template-loader.js';
import { applyDefinitionSubstitutions } from '../../../local/stepfunctions/definition-substitutions.js';
import type { JsonValue, TaskHandler } from '../../../local/stepfunctions/task-handlers.js';

const WORKFLOWS_TEMPLATE_PATH = fileURLToPath(new URL('../../../workflows/template.yaml', import.meta.url));
const ASL_PATH = fileURLToPath(
  new URL('../../../workflows/statemachine/message-distribution.asl.json', import.meta.url),
);
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:switchboard-PostToConnections';
const SUBSCRIPTIONS_TABLE = 'switchboard-Subscriptions';
const FAILURES_TABLE = 'switchboard-DeliveryFailures';
const PAGE_SIZE = 3;
const BATCH_SIZE = 2;
const NOW = 1_700_000_000;
// Not the template default (14 days), so a hard-coded retention in the ASL would show.
const FAILURE_TTL_SECONDS = 3 * 24 * 3600;
const EXECUTION_ID = 'arn:aws:states:us-east-1:000000000000:express:MessageDistribution:test:1';

interface Delivery {
  topic: string;
  frame: Record<string, JsonValue>;
  receipt?: { room: string; sk: string };
  connectionIds?: string[];
}

interface PostPayload {
  topic: string;
  frame: Record<string, JsonValue>;
  connectionIds: string[];
  receipt?: { room: string; sk: string };
}

type QueryParameters = {
  TableName: string;
  KeyConditionExpression: string;
  FilterExpression: string;
  ProjectionExpression: string;
  ExpressionAttributeValues: { ':t': { S: string }; ':now': { N: string } };
  Limit: number;
  ExclusiveStartKey?: Record<string, { S: string }>;
};

function distributionEvent(deliveries: Delivery[], version: number = 1): JsonValue {
  return {
    version: '0',
    id: 'b0a7c9e4-0000-4000-8000-000000000001',
    'detail-type': 'MessagePosted',
    source: 'switchboard.messaging',
    account: '000000000000',
    time: '2023-11-14T22:13:20Z',
    region: 'us-east-1',
    resources: [],
    detail: { version, now: NOW, deliveries: deliveries as unknown as JsonValue },
  };
}

function roomFrame(messageId: string): Record<string, JsonValue> {
  return { type: 'message', messageId, room: 'lobby', text: 'hi' };
}

function loadMachine(): StateMachine {
  const text = applyDefinitionSubstitutions(readFileSync(ASL_PATH, 'utf8'), {
    SubscriptionsTableName: SUBSCRIPTIONS_TABLE,
    PostToConnectionsFunctionArn: FUNCTION_ARN,
    DeliveryFailuresTableName: FAILURES_TABLE,
    ConnectionPageSize: PAGE_SIZE,
    PostBatchSize: BATCH_SIZE,
    DeliveryFailureRetentionSeconds: FAILURE_TTL_SECONDS,
  });
  return new StateMachine(JSON.parse(text) as StateMachineDefinition);
}

/**
 * Serves Subscriptions pages per topic, as a filtered Query would: each page but the last carries a
 * LastEvaluatedKey, and a page may hold no item at all.
 */
function fakeSubscriptions(pagesByTopic: Record<string, string[][]>) {
  const calls: QueryParameters[] = [];
  const keyOf = (topic: string, page: number) => ({ topic: { S: topic }, connectionId: { S: `key-${page}` } });
  const query: TaskHandler = async (input) => {
    const parameters = input as unknown as QueryParameters;
    calls.push(structuredClone(parameters));
    const topic = parameters.ExpressionAttributeValues[':t'].S;
    const pages = pagesByTopic[topic] ?? [[]];
    const start = parameters.ExclusiveStartKey?.connectionId?.S;
    const index = start === undefined ? 0 : Number(start.slice('key-'.length)) + 1;
    const ids = pages[index] ?? [];
    const page: Record<string, JsonValue> = {
      Items: ids.map((id) => ({ connectionId: { S: id } })),
      Count: ids.length,
      ScannedCount: parameters.Limit,
    };
    if (index < pages.length - 1) page.LastEvaluatedKey = keyOf(topic, index);
    return page;
  };
  return { query, calls, keyOf };
}

/** Records every invocation; `fail` decides, per attempt, whether (and how) it throws. */
function fakePostFunction(fail: (payload: PostPayload, attempt: number) => Error | undefined = () => undefined) {
  const invocations: { functionName: string; payload: PostPayload; failed: boolean }[] = [];
  const attempts = new Map<string, number>();
  const post: TaskHandler = async (input) => {
    const { FunctionName, Payload } = input as unknown as { FunctionName: string; Payload: PostPayload };
    const payload = structuredClone(Payload);
    const batchKey = payload.connectionIds.join(',');
    const attempt = (attempts.get(batchKey) ?? 0) + 1;
    attempts.set(batchKey, attempt);
    const error = fail(payload, attempt);
    invocations.push({ functionName: FunctionName, payload, failed: error !== undefined });
    if (error) throw error;
    return {
      ExecutedVersion: '$LATEST',
      StatusCode: 200,
      Payload: { delivered: payload.connectionIds.length, gone: 0, failed: 0 },
    };
  };
  const delivered = () => invocations.filter((i) => !i.failed).flatMap((i) => i.payload.connectionIds);
  return { post, invocations, delivered };
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

function fakeFailureTable() {
  const puts: { TableName: string; Item: Record<string, Record<string, string>> }[] = [];
  const putItem: TaskHandler = async (input) => {
    puts.push(structuredClone(input) as unknown as (typeof puts)[number]);
    return {};
  };
  return { putItem, puts };
}

async function run(
  input: JsonValue,
  handlers: { query: TaskHandler; post: TaskHandler; putItem?: TaskHandler },
): Promise<JsonValue> {
  const putItem = handlers.putItem ?? fakeFailureTable().putItem;
  const execution = loadMachine().run(input, {
    overrides: {
      taskResourceLocalHandlers: {
        QueryFirstPage: handlers.query,
        QueryNextPage: handlers.query,
        PostToConnections: handlers.post,
        RecordBatchFailure: putItem,
        RecordQueryFailure: putItem,
      },
      retryIntervalOverrides: {
        QueryFirstPage: 0,
        QueryNextPage: 0,
        PostToConnections: 0,
        RecordBatchFailure: 0,
        RecordQueryFailure: 0,
      },
    },
    context: { Execution: { Id: EXECUTION_ID, Name: 'test' } },
  });
  return execution.result;
}

/** The state named `name`, however deep in Map item processors it sits. */
function findState(definition: unknown, name: string): Record<string, unknown> | undefined {
  if (typeof definition !== 'object' || definition === null) return undefined;
  const states = (definition as { States?: Record<string, unknown> }).States;
  if (states?.[name]) return states[name] as Record<string, unknown>;
  for (const value of Object.values(definition)) {
    const found = findState(value, name);
    if (found) return found;
  }
  return undefined;
}

function sorted(values: string[]): string[] {
  return [...values].sort();
}

describe('message-distribution.asl.json', () => {
  it('passes asl-validator as committed, placeholders included', async () => {
    const cli = createRequire(import.meta.url).resolve('asl-validator/dist/bin/asl-validator.js');
    const { stdout } = await promisify(execFile)(process.execPath, [cli, '--json-path', ASL_PATH]);
    expect(stdout).toContain('is valid');
  });

  it("gives the post task more time than PostToConnectionsFunction's Timeout, with room for init and the invoke", async () => {
    const template = await loadCfnTemplate(WORKFLOWS_TEMPLATE_PATH);
    const fn = template.Resources.PostToConnectionsFunction?.Properties ?? {};
    const functionTimeout = Number(fn.Timeout ?? template.Globals?.Function?.Timeout);
    expect(functionTimeout).toBeGreaterThan(0);
    const task = findState(JSON.parse(readFileSync(ASL_PATH, 'utf8')), 'PostToConnections');
    // Lambda's init phase (up to 10 s on a cold start) is not part of the function's Timeout.
    expect(task?.TimeoutSeconds).toBeGreaterThanOrEqual(functionTimeout + 10);
  });

  it('pages through every subscriber, skips the empty filtered page and posts each connection once', async () => {
    const subscriptions = fakeSubscriptions({ 'room#lobby': [['c1', 'c2', 'c3'], [], ['c4', 'c5']] });
    const fn = fakePostFunction();
    const frame = roomFrame('m-1');

    const output = await run(distributionEvent([{ topic: 'room#lobby', frame }]), {
      query: subscriptions.query,
      post: fn.post,
    });

    expect(subscriptions.calls).toHaveLength(3);
    for (const call of subscriptions.calls) {
      expect(call).toMatchObject({
        TableName: SUBSCRIPTIONS_TABLE,
        KeyConditionExpression: 'topic = :t',
        FilterExpression: 'expiresAt > :now',
        ProjectionExpression: 'connectionId',
        ExpressionAttributeValues: { ':t': { S: 'room#lobby' }, ':now': { N: String(NOW) } },
        Limit: PAGE_SIZE,
      });
    }
    expect(subscriptions.calls[0]?.ExclusiveStartKey).toBeUndefined();
    expect(subscriptions.calls[1]?.ExclusiveStartKey).toEqual(subscriptions.keyOf('room#lobby', 0));
    expect(subscriptions.calls[2]?.ExclusiveStartKey).toEqual(subscriptions.keyOf('room#lobby', 1));

    expect(fn.invocations.map((i) => i.payload.connectionIds)).toEqual(
      expect.arrayContaining([['c1', 'c2'], ['c3'], ['c4', 'c5']]),
    );
    expect(fn.invocations).toHaveLength(3);
    expect(sorted(fn.delivered())).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
    for (const { functionName, payload } of fn.invocations) {
      expect(functionName).toBe(FUNCTION_ARN);
      expect(payload).toEqual({ topic: 'room#lobby', frame, connectionIds: payload.connectionIds });
      expect(payload).not.toHaveProperty('receipt');
    }
    expect(output).toEqual({ deliveries: [{ topic: 'room#lobby', pages: 3, connections: 5 }] });
  });

  it('handles several deliveries independently, passing each its own receipt', async () => {
    const subscriptions = fakeSubscriptions({
      'room#lobby': [['c1', 'c2', 'c3'], ['c4']],
      'user#bob': [['b1', 'b2']],
      'room#empty': [[]],
    });
    const fn = fakePostFunction();
    const receipt = { room: 'dm#alice#bob', sk: '2023-11-14T22:13:20.000Z#m-2' };

    const output = await run(
      distributionEvent([
        { topic: 'room#lobby', frame: roomFrame('m-1') },
        { topic: 'user#bob', frame: roomFrame('m-2'), receipt },
        { topic: 'room#empty', frame: roomFrame('m-3') },
      ]),
      { query: subscriptions.query, post: fn.post },
    );

    const byTopic = (topic: string) => fn.invocations.filter((i) => i.payload.topic === topic).map((i) => i.payload);
    expect(sorted(byTopic('room#lobby').flatMap((p) => p.connectionIds))).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(byTopic('room#lobby').every((p) => p.receipt === undefined && p.frame.messageId === 'm-1')).toBe(true);
    expect(byTopic('user#bob')).toEqual([
      { topic: 'user#bob', frame: roomFrame('m-2'), receipt, connectionIds: ['b1', 'b2'] },
    ]);
    expect(byTopic('room#empty')).toEqual([]);
    expect(sorted(fn.delivered())).toEqual(['b1', 'b2', 'c1', 'c2', 'c3', 'c4']);
    expect(output).toEqual({
      deliveries: [
        { topic: 'room#lobby', pages: 2, connections: 4 },
        { topic: 'user#bob', pages: 1, connections: 2 },
        { topic: 'room#empty', pages: 1, connections: 0 },
      ],
    });
  });

  it('posts a handed-on delivery to exactly its connectionIds, in batches, without reading the topic', async () => {
    const subscriptions = fakeSubscriptions({ 'user#bob': [['b1', 'b2', 'b3', 'b4']], 'room#lobby': [['c1']] });
    const fn = fakePostFunction();
    const receipt = { room: 'dm#alice#bob', sk: '2023-11-14T22:13:20.000Z#m-2' };

    const output = await run(
      distributionEvent([
        { topic: 'user#bob', frame: roomFrame('m-2'), receipt, connectionIds: ['b2', 'b3', 'b4'] },
        { topic: 'room#lobby', frame: roomFrame('m-1') },
      ]),
      { query: subscriptions.query, post: fn.post },
    );

    // Only the ordinary delivery read its topic.
    expect(subscriptions.calls.map((call) => call.ExpressionAttributeValues[':t'].S)).toEqual(['room#lobby']);
    const bob = fn.invocations.filter((i) => i.payload.topic === 'user#bob').map((i) => i.payload);
    // Each batch carries its own slice, not the delivery's whole list, and the receipt.
    expect(bob).toEqual(
      expect.arrayContaining([
        { topic: 'user#bob', frame: roomFrame('m-2'), receipt, connectionIds: ['b2', 'b3'] },
        { topic: 'user#bob', frame: roomFrame('m-2'), receipt, connectionIds: ['b4'] },
      ]),
    );
    expect(bob).toHaveLength(2);
    expect(sorted(fn.delivered())).toEqual(['b2', 'b3', 'b4', 'c1']);
    expect(output).toEqual({
      deliveries: [
        { topic: 'user#bob', pages: 1, connections: 3 },
        { topic: 'room#lobby', pages: 1, connections: 1 },
      ],
    });
  });

  it('retries Lambda service errors and throttles beyond the function-error budget, then delivers once', async () => {
    const subscriptions = fakeSubscriptions({ 'room#lobby': [['c1', 'c2', 'c3']] });
    // Three failures in a row: more than the two retries States.TaskFailed allows, within the six of AWS's advice.
    const fn = fakePostFunction((payload, attempt) => {
      if (payload.connectionIds.includes('c3') && attempt <= 3) {
        return namedError('Lambda.ServiceException', 'Lambda was unable to process the request');
      }
      if (payload.connectionIds.includes('c1') && attempt <= 3) {
        return namedError('Lambda.TooManyRequestsException', 'Rate exceeded');
      }
      return undefined;
    });
    const failures = fakeFailureTable();

    const output = await run(distributionEvent([{ topic: 'room#lobby', frame: roomFrame('m-1') }]), {
      query: subscriptions.query,
      post: fn.post,
      putItem: failures.putItem,
    });

    expect(fn.invocations.filter((i) => i.failed)).toHaveLength(6);
    expect(fn.invocations).toHaveLength(8);
    expect(sorted(fn.delivered())).toEqual(['c1', 'c2', 'c3']);
    expect(failures.puts).toEqual([]);
    expect(output).toEqual({ deliveries: [{ topic: 'room#lobby', pages: 1, connections: 3 }] });
  });

  it('retries a throttled Subscriptions query', async () => {
    const subscriptions = fakeSubscriptions({ 'room#lobby': [['c1']] });
    let throttled = false;
    const query: TaskHandler = async (input) => {
      if (!throttled) {
        throttled = true;
        throw namedError('DynamoDb.ProvisionedThroughputExceededException', 'Throughput exceeded');
      }
      return subscriptions.query(input);
    };
    const fn = fakePostFunction();

    await run(distributionEvent([{ topic: 'room#lobby', frame: roomFrame('m-1') }]), { query, post: fn.post });

    expect(fn.delivered()).toEqual(['c1']);
  });

  it('records a batch that keeps failing and still delivers the other batches and pages', async () => {
    const subscriptions = fakeSubscriptions({
      'room#lobby': [
        ['c1', 'c2', 'c3'],
        ['c4', 'c5'],
      ],
    });
    const fn = fakePostFunction((payload) =>
      payload.connectionIds.includes('c3') ? new TypeError('cannot read frame') : undefined,
    );
    const failures = fakeFailureTable();

    const output = await run(distributionEvent([{ topic: 'room#lobby', frame: roomFrame('m-9') }]), {
      query: subscriptions.query,
      post: fn.post,
      putItem: failures.putItem,
    });

    // A function error matches only the States.TaskFailed retrier: one attempt plus two retries.
    expect(fn.invocations.filter((i) => i.payload.connectionIds.includes('c3'))).toHaveLength(3);
    expect(sorted(fn.delivered())).toEqual(['c1', 'c2', 'c4', 'c5']);
    expect(failures.puts).toHaveLength(1);
    const [put] = failures.puts;
    expect(put?.TableName).toBe(FAILURES_TABLE);
    expect(put?.Item).toMatchObject({
      kind: { S: 'post' },
      topic: { S: 'room#lobby' },
      messageId: { S: 'm-9' },
      connectionIds: { S: '["c3"]' },
      page: { N: '1' },
      batchIndex: { N: '1' },
      error: { S: 'TypeError' },
      executionId: { S: EXECUTION_ID },
      expiresAt: { N: String(NOW + FAILURE_TTL_SECONDS) },
    });
    expect(put?.Item.cause?.S).toContain('cannot read frame');
    expect(put?.Item.failureId?.S).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(put?.Item.delivery?.S ?? '{}')).toMatchObject({ topic: 'room#lobby' });
    expect(output).toEqual({ deliveries: [{ topic: 'room#lobby', pages: 2, connections: 5 }] });
  });

  it('leaves messageId out of the failure record when the frame has none', async () => {
    const subscriptions = fakeSubscriptions({ 'metrics#type#cpu': [['c1']] });
    const fn = fakePostFunction(() => new Error('down'));
    const failures = fakeFailureTable();

    await run(distributionEvent([{ topic: 'metrics#type#cpu', frame: { type: 'metrics', value: 1 } }]), {
      query: subscriptions.query,
      post: fn.post,
      putItem: failures.putItem,
    });

    expect(failures.puts).toHaveLength(1);
    expect(failures.puts[0]?.Item).not.toHaveProperty('messageId');
    expect(failures.puts[0]?.Item.error).toEqual({ S: 'Error' });
  });

  it('records a Subscriptions query that fails for good and goes on with the other deliveries', async () => {
    const subscriptions = fakeSubscriptions({ 'user#bob': [['b1']] });
    const query: TaskHandler = async (input) => {
      const parameters = input as unknown as QueryParameters;
      if (parameters.ExpressionAttributeValues[':t'].S === 'room#gone') {
        throw namedError('DynamoDb.ResourceNotFoundException', 'Requested resource not found');
      }
      return subscriptions.query(input);
    };
    const fn = fakePostFunction();
    const failures = fakeFailureTable();

    const output = await run(
      distributionEvent([
        { topic: 'room#gone', frame: roomFrame('m-1') },
        { topic: 'user#bob', frame: roomFrame('m-2') },
      ]),
      { query, post: fn.post, putItem: failures.putItem },
    );

    expect(fn.delivered()).toEqual(['b1']);
    expect(failures.puts).toHaveLength(1);
    expect(failures.puts[0]?.Item).toMatchObject({
      kind: { S: 'query' },
      topic: { S: 'room#gone' },
      messageId: { S: 'm-1' },
      error: { S: 'DynamoDb.ResourceNotFoundException' },
      page: { N: '1' },
    });
    expect(output).toEqual({
      deliveries: [
        { topic: 'room#gone', pages: 0, connections: 0, queryFailed: true },
        { topic: 'user#bob', pages: 1, connections: 1 },
      ],
    });
  });

  it('rejects an event of another detail version without posting anything', async () => {
    const subscriptions = fakeSubscriptions({ 'room#lobby': [['c1']] });
    const fn = fakePostFunction();

    const result = run(distributionEvent([{ topic: 'room#lobby', frame: roomFrame('m-1') }], 2), {
      query: subscriptions.query,
      post: fn.post,
    });

    await expect(result).rejects.toBeInstanceOf(ExecutionError);
    await expect(result).rejects.toMatchObject({ cause: { name: 'Switchboard.UnsupportedEventVersion' } });
    expect(subscriptions.calls).toEqual([]);
    expect(fn.invocations).toEqual([]);
  });
});
