import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChatMessage } from '#core/domain/message';
import type { MessageChangeStore, MessageVersionRecord } from '#core/ports';
import { type MessageItem, messageFromItem } from './messages-store.js';
import { queryAll } from './query-all.js';
import { transactWrite } from './transact-write.js';

/*
 * Edits and reactions live in the Messages table beside the messages, in partitions of their own
 * (as the idempotency markers do), so a room's history Query never meets them and each is read
 * with one Query, never a scan:
 * - versions#<messageId>, sk v<000001>: the text an edit replaced, who edited and when;
 * - reactions#<userId>#<room>, sk = the message's sk: that user's emojis on that message (a string
 *   set), so a history page's own reactions are one Query over the page's sort-key range.
 * The counts are a map on the message item. Neither side item has `user_id` or `pendingFor`, so
 * both stay out of the indexes; they expire with their message.
 */

interface VersionItem {
  room: string;
  sk: string;
  kind: 'messageVersion';
  messageId: string;
  version: number;
  previousText: string;
  editedBy: string;
  editedAt: string;
  expiresAt: number;
}

interface ReactionsByItem {
  room: string;
  sk: string;
  kind: 'userReactions';
  messageId: string;
  emojis?: Set<string>;
  expiresAt: number;
}

const versionsPartition = (messageId: string) => `versions#${messageId}`;
const versionSk = (version: number) => `v${String(version).padStart(6, '0')}`;
/** User ids never contain `#` (identity.ts), so the user part ends at the first one. */
const reactionsPartition = (userId: string, room: string) => `reactions#${userId}#${room}`;

const isConditionFailure = (error: unknown) => (error as Error).name === 'ConditionalCheckFailedException';

const positiveCounts = (counts: Record<string, number> | undefined): Record<string, number> =>
  Object.fromEntries(Object.entries(counts ?? {}).filter(([, count]) => count > 0));

