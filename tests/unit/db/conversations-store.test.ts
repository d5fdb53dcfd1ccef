import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '#core/domain/errors';
import { createConversationStore } from '#db/conversations-store';
import { createKeyedTable, useDynamoDbLocal } from '../../helpers/dynamodb-local.js';

/* The Conversations store against DynamoDB Local: a new conversation waits for the caller's admission. */

const local = useDynamoDbLocal();
/** The Conversations table's keys as db/template.yaml declares them. */
const conversationsTable = () => createKeyedTable(local.db.client, 'conversations', 'userId');

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
