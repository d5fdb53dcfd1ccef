import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '#core/domain/errors';
import { createConversationStore } from '#db/conversations-store';
import { useDynamoDbLocal } from '../../helpers/dynamodb-local.js';

/* The Conversations store against DynamoDB Local: a new conversation waits for the caller's admission. */

const local = useDynamoDbLocal();
let tables = 0;

/** The Conversations table's keys as db/template.yaml declares them. */
async function conversationsTable(): Promise<string> {
  const TableName = `conversations-${++tables}`;
  await local.db.client.send(
    new CreateTableCommand({
      TableName,
      KeySchema: [
        { AttributeName: 'userId', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'userId', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return TableName;
}

const alice = { userId: 'alice', userName: 'Alice' };
const bob = { userId: 'bob', userName: 'Bob' };

describe('conversations store: resolve', () => {
  it('creates nothing when beforeCreate refuses (a rate-limited first message)', async () => {
    const store = createConversationStore(local.documents, await conversationsTable());
    await expect(
      store.resolve(alice, bob, undefined, {
        beforeCreate: () => Promise.reject(new RateLimitedError('too many frames')),
      }),
    ).rejects.toBeInstanceOf(RateLimitedError);
    expect(await store.list('alice', Math.floor(Date.now() / 1000))).toEqual([]);
  });

  it('creates once admitted, and finds the existing conversation without asking again', async () => {
    const store = createConversationStore(local.documents, await conversationsTable());
    let asked = 0;
    const beforeCreate = async () => {
      asked++;
    };
    const created = await store.resolve(alice, bob, undefined, { beforeCreate });
    expect(asked).toBe(1);
    expect(await store.participants(created)).toEqual(['alice', 'bob']);
    expect(await store.resolve(bob, alice, undefined, { beforeCreate })).toBe(created);
    expect(asked).toBe(1);
  });
});
