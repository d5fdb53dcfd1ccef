import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ackFrameSchema, historyFrameSchema, roomMessageFrameSchema } from '#protocol/server-frames';
import type { LocalStack, LocalStackOptions } from '../../local/stack.js';
import { freePort } from '../helpers/dynamodb-local.js';
import { type Frame, startTestStack, TestClient } from '../helpers/local-stack.js';

const ROOM = 'restart-room';
const open: Array<{ close(): Promise<void> }> = [];
const dataDirs: string[] = [];

async function started(options: LocalStackOptions): Promise<LocalStack> {
  const stack = await startTestStack(options);
  open.push(stack);
  return stack;
}

async function join(stack: LocalStack, userId: string): Promise<TestClient> {
  const client = await TestClient.join(stack, { userId, room: ROOM });
  open.unshift(client);
  return client;
}

async function roomHistory(stack: LocalStack): Promise<{ messages: Frame[]; nextCursor?: string }> {
  const response = await fetch(`${stack.urls.rest}/rooms/${ROOM}/messages?limit=100`, {
    headers: { 'x-user-id': 'restart-reader' },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { messages: Frame[]; nextCursor?: string };
}

// Each case closes its stacks before the next one takes the same ports.
afterEach(async () => {
  for (const item of open.splice(0)) await item.close().catch(() => {});
});

afterAll(async () => {
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
});

// Every port stays the same across restarts (and across the two paths below): the handlers keep
// the SDK clients they built against the first stack's endpoints, as a warm Lambda would.
let ports: Pick<
  LocalStackOptions,
  'dynamoDbPort' | 'webSocketPort' | 'eventBridgePort' | 'stepFunctionsPort' | 'restPort'
>;

beforeAll(async () => {
  ports = {
    dynamoDbPort: await freePort(),
    webSocketPort: await freePort(),
    eventBridgePort: await freePort(),
    stepFunctionsPort: await freePort(),
    restPort: await freePort(),
  };
});

// Both delivery paths: the default (a two-member room is posted by sendMessage itself) and
// DirectFanoutMaxMembers=0 (every message through EventBridge and the state machine).
describe.each<{ path: string; parameters: Record<string, string> }>([
  { path: 'direct path', parameters: {} },
  { path: 'state machine path', parameters: { DirectFanoutMaxMembers: '0' } },
])('restarting the local stack with a data directory, $path', ({ parameters }) => {
  it('keeps the history, and delivers new messages normally after the restart', async () => {
    const dir = await mkdtemp(joinPath(tmpdir(), 'switchboard-restart-'));
    dataDirs.push(dir);
    const options: LocalStackOptions = { dataDir: dir, ...ports, parameters };

    const first = await started(options);
    const writer = await join(first, 'restart-alice');
    const before: Array<{ messageId: string; timestamp: string }> = [];
    for (let index = 0; index < 20; index++) {
      const messageId = `before-${String(index).padStart(2, '0')}`;
      const ack = ackFrameSchema.parse(
        await writer.request({ action: 'sendMessage', room: ROOM, message: `before restart #${index}`, messageId }),
      );
      before.push({ messageId, timestamp: ack.timestamp });
    }
    await first.idle();
    await writer.close();
    await first.close();

    const second = await started(options);
    const kept = await roomHistory(second);
    // Newest first, all in one page.
    expect(kept.nextCursor).toBeUndefined();
    expect(kept.messages.map((frame) => frame.messageId)).toEqual(before.map((sent) => sent.messageId).reverse());
    expect(kept.messages.map((frame) => roomMessageFrameSchema.parse(frame).message)).toEqual(
      before.map((_, index) => `before restart #${index}`).reverse(),
    );
    expect(kept.messages.map((frame) => frame.timestamp)).toEqual(before.map((sent) => sent.timestamp).reverse());

    const alice = await join(second, 'restart-alice');
    const bob = await join(second, 'restart-bob');
    await second.idle();
    const fanOutBatches = () => second.functions.invocations().PostToConnectionsFunction ?? 0;
    const batchesBefore = fanOutBatches();
    const after: string[] = [];
    for (let index = 0; index < 3; index++) {
      const messageId = `after-${index}`;
      ackFrameSchema.parse(
        await alice.request({ action: 'sendMessage', room: ROOM, message: `after restart #${index}`, messageId }),
      );
      after.push(messageId);
    }
    for (const client of [alice, bob]) {
      await Promise.all(
        after.map((messageId) => client.waitFor((frame) => frame.type === 'message' && frame.messageId === messageId)),
      );
    }
    await second.idle();
    for (const client of [alice, bob]) {
      expect(client.messages(ROOM).map((frame) => frame.messageId)).toEqual(after);
    }
    // The path really was the one named: the state machine posts each message in a fan-out batch.
    const batches = fanOutBatches() - batchesBefore;
    expect(batches).toBe(parameters.DirectFanoutMaxMembers === '0' ? after.length : 0);

    // A client that last saw the final message before the restart catches up on the new ones (the
    // first page also reaches back a short window, for writes that committed late: dedup drops those).
    const last = before.at(-1);
    const catchUp = historyFrameSchema.parse(
      await bob.request(
        { action: 'resume', room: ROOM, lastTimestamp: last?.timestamp, lastMessageId: last?.messageId },
        'history',
      ),
    );
    expect(catchUp.hasMore).toBe(false);
    const seen = new Set(before.map((sent) => sent.messageId));
    expect(catchUp.messages.map((message) => message.messageId).filter((id) => !seen.has(id))).toEqual(after);

    const all = await roomHistory(second);
    expect(all.messages.map((frame) => frame.messageId)).toEqual(
      [...before.map((sent) => sent.messageId), ...after].reverse(),
    );
  }, 180_000);
});
