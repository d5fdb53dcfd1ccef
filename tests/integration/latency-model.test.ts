import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatencyModel } from '../../local/latency/model.js';
import type { LocalStack } from '../../local/stack.js';
import { type Frame, startTestStack, TestClient } from '../helpers/local-stack.js';

// `--latency aws` end to end: the stack's stand-ins draw each hop on the path a message really takes,
// and delivery is still exactly once. Counted draws, never timings (the machine is shared).
let stack: LocalStack;
const model = new LatencyModel({ profile: 'aws', seed: 1 });
const clients: TestClient[] = [];

async function join(userId: string, room: string): Promise<TestClient> {
  const client = await TestClient.join(stack, { userId, room });
  clients.push(client);
  return client;
}

const isMessage = (messageId: string) => (frame: Frame) => frame.type === 'message' && frame.messageId === messageId;
const draws = () => Object.fromEntries(Object.entries(model.stats()).map(([hop, stats]) => [hop, stats?.draws ?? 0]));
const delta = (before: Record<string, number>, hop: string) => (draws()[hop] ?? 0) - (before[hop] ?? 0);

beforeAll(async () => {
  stack = await startTestStack({ latency: model });
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await stack?.close();
});

describe('the latency model in the local stack', () => {
  it('exposes the model, and builds none for --latency none', () => {
    expect(stack.latency).toBe(model);
  });

  it('adds the direct path hops to a small room: API Gateway → Lambda, DynamoDB, posts, no EventBridge', async () => {
    const alice = await join('lat-alice', 'lat-direct');
    const bob = await join('lat-bob', 'lat-direct');
    await stack.idle();
    const before = draws();
    alice.send({ action: 'sendMessage', room: 'lat-direct', message: 'hi', messageId: 'lat-direct-1' });
    await bob.waitFor(isMessage('lat-direct-1'), 30_000);
    await alice.waitFor(isMessage('lat-direct-1'), 30_000);
    await stack.idle();
    expect(delta(before, 'apiGatewayInvoke')).toBe(1);
    // Rate limit, the write, the live-subscribers Query: at least three DynamoDB requests.
    expect(delta(before, 'dynamoDbRequest')).toBeGreaterThanOrEqual(3);
    expect(delta(before, 'connectionsPost')).toBeGreaterThanOrEqual(2);
    expect(delta(before, 'eventBridgeDelivery')).toBe(0);
    expect(delta(before, 'stepFunctionsStart')).toBe(0);
    expect(bob.frames.filter(isMessage('lat-direct-1'))).toHaveLength(1);
  }, 60_000);

  it('adds EventBridge, the Express start and the batch invoke when the state machine delivers', async () => {
    stack.functions.updateFunctionConfiguration('WebSocketActionsFunction', {
      environment: { DIRECT_FANOUT_MAX_MEMBERS: '0' },
    });
    const carol = await join('lat-carol', 'lat-long');
    const dave = await join('lat-dave', 'lat-long');
    await stack.idle();
    const before = draws();
    carol.send({ action: 'sendMessage', room: 'lat-long', message: 'hi', messageId: 'lat-long-1' });
    await dave.waitFor(isMessage('lat-long-1'), 30_000);
    await stack.idle();
    expect(delta(before, 'eventBridgeDelivery')).toBeGreaterThanOrEqual(1);
    expect(delta(before, 'stepFunctionsStart')).toBeGreaterThanOrEqual(1);
    expect(delta(before, 'lambdaInvoke')).toBeGreaterThanOrEqual(1);
    expect(delta(before, 'connectionsPost')).toBeGreaterThanOrEqual(2);
    expect(dave.frames.filter(isMessage('lat-long-1'))).toHaveLength(1);
  }, 60_000);
});
