import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { epochSeconds } from '#core/domain/time';
import type { Delivery, DistributionDetail } from '#core/events/delivery';
import { EVENT_SOURCE } from '#core/events/source';
import type { DistributionPublisher, EventPublisher } from '#core/ports';

/** Thrown when EventBridge accepted the call but rejected the entry. */
export class PublishFailedError extends Error {
  override name = 'PublishFailedError';
}

/** Publishes Switchboard events on the bus. PutEvents can fail per entry, so that is checked too. */
export function createEventPublisher(
  client: EventBridgeClient,
  eventBusName: string,
): EventPublisher & DistributionPublisher {
  async function publish(detailType: string, detail: object): Promise<void> {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: eventBusName, Source: EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) },
        ],
      }),
    );
    const entry = result.Entries?.[0];
    if ((result.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode) {
      throw new PublishFailedError(`PutEvents rejected ${detailType}: ${entry?.ErrorCode} ${entry?.ErrorMessage}`);
    }
  }

  return {
    publish,
    async distribute(detailType: string, deliveries: Delivery[]) {
      if (deliveries.length === 0) return;
      const detail: DistributionDetail = { version: 1, now: epochSeconds(), deliveries };
      await publish(detailType, detail);
    },
  };
}
