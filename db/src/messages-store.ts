import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AttachmentRef } from '#core/domain/attachment';
import { decodeCursor, encodeCursor } from '#core/domain/cursor';
import { ConflictError, ValidationError } from '#core/domain/errors';
import { type ChatMessage, type DeliveryStatus, statusesBefore } from '#core/domain/message';
import type { HistoryPage, MessageStore } from '#core/ports';
import { queryAll } from './query-all.js';
import { sequenceKey } from './sequence-keys.js';

/** Senders racing for one room's next seq: each lost race costs one attempt, so this bounds k concurrent senders at ~k. */
const MAX_SEQUENCE_ATTEMPTS = 50;

/** The counter's value in a cancellation reason (raw AttributeValues: the document client leaves errors alone). */
function lastSeqOf(item: Record<string, unknown> | undefined): number | undefined {
  const value = item?.lastSeq as { N?: string } | number | undefined;
  if (typeof value === 'number') return value;
  if (value && typeof value.N === 'string') return Number(value.N);
  return undefined;
}

/** DynamoDB's TransactionConflict (another transaction on the counter in flight): back off a little, with jitter. */
const pause = (attempt: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 5 * 2 ** attempt)));

/** Seed 002's attribute names (`user_id`, `message`) so its AWS CLI queries work unchanged. */
export interface MessageItem {
  room: string;
  sk: string;
  messageId: string;
  user_id: string;
  userName: string;
  message: string;
  timestamp: string;
  kind: 'room' | 'direct';
  expiresAt: number;
  conversationId?: string;
  recipientId?: string;
  status?: DeliveryStatus;
  /** Set only while a direct message awaits delivery: the sparse pending-index. */
  pendingFor?: string;
  isDeleted?: boolean;
  replyToMessageId?: string;
  replyToContent?: string;
  replyToSenderName?: string;
  seq?: number;
  /** Written by message-changes-store.ts. */
  editedAt?: string;
  editedBy?: string;
  editCount?: number;
  reactions?: Record<string, number>;
  attachments?: AttachmentRef[];
}

/**
 * Idempotency marker: one per messageId, pointing at the message it belongs to. It names its
 * owner `ownerId`, not `user_id`, so it stays out of the user-time index.
 */
interface MarkerItem {
  room: string;
  sk: 'msgid';
  messageId: string;
  ownerId: string;
  target: { room: string; sk: string };
  expiresAt: number;
}

const markerKey = (messageId: string) => ({ room: `msgid#${messageId}`, sk: 'msgid' as const });

/** The item a message is stored as; the Messages stream's parser (workflows/) reads it back. */
export function messageToItem(message: ChatMessage, expiresAt: number): MessageItem {
  return {
    room: message.room,
    sk: message.sk,
    messageId: message.messageId,
    user_id: message.userId,
    userName: message.userName,
    message: message.content,
    timestamp: message.timestamp,
    kind: message.kind,
    expiresAt,
    conversationId: message.conversationId,
    recipientId: message.recipientId,
    status: message.status,
    pendingFor: message.kind === 'direct' && message.status === 'sent' ? message.recipientId : undefined,
    isDeleted: message.isDeleted,
    replyToMessageId: message.reply?.replyToMessageId,
    replyToContent: message.reply?.replyToContent,
    replyToSenderName: message.reply?.replyToSenderName,
    seq: message.seq,
    attachments: message.attachments?.length ? message.attachments : undefined,
  };
}

/** Maps a stored item back to the domain type. */
export function messageFromItem(raw: Record<string, unknown>): ChatMessage {
  const item = raw as unknown as MessageItem;
  const message: ChatMessage = {
    room: item.room,
    sk: item.sk,
    messageId: item.messageId,
    userId: item.user_id,
    userName: item.userName,
    content: item.message,
    timestamp: item.timestamp,
    kind: item.kind,
  };
  if (item.conversationId !== undefined) message.conversationId = item.conversationId;
  if (item.recipientId !== undefined) message.recipientId = item.recipientId;
  if (item.status !== undefined) message.status = item.status;
  if (item.isDeleted) message.isDeleted = true;
  if (item.replyToMessageId !== undefined) {
    message.reply = {
      replyToMessageId: item.replyToMessageId,
      replyToContent: item.replyToContent,
      replyToSenderName: item.replyToSenderName,
    };
  }
  if (typeof item.seq === 'number') message.seq = item.seq;
  if (item.editedAt !== undefined) message.editedAt = item.editedAt;
  if (item.editedBy !== undefined) message.editedBy = item.editedBy;
  const reactions = Object.entries(item.reactions ?? {}).filter(([, count]) => count > 0);
  if (reactions.length > 0) message.reactions = Object.fromEntries(reactions);
  if (item.attachments?.length) message.attachments = item.attachments;
  return message;
}

