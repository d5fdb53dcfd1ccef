/**
 * What IAM enforcement costs per DynamoDB call: a fixed batch of PutItem, GetItem and Query sent
 * through the authorising front (signed as WebSocketActionsFunction's role, which the templates allow)
 * and straight to DynamoDB Local, alternating rounds so both see the same machine load.
 *
 *   npx tsx bench/iam-overhead.ts [--calls 300] [--rounds 3]
 */

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { freePort } from '../local/free-port.js';
import { LocalIam } from '../local/iam/authorizer.js';
import { credentialsForRole, functionRoleName } from '../local/iam/credentials.js';
import { startDynamoDbFront } from '../local/iam/dynamodb-front.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, startLocalStack } from '../local/stack.js';

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '300' }, rounds: { type: 'string', default: '3' } },
});
const calls = Number(values.calls);
const rounds = Number(values.rounds);

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const stack = await startLocalStack({
  restPort: 0,
  webSocketPort: 0,
  dynamoDbPort: await freePort(),
  parameters: { LogLevel: 'ERROR' },
});
const table = stack.tableNames.MessagesTable ?? '';
const actions = stack.model.functions.find((fn) => fn.logicalId === 'WebSocketActionsFunction')?.name ?? '';
const credentials = credentialsForRole(functionRoleName(actions));
const throughFront = new DynamoDBClient({ endpoint: stack.urls.dynamoDb, region: LOCAL_REGION, credentials });
const direct = new DynamoDBClient({ endpoint: stack.dynamoDb.endpoint, region: LOCAL_REGION, credentials });
// The same front with IAM off: what the extra HTTP hop costs without parsing or deciding anything.
const passThrough = await startDynamoDbFront({
  host: '127.0.0.1',
  port: 0,
  upstream: stack.dynamoDb.endpoint,
  iam: new LocalIam({ model: stack.iam.model, mode: 'off', accountId: LOCAL_ACCOUNT }),
  region: LOCAL_REGION,
  accountId: LOCAL_ACCOUNT,
});
const throughHop = new DynamoDBClient({ endpoint: passThrough.url, region: LOCAL_REGION, credentials });

type Op = 'PutItem' | 'GetItem' | 'Query';
const send = (client: DynamoDBClient, op: Op, i: number) => {
  const key = { room: { S: 'overhead' }, sk: { S: `item-${i % 50}` } };
  if (op === 'PutItem')
    return client.send(new PutItemCommand({ TableName: table, Item: { ...key, body: { S: 'x'.repeat(200) } } }));
  if (op === 'GetItem') return client.send(new GetItemCommand({ TableName: table, Key: key }));
  return client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'room = :r',
      ExpressionAttributeValues: { ':r': { S: 'overhead' } },
      Limit: 10,
    }),
  );
};

const timings: Record<string, number[]> = {};
const run = async (label: string, client: DynamoDBClient) => {
  for (const op of ['PutItem', 'GetItem', 'Query'] as const) {
    const started = performance.now();
    for (let i = 0; i < calls; i++) await send(client, op, i);
    const perCall = (performance.now() - started) / calls;
    const key = `${label} ${op}`;
    timings[key] = [...(timings[key] ?? []), perCall];
  }
};

await run('warm-up front', throughFront);
await run('warm-up direct', direct);
await run('warm-up hop', throughHop);
for (let round = 0; round < rounds; round++) {
  await run('front', throughFront);
  await run('hop', throughHop);
  await run('direct', direct);
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? 0;
console.log(`${calls} sequential calls per operation, ${rounds} rounds, median ms per call:`);
for (const op of ['PutItem', 'GetItem', 'Query']) {
  const front = median(timings[`front ${op}`] ?? []);
  const hop = median(timings[`hop ${op}`] ?? []);
  const plain = median(timings[`direct ${op}`] ?? []);
  console.log(
    `  ${op.padEnd(8)} enforcing front ${front.toFixed(2)}  front with IAM off ${hop.toFixed(2)}  ` +
      `DynamoDB Local ${plain.toFixed(2)}  overhead ${(front - plain).toFixed(2)} ms`,
  );
}
throughFront.destroy();
throughHop.destroy();
direct.destroy();
await passThrough.close();
await stack.close();
