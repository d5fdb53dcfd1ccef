import { forEachConcurrently } from '../concurrency.js';
import { epochSeconds } from '../domain/time.js';
import type { Delivery } from '../events/delivery.js';
import type { ConnectionNotifier, DistributionPublisher, MessageStore, SubscriptionStore } from '../ports.js';

/** What the sender's function needs to post a message itself instead of through the state machine. */
export interface DirectPathDeps {
  subscriptions: Pick<SubscriptionStore, 'liveSubscribersUpTo'>;
  notifier: ConnectionNotifier;
  messages: Pick<MessageStore, 'advanceStatus'>;
  /** A post answered 410: drop that connection (dropGoneConnection). */
  onGone: (connectionId: string) => Promise<void>;
  /** Topics with more live subscribers than this go the long way; 0 sends everything the long way. */
  maxMembers: number;
  /** Posts in flight at once. */
  concurrency: number;
}

export interface FanOutDeps {
  events: DistributionPublisher;
  /** Absent: every delivery goes through EventBridge and the state machine. */
  direct?: DirectPathDeps;
}

export interface FanOutResult {
  /** Deliveries posted by this function, entirely or in part. */
  direct: number;
  /** Deliveries (whole topics or leftover connections) handed to the state machine. */
  handedOn: number;
}

/**
 * Posts one delivery to the topic's live subscribers, if there are at most `maxMembers`.
 * Returns what is left for the state machine: nothing, the connections it could not confirm, or
 * (topic too big, or the Query failed) the whole delivery.
 */
async function postDirectly(
  delivery: Delivery,
  deps: DirectPathDeps,
  nowSeconds: number,
): Promise<{ posted: boolean; leftover?: Delivery }> {
  let subscribers: Awaited<ReturnType<DirectPathDeps['subscriptions']['liveSubscribersUpTo']>>;
  try {
    subscribers = await deps.subscriptions.liveSubscribersUpTo(delivery.topic, nowSeconds, deps.maxMembers);
  } catch {
    // The state machine reads the topic with its own retries.
    return { posted: false, leftover: delivery };
  }
  if (!subscribers) return { posted: false, leftover: delivery };

  const delivered: string[] = [];
  const unconfirmed: string[] = [];
  const connectionIds = [...new Set(subscribers.map((s) => s.connectionId))];
  await forEachConcurrently(connectionIds, deps.concurrency, async (connectionId) => {
    // Each connection settles on its own: an error here (a 410 whose cleanup failed, a notifier
    // that threw) leaves that one connection unconfirmed and the rest of the room unaffected.
    try {
      const outcome = await deps.notifier.post(connectionId, delivery.frame);
      if (outcome === 'delivered') delivered.push(connectionId);
      else if (outcome === 'gone') await deps.onGone(connectionId);
      else unconfirmed.push(connectionId);
    } catch {
      unconfirmed.push(connectionId);
    }
  });

  if (delivery.receipt && delivered.length > 0) {
    try {
      await deps.messages.advanceStatus(delivery.receipt, 'delivered');
    } catch {
      // The state machine's batch marks it once it posts; the repeat is dropped by messageId.
      unconfirmed.push(...delivered);
    }
  }
  if (unconfirmed.length === 0) return { posted: true };
  return { posted: true, leftover: { ...delivery, connectionIds: unconfirmed } };
}

/**
 * Delivers a just-stored message's frames. Primary course:
 * 1. For each delivery whose topic has at most `maxMembers` live subscribers (one Query page),
 *    post to each of them from this function: no EventBridge, no state machine on the happy path.
 * 2. A 410 drops that connection; a post still failing after the SDK's retries, or anything that
 *    throws for one connection, leaves that connection unconfirmed.
 * 3. Publish one event with what is left: whole deliveries for big topics (or when the Query
 *    failed) and, for the rest, only the unconfirmed connections. Nothing left: nothing published.
 * A retried send (`duplicate`) goes the long way for everything: the first attempt may have died
 * between posts, so which connections got it is unknown, and whatever killed it is not repeated.
 * When the publish fails this throws, the client gets no ack and resends with the same messageId.
 */
export async function fanOutMessage(
  detailType: string,
  deliveries: Delivery[],
  options: { duplicate: boolean; nowSeconds?: number },
  deps: FanOutDeps,
): Promise<FanOutResult> {
  const direct = deps.direct;
  if (!direct || direct.maxMembers <= 0 || options.duplicate) {
    await deps.events.distribute(detailType, deliveries);
    return { direct: 0, handedOn: deliveries.length };
  }
  const nowSeconds = options.nowSeconds ?? epochSeconds();
  const results = await Promise.all(deliveries.map((delivery) => postDirectly(delivery, direct, nowSeconds)));
  const leftovers = results.flatMap((result) => (result.leftover ? [result.leftover] : []));
  await deps.events.distribute(detailType, leftovers);
  return { direct: results.filter((result) => result.posted).length, handedOn: leftovers.length };
}
