import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ForbiddenError } from '#core/domain/errors';
import { type ChatMessage, derivedConversationId } from '#core/domain/message';
import type { ConversationStore, ConversationSummary } from '#core/ports';

/** Last-message previews are short; the message itself is in the Messages table. */
const PREVIEW_LENGTH = 200;

const conversationKey = (userId: string, conversationId: string) => ({ userId, sk: `conv#${conversationId}` });
const peerKey = (userId: string, peerId: string) => ({ userId, sk: `peer#${peerId}` });
const metaKey = (conversationId: string) => ({ userId: `conversation#${conversationId}`, sk: 'meta' });

interface SummaryItem {
  userId: string;
  sk: string;
  conversationId: string;
  peerId: string;
  peerName?: string;
  lastMessage?: ConversationSummary['lastMessage'];
  unreadCount?: number;
  updatedAt?: string;
  expiresAt?: number;
}

/**
 * The Conversations table. Per participant: `conv#<id>` (summary: last message, unread count) and
 * `peer#<userId>` (which conversation two users share). Per conversation: `conversation#<id>`/`meta`
 * (its two participants), which is what authorization checks.
 */
export function createConversationStore(client: DynamoDBDocumentClient, tableName: string): ConversationStore {
  async function participantsOf(conversationId: string): Promise<string[] | undefined> {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: metaKey(conversationId), ConsistentRead: true }),
    );
    return Item ? (Item.participants as string[]) : undefined;
  }

  async function existingFor(userId: string, peerId: string): Promise<string | undefined> {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: peerKey(userId, peerId), ConsistentRead: true }),
    );
    return Item ? (Item.conversationId as string) : undefined;
  }

  return {
    participants: participantsOf,

    async resolve(sender, recipient, requestedId, options) {
      const existing = await existingFor(sender.userId, recipient.userId);
      if (existing) return existing;
      await options?.beforeCreate?.();
      const conversationId = requestedId ?? derivedConversationId(sender.userId, recipient.userId);
      const now = new Date().toISOString();
      const summary = (owner: { userId: string }, peer: { userId: string; userName: string }): SummaryItem => ({
        ...conversationKey(owner.userId, conversationId),
        conversationId,
        peerId: peer.userId,
        peerName: peer.userName,
        unreadCount: 0,
        updatedAt: now,
      });
      const put = (Item: object) => ({
        Put: { TableName: tableName, Item, ConditionExpression: 'attribute_not_exists(sk)' },
      });
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              put({
                ...metaKey(conversationId),
                conversationId,
                participants: [sender.userId, recipient.userId].sort(),
                createdAt: now,
              }),
              put({ ...peerKey(sender.userId, recipient.userId), conversationId }),
              put({ ...peerKey(recipient.userId, sender.userId), conversationId }),
              put(summary(sender, recipient)),
              put(summary(recipient, sender)),
            ],
          }),
        );
        return conversationId;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        // Lost a race with the other side creating the same conversation: use theirs.
        const winner = await existingFor(sender.userId, recipient.userId);
        if (winner) return winner;
        // The id is taken by another pair's conversation (this pair has none yet).
        if (await participantsOf(conversationId)) {
          throw new ForbiddenError('that conversationId belongs to another conversation');
        }
        throw error;
      }
    },

    async recordMessage(message: ChatMessage, expiresAt: number) {
      if (!message.conversationId || !message.recipientId) return;
      const lastMessage = {
        messageId: message.messageId,
        senderId: message.userId,
        content: message.content.slice(0, PREVIEW_LENGTH),
        timestamp: message.timestamp,
      };
      // An upsert: the summary may have expired with its messages while the pair mapping lives on.
      const update = (userId: string, peerId: string, peerName: string, unreadDelta: number) =>
        client
          .send(
            new UpdateCommand({
              TableName: tableName,
              Key: conversationKey(userId, message.conversationId as string),
              // Only a newer message replaces the preview; the unread count always moves.
              UpdateExpression:
                'SET lastMessage = :last, updatedAt = :at, expiresAt = :expires, conversationId = :conversation, ' +
                'peerId = :peer, peerName = if_not_exists(peerName, :peerName) ADD unreadCount :delta',
              ConditionExpression: 'attribute_not_exists(updatedAt) OR updatedAt <= :at',
              ExpressionAttributeValues: {
                ':last': lastMessage,
                ':at': message.timestamp,
                ':expires': expiresAt,
                ':conversation': message.conversationId,
                ':peer': peerId,
                ':peerName': peerName,
                ':delta': unreadDelta,
              },
            }),
          )
          .catch((error: Error) => {
            if (error.name !== 'ConditionalCheckFailedException') throw error;
          });
      await Promise.all([
        update(message.userId, message.recipientId, message.recipientId, 0),
        update(message.recipientId, message.userId, message.userName, 1),
      ]);
    },

    async redactPreview(participants, conversationId, messageId) {
      await Promise.all(
        participants.map((userId) =>
          client
            .send(
              new UpdateCommand({
                TableName: tableName,
                Key: conversationKey(userId, conversationId),
                UpdateExpression: 'SET lastMessage.content = :empty, lastMessage.isDeleted = :true',
                ConditionExpression: 'lastMessage.messageId = :id',
                ExpressionAttributeValues: { ':empty': '', ':true': true, ':id': messageId },
              }),
            )
            .catch((error: Error) => {
              if (error.name !== 'ConditionalCheckFailedException') throw error;
            }),
        ),
      );
    },

    async revisePreview(participants, conversationId, messageId, content) {
      await Promise.all(
        participants.map((userId) =>
          client
            .send(
              new UpdateCommand({
                TableName: tableName,
                Key: conversationKey(userId, conversationId),
                UpdateExpression: 'SET lastMessage.content = :content',
                ConditionExpression: 'lastMessage.messageId = :id',
                ExpressionAttributeValues: { ':content': content, ':id': messageId },
              }),
            )
            .catch((error: Error) => {
              if (error.name !== 'ConditionalCheckFailedException') throw error;
            }),
        ),
      );
    },

    async markRead(userId, conversationId, count) {
      if (count <= 0) return;
      await client
        .send(
          new UpdateCommand({
            TableName: tableName,
            Key: conversationKey(userId, conversationId),
            UpdateExpression: 'SET unreadCount = if_not_exists(unreadCount, :zero) - :count',
            ConditionExpression: 'unreadCount >= :count',
            ExpressionAttributeValues: { ':count': count, ':zero': 0 },
          }),
        )
        .catch(async (error: Error) => {
          if (error.name !== 'ConditionalCheckFailedException') throw error;
          // The count drifted below what was read (e.g. a retried read): never let it go negative.
          await client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: conversationKey(userId, conversationId),
              UpdateExpression: 'SET unreadCount = :zero',
              ExpressionAttributeValues: { ':zero': 0 },
            }),
          );
        });
    },

    async list(userId, nowSeconds) {
      const summaries: ConversationSummary[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'userId = :userId AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':userId': userId, ':prefix': 'conv#' },
            ExclusiveStartKey,
          }),
        );
        for (const raw of page.Items ?? []) {
          const item = raw as SummaryItem;
          // TTL deletion lags: a summary whose messages expired is gone already.
          if (item.expiresAt !== undefined && item.expiresAt <= nowSeconds) continue;
          summaries.push({
            conversationId: item.conversationId,
            peerId: item.peerId,
            peerName: item.peerName ?? item.peerId,
            unreadCount: Math.max(0, item.unreadCount ?? 0),
            ...(item.lastMessage ? { lastMessage: item.lastMessage } : {}),
            updatedAt: item.updatedAt ?? '',
          });
        }
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return summaries.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    },
  };
}
