/**
 * Message ids already shown. Fan-out is at-least-once and a resume overlaps what arrived live,
 * so the same message can come twice; the oldest ids are forgotten past `capacity`.
 */
export class SeenMessages {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 5_000) {}

  /** Records the id; false if it had been seen already. */
  add(messageId: string): boolean {
    if (this.ids.has(messageId)) return false;
    this.ids.add(messageId);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
    return true;
  }

  has(messageId: string): boolean {
    return this.ids.has(messageId);
  }
}
