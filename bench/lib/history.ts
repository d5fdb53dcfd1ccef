import { performance } from 'node:perf_hooks';
import { BatchWriteCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { sortKeyFor } from '#core/domain/message';
import { retentionExpiry } from '#core/domain/time';
import { createMessageStore } from '#db/messages-store';
import { type LatencySummary, summarize } from './stats.js';

export interface HistoryResult {
  room: string;
  messages: number;
  writeSeconds: number;
  pageSize: number;
  pagesRead: number;
  /** Every page of one walk from newest to oldest. */
  pageMs: LatencySummary;
  /** The newest page (no cursor), read repeatedly: what a client opening the room pays. */
  firstPageMs: LatencySummary;
  /** Messages returned across the pages read, and whether any repeated or were out of order. */
  returned: number;
  repeated: number;
  outOfOrder: number;
}

/**
 * Fills `room` with `count` messages. The first goes through the message store (the real append,
 * a transaction with its idempotency marker); the rest are copies of that stored item with new
 * ids and times, written with BatchWriteItem, because history reads only the room's partition and
 * a transaction per message would take minutes on DynamoDB Local. Markers are not copied.
 */
export async function fillRoom(
  client: DynamoDBDocumentClient,
  messagesTable: string,
  room: string,
  count: number,
  concurrency = 8,
): Promise<number> {
  const started = performance.now();
  const store = createMessageStore(client, messagesTable);
  const base = Date.now() - count * 1000;
  const firstTime = new Date(base).toISOString();
  const first = await store.append(
    {
      room,
      sk: sortKeyFor(firstTime, 'hist-0'),
      messageId: 'hist-0',
      userId: 'bench-writer',
      userName: 'bench-writer',
      content: 'history message 0',
      timestamp: firstTime,
      kind: 'room',
    },
    retentionExpiry(Date.now(), 30),
  );
  const { Item: template } = await client.send(
    new GetCommand({ TableName: messagesTable, Key: { room, sk: first.message.sk } }),
  );
  if (!template) throw new Error('the first history message was not stored');
  const items = Array.from({ length: count - 1 }, (_, index) => {
    const sequence = index + 1;
    const timestamp = new Date(base + sequence * 1000).toISOString();
    const messageId = `hist-${sequence}`;
    return {
      ...template,
      sk: sortKeyFor(timestamp, messageId),
      messageId,
      timestamp,
      message: `history message ${sequence}`,
    };
  });
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const batch = items.slice(next, next + 25);
      next += 25;
      let pending = batch.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 10) throw new Error('BatchWriteItem kept items unprocessed');
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        const result = await client.send(new BatchWriteCommand({ RequestItems: { [messagesTable]: pending } }));
        pending = (result.UnprocessedItems?.[messagesTable] ?? []) as typeof pending;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - started) / 1000;
}

/**
 * Reads the room's history over REST, newest first, following `nextCursor` with `before=`, and
 * times each page. Stops after `maxPages` or at the end.
 */
export async function readHistory(
  restUrl: string,
  room: string,
  pageSize: number,
  maxPages: number,
  firstPageRepeats: number,
  userId = 'bench-reader',
): Promise<Omit<HistoryResult, 'messages' | 'writeSeconds'>> {
  const pageMs: number[] = [];
  let before: string | undefined;
  let returned = 0;
  let repeated = 0;
  let outOfOrder = 0;
  const seen = new Set<string>();
  let previous: string | undefined;
  const fetchPage = async (cursor: string | undefined) => {
    const query = new URLSearchParams({ limit: String(pageSize) });
    if (cursor) query.set('before', cursor);
    const started = performance.now();
    const response = await fetch(`${restUrl}/rooms/${encodeURIComponent(room)}/messages?${query}`, {
      headers: { 'x-user-id': userId },
    });
    const body = (await response.json()) as {
      messages?: Array<{ messageId: string; timestamp: string }>;
      nextCursor?: string;
    };
    const ms = performance.now() - started;
    if (!response.ok) throw new Error(`history page answered ${response.status}: ${JSON.stringify(body)}`);
    return { body, ms };
  };
  const firstPageMs: number[] = [];
  for (let repeat = 0; repeat < firstPageRepeats; repeat++) firstPageMs.push((await fetchPage(undefined)).ms);
  for (let page = 0; page < maxPages; page++) {
    const { body, ms } = await fetchPage(before);
    pageMs.push(ms);
    for (const message of body.messages ?? []) {
      returned++;
      if (seen.has(message.messageId)) repeated++;
      seen.add(message.messageId);
      const key = `${message.timestamp}#${message.messageId}`;
      if (previous !== undefined && key > previous) outOfOrder++;
      previous = key;
    }
    before = body.nextCursor;
    if (!before) break;
  }
  return {
    room,
    pageSize,
    pagesRead: pageMs.length,
    pageMs: summarize(pageMs),
    firstPageMs: summarize(firstPageMs),
    returned,
    repeated,
    outOfOrder,
  };
}