/**
 * Queries until `limit` live messages are collected: a filtered page can come back short, so
 * this keeps reading. The cursor is the last returned item's key, so pages never overlap.
 */
async function collect(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit: number,
  startKey: Record<string, unknown> | undefined,
  keyOf: (item: Record<string, unknown>) => Record<string, unknown>,
): Promise<HistoryPage> {
  const messages: ChatMessage[] = [];
  let ExclusiveStartKey = startKey;
  let lastKey: Record<string, unknown> | undefined;
  for (;;) {
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey, Limit: limit - messages.length }));
    for (const item of page.Items ?? []) {
      messages.push(messageFromItem(item));
      lastKey = keyOf(item);
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
    if (!ExclusiveStartKey) return { messages };
    if (messages.length >= limit) return { messages, nextCursor: encodeCursor(lastKey) };
  }
}

/** The Messages table: room history, direct conversations, pending deliveries and receipts. */
export function createMessageStore(client: DynamoDBDocumentClient, tableName: string): MessageStore {
  const liveFilter = { FilterExpression: 'expiresAt > :now' };

  function cursorFor(
    cursor: string | undefined,
    expected: Record<string, string>,
  ): Record<string, unknown> | undefined {
    const key = decodeCursor(cursor);
    if (!key) return undefined;
    for (const [name, value] of Object.entries(expected)) {
      if (key[name] !== value)
        throw new ValidationError('cursor does not belong to this listing', [
          { path: 'before', message: 'cursor mismatch' },
        ]);
    }
    if (typeof key.sk !== 'string' || typeof key.room !== 'string') {
      throw new ValidationError('cursor is not valid', [{ path: 'before', message: 'not a cursor this API issued' }]);
    }
    return key;
  }

  async function readLastSeq(partition: string): Promise<number> {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: sequenceKey(partition), ConsistentRead: true }),
    );
    return typeof Item?.lastSeq === 'number' ? Item.lastSeq : 0;
  }

  /** The messageId is taken: the original, if this sender owns it. */
  async function duplicateOf(message: ChatMessage): Promise<{ message: ChatMessage; duplicate: boolean }> {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: markerKey(message.messageId), ConsistentRead: true }),
    );
    const existing = Item as MarkerItem | undefined;
    if (!existing || existing.ownerId !== message.userId) {
      throw new ConflictError('messageId is already used by another message');
    }
    const original = await client.send(
      new GetCommand({ TableName: tableName, Key: existing.target, ConsistentRead: true }),
    );
    if (!original.Item) throw new ConflictError('messageId is already used by another message');
    return { message: messageFromItem(original.Item), duplicate: true };
  }

  return {
    /**
     * Stores the message with the next seq of its partition, in one TransactWriteItems: the counter
     * moves from the value just read to the next one (a compare-and-set, not a lock), and
     * the marker and the message are put with that seq. All or nothing, so a seq is never taken
     * without its message (no gap, even if this function dies at any point), and a duplicate
     * messageId cancels the whole transaction (it takes no seq). A sender that lost the race to
     * another one reads the counter's current value from the cancellation and tries the next seq.
     */
    lastSeq: readLastSeq,

    async append(message, expiresAt, knownLastSeq) {
      // The counter is read first, consistently, every time. Other execution environments append to
      // the same partition without notice, so a value remembered from this environment's last append
      // is stale whenever another one sent since (a reply in a conversation, the next message landing
      // on another environment while the last one still posts): measured on the direct path, 0.71 lost
      // compare-and-sets per message trusting it always, 0.15 trusting it while it kept proving
      // current. A lost one is a cancelled TransactWriteItems, billed like a committed one (10 WRU)
      // and a round trip; the read is 1 RRU, fifty times cheaper, and the same round trip. Real races
      // (two senders at the same moment) still lose once and retry from the cancellation's value.
      let expected = knownLastSeq ?? (await readLastSeq(message.room));
      for (let attempt = 1; ; attempt++) {
        const seq = expected + 1;
        const sequenced: ChatMessage = { ...message, seq };
        const marker: MarkerItem = {
          ...markerKey(message.messageId),
          messageId: message.messageId,
          ownerId: message.userId,
          target: { room: message.room, sk: message.sk },
          expiresAt,
        };
        try {
          await client.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Update: {
                    TableName: tableName,
                    Key: sequenceKey(message.room),
                    UpdateExpression: 'SET lastSeq = :seq',
                    ConditionExpression: expected === 0 ? 'attribute_not_exists(lastSeq)' : 'lastSeq = :expected',
                    ExpressionAttributeValues:
                      expected === 0 ? { ':seq': seq } : { ':seq': seq, ':expected': expected },
                    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                  },
                },
                { Put: { TableName: tableName, Item: marker, ConditionExpression: 'attribute_not_exists(room)' } },
                {
                  Put: {
                    TableName: tableName,
                    Item: messageToItem(sequenced, expiresAt),
                    ConditionExpression: 'attribute_not_exists(sk)',
                  },
                },
              ],
            }),
          );
          return { message: sequenced, duplicate: false };
        } catch (error) {
          if (!(error instanceof TransactionCanceledException)) throw error;
          const [counter, markerReason] = error.CancellationReasons ?? [];
          if (markerReason?.Code === 'ConditionalCheckFailed') return duplicateOf(message);
          const lostRace = counter?.Code === 'ConditionalCheckFailed';
          const conflicted = (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict');
          if ((!lostRace && !conflicted) || attempt >= MAX_SEQUENCE_ATTEMPTS) throw error;
          if (conflicted) await pause(attempt);
          expected = (lostRace ? lastSeqOf(counter?.Item) : undefined) ?? (await readLastSeq(message.room));
        }
      }
    },

    history(room, { limit, cursor, nowSeconds }) {
      return collect(
        client,
        {
          TableName: tableName,
          KeyConditionExpression: 'room = :room',
          ...liveFilter,
          ExpressionAttributeValues: { ':room': room, ':now': nowSeconds },
          ScanIndexForward: false,
        },
        limit,
        cursorFor(cursor, { room }),
        (item) => ({ room: item.room, sk: item.sk }),
      );
    },

    since(room, { afterSk, limit, nowSeconds }) {
      return collect(
        client,
        {
          TableName: tableName,
          KeyConditionExpression: 'room = :room AND sk > :after',
          ...liveFilter,
          ExpressionAttributeValues: { ':room': room, ':after': afterSk, ':now': nowSeconds },
          ScanIndexForward: true,
        },
        limit,
        undefined,
        (item) => ({ room: item.room, sk: item.sk }),
      );
    },

    byUser(userId, { limit, cursor, nowSeconds }) {
      const startKey = decodeCursor(cursor);
      if (startKey && startKey.user_id !== userId) {
        throw new ValidationError('cursor does not belong to this listing', [
          { path: 'before', message: 'cursor mismatch' },
        ]);
      }
      return collect(
        client,
        {
          TableName: tableName,
          IndexName: 'user-timestamp-index',
          KeyConditionExpression: 'user_id = :userId',
          // Direct messages are private to their conversation: this listing shows room messages only.
          FilterExpression: 'expiresAt > :now AND kind = :room',
          ExpressionAttributeValues: { ':userId': userId, ':now': nowSeconds, ':room': 'room' },
          ScanIndexForward: false,
        },
        limit,
        startKey,
        (item) => ({ room: item.room, sk: item.sk, user_id: item.user_id }),
      );
    },

    async findById(messageId) {
      const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: markerKey(messageId) }));
      if (!Item) return undefined;
      const marker = Item as MarkerItem;
      const original = await client.send(new GetCommand({ TableName: tableName, Key: marker.target }));
      return original.Item ? messageFromItem(original.Item) : undefined;
    },

    async pendingFor(userId, nowSeconds) {
      const items = await queryAll(client, {
        TableName: tableName,
        IndexName: 'pending-index',
        KeyConditionExpression: 'pendingFor = :userId',
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeValues: { ':userId': userId, ':now': nowSeconds },
        ScanIndexForward: true,
      });
      return items.map(messageFromItem);
    },

    async unreadFor(room, readerId, upToSk, nowSeconds) {
      const items = await queryAll(client, {
        TableName: tableName,
        KeyConditionExpression: 'room = :room AND sk <= :upTo',
        FilterExpression: 'expiresAt > :now AND recipientId = :reader AND #status <> :read',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':room': room,
          ':upTo': upToSk,
          ':now': nowSeconds,
          ':reader': readerId,
          ':read': 'read',
        },
      });
      return items.map(messageFromItem);
    },

    async advanceStatus(key, to) {
      const earlier = statusesBefore(to);
      if (earlier.length === 0) return false;
      const values: Record<string, unknown> = { ':to': to, ':at': new Date().toISOString() };
      earlier.forEach((status, index) => {
        values[`:s${index}`] = status;
      });
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: `SET #status = :to, ${to}At = :at REMOVE pendingFor`,
            ConditionExpression: `attribute_exists(sk) AND #status IN (${earlier.map((_, index) => `:s${index}`).join(', ')})`,
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: values,
          }),
        );
        return true;
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') return false;
        throw error;
      }
    },
  };
}
