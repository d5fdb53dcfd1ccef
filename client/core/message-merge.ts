import type { DirectMessage, RoomMessageFrame } from '#protocol/server-frames';

// Pure rules for one message's edits and reactions, shared by the timeline and the thread store
// (message-changes.ts applies frames and sends the user's changes).

/** What edits and reactions add to a message (ChatItem's fields of the same names). */
export interface MessageChanges {
  editedAt?: string;
  reactions?: Record<string, number>;
  myReactions?: string[];
}

type Copy = MessageChanges & { text: string };

/** The edit and reaction fields a history or live message frame carries, as item fields. */
export function changesOf(frame: RoomMessageFrame | DirectMessage): MessageChanges {
  return {
    ...(frame.editedAt ? { editedAt: frame.editedAt } : {}),
    ...(frame.reactions ? { reactions: { ...frame.reactions } } : {}),
    ...(frame.myReactions ? { myReactions: [...frame.myReactions] } : {}),
  };
}

/**
 * Merging two copies of one message (a live frame, a history page, an edit, in any order): the
 * newer edit's text wins, so a late copy of the original never undoes an edit; reaction counts
 * and the user's own reactions are server snapshots, taken whenever a copy carries them.
 */
export function mergeChanges(current: Copy, incoming: Copy): Copy {
  const keepCurrentText =
    current.editedAt !== undefined && (incoming.editedAt === undefined || incoming.editedAt < current.editedAt);
  const editedAt = keepCurrentText ? current.editedAt : (incoming.editedAt ?? current.editedAt);
  const reactions = incoming.reactions ?? current.reactions;
  const myReactions = incoming.myReactions ?? current.myReactions;
  return {
    text: keepCurrentText ? current.text : incoming.text || current.text,
    ...(editedAt ? { editedAt } : {}),
    ...(reactions ? { reactions } : {}),
    ...(myReactions ? { myReactions } : {}),
  };
}

const sameCounts = (a: Record<string, number> = {}, b: Record<string, number> = {}) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([emoji, n]) => b[emoji] === n);

export function sameChanges(a: MessageChanges, b: MessageChanges): boolean {
  return (
    a.editedAt === b.editedAt &&
    sameCounts(a.reactions, b.reactions) &&
    (a.myReactions ?? []).join('\u0000') === (b.myReactions ?? []).join('\u0000')
  );
}
