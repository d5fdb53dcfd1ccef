import type { ChatMessage } from '../domain/message.js';
import { topics } from '../domain/room.js';
import type { Delivery } from '../events/delivery.js';
import { messageStatusChanged } from '../events/message-status-changed.js';
import type { DistributionPublisher } from '../ports.js';

/**
 * What participants must hear when a stored message changes: a direct message's sender sees its
 * status move forward, and everyone who could see a message sees its deletion.
 */
export function statusDeliveries(before: ChatMessage, after: ChatMessage): Delivery[] {
  if (after.kind === 'room') {
    if (!after.isDeleted || before.isDeleted) return [];
    return [
      {
        topic: topics.room(after.room),
        frame: { type: 'deleted', data: { messageId: after.messageId, room: after.room } },
      },
    ];
  }
  if (!after.recipientId) return [];
  const reference = { messageId: after.messageId, conversationId: after.conversationId ?? '' };
  if (after.isDeleted && !before.isDeleted) {
    const frame = { type: 'deleted', data: reference };
    return [
      { topic: topics.user(after.recipientId), frame },
      { topic: topics.user(after.userId), frame },
    ];
  }
  if (after.status && after.status !== before.status) {
    return [
      { topic: topics.user(after.userId), frame: { type: 'status', data: { ...reference, status: after.status } } },
    ];
  }
  return [];
}

/** Publishes what participants must hear about a stored message's change, if anything. */
export async function announceStatusChange(
  before: ChatMessage,
  after: ChatMessage,
  deps: { events: DistributionPublisher },
): Promise<void> {
  await deps.events.distribute(messageStatusChanged.detailType, statusDeliveries(before, after));
}
