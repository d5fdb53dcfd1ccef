import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { RoomRole } from '#core/domain/room';
import type { RoomBan, RoomMember, RoomStore } from '#core/ports';
import { batchWrite } from './batch-write.js';
import { queryAll } from './query-all.js';
import { transactWrite } from './transact-write.js';

/*
 * The Rooms table: one partition per created room (`room`), holding
 *   sk = meta             visibility, title, createdBy, createdAt
 *   sk = member#<userId>  role, invitedBy, since (+ memberId, the member index's key, and the room's
 *                         visibility and title, so "my rooms" needs no second read)
 *   sk = ban#<userId>     bannedBy, expiresAt (TTL cleans up; reads check it because TTL lags)
 * Every read is a GetItem, a BatchGetItem or a Query on the partition or on member-index.
 */

const META = 'meta';
const memberKey = (room: string, userId: string) => ({ room, sk: `member#${userId}` });
const banKey = (room: string, userId: string) => ({ room, sk: `ban#${userId}` });
export const MEMBER_INDEX = 'member-index';

function toMember(item: Record<string, unknown>): RoomMember {
  return {
    room: String(item.room),
    userId: String(item.memberId),
    role: item.role as RoomRole,
    ...(typeof item.invitedBy === 'string' ? { invitedBy: item.invitedBy } : {}),
    since: String(item.since),
    visibility: item.visibility === 'private' ? 'private' : 'public',
    ...(typeof item.title === 'string' ? { title: item.title } : {}),
  };
}

function memberItem(member: RoomMember) {
  return {
    ...memberKey(member.room, member.userId),
    memberId: member.userId,
    role: member.role,
    since: member.since,
    visibility: member.visibility,
    ...(member.invitedBy !== undefined ? { invitedBy: member.invitedBy } : {}),
    ...(member.title !== undefined ? { title: member.title } : {}),
  };
}

function toBan(item: Record<string, unknown>): RoomBan {
  return {
    room: String(item.room),
    userId: String(item.userId),
    bannedBy: String(item.bannedBy),
    ...(typeof item.expiresAt === 'number' ? { expiresAt: item.expiresAt } : {}),
  };
}

const inForce = (ban: RoomBan, nowSeconds: number) => ban.expiresAt === undefined || ban.expiresAt > nowSeconds;

/** Which actions of a cancelled transaction failed their condition; anything else is thrown. */
async function transact(
  client: DynamoDBDocumentClient,
  items: NonNullable<TransactWriteCommandInput['TransactItems']>,
): Promise<boolean[] | undefined> {
  return (await transactWrite(client, items))?.map((reason) => reason.failed);
}

