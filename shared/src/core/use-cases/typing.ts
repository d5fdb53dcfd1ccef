import type { TypingFrame } from '#protocol/server-frames';
import { ForbiddenError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import { topics } from '../domain/room.js';
import { epochSeconds } from '../domain/time.js';
import { presenceChanged } from '../events/presence-changed.js';
import type { ConversationStore, DistributionPublisher, TypingThrottle } from '../ports.js';
import type { DirectPathDeps } from './fan-out-message.js';
import { type JoinedCheckDeps, requireJoined } from './membership.js';

/** At most one typing fan-out per connection this often; clients send one about as often while typing. */
export const TYPING_INTERVAL_MS = 3_000;
/** How long a client shows "… is typing" without a fresh typing frame: the interval plus a margin. */
export const TYPING_EXPIRES_MS = 5_000;

export interface TypingInput {
  connectionId: string;
  identity: Identity;
  room?: string;
  conversationId?: string;
  nowMs?: number;
}

export interface TypingDeps extends JoinedCheckDeps {
  conversations: Pick<ConversationStore, 'participants'>;
  throttle: TypingThrottle;
  events: DistributionPublisher;
  /** Post to small rooms from here; absent (or a big room): the state machine. */
  direct?: DirectPathDeps;
}

/** Where a typing frame goes: the room, or the other participant's connections. */
async function targetOf(input: TypingInput, deps: TypingDeps): Promise<string> {
  if (input.room !== undefined) {
    await requireJoined(
      { connectionId: input.connectionId, userId: input.identity.userId },
      input.room,
      deps,
      'join the room before typing in it',
    );
    return topics.room(input.room);
  }
  const participants = await deps.conversations.participants(input.conversationId ?? '');
  const peer = participants?.find((userId) => userId !== input.identity.userId);
  if (!participants?.includes(input.identity.userId) || !peer) {
    throw new ForbiddenError('not a participant of that conversation');
  }
  return topics.user(peer);
}

/**
 * typing: ephemeral, never stored. Primary course:
 * 1. Refuse a room this connection is not in, or a conversation the user is not part of.
 * 2. Throttle: at most one fan-out per connection per TYPING_INTERVAL_MS; a throttled frame is
 *    dropped without a word (typing is a hint, and an error per keystroke would be noise).
 * 3. Post `typing` to every connection of the other members (small rooms and DMs from here);
 *    big rooms go through the state machine, where the sender's own connections get it too and
 *    clients ignore their own typing.
 * Posts that fail are not retried or recorded: the next keystroke sends a fresh one.
 */
export async function sendTyping(input: TypingInput, deps: TypingDeps): Promise<{ sent: boolean }> {
  const topic = await targetOf(input, deps);
  const nowMs = input.nowMs ?? Date.now();
  if (!(await deps.throttle.allowTyping(input.connectionId, nowMs, TYPING_INTERVAL_MS))) return { sent: false };
  const frame: TypingFrame = {
    type: 'typing',
    ...(input.room !== undefined ? { room: input.room } : { conversationId: input.conversationId }),
    userId: input.identity.userId,
    userName: input.identity.userName,
    expiresInMs: TYPING_EXPIRES_MS,
  };
  const direct = deps.direct;
  const subscribers =
    direct && direct.maxMembers > 0
      ? await direct.subscriptions.liveSubscribersUpTo(topic, epochSeconds(), direct.maxMembers).catch(() => undefined)
      : undefined;
  if (!direct || !subscribers) {
    await deps.events.distribute(presenceChanged.detailType, [{ topic, frame }]);
    return { sent: true };
  }
  const others = new Set(
    subscribers
      .filter((subscriber) => subscriber.userId !== input.identity.userId)
      .map((subscriber) => subscriber.connectionId),
  );
  await Promise.all(
    [...others].map(async (connectionId) => {
      try {
        if ((await direct.notifier.post(connectionId, frame)) === 'gone') await direct.onGone(connectionId);
      } catch {
        // A hint, not a message: nothing to retry.
      }
    }),
  );
  return { sent: true };
}
