import type { Frame } from '#protocol/server-frames';
import { forEachConcurrently } from '../concurrency.js';
import type { ConnectionNotifier, MessageStore } from '../ports.js';

export interface DeliverBatchInput {
  frame: Frame;
  connectionIds: string[];
  receipt?: { room: string; sk: string };
}

export interface DeliverBatchDeps {
  notifier: ConnectionNotifier;
  messages: Pick<MessageStore, 'advanceStatus'>;
  /** Called for each connection that answered 410: delete it, and only it. */
  onGone: (connectionId: string) => Promise<void>;
  /** Called with the connections that still failed after the SDK's retries. */
  onFailed: (connectionIds: string[]) => Promise<void>;
  concurrency: number;
}

export interface DeliverBatchResult {
  delivered: number;
  gone: number;
  failed: number;
}

/**
 * Posts one frame to a batch of connections, at most `concurrency` at a time. Exactly one post
 * per connection; a stale connection is removed and does not affect the others.
 */
export async function deliverBatch(input: DeliverBatchInput, deps: DeliverBatchDeps): Promise<DeliverBatchResult> {
  const result: DeliverBatchResult = { delivered: 0, gone: 0, failed: 0 };
  const failed: string[] = [];
  await forEachConcurrently([...new Set(input.connectionIds)], deps.concurrency, async (connectionId) => {
    const outcome = await deps.notifier.post(connectionId, input.frame);
    result[outcome]++;
    if (outcome === 'gone') await deps.onGone(connectionId);
    if (outcome === 'failed') failed.push(connectionId);
  });
  if (failed.length > 0) await deps.onFailed(failed);
  if (input.receipt && result.delivered > 0) await deps.messages.advanceStatus(input.receipt, 'delivered');
  return result;
}