export function createRoomStore(client: DynamoDBDocumentClient, tableName: string): RoomStore {
  async function roleIn(room: string, userId: string) {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: memberKey(room, userId), ConsistentRead: true }),
    );
    return Item ? (Item.role as RoomRole) : undefined;
  }

  return {
    roleIn,

    async create(meta) {
      const failed = await transact(client, [
        {
          Put: {
            TableName: tableName,
            Item: { ...meta, sk: META },
            ConditionExpression: 'attribute_not_exists(sk)',
          },
        },
        {
          Put: {
            TableName: tableName,
            Item: memberItem({
              room: meta.room,
              userId: meta.createdBy,
              role: 'owner',
              since: meta.createdAt,
              visibility: meta.visibility,
              ...(meta.title !== undefined ? { title: meta.title } : {}),
            }),
          },
        },
      ]);
      return failed === undefined;
    },

    async meta(room) {
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: { room, sk: META }, ConsistentRead: true }),
      );
      if (!Item) return undefined;
      return {
        room,
        visibility: Item.visibility === 'private' ? 'private' : 'public',
        ...(typeof Item.title === 'string' ? { title: Item.title } : {}),
        createdBy: String(Item.createdBy),
        createdAt: String(Item.createdAt),
      };
    },

    async standing(room, userId, nowSeconds) {
      const { Responses, UnprocessedKeys } = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: { Keys: [memberKey(room, userId), banKey(room, userId)], ConsistentRead: true },
          },
        }),
      );
      // A throttled key comes back unprocessed: a missing ban item would let a banned user in, so the
      // check fails (an internal error the client retries) rather than decide on half an answer.
      if ((UnprocessedKeys?.[tableName]?.Keys?.length ?? 0) > 0) {
        throw new Error(`BatchGetItem left the standing of ${userId} in ${room} unread`);
      }
      const items = Responses?.[tableName] ?? [];
      const member = items.find((item) => String(item.sk).startsWith('member#'));
      const banItem = items.find((item) => String(item.sk).startsWith('ban#'));
      const ban = banItem ? toBan(banItem) : undefined;
      return {
        ...(member ? { role: member.role as RoomRole } : {}),
        ...(ban && inForce(ban, nowSeconds) ? { ban } : {}),
      };
    },

    async addMember(member, nowSeconds) {
      const failed = await transact(client, [
        {
          ConditionCheck: {
            TableName: tableName,
            Key: { room: member.room, sk: META },
            ConditionExpression: 'attribute_exists(sk)',
          },
        },
        {
          ConditionCheck: {
            TableName: tableName,
            Key: banKey(member.room, member.userId),
            ConditionExpression: 'attribute_not_exists(sk) OR (attribute_exists(expiresAt) AND expiresAt <= :now)',
            ExpressionAttributeValues: { ':now': nowSeconds },
          },
        },
        { Put: { TableName: tableName, Item: memberItem(member), ConditionExpression: 'attribute_not_exists(sk)' } },
      ]);
      if (!failed) return 'added';
      if (failed[0]) return 'no_room';
      if (failed[1]) return 'banned';
      return 'already_member';
    },

    async setRole(room, userId, role) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: memberKey(room, userId),
            UpdateExpression: 'SET #role = :role',
            ConditionExpression: 'attribute_exists(sk)',
            ExpressionAttributeNames: { '#role': 'role' },
            ExpressionAttributeValues: { ':role': role },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },

    async removeMember(room, userId) {
      const { Attributes } = await client.send(
        new DeleteCommand({ TableName: tableName, Key: memberKey(room, userId), ReturnValues: 'ALL_OLD' }),
      );
      return Attributes !== undefined;
    },

    async ban(ban) {
      await client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: tableName, Item: { ...banKey(ban.room, ban.userId), ...ban } } },
            { Delete: { TableName: tableName, Key: memberKey(ban.room, ban.userId) } },
          ],
        }),
      );
    },

    async unban(room, userId) {
      const { Attributes } = await client.send(
        new DeleteCommand({ TableName: tableName, Key: banKey(room, userId), ReturnValues: 'ALL_OLD' }),
      );
      return Attributes !== undefined;
    },

    async members(room) {
      const items = await queryAll(client, {
        TableName: tableName,
        KeyConditionExpression: 'room = :room AND begins_with(sk, :member)',
        ExpressionAttributeValues: { ':room': room, ':member': 'member#' },
        ConsistentRead: true,
      });
      return items.map(toMember);
    },

    async remove(room) {
      const items = await queryAll(client, {
        TableName: tableName,
        KeyConditionExpression: 'room = :room',
        ExpressionAttributeValues: { ':room': room },
        ConsistentRead: true,
      });
      // The meta item goes first: once it is gone nobody can be invited back, whatever the batches do.
      const ordered = [...items].sort((a, b) => Number(b.sk === META) - Number(a.sk === META));
      await batchWrite(
        client,
        tableName,
        ordered.map((item) => ({ DeleteRequest: { Key: { room, sk: item.sk } } })),
      );
      return items.filter((item) => String(item.sk).startsWith('member#')).map(toMember);
    },

    async roomsOf(userId) {
      const items = await queryAll(client, {
        TableName: tableName,
        IndexName: MEMBER_INDEX,
        KeyConditionExpression: 'memberId = :userId',
        ExpressionAttributeValues: { ':userId': userId },
      });
      return items.map(toMember);
    },
  };
}
