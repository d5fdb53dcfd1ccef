/**
 * Keys of the per-user and per-room items that sequencing keeps in the Messages table, next to the
 * messages they describe. Neither has a `kind`, so the Messages stream's filters never pass them
 * on, and neither has `user_id`, so they stay out of the user-time index.
 */

/** The counter of a room or conversation partition: `lastSeq`, the seq of its newest message. */
export const sequenceKey = (partition: string) => ({ room: `seq#${partition}`, sk: 'seq' });

/** A user's read position in one partition: `readSeq`, the seq of the newest message they have read. */
export const readPositionKey = (userId: string, partition: string) => ({ room: `read#${userId}`, sk: partition });
