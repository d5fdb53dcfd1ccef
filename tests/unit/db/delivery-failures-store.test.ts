import type { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDeliveryFailureStore } from '../../../db/src/delivery-failures-store.js';

/** A document client that records what it is sent. */
function recordingClient() {
  const sent: PutCommand[] = [];
  const client = { send: async (command: PutCommand) => void sent.push(command) } as unknown as DynamoDBDocumentClient;
  return { client, sent };
}

describe('createDeliveryFailureStore', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stamps expiresAt with the retention it is given, not one of its own', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), toFake: ['Date'] });
    const { client, sent } = recordingClient();
    const store = createDeliveryFailureStore(client, 'failures', 3600);

    await store.record({ topic: 'room#lobby', messageId: 'm-1', connectionIds: ['c1'], error: 'boom' });

    expect(sent).toHaveLength(1);
    expect(sent[0]?.input.TableName).toBe('failures');
    expect(sent[0]?.input.Item).toMatchObject({
      topic: 'room#lobby',
      messageId: 'm-1',
      connectionIds: ['c1'],
      error: 'boom',
      at: '2026-01-01T00:00:00.000Z',
      expiresAt: Date.parse('2026-01-01T00:00:00Z') / 1000 + 3600,
    });
  });
});