export function createMessageChangeStore(client: DynamoDBDocumentClient, tableName: string): MessageChangeStore {
  const keyOf = (message: ChatMessage) => ({ room: message.room, sk: message.sk });

  async function readItem(message: ChatMessage): Promise<MessageItem | undefined> {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: keyOf(message), ConsistentRead: true }),
    );
    return Item as MessageItem | undefined;
  }

  async function countsOf(message: ChatMessage): Promise<Record<string, number>> {
    const { Item } = await client.send(
      new GetCommand({
        TableName: tableName,
        Key: keyOf(message),
        ConsistentRead: true,
        ProjectionExpression: 'reactions',
      }),
    );
    return positiveCounts((Item as MessageItem | undefined)?.reactions);
  }

  return {
    async edit(message, { text, editedBy, editedAt }) {
      const item = await readItem(message);
      if (!item || item.isDeleted || item.user_id !== editedBy) return undefined;
      const version = (item.editCount ?? 0) + 1;
      const versionItem: VersionItem = {
        room: versionsPartition(item.messageId),
        sk: versionSk(version),
        kind: 'messageVersion',
        messageId: item.messageId,
        version,
        previousText: item.message,
        editedBy,
        editedAt,
        expiresAt: item.expiresAt,
      };
      const cancelled = await transactWrite(client, [
        {
          Update: {
            TableName: tableName,
            Key: keyOf(message),
            UpdateExpression: 'SET message = :text, editedAt = :at, editedBy = :by, editCount = :version',
            // Only the sender, never a deleted message, and only over the text just read.
            ConditionExpression: `attribute_exists(sk) AND user_id = :by AND (attribute_not_exists(isDeleted) OR isDeleted = :false) AND ${
              version === 1 ? 'attribute_not_exists(editCount)' : 'editCount = :previous'
            }`,
            ExpressionAttributeValues: {
              ':text': text,
              ':at': editedAt,
              ':by': editedBy,
              ':version': version,
              ':false': false,
              ...(version === 1 ? {} : { ':previous': version - 1 }),
            },
          },
        },
        { Put: { TableName: tableName, Item: versionItem, ConditionExpression: 'attribute_not_exists(sk)' } },
      ]);
      if (cancelled) return undefined;
      return messageFromItem({ ...item, message: text, editedAt, editedBy, editCount: version });
    },

    async versions(messageId, nowSeconds) {
      const items = await queryAll(client, {
        TableName: tableName,
        KeyConditionExpression: 'room = :room',
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeValues: { ':room': versionsPartition(messageId), ':now': nowSeconds },
      });
      return items.map((raw): MessageVersionRecord => {
        const item = raw as unknown as VersionItem;
        return {
          version: item.version,
          previousText: item.previousText,
          editedBy: item.editedBy,
          editedAt: item.editedAt,
        };
      });
    },

    async react(message, userId, emoji, { maxDistinct, maxPerUser }) {
      const item = await readItem(message);
      if (!item || item.isDeleted) return { outcome: 'gone' };
      if (item.reactions === undefined) {
        // A nested counter needs its map to exist; made once per message, by whoever reacts first.
        await client
          .send(
            new UpdateCommand({
              TableName: tableName,
              Key: keyOf(message),
              UpdateExpression: 'SET reactions = :empty',
              ConditionExpression: 'attribute_exists(sk) AND attribute_not_exists(reactions)',
              ExpressionAttributeValues: { ':empty': {} },
            }),
          )
          .catch((error: unknown) => {
            if (!isConditionFailure(error)) throw error;
          });
      }
      const cancelled = await transactWrite(client, [
        {
          Update: {
            TableName: tableName,
            Key: { room: reactionsPartition(userId, message.room), sk: message.sk },
            UpdateExpression: 'ADD emojis :emojis SET messageId = :id, kind = :kind, expiresAt = :expires',
            ConditionExpression:
              'attribute_not_exists(emojis) OR (NOT contains(emojis, :emoji) AND size(emojis) < :maxPerUser)',
            ExpressionAttributeValues: {
              ':emojis': new Set([emoji]),
              ':emoji': emoji,
              ':id': message.messageId,
              ':kind': 'userReactions' satisfies ReactionsByItem['kind'],
              ':expires': item.expiresAt,
              ':maxPerUser': maxPerUser,
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Update: {
            TableName: tableName,
            Key: keyOf(message),
            UpdateExpression: 'SET reactions.#emoji = if_not_exists(reactions.#emoji, :zero) + :one',
            ConditionExpression:
              'attribute_exists(sk) AND (attribute_not_exists(isDeleted) OR isDeleted = :false) AND (attribute_exists(reactions.#emoji) OR size(reactions) < :maxDistinct)',
            ExpressionAttributeNames: { '#emoji': emoji },
            ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':false': false, ':maxDistinct': maxDistinct },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ]);
      if (cancelled) {
        const [mine, counted] = cancelled;
        if (mine?.failed) {
          const emojis = (mine.item as ReactionsByItem | undefined)?.emojis;
          if (emojis?.has(emoji)) return { outcome: 'done', changed: false, counts: await countsOf(message) };
          return { outcome: 'too_many_for_user' };
        }
        const stored = counted?.item as MessageItem | undefined;
        if (!stored || stored.isDeleted) return { outcome: 'gone' };
        return { outcome: 'too_many_emojis' };
      }
      return { outcome: 'done', changed: true, counts: await countsOf(message) };
    },

    async unreact(message, userId, emoji) {
      // The last reaction with an emoji removes its key (so it no longer counts against the cap);
      // which update that takes depends on the count read, so a count that moved meanwhile retries.
      for (let attempt = 0; attempt < 5; attempt++) {
        const item = await readItem(message);
        if (!item) return { outcome: 'gone' };
        const count = item.reactions?.[emoji] ?? 0;
        const lastOne = count <= 1;
        const cancelled = await transactWrite(client, [
          {
            Update: {
              TableName: tableName,
              Key: { room: reactionsPartition(userId, message.room), sk: message.sk },
              UpdateExpression: 'DELETE emojis :emojis',
              ConditionExpression: 'contains(emojis, :emoji)',
              ExpressionAttributeValues: { ':emojis': new Set([emoji]), ':emoji': emoji },
            },
          },
          {
            Update: {
              TableName: tableName,
              Key: keyOf(message),
              UpdateExpression: lastOne ? 'REMOVE reactions.#emoji' : 'SET reactions.#emoji = reactions.#emoji - :one',
              ConditionExpression: lastOne ? 'reactions.#emoji <= :one' : 'reactions.#emoji = :count',
              ExpressionAttributeNames: { '#emoji': emoji },
              ExpressionAttributeValues: lastOne ? { ':one': 1 } : { ':one': 1, ':count': count },
            },
          },
        ]);
        if (!cancelled) return { outcome: 'done', changed: true, counts: await countsOf(message) };
        const [mine] = cancelled;
        if (mine?.failed) return { outcome: 'done', changed: false, counts: positiveCounts(item.reactions) };
      }
      throw new Error('reaction count kept changing; giving up');
    },

    async reactionsBy(userId, room, { fromSk, toSk }, nowSeconds) {
      const items = await queryAll(client, {
        TableName: tableName,
        KeyConditionExpression: 'room = :room AND sk BETWEEN :from AND :to',
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeValues: {
          ':room': reactionsPartition(userId, room),
          ':from': fromSk,
          ':to': toSk,
          ':now': nowSeconds,
        },
      });
      const byMessage = new Map<string, string[]>();
      for (const raw of items) {
        const item = raw as unknown as ReactionsByItem;
        if (item.emojis && item.emojis.size > 0) byMessage.set(item.messageId, [...item.emojis].sort());
      }
      return byMessage;
    },
  };
}
