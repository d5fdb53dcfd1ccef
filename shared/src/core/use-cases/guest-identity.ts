import { presenceFrame } from '#protocol/server-frames';
import { type Identity, userIdSchema } from '../domain/identity.js';
import { roomFromTopic, topics } from '../domain/room.js';
import { epochSeconds } from '../domain/time.js';
import type { Delivery } from '../events/delivery.js';
import { presenceChanged } from '../events/presence-changed.js';
import type { ConnectionStore, DistributionPublisher, GuestIdentityStore, SubscriptionStore } from '../ports.js';

export interface FrameIdentityInput {
  connectionId: string;
  /** What the authorizer fixed at $connect. */
  identity: Identity;
  /** The authorizer marked the connection a guest: demo auth mode, and no `?userId` at connect. */
  guest: boolean;
  /** The frame's `user_id` (seed 002) or `senderId` (seed 004), if it has one. */
  claimedUserId?: unknown;
  /** Awaited before the claim is written: the frame's rate budget (router.ts). */
  admitted?: () => Promise<void>;
}

export interface FrameIdentityDeps {
  connections: Pick<ConnectionStore, 'get' | 'liveConnectionsOf'> & GuestIdentityStore;
  subscriptions: Pick<SubscriptionStore, 'topicsOf' | 'subscribe' | 'unsubscribe'>;
  events: DistributionPublisher;
}

/**
 * Who sent a frame. Everyone but a guest is who the authorizer said, and that never changes. A
 * guest connection (demo mode only: the authorizer marks it, and only with AUTH_MODE=none) takes
 * the `user_id` of its first message that names one, as seed 002's script expects. Primary course:
 * 1. Read the connection: if it was claimed already, that identity holds (a different `user_id`
 *    later gets identity_mismatch from the use case, as for anyone).
 * 2. Otherwise claim it with a conditional update, so of two racing frames only one can win; the
 *    loser reads the winner's identity.
 * 3. Move the connection's subscriptions to the new identity and tell its rooms: the guest left,
 *    the named user joined (and came online, if this is their only connection).
 */
export async function identityForFrame(input: FrameIdentityInput, deps: FrameIdentityDeps): Promise<Identity> {
  if (!input.guest) return input.identity;
  const now = epochSeconds();
  const record = await deps.connections.get(input.connectionId, now);
  if (!record) return input.identity;
  if (record.userId !== input.identity.userId) return { userId: record.userId, userName: record.userName };
  const claimed = userIdSchema.safeParse(input.claimedUserId);
  if (!claimed.success || claimed.data === record.userId) return input.identity;

  const named: Identity = { userId: claimed.data, userName: claimed.data };
  await input.admitted?.();
  const renamed = await deps.connections.claimGuest(input.connectionId, input.identity.userId, named);
  if (!renamed) {
    const winner = await deps.connections.get(input.connectionId, now);
    return winner ? { userId: winner.userId, userName: winner.userName } : input.identity;
  }

  const guestInbox = topics.user(input.identity.userId);
  const kept = (await deps.subscriptions.topicsOf(input.connectionId)).filter((topic) => topic !== guestInbox);
  const moved = [...new Set([topics.user(named.userId), ...kept])];
  await deps.subscriptions.subscribe(
    moved.map((topic) => ({
      topic,
      connectionId: input.connectionId,
      userId: named.userId,
      userName: named.userName,
      expiresAt: record.expiresAt,
    })),
  );
  await deps.subscriptions.unsubscribe(guestInbox, input.connectionId);

  const firstConnection = (await deps.connections.liveConnectionsOf(named.userId, now)).length <= 1;
  const deliveries: Delivery[] = [];
  for (const room of kept.map(roomFromTopic)) {
    if (room === undefined) continue;
    const topic = topics.room(room);
    deliveries.push({ topic, frame: presenceFrame('left', room, input.identity) });
    deliveries.push({ topic, frame: presenceFrame('offline', room, input.identity) });
    deliveries.push({ topic, frame: presenceFrame('joined', room, named) });
    if (firstConnection) deliveries.push({ topic, frame: presenceFrame('online', room, named) });
  }
  if (deliveries.length > 0) await deps.events.distribute(presenceChanged.detailType, deliveries);
  return named;
}
