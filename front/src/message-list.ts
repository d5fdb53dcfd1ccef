import type { ThreadView } from '#client-core/threads';
import type { ChatItem } from '#client-core/timeline';
import { type FileActions, renderFiles } from './attachment-view.js';
import { byId, el, fill, reconcile } from './dom.js';
import { deliveryLabel, deliveryTicks, fullFormat, timeFormat } from './labels.js';
import { changesSignature, editButton, editedMark, reactionBar } from './message-changes.js';

const NEAR_TOP_PX = 80;
const NEAR_BOTTOM_PX = 48;

/**
 * The active thread's messages in their scroller: keeps the view pinned to the newest message, or
 * the first visible one in place while older pages load above it.
 */
export class MessageList {
  readonly #scroller = byId('scroller');
  readonly #messages = byId<HTMLOListElement>('messages');
  readonly #loadOlder: () => void;
  readonly #files: FileActions | undefined;
  #renderedThread = '';
  #stickToBottom = true;
  /** Where the scroller was at the last scroll event or the last render's own scroll. */
  #seenScrollTop = 0;
  /** The message whose reaction picker is open, if any. */
  #pickerFor: string | undefined;

  constructor(loadOlder: () => void, files?: FileActions) {
    this.#loadOlder = loadOlder;
    this.#files = files;
  }

