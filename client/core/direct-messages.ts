import type { ChatContext } from './chat-context.js';
import { newestFromPeer, type Thread } from './threads.js';

/** Direct conversations: the server's list with unread counts, and read receipts. */
export class DirectMessages {
  readonly #context: ChatContext;
  readonly #loadFirstPage: (thread: Thread) => void;
  #available = true;

  constructor(context: ChatContext, loadFirstPage: (thread: Thread) => void) {
    this.#context = context;
    this.#loadFirstPage = loadFirstPage;
  }

  async refresh(): Promise<void> {
    if (!this.#available) return;
    const { threads } = this.#context;
    try {
      const { conversations } = await this.#context.deps.rest.conversations();
      for (const summary of conversations) {
        const thread = threads.ensureDirect(summary.peerId, summary.peerName);
        thread.conversationId = summary.conversationId;
        if (summary.lastMessage) {
          thread.preview = summary.lastMessage.content;
          if (summary.lastMessage.timestamp > thread.lastActivity) thread.lastActivity = summary.lastMessage.timestamp;
        }
        const active = thread.key === this.#context.activeKey();
        thread.unread = active ? 0 : summary.unreadCount;
        if (active && thread.cursor === undefined) this.#loadFirstPage(thread);
      }
    } catch (error) {
      // A backend without direct messages answers 404: hide nothing, just stop asking.
      if ((error as { status?: number }).status === 404) this.#available = false;
    }
    this.#context.changed();
  }

  /**
   * Tells the server the peer's messages were read, once the conversation is on screen and visible,
   * and only for a message not already reported.
   */
  markRead(thread: Thread): void {
    if (thread.kind !== 'dm' || !thread.conversationId) return;
    if (thread.key !== this.#context.activeKey() || !this.#context.visible()) return;
    const newest = newestFromPeer(thread);
    thread.unread = 0;
    if (!newest || newest.delivery === 'read' || thread.readUpTo === newest.id) return;
    const sent = this.#context.send({
      action: 'markRead',
      conversationId: thread.conversationId,
      upToMessageId: newest.id,
    });
    if (!sent) return;
    thread.readUpTo = newest.id;
    for (const item of thread.timeline.list()) if (!item.mine) thread.timeline.update(item.id, { delivery: 'read' });
  }
}
