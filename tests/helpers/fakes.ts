import type { Delivery } from '#core/events/delivery';
import type {
  ConnectionNotifier,
  ConnectionRecord,
  ConnectionStore,
  DistributionPublisher,
  EventPublisher,
  PostOutcome,
  ReadPositionStore,
  RoomBan,
  RoomMember,
  RoomMeta,
  RoomStore,
  Subscription,
  SubscriptionStore,
} from '#core/ports';
import type { Frame } from '#protocol/server-frames';

/** In-memory ports for use-case unit tests: plain objects, no module mocking. */
export function fakeConnections(
  records: ConnectionRecord[] = [],
): ConnectionStore & { records: Map<string, ConnectionRecord> } {
  const map = new Map(records.map((record) => [record.connectionId, record]));
  return {
    records: map,
    async put(record) {
      map.set(record.connectionId, record);
    },
    async get(connectionId, nowSeconds) {
      const record = map.get(connectionId);
      return record && record.expiresAt > nowSeconds ? record : undefined;
    },
    async remove(connectionId) {
      const record = map.get(connectionId);
      map.delete(connectionId);
      return record;
    },
    async liveConnectionsOf(userId, nowSeconds) {
      return [...map.values()].filter((record) => record.userId === userId && record.expiresAt > nowSeconds);
    },
    async consumeRateToken() {
      return true;
    },
  };
}

export function fakeSubscriptions(
  initial: Subscription[] = [],
): SubscriptionStore & { items: Subscription[]; pagedReads: { pages: number; items: number } } {
  const items = [...initial];
  /** What liveSubscriberPages read: items count expired ones too, as a filtered Query does. */
  const pagedReads = { pages: 0, items: 0 };
  return {
    items,
    pagedReads,
    async subscribe(subscriptions) {
      for (const subscription of subscriptions) {
        const index = items.findIndex(
          (s) => s.topic === subscription.topic && s.connectionId === subscription.connectionId,
        );
        if (index >= 0) items.splice(index, 1);
        items.push(subscription);
      }
    },
    async unsubscribeMany(keys) {
      for (const key of keys) {
        const index = items.findIndex((s) => s.topic === key.topic && s.connectionId === key.connectionId);
        if (index >= 0) items.splice(index, 1);
      }
    },
    async unsubscribe(topic, connectionId) {
      const index = items.findIndex((s) => s.topic === topic && s.connectionId === connectionId);
      if (index >= 0) items.splice(index, 1);
      return index >= 0;
    },
    async topicsOf(connectionId) {
      return items.filter((s) => s.connectionId === connectionId).map((s) => s.topic);
    },
    async removeAllFor(connectionId) {
      const removed = items.filter((s) => s.connectionId === connectionId);
      for (const subscription of removed) items.splice(items.indexOf(subscription), 1);
      return removed;
    },
    async liveSubscribers(topic, nowSeconds) {
      return items.filter((s) => s.topic === topic && s.expiresAt > nowSeconds);
    },
    // Like the Query: the partition in sort-key order, Limit applied before the expiry filter.
    async *liveSubscriberPages(topic, nowSeconds, pageSize) {
      const partition = items
        .filter((s) => s.topic === topic)
        .sort((a, b) => (a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0));
      for (let start = 0; start < partition.length; start += pageSize) {
        const page = partition.slice(start, start + pageSize);
        pagedReads.pages++;
        pagedReads.items += page.length;
        yield page.filter((s) => s.expiresAt > nowSeconds);
      }
    },
    // One page of max + 1 items: like the Query, a full page means "maybe more" (expired ones count).
    async liveSubscribersUpTo(topic, nowSeconds, max) {
      const partition = items.filter((s) => s.topic === topic);
      pagedReads.pages++;
      pagedReads.items += Math.min(partition.length, max + 1);
      if (partition.length > max) return undefined;
      return partition.filter((s) => s.expiresAt > nowSeconds);
    },
  };
}

export function fakeEvents(): EventPublisher &
  DistributionPublisher & { published: Array<{ detailType: string; detail: object }>; deliveries: Delivery[] } {
  const published: Array<{ detailType: string; detail: object }> = [];
  const deliveries: Delivery[] = [];
  return {
    published,
    deliveries,
    async publish(detailType, detail) {
      published.push({ detailType, detail });
    },
    async distribute(detailType, list) {
      if (list.length === 0) return;
      published.push({ detailType, detail: { deliveries: list } });
      deliveries.push(...list);
    },
  };
}

