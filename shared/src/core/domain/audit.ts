/** Who may delete a message: its sender, or (room messages only) the room's owner or a moderator. */
export type DeletionRole = 'sender' | 'owner' | 'moderator';

/** One deletion in a room's audit trail: who deleted whose message, when, and in which role. */
export interface DeletionRecord {
  /** The storage partition: the room, or `dm#<conversationId>` for a direct message. */
  room: string;
  messageId: string;
  /** The message's sender. */
  senderId: string;
  deletedBy: string;
  deletedByName: string;
  role: DeletionRole;
  /** ISO time. */
  deletedAt: string;
}
