import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '#core/domain/message';
import { messageToItem } from '#db/messages-store';
import { handler } from '#workflows/handlers/messages-stream';
import { messageImageSchema } from '#workflows/streams/message-record';
import { REPO_ROOT } from '../../helpers/cfn-template.js';

const roomMessage: ChatMessage = {
  room: 'general',
  sk: '2025-06-01T12:00:00.000Z#m-1',
  messageId: 'm-1',
  userId: 'alice',
  userName: 'Alice',
  content: 'hello',
  timestamp: '2025-06-01T12:00:00.000Z',
  kind: 'room',
};

const directMessage: ChatMessage = {
  room: 'dm#conv-1',
  sk: '2025-06-01T12:00:01.000Z#m-2',
  messageId: 'm-2',
  userId: 'alice',
  userName: 'Alice',
  content: 'psst',
  timestamp: '2025-06-01T12:00:01.000Z',
  kind: 'direct',
  conversationId: 'conv-1',
  recipientId: 'bob',
  status: 'delivered',
  isDeleted: true,
  reply: { replyToMessageId: 'm-0', replyToContent: 'earlier', replyToSenderName: 'Bob' },
};

/** The image the Messages stream carries for an item the store wrote, as JSON, the way Lambda passes it. */
const imageOf = (item: object): Record<string, AttributeValue> =>
  JSON.parse(JSON.stringify(marshall(item, { removeUndefinedValues: true })));

describe('the Messages stream record schema', () => {
  it.each([
    ['a room message', roomMessage],
    ['a direct message with status, deletion and reply', directMessage],
  ])('reads back %s exactly as db/ stores it', (_name, message) => {
    expect(messageImageSchema.parse(imageOf(messageToItem(message, 1_900_000_000)))).toEqual(message);
  });

  it('reads an idempotency marker as nothing to do', () => {
    const marker = { room: 'msgid#m-1', sk: 'msgid', messageId: 'm-1', ownerId: 'alice', expiresAt: 1 };
    expect(messageImageSchema.parse(imageOf(marker))).toBeUndefined();
  });

  it('reads edit versions and per-user reactions as nothing to do', () => {
    const version = {
      room: 'versions#m-1',
      sk: 'v000001',
      kind: 'messageVersion',
      messageId: 'm-1',
      previousText: 'a',
    };
    const reactions = {
      room: 'reactions#bob#lobby',
      sk: 'x',
      kind: 'userReactions',
      messageId: 'm-1',
      emojis: new Set(['👍']),
    };
    expect(messageImageSchema.parse(imageOf(version))).toBeUndefined();
    expect(messageImageSchema.parse(imageOf(reactions))).toBeUndefined();
  });

  it('refuses an item that is neither', () => {
    const { user_id: _dropped, ...broken } = messageToItem(roomMessage, 1);
    expect(messageImageSchema.safeParse(imageOf(broken)).success).toBe(false);
  });
});

describe('the Messages stream handler', () => {
  it('reports only the record that fails to parse, by its sequence number', async () => {
    const sample = JSON.parse(
      await readFile(resolve(REPO_ROOT, 'events/stream-messages-insert.json'), 'utf8'),
    ) as DynamoDBStreamEvent;
    const [marker, stored] = sample.Records as [DynamoDBRecord, DynamoDBRecord];
    // Room `general`, not `echo`: parsing succeeds and nothing is echoed, so no AWS call is made.
    const quiet: DynamoDBRecord = {
      ...stored,
      dynamodb: { ...stored.dynamodb, SequenceNumber: '200', NewImage: imageOf(messageToItem(roomMessage, 1)) },
    };
    const { user_id: _dropped, ...broken } = messageToItem(roomMessage, 1);
    const poison: DynamoDBRecord = {
      ...stored,
      dynamodb: { ...stored.dynamodb, SequenceNumber: '300', NewImage: imageOf(broken) },
    };
    const removed: DynamoDBRecord = {
      ...stored,
      eventName: 'REMOVE',
      dynamodb: {
        ...stored.dynamodb,
        SequenceNumber: '400',
        NewImage: undefined,
        OldImage: imageOf(messageToItem(roomMessage, 1)),
      },
    };
    const response = await handler({ Records: [marker, quiet, poison, removed] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '300' }] });
  });
});
