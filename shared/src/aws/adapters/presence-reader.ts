import { topics } from '#core/domain/room';
import type { PresenceReader, Subscription, SubscriptionStore } from '#core/ports';
import type { OnlineUser } from '#protocol/server-frames';

/**
 * Extra items per page beyond the users wanted: one more user tells whether the list was cut, and
 * the rest cover users with several connections and expired items, which also count against Limit.
 */
const PAGE_SLACK = 25;

const byUserId = (a: OnlineUser, b: OnlineUser) => a.userId.localeCompare(b.userId);

function addUsers(users: Map<string, OnlineUser>, subscriptions: Iterable<Subscription>): void {
  for (const { userId, userName } of subscriptions) users.set(userId, { userId, userName });
}

/** Who is online in a room: live subscriptions of the room topic, one entry per user. */
export function createPresenceReader(subscriptions: SubscriptionStore): PresenceReader {
  return {
    async onlineIn(room, nowSeconds) {
      const users = new Map<string, OnlineUser>();
      addUsers(users, await subscriptions.liveSubscribers(topics.room(room), nowSeconds));
      return [...users.values()].sort(byUserId);
    },

    async sampleOnlineIn(room, nowSeconds, max) {
      const users = new Map<string, OnlineUser>();
      for await (const page of subscriptions.liveSubscriberPages(topics.room(room), nowSeconds, max + PAGE_SLACK)) {
        addUsers(users, page);
        if (users.size > max) break;
      }
      const sorted = [...users.values()].sort(byUserId);
      return { users: sorted.slice(0, max), truncated: sorted.length > max };
    },
  };
}
