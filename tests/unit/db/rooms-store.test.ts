import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { RoomMember } from '#core/ports';
import { createRoomStore, MEMBER_INDEX } from '#db/rooms-store';
import { useDynamoDbLocal } from '../../helpers/dynamodb-local.js';

/* The Rooms store against DynamoDB Local: its conditions (room exists, ban in force, one member item). */

const local = useDynamoDbLocal();
let tables = 0;

/** The Rooms table as db/template.yaml declares it. */
async function roomsTable(): Promise<string> {
  const TableName = `rooms-${++tables}`;
  await local.db.client.send(
    new CreateTableCommand({
      TableName,
      KeySchema: [
        { AttributeName: 'room', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'room', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'memberId', AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: MEMBER_INDEX,
          KeySchema: [
            { AttributeName: 'memberId', KeyType: 'HASH' },
            { AttributeName: 'room', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return TableName;
}

const now = () => Math.floor(Date.now() / 1000);
const member = (room: string, userId: string): RoomMember => ({
  room,
  userId,
  role: 'member',
  invitedBy: 'alice',
  since: new Date().toISOString(),
  visibility: 'private',
  title: 'Secret',
});

describe('rooms store', () => {
  it('creates a room once, with its owner; the meta and the owner read back', async () => {
    const store = createRoomStore(local.documents, await roomsTable());
    const meta = {
      room: 'priv_a',
      visibility: 'private' as const,
      title: 'Secret',
      createdBy: 'alice',
      createdAt: 't',
    };
    expect(await store.create(meta)).toBe(true);
    expect(await store.create({ ...meta, createdBy: 'mallory' })).toBe(false);
    expect(await store.meta('priv_a')).toEqual(meta);
    expect(await store.roleIn('priv_a', 'alice')).toBe('owner');
    expect(await store.roleIn('priv_a', 'mallory')).toBeUndefined();
  });

  it('adds a member only to an existing room, once, and not while a ban is in force', async () => {
    const store = createRoomStore(local.documents, await roomsTable());
    expect(await store.addMember(member('priv_none', 'bob'), now())).toBe('no_room');
    await store.create({ room: 'priv_b', visibility: 'private', createdBy: 'alice', createdAt: 't' });
    expect(await store.addMember(member('priv_b', 'bob'), now())).toBe('added');
    expect(await store.addMember(member('priv_b', 'bob'), now())).toBe('already_member');

    await store.ban({ room: 'priv_b', userId: 'bob', bannedBy: 'alice', expiresAt: now() + 600 });
    expect(await store.roleIn('priv_b', 'bob')).toBeUndefined();
    expect(await store.standing('priv_b', 'bob', now())).toEqual({
      ban: { room: 'priv_b', userId: 'bob', bannedBy: 'alice', expiresAt: expect.any(Number) },
    });
    expect(await store.addMember(member('priv_b', 'bob'), now())).toBe('banned');
    // TTL has not deleted the item yet, but the ban is over: both the read and the condition say so.
    expect(await store.standing('priv_b', 'bob', now() + 601)).toEqual({});
    expect(await store.addMember(member('priv_b', 'bob'), now() + 601)).toBe('added');
  });

  it('a ban without expiry holds until lifted', async () => {
    const store = createRoomStore(local.documents, await roomsTable());
    await store.create({ room: 'pub', visibility: 'public', createdBy: 'alice', createdAt: 't' });
    await store.ban({ room: 'pub', userId: 'dave', bannedBy: 'alice' });
    expect((await store.standing('pub', 'dave', now() + 10 ** 8)).ban?.expiresAt).toBeUndefined();
    expect(await store.unban('pub', 'dave')).toBe(true);
    expect(await store.unban('pub', 'dave')).toBe(false);
    expect(await store.standing('pub', 'dave', now())).toEqual({});
  });

  it('changes roles of members only, lists members and "my rooms", and removes a room entirely', async () => {
    const store = createRoomStore(local.documents, await roomsTable());
    await store.create({ room: 'priv_c', visibility: 'private', title: 'Secret', createdBy: 'alice', createdAt: 't' });
    await store.addMember(member('priv_c', 'bob'), now());
    await store.ban({ room: 'priv_c', userId: 'mallory', bannedBy: 'alice' });
    expect(await store.setRole('priv_c', 'bob', 'moderator')).toBe(true);
    expect(await store.setRole('priv_c', 'nobody', 'owner')).toBe(false);
    expect((await store.members('priv_c')).map((entry) => `${entry.userId}:${entry.role}`).sort()).toEqual([
      'alice:owner',
      'bob:moderator',
    ]);
    expect(await store.roomsOf('bob')).toEqual([
      expect.objectContaining({ room: 'priv_c', role: 'moderator', title: 'Secret', visibility: 'private' }),
    ]);
    const removed = await store.remove('priv_c');
    expect(removed.map((entry) => entry.userId).sort()).toEqual(['alice', 'bob']);
    expect(await store.meta('priv_c')).toBeUndefined();
    expect(await store.members('priv_c')).toEqual([]);
    expect(await store.standing('priv_c', 'mallory', now())).toEqual({});
    expect(await store.addMember(member('priv_c', 'bob'), now())).toBe('no_room');
  });
});
