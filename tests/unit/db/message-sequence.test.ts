import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '#core/domain/message';
import { createMessageStore } from '#db/messages-store';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../helpers/dynamodb-local.js';

let db: DynamoDbLocal;
let documents: DynamoDBDocumentClient;
let tables = 0;

beforeAll(async () => {
  db = await startDynamoDbLocal();
  documents = DynamoDBDocumentClient.from(db.client);
});

afterAll(async () => {
  await db?.stop();
});

/** The Messages table's keys (the indexes are not needed here). */
async function messagesTable(): Promise<string> {
  const TableName = `messages-seq-${++tables}`;
  await db.client.send(
    new CreateTableCommand({
      TableName,
      KeySchema: [
        { AttributeName: 'room', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'room', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return TableName;
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
    const store = createMessageStore(documents, await messagesTable());
    const seqs = [];
    for (const id of ['a', 'b', 'c']) seqs.push((await store.append(draft(id), 2e9)).message.seq);
    const other = await store.append(draft('d', 'alice', 'random'), 2e9);
    expect(seqs).toEqual([1, 2, 3]);
    expect(other.message.seq).toBe(1);
  });

  it('gives a duplicate messageId the original seq and takes no new one', async () => {
    const store = createMessageStore(documents, await messagesTable());
    await store.append(draft('one'), 2e9);
    const again = await store.append(draft('one'), 2e9);
    const next = await store.append(draft('two'), 2e9);
    expect(again).toMatchObject({ duplicate: true, message: { seq: 1 } });
    expect(next.message.seq).toBe(2);
  });

  it('stays gapless with concurrent senders in separate containers (stale guesses)', async () => {
    const tableName = await messagesTable();
    // One store per "Lambda environment": each keeps its own guess of the counter.
    const stores = Array.from({ length: 4 }, () => createMessageStore(documents, tableName));
    const results = await Promise.all(
      stores.flatMap((store, s) =>
        Array.from({ length: 10 }, (_, i) => store.append(draft(`m-${s}-${i}`, `user-${s}`), 2e9)),
      ),
    );
    const seqs = results.map((result) => result.message.seq).sort((a, b) => (a ?? 0) - (b ?? 0));
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const { Item } = await documents.send(
      new GetCommand({ TableName: tableName, Key: { room: 'seq#general', sk: 'seq' } }),
    );
    expect(Item?.lastSeq).toBe(40);
  });

  it("moves the sender's read position to their own message", async () => {
    const tableName = await messagesTable();
    const store = createMessageStore(documents, tableName);
    await store.append(draft('x', 'bob'), 2e9);
    await store.append(draft('y', 'alice'), 2e9);
    const read = (userId: string) =>
      documents.send(new GetCommand({ TableName: tableName, Key: { room: `read#${userId}`, sk: 'general' } }));
    expect((await read('bob')).Item?.readSeq).toBe(1);
    expect((await read('alice')).Item?.readSeq).toBe(2);
  });
});
