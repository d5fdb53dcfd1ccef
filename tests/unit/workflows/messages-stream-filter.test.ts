import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import type { ChatMessage } from '#core/domain/message';
import { ECHO_BOT } from '#core/use-cases/echo-message';
import { createMessageStore } from '#db/messages-store';
import { matchesEventPattern } from '../../../local/eventbridge/pattern.js';
import { loadAllTemplates } from '../../helpers/cfn-template.js';

/** What the handler did with a record: stored an echo, or published status/deletion frames. */
const acted = vi.hoisted(() => ({ appended: 0, distributed: 0 }));

// The real handler and use cases, with the composition root's bindings replaced by recorders.
vi.mock('#workflows/composition', async () => {
  const { announceStatusChange } = await import('#core/use-cases/announce-status');
  return {
    echoMessage: async () => {
      acted.appended++;
    },
    announceStatusChange: (before: ChatMessage, after: ChatMessage) =>
      announceStatusChange(before, after, {
        events: {
          distribute: async (_detailType: string, deliveries: unknown[]) => {
            if (deliveries.length > 0) acted.distributed++;
          },
        },
      }),
  };
});

const { handler } = await import('../../../workflows/src/handlers/messages-stream.js');
const templates = await loadAllTemplates();

type Item = Record<string, unknown>;

/** The items the Messages store writes for a message: [idempotency marker, message]. */
async function storedItems(message: ChatMessage): Promise<[Item, Item]> {
  const sent: TransactWriteCommand[] = [];
  // A GetItem (the seq counter, before the first append) answers no item; the transaction is recorded.
  const client = {
    send: async (command: TransactWriteCommand) => {
      sent.push(command);
      return {};
    },
  };
  await createMessageStore(client as unknown as DynamoDBDocumentClient, 'Messages').append(message, 2_000_000_000);
  const transaction = sent.find((command) => command.input.TransactItems !== undefined);
  const [marker, item] = (transaction?.input.TransactItems ?? []).flatMap((entry) =>
    entry.Put ? [entry.Put.Item as Item] : [],
  );
  if (!marker || !item) throw new Error('append wrote no marker and message');
  return [marker, item];
}

const image = (item: Item) => marshall(item, { removeUndefinedValues: true }) as Record<string, AttributeValue>;

function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', before: Item | undefined, after: Item | undefined) {
  const keys = before ?? after ?? {};
  // A whole record, as Lambda delivers it: the handler parses every record before it acts on one.
  return {
    eventID: '1',
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/Messages/stream/2026-01-01T00:00:00.000',
    dynamodb: {
      ApproximateCreationDateTime: 1_767_225_600,
      Keys: image({ room: keys.room, sk: keys.sk }),
      SequenceNumber: '100',
      SizeBytes: 200,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      ...(after ? { NewImage: image(after) } : {}),
      ...(before ? { OldImage: image(before) } : {}),
    },
  } as DynamoDBRecord;
}

function message(overrides: Partial<ChatMessage>): ChatMessage {
  const timestamp = '2026-01-01T00:00:00.000Z';
  const messageId = overrides.messageId ?? 'm-1';
  return {
    room: 'lobby',
    sk: `${timestamp}#${messageId}`,
    messageId,
    userId: 'alice',
    userName: 'Alice',
    content: 'hi',
    timestamp,
    kind: 'room',
    ...overrides,
  };
}

const filters = () => {
  const events = templates.workflows.Resources.MessagesStreamFunction?.Properties?.Events as Record<
    string,
    { Properties: { FilterCriteria: { Filters: { Pattern: string }[] } } }
  >;
  return (events.MessagesStream?.Properties.FilterCriteria.Filters ?? []).map((f) => JSON.parse(f.Pattern));
};

/** Lambda invokes the function with a record when any filter matches it. */
const passesFilter = (streamRecord: DynamoDBRecord) => filters().some((p) => matchesEventPattern(p, streamRecord));

async function handlerActsOn(streamRecord: DynamoDBRecord): Promise<boolean> {
  acted.appended = 0;
  acted.distributed = 0;
  const response = await handler({ Records: [streamRecord] } as DynamoDBStreamEvent);
  expect(response.batchItemFailures).toEqual([]);
  return acted.appended + acted.distributed > 0;
}

