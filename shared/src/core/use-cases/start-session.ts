import {
  directMessageFrame,
  ONLINE_LIST_LIMIT,
  type OnlineUser,
  presenceFrame,
  type WelcomeFrame,
} from '#protocol/server-frames';
import { topics } from '../domain/room.js';
import { epochSeconds } from '../domain/time.js';
import type { ConnectionOpenedDetail } from '../events/connection-opened.js';
import type { Delivery } from '../events/delivery.js';
import { presenceChanged } from '../events/presence-changed.js';
import type {
  ConnectionNotifier,
  ConnectionStore,
  DistributionPublisher,
  MessageStore,
  PostOutcome,
  PresenceReader,
  ReadPositionStore,
} from '../ports.js';
import { roomUnread } from './read-positions.js';

export interface StartSessionDeps {
  connections: ConnectionStore;
  messages: MessageStore;
  notifier: ConnectionNotifier;
  presence: PresenceReader;
  events: DistributionPublisher;
  /** The rooms' unread counts for the welcome; absent: the welcome carries none. */
  readPositions?: Pick<ReadPositionStore, 'positions'>;
  /** Waits between attempts while API Gateway finishes opening the connection. */
  sleep?: (ms: number) => Promise<void>;
}

export interface SessionStartResult {
  welcomed: boolean;
  pendingDelivered: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * After $connect. Primary course:
 * 1. Send the welcome frame: identity, rooms and who is online in them (at most ONLINE_LIST_LIMIT each).
 * 2. Deliver every pending direct message, oldest first, then mark each delivered.
 * 3. Tell the rooms the user joined, and came online if this is their only live connection.
 * The connection may still be opening when this runs, so a 410 is retried briefly before the
 * connection is treated as gone.
 */
export async function startSession(
  detail: ConnectionOpenedDetail,
  deps: StartSessionDeps,
): Promise<SessionStartResult> {
  const sleep = deps.sleep ?? defaultSleep;
  const now = epochSeconds();
  const user: OnlineUser = { userId: detail.userId, userName: detail.userName };
  const readPositions = deps.readPositions;
  const [samples, pending, unread] = await Promise.all([
    Promise.all(detail.rooms.map((room) => deps.presence.sampleOnlineIn(room, now, ONLINE_LIST_LIMIT))),
    deps.messages.pendingFor(detail.userId, now),
    readPositions ? roomUnread(detail.userId, detail.rooms, { readPositions }) : undefined,
  ]);
  const truncated = detail.rooms.filter((_room, index) => samples[index]?.truncated);
  const welcome: WelcomeFrame = {
    type: 'welcome',
    connectionId: detail.connectionId,
    user,
    rooms: detail.rooms,
    online: Object.fromEntries(detail.rooms.map((room, index) => [room, samples[index]?.users ?? []])),
    ...(truncated.length > 0
      ? { onlineTruncated: Object.fromEntries(truncated.map((room) => [room, true as const])) }
      : {}),
    pending: pending.length,
    ...(unread ? { unread } : {}),
  };

  let outcome: PostOutcome = await deps.notifier.post(detail.connectionId, welcome);
  for (let attempt = 1; outcome === 'gone' && attempt <= 3; attempt++) {
    await sleep(100 * 2 ** attempt);
    if (!(await deps.connections.get(detail.connectionId, epochSeconds()))) break;
    outcome = await deps.notifier.post(detail.connectionId, welcome);
  }
  if (outcome !== 'delivered') return { welcomed: false, pendingDelivered: 0 };

  let pendingDelivered = 0;
  for (const message of pending) {
    if ((await deps.notifier.post(detail.connectionId, directMessageFrame(message, 'delivered'))) !== 'delivered')
      break;
    await deps.messages.advanceStatus({ room: message.room, sk: message.sk }, 'delivered');
    pendingDelivered++;
  }

  const firstConnection = (await deps.connections.liveConnectionsOf(detail.userId, epochSeconds())).length <= 1;
  const deliveries: Delivery[] = [];
  for (const room of detail.rooms) {
    deliveries.push({ topic: topics.room(room), frame: presenceFrame('joined', room, user) });
    if (firstConnection) deliveries.push({ topic: topics.room(room), frame: presenceFrame('online', room, user) });
  }
  await deps.events.distribute(presenceChanged.detailType, deliveries);
  return { welcomed: true, pendingDelivered };
}