export function fakeNotifier(
  outcomes: Record<string, PostOutcome> = {},
): ConnectionNotifier & { posts: Array<{ connectionId: string; frame: Frame }> } {
  const posts: Array<{ connectionId: string; frame: Frame }> = [];
  return {
    posts,
    async post(connectionId, frame) {
      posts.push({ connectionId, frame });
      return outcomes[connectionId] ?? 'delivered';
    },
  };
}

export const connection = (
  connectionId: string,
  userId: string,
  connectedAt = Date.now() - 60_000,
): ConnectionRecord => ({
  connectionId,
  userId,
  userName: userId,
  connectedAt,
  expiresAt: Math.floor(connectedAt / 1000) + 7800,
});

/** An in-memory Rooms table: metas, members and bans, with the real store's conditions. */
export function fakeRooms(): RoomStore & { metas: Map<string, RoomMeta>; memberships: RoomMember[]; bans: RoomBan[] } {
  const metas = new Map<string, RoomMeta>();
  const memberships: RoomMember[] = [];
  const bans: RoomBan[] = [];
  const member = (room: string, userId: string) =>
    memberships.find((entry) => entry.room === room && entry.userId === userId);
  const banOf = (room: string, userId: string, nowSeconds: number) =>
    bans.find(
      (entry) =>
        entry.room === room &&
        entry.userId === userId &&
        (entry.expiresAt === undefined || entry.expiresAt > nowSeconds),
    );
  const drop = <T extends { room: string; userId: string }>(list: T[], room: string, userId: string) => {
    const index = list.findIndex((entry) => entry.room === room && entry.userId === userId);
    if (index >= 0) list.splice(index, 1);
    return index >= 0;
  };
  return {
    metas,
    memberships,
    bans,
    async roleIn(room, userId) {
      return member(room, userId)?.role;
    },
    async create(meta) {
      if (metas.has(meta.room)) return false;
      metas.set(meta.room, meta);
      memberships.push({
        room: meta.room,
        userId: meta.createdBy,
        role: 'owner',
        since: meta.createdAt,
        visibility: meta.visibility,
        ...(meta.title !== undefined ? { title: meta.title } : {}),
      });
      return true;
    },
    async meta(room) {
      return metas.get(room);
    },
    async standing(room, userId, nowSeconds) {
      const role = member(room, userId)?.role;
      const ban = banOf(room, userId, nowSeconds);
      return { ...(role ? { role } : {}), ...(ban ? { ban } : {}) };
    },
    async addMember(entry, nowSeconds) {
      if (!metas.has(entry.room)) return 'no_room';
      if (banOf(entry.room, entry.userId, nowSeconds)) return 'banned';
      if (member(entry.room, entry.userId)) return 'already_member';
      memberships.push(entry);
      return 'added';
    },
    async setRole(room, userId, role) {
      const entry = member(room, userId);
      if (!entry) return false;
      entry.role = role;
      return true;
    },
    async removeMember(room, userId) {
      return drop(memberships, room, userId);
    },
    async ban(entry) {
      drop(bans, entry.room, entry.userId);
      bans.push(entry);
      drop(memberships, entry.room, entry.userId);
    },
    async unban(room, userId) {
      return drop(bans, room, userId);
    },
    async members(room) {
      return memberships.filter((entry) => entry.room === room);
    },
    async remove(room) {
      metas.delete(room);
      const removed = memberships.filter((entry) => entry.room === room);
      for (const entry of removed) drop(memberships, room, entry.userId);
      for (const entry of bans.filter((ban) => ban.room === room)) drop(bans, room, entry.userId);
      return removed;
    },
    async roomsOf(userId) {
      return memberships.filter((entry) => entry.userId === userId);
    },
  };
}

/** Read positions in memory, forward only like the store; `advanced` records each call. */
export function fakeReadPositions(): Pick<ReadPositionStore, 'advance'> & {
  positions: Map<string, number>;
  advanced: Array<{ userId: string; partition: string; seq: number }>;
} {
  const positions = new Map<string, number>();
  const advanced: Array<{ userId: string; partition: string; seq: number }> = [];
  return {
    positions,
    advanced,
    async advance(userId, partition, seq) {
      advanced.push({ userId, partition, seq });
      const key = `${userId}/${partition}`;
      positions.set(key, Math.max(positions.get(key) ?? 0, seq));
      return positions.get(key) as number;
    },
  };
}