describe('the Messages stream FilterCriteria', () => {
  it('has filters', () => {
    expect(filters().length).toBeGreaterThan(0);
  });

  const cases: [string, () => Promise<DynamoDBRecord>, boolean][] = [
    [
      'a new message in room echo',
      async () => record('INSERT', undefined, (await storedItems(message({ room: 'echo' })))[1]),
      true,
    ],
    [
      'the marker of a message in room echo',
      async () => record('INSERT', undefined, (await storedItems(message({ room: 'echo' })))[0]),
      false,
    ],
    [
      "the echo bot's own reply",
      async () =>
        record('INSERT', undefined, (await storedItems(message({ room: 'echo', userId: ECHO_BOT.userId })))[1]),
      false,
    ],
    [
      'a new message in another room',
      async () => record('INSERT', undefined, (await storedItems(message({})))[1]),
      false,
    ],
    ['a new direct message', async () => record('INSERT', undefined, (await storedItems(directMessage()))[1]), false],
    [
      'a direct message marked delivered',
      async () => {
        const [, sent] = await storedItems(directMessage());
        // advanceStatus sets the status and removes pendingFor.
        const { pendingFor: _pending, ...rest } = sent;
        return record('MODIFY', sent, { ...rest, status: 'delivered' });
      },
      true,
    ],
    [
      'a direct message deleted',
      async () => {
        const [, sent] = await storedItems(directMessage());
        return record('MODIFY', sent, { ...sent, isDeleted: true, message: '' });
      },
      true,
    ],
    [
      'a room message deleted',
      async () => {
        const [, stored] = await storedItems(message({}));
        return record('MODIFY', stored, { ...stored, isDeleted: true, message: '' });
      },
      true,
    ],
    [
      'a room message edited (its audience got `edited` from the editor)',
      async () => {
        const [, stored] = await storedItems(message({}));
        return record('MODIFY', stored, {
          ...stored,
          message: 'hi!',
          editedAt: '2026-01-01T00:01:00.000Z',
          editCount: 1,
        });
      },
      false,
    ],
    [
      'a room message reacted to',
      async () => {
        const [, stored] = await storedItems(message({}));
        return record('MODIFY', stored, { ...stored, reactions: { '👍': 1 } });
      },
      false,
    ],
    [
      'an edit version item',
      async () =>
        record('INSERT', undefined, {
          room: 'versions#m-1',
          sk: 'v000001',
          kind: 'messageVersion',
          messageId: 'm-1',
          version: 1,
          previousText: 'hi',
          editedBy: 'alice',
          editedAt: '2026-01-01T00:01:00.000Z',
          expiresAt: 2_000_000_000,
        }),
      false,
    ],
    [
      "a user's reactions item",
      async () =>
        record('INSERT', undefined, {
          room: 'reactions#bob#echo',
          sk: '2026-01-01T00:00:00.000Z#m-1',
          kind: 'userReactions',
          messageId: 'm-1',
          emojis: new Set(['👍']),
          expiresAt: 2_000_000_000,
        }),
      false,
    ],
    [
      'a message expiring (TTL delete)',
      async () => record('REMOVE', (await storedItems(message({ room: 'echo' })))[1], undefined),
      false,
    ],
    [
      'a marker expiring (TTL delete)',
      async () => record('REMOVE', (await storedItems(message({ room: 'echo' })))[0], undefined),
      false,
    ],
  ];

  it.each(cases)('%s: invokes the function exactly when the handler acts on it', async (_name, build, expected) => {
    const streamRecord = await build();
    expect(await handlerActsOn(streamRecord)).toBe(expected);
    expect(passesFilter(streamRecord)).toBe(expected);
  });
});

describe('the sequencing items in the Messages table', () => {
  // They have no `kind`, so no filter passes them and the handler never sees (or fails on) one.
  it.each([
    ['a seq counter created', record('INSERT', undefined, { room: 'seq#echo', sk: 'seq', lastSeq: 1 })],
    [
      'a seq counter moving',
      record('MODIFY', { room: 'seq#echo', sk: 'seq', lastSeq: 1 }, { room: 'seq#echo', sk: 'seq', lastSeq: 2 }),
    ],
    [
      'a read position moving',
      record('MODIFY', { room: 'read#alice', sk: 'echo', readSeq: 1 }, { room: 'read#alice', sk: 'echo', readSeq: 2 }),
    ],
  ])('%s: never invokes the function', (_name, streamRecord) => {
    expect(passesFilter(streamRecord)).toBe(false);
  });
});

function directMessage(): ChatMessage {
  return message({
    room: 'dm#c-1',
    kind: 'direct',
    conversationId: 'c-1',
    recipientId: 'bob',
    status: 'sent',
  });
}