  /** The scroller moved: stick to the bottom if it is there, fetch older messages near the top. */
  scrolled(): void {
    this.#seenScrollTop = this.#scroller.scrollTop;
    this.#stickToBottom = this.#distanceFromBottom() < NEAR_BOTTOM_PX;
    if (this.#scroller.scrollTop < NEAR_TOP_PX) this.#loadOlder();
  }

  /** Opens the message's reaction picker, or closes it if it was open; returns whether it is now open. */
  togglePicker(messageId: string | undefined): boolean {
    this.#pickerFor = messageId === undefined || this.#pickerFor === messageId ? undefined : messageId;
    return this.#pickerFor !== undefined;
  }

  get pickerFor(): string | undefined {
    return this.#pickerFor;
  }

  /** The next render shows the newest messages. */
  stickToBottom(stick = true): void {
    this.#stickToBottom = stick;
    this.#seenScrollTop = this.#scroller.scrollTop; // this request supersedes a scroll not yet dispatched
  }

  clear(): void {
    this.#messages.replaceChildren();
    this.#renderedThread = '';
    this.#seenScrollTop = this.#scroller.scrollTop;
  }

  render(thread: ThreadView): void {
    const switched = this.#renderedThread !== thread.key;
    // Scroll events fire once per frame: a render between the user's scroll and its event would
    // otherwise pin the view back to the bottom and swallow the scroll (and the older page it asks for).
    if (!switched && this.#scroller.scrollTop !== this.#seenScrollTop) this.scrolled();
    this.#renderHistoryStatus(thread);
    this.#renderedThread = thread.key;
    const stick = switched || this.#stickToBottom;
    // Keep the first visible message where it is, so older pages loading above do not move the text.
    const anchor = stick ? undefined : this.#firstVisibleMessage();
    const anchorOffset = anchor ? anchor.offsetTop - this.#scroller.scrollTop : 0;
    const items = thread.timeline.list();
    // Bulk changes (a whole thread, a history page) are not news: hold the live region's announcements.
    const bulk = switched || Math.abs(items.length - this.#messages.childElementCount) > 1;
    if (bulk) this.#messages.setAttribute('aria-busy', 'true');
    reconcile(
      this.#messages,
      items,
      (item) => item.id,
      (item, existing) => renderMessage(thread, item, existing, this.#pickerFor === item.id, this.#files),
    );
    if (bulk) this.#messages.setAttribute('aria-busy', 'false');
    if (stick) {
      this.#scroller.scrollTop = this.#scroller.scrollHeight;
    } else if (anchor?.isConnected) {
      this.#scroller.scrollTop = anchor.offsetTop - anchorOffset;
    }
    this.#seenScrollTop = this.#scroller.scrollTop;
    // A first page that does not fill the screen cannot be scrolled up: fetch the next one now.
    if (
      typeof thread.cursor === 'string' &&
      !thread.loading &&
      this.#scroller.scrollHeight <= this.#scroller.clientHeight + NEAR_TOP_PX
    ) {
      queueMicrotask(() => this.#loadOlder());
    }
  }

  #renderHistoryStatus(thread: ThreadView): void {
    const button = byId<HTMLButtonElement>('load-older');
    const status = byId('history-status');
    // Hidden only when there is nothing older: a keyboard user who pressed it keeps focus while it loads.
    const hadFocus = document.activeElement === button;
    button.hidden = typeof thread.cursor !== 'string';
    button.setAttribute('aria-disabled', String(thread.loading));
    if (hadFocus && button.hidden) status.focus();
    const text = thread.loading
      ? 'Loading messages…'
      : (thread.historyError ??
        (thread.cursor === null && thread.timeline.size === 0
          ? 'No messages yet. Say hello!'
          : thread.cursor === null
            ? 'This is the beginning of the conversation.'
            : ''));
    if (status.textContent !== text) status.textContent = text;
  }

  #firstVisibleMessage(): HTMLElement | undefined {
    const top = this.#scroller.scrollTop;
    for (const child of Array.from(this.#messages.children)) {
      if (child instanceof HTMLElement && child.offsetTop + child.offsetHeight > top) return child;
    }
    return undefined;
  }

  #distanceFromBottom(): number {
    return this.#scroller.scrollHeight - this.#scroller.scrollTop - this.#scroller.clientHeight;
  }
}

function renderMessage(
  thread: ThreadView,
  item: ChatItem,
  existing: HTMLElement | undefined,
  pickerOpen: boolean,
  files?: FileActions,
): HTMLElement {
  const sig = [
    item.delivery,
    item.deleted,
    item.timestamp,
    item.text,
    item.reply?.content,
    thread.kind,
    changesSignature(item, pickerOpen),
    item.attachments?.map((file) => file.attachmentId).join(','),
  ].join('|');
  // Only what the server has confirmed can be edited or reacted to.
  const canChange = item.delivery !== 'pending' && item.delivery !== 'failed';
  if (existing?.dataset.sig === sig) return existing;
  const li = existing ?? el('li');
  li.className = `message${item.mine ? ' mine' : ''}${item.deleted ? ' deleted' : ''}`;
  li.dataset.sig = sig;
  li.dataset.messageId = item.id;
  li.dataset.status = item.delivery;
  const when = new Date(item.timestamp);
  const showTicks = item.mine && (thread.kind === 'dm' || item.delivery === 'pending' || item.delivery === 'failed');
  fill(
    li,
    el(
      'p',
      { class: 'meta' },
      el('span', { class: 'sender' }, item.mine ? 'You' : item.senderName),
      ' ',
      el('time', { datetime: item.timestamp, title: fullFormat.format(when) }, timeFormat.format(when)),
      editedMark(item),
    ),
    item.reply && !item.deleted
      ? el(
          'blockquote',
          { class: 'reply' },
          item.reply.senderName ? el('span', { class: 'reply-sender' }, `${item.reply.senderName}: `) : '',
          item.reply.content ?? '',
        )
      : null,
    // textContent only: a message is text, whatever it looks like.
    el('p', { class: 'text' }, item.deleted ? 'This message was deleted.' : item.text),
    item.attachments?.length && !item.deleted && files ? renderFiles(item.attachments, files) : null,
    showTicks
      ? el(
          'span',
          { class: `ticks ${item.delivery}`, title: deliveryLabel[item.delivery] },
          el('span', { 'aria-hidden': 'true' }, deliveryTicks[item.delivery]),
          el('span', { class: 'sr-only' }, deliveryLabel[item.delivery]),
        )
      : null,
    item.delivery === 'failed'
      ? el('button', { type: 'button', class: 'link-button', 'data-action': 'retry' }, 'Retry')
      : null,
    editButton(item, canChange),
    thread.kind === 'dm' && item.mine && !item.deleted && item.delivery !== 'pending' && item.delivery !== 'failed'
      ? el(
          'button',
          { type: 'button', class: 'link-button', 'data-action': 'delete', 'aria-label': 'Delete message' },
          'Delete',
        )
      : null,
    reactionBar(item, canChange, pickerOpen),
  );
  return li;
}
