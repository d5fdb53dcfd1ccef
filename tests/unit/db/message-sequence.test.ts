import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '#core/domain/message';
import { postRoomMessage } from '#core/use-cases/post-room-message';
import { createMessageStore } from '#db/messages-store';
import { createReadPositionStore } from '#db/read-positions-store';
import { createKeyedTable, useDynamoDbLocal } from '../../helpers/dynamodb-local.js';
import { fakeEvents } from '../../helpers/fakes.js';

const local = useDynamoDbLocal();
/** The Messages table's keys (the indexes are not needed here). */
const messagesTable = () => createKeyedTable(local.db.client, 'messages-seq', 'room');

/** A document client on the same DynamoDB Local whose commands are counted by name. */
function countCommands(): { client: DynamoDBDocumentClient; count: Record<string, number> } {
  const count: Record<string, number> = {};
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: local.db.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName);
      count[name] = (count[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client, count };
}

const draft = (messageId: string, userId = 'alice', room = 'general'): ChatMessage => {
  const timestamp = new Date().toISOString();
  return {
    room,
    sk: `${timestamp}#${messageId}`,
    messageId,
    userId,
    userName: userId,
    content: 'hi',
    timestamp,
    kind: 'room',
  };
};

describe('message sequence numbers', () => {
  it('numbers a partition 1, 2, 3 and keeps partitions apart', async () => {
    const store = createMessageStore(local.documents, await messagesTable());
    const seqs = [];
    for (const id of ['a', 'b', 'c']) seqs.push((await store.append(draft(id), 2e9)).message.seq);
    const other = await store.append(draft('d', 'alice', 'random'), 2e9);
    expect(seqs).toEqual([1, 2, 3]);
    expect(other.message.seq).toBe(1);
  });

  it('gives a duplicate messageId the original seq and takes no new one', async () => {
    const store = createMessageStore(local.documents, await messagesTable());
    await store.append(draft('one'), 2e9);
    const again = await store.append(draft('one'), 2e9);
    const next = await store.append(draft('two'), 2e9);
    expect(again).toMatchObject({ duplicate: true, message: { seq: 1 } });
    expect(next.message.seq).toBe(2);
  });

  it('stays gapless with concurrent senders in separate containers (stale guesses)', async () => {
    const tableName = await messagesTable();
    // One store per "Lambda environment": each keeps its own guess of the counter.
    const stores = Array.from({ length: 4 }, () => createMessageStore(local.documents, tableName));
    const results = await Promise.all(
      stores.flatMap((store, s) =>
        Array.from({ length: 10 }, (_, i) => store.append(draft(`m-${s}-${i}`, `user-${s}`), 2e9)),
      ),
    );
    const seqs = results.map((result) => result.message.seq).sort((a, b) => (a ?? 0) - (b ?? 0));
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const { Item } = await local.documents.send(
      new GetCommand({ TableName: tableName, Key: { room: 'seq#general', sk: 'seq' } }),
    );
    expect(Item?.lastSeq).toBe(40);
  });

  it('stays gapless and stores every message once under concurrent senders, retried sends and two rooms', async () => {
    const tableName = await messagesTable();
    const stores = Array.from({ length: 6 }, () => createMessageStore(local.documents, tableName));
    // Each message is sent twice at once from two environments (a client retry racing the original).
    const sends = stores.flatMap((store, s) =>
      Array.from({ length: 6 }, (_, i) => {
        const room = i % 2 === 0 ? 'general' : 'random';
        const twin = stores[(s + 1) % stores.length] ?? store;
        const message = draft(`c-${s}-${i}`, `user-${s}`, room);
        return [store.append(message, 2e9), twin.append({ ...message }, 2e9)];
      }),
    );
    const results = await Promise.all(sends.flat());
    for (const room of ['general', 'random']) {
      const firsts = results.filter((result) => !result.duplicate && result.message.room === room);
      const seqs = firsts.map((result) => result.message.seq ?? 0).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
      const { Item } = await local.documents.send(
        new GetCommand({ TableName: tableName, Key: { room: `seq#${room}`, sk: 'seq' } }),
      );
      expect(Item?.lastSeq).toBe(18);
    }
    // Every duplicate came back with its original's seq.
    const seqById = new Map(results.filter((r) => !r.duplicate).map((r) => [r.message.messageId, r.message.seq]));
    for (const result of results.filter((r) => r.duplicate)) {
      expect(result.message.seq).toBe(seqById.get(result.message.messageId));
    }
    expect(results.filter((r) => r.duplicate)).toHaveLength(36);
  });

  it('commits each message in one TransactWriteItems when senders alternate between environments', async () => {
    const tableName = await messagesTable();
    const calls = countCommands();
    const [a, b] = [createMessageStore(calls.client, tableName), createMessageStore(calls.client, tableName)];
    // A reply pattern: each message from the environment that did not send the previous one.
    for (let i = 0; i < 20; i++)
      await (i % 2 === 0 ? a : b).append(draft(`alt-${i}`, i % 2 === 0 ? 'ann' : 'ben'), 2e9);
    expect(calls.count.TransactWriteItemsCommand).toBe(20);
    // Each append read the counter first.
    expect(calls.count.GetItemCommand).toBe(20);
  });

  it('reads the counter once per message and loses no compare-and-set when another environment sent in between', async () => {
    const tableName = await messagesTable();
    const calls = countCommands();
    const store = createMessageStore(calls.client, tableName);
    for (let i = 0; i < 5; i++) await store.append(draft(`solo-${i}`), 2e9);
    // Another environment appends: this one's next append still commits at the first try.
    await createMessageStore(local.documents, tableName).append(draft('intruder', 'zed'), 2e9);
    const next = await store.append(draft('solo-after'), 2e9);
    expect(next.message.seq).toBe(7);
    expect(calls.count.TransactWriteItemsCommand).toBe(6);
    expect(calls.count.GetItemCommand).toBe(6);
  });

  it("moves the sender's read position to their own message, beside the fan-out, forward only", async () => {
    const tableName = await messagesTable();
    const messages = createMessageStore(local.documents, tableName);
    const readPositions = createReadPositionStore(local.documents, tableName);
    const deps = { messages, readPositions, events: fakeEvents(), retentionDays: 1 };
    const send = (messageId: string, userId: string) =>
      postRoomMessage({ identity: { userId, userName: userId }, room: 'general', content: 'hi', messageId }, deps);
    await send('x', 'bob');
    await send('y', 'alice');
    const unread = async (userId: string) => {
      const position = (await readPositions.positions(userId, ['general'])).get('general');
      return position && { latestSeq: position.latestSeq, readSeq: position.readSeq };
    };
    expect(await unread('bob')).toEqual({ latestSeq: 2, readSeq: 1 });
    expect(await unread('alice')).toEqual({ latestSeq: 2, readSeq: 2 });
    // A retry of bob's first message (a duplicate) writes his position again, and never moves it back.
    await send('z', 'bob');
    await send('x', 'bob');
    expect(await unread('bob')).toEqual({ latestSeq: 3, readSeq: 3 });
  });
});
