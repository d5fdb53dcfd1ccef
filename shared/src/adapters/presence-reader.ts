import type { OnlineUser } from '../domain/frames.js';
import { topics } from '../domain/room.js';
import type { PresenceReader, SubscriptionStore } from '../ports.js';

/** Who is online in a room: live subscriptions of the room topic, one entry per user. */
export function createPresenceReader(subscriptions: SubscriptionStore): PresenceReader {
  return {
    async onlineIn(room, nowSeconds) {
      const users = new Map<string, OnlineUser>();
      for (const subscription of await subscriptions.liveSubscribers(topics.room(room), nowSeconds)) {
        users.set(subscription.userId, { userId: subscription.userId, userName: subscription.userName });
      }
      return [...users.values()].sort((a, b) => a.userId.localeCompare(b.userId));
    },
  };
}
