import type { ChatApp, Person, Thread } from './app.js';
import { byId, el, fill, reconcile } from './dom.js';
import type { ConnectionState } from './socket.js';
import type { ChatItem } from './timeline.js';

export interface ChatActions {
  selectThread(key: string): void;
  send(text: string): boolean;
  joinRoom(room: string): void;
  leaveRoom(room: string): void;
  openDirect(peerId: string, peerName?: string): void;
  loadOlder(): void;
  retry(messageId: string): void;
  deleteMessage(messageId: string): void;
  dismissError(): void;
  signOut(): void;
  /** The tab became visible again. */
  visible(): void;
}

const NEAR_TOP_PX = 80;
const NEAR_BOTTOM_PX = 48;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

const threadTitle = (thread: Thread) => (thread.kind === 'room' ? `#${thread.name}` : (thread.peerName ?? thread.name));

/** How many are online; `100+` while only part of a big room's list is known. */
const onlineCount = (people: Person[], thread: Thread) =>
  `${people.filter((person) => person.online).length}${thread.onlineTruncated ? '+' : ''}`;

const deliveryLabel: Record<ChatItem['delivery'], string> = {
  pending: 'Sending',
  failed: 'Not sent',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
};

const deliveryTicks: Record<ChatItem['delivery'], string> = {
  pending: '…',
  failed: '!',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓',
};

function connectionText(state: ConnectionState): string {
  switch (state.state) {
    case 'open':
      return 'Connected';
    case 'connecting':
      return state.attempt === 0 ? 'Connecting…' : `Reconnecting (attempt ${state.attempt + 1})…`;
    case 'waiting':
      return `Connection lost, retrying in ${Math.max(1, Math.round(state.delayMs / 1000))} s`;
    case 'offline':
      return 'Offline: waiting for the network';
    case 'stopped':
      return 'Signed out';
  }
}

/** Renders ChatApp's state into index.html's skeleton and turns DOM events into ChatActions. */
export class ChatView {
  readonly actions: ChatActions;
  readonly #app: ChatApp;
  readonly #root = byId('chat');
  readonly #scroller = byId('scroller');
  readonly #messages = byId<HTMLOListElement>('messages');
  readonly #input = byId<HTMLTextAreaElement>('composer-input');
  readonly #abort = new AbortController();
  #renderedThread = '';
  #stickToBottom = true;

  constructor(app: ChatApp, actions: ChatActions) {
    this.#app = app;
    this.actions = actions;
  }

  mount(): void {
    const signal = this.#abort.signal;
    const on = (id: string, type: string, listener: (event: Event) => void) =>
      byId(id).addEventListener(type, listener, { signal });

    on('composer', 'submit', (event) => {
      event.preventDefault();
      this.#submitComposer();
    });
    on('composer-input', 'keydown', (event) => {
      const key = event as KeyboardEvent;
      if (key.key === 'Enter' && !key.shiftKey && !key.isComposing) {
        event.preventDefault();
        this.#submitComposer();
      }
    });
    on('composer-input', 'input', () => this.#autosize());
    on('join-form', 'submit', (event) => {
      event.preventDefault();
      const input = byId<HTMLInputElement>('join-room');
      this.actions.joinRoom(input.value);
      input.value = '';
    });
    on('dm-form', 'submit', (event) => {
      event.preventDefault();
      const input = byId<HTMLInputElement>('dm-user');
      this.actions.openDirect(input.value);
      input.value = '';
      this.#closePanels();
    });
    on('load-older', 'click', () => {
      this.#stickToBottom = false;
      this.actions.loadOlder();
    });
    on('leave-room', 'click', () => {
      const thread = this.#app.activeThread;
      if (thread?.kind === 'room') this.actions.leaveRoom(thread.name);
    });
    on('error-dismiss', 'click', () => this.actions.dismissError());
    on('sign-out', 'click', () => this.actions.signOut());
    on('menu-toggle', 'click', () => this.#toggle('menu-toggle', 'nav-open'));
    on('people-toggle', 'click', () => this.#toggle('people-toggle', 'people-open'));
    on('scroller', 'scroll', () => {
      this.#stickToBottom = this.#distanceFromBottom() < NEAR_BOTTOM_PX;
      if (this.#scroller.scrollTop < NEAR_TOP_PX) this.actions.loadOlder();
    });
    // One delegated listener per list: the buttons inside are rebuilt freely.
    on('messages', 'click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
      const messageId = button?.closest<HTMLElement>('[data-message-id]')?.dataset.messageId;
      if (!button || !messageId) return;
      if (button.dataset.action === 'retry') this.actions.retry(messageId);
      if (button.dataset.action === 'delete' && window.confirm('Delete this message for everyone?')) {
        this.actions.deleteMessage(messageId);
      }
    });
    document.addEventListener(
      'visibilitychange',
      () => {
        if (document.visibilityState === 'visible') this.actions.visible();
      },
      { signal },
    );
    document.addEventListener(
      'keydown',
      (event) => {
        if (event.key === 'Escape') this.#closePanels();
      },
      { signal },
    );

    this.#root.hidden = false;
    // On a phone, focusing the composer would throw the keyboard over the messages.
    if (window.matchMedia('(min-width: 721px)').matches) this.#input.focus();
  }

  unmount(): void {
    this.#abort.abort();
    this.#root.hidden = true;
    this.#messages.replaceChildren();
    for (const id of ['room-list', 'conversation-list', 'people-list']) byId(id).replaceChildren();
    this.#renderedThread = '';
  }

  /** The next render shows the newest messages of the newly selected thread. */
  threadChanged(): void {
    this.#stickToBottom = true;
    this.#closePanels();
  }

  render(): void {
    const app = this.#app;
    const thread = app.activeThread;
    this.#renderConnection(app.connection);
    byId('me').textContent = app.me.userName;
    this.#renderThreadList('room-list', app.rooms);
    this.#renderThreadList('conversation-list', app.conversations);
    this.#renderError(app.lastError);
    const unread = [...app.threads.values()].reduce((sum, each) => sum + each.unread, 0);
    document.title = unread > 0 ? `(${unread}) Switchboard` : 'Switchboard';
    if (!thread) return;

    const title = threadTitle(thread);
    byId('thread-title').textContent = title;
    byId('thread-subtitle').textContent =
      thread.kind === 'room'
        ? `${onlineCount([...thread.people.values()], thread)} online`
        : `${thread.name} · ${app.isOnline(thread.name) ? 'online' : 'offline'}`;
    byId('leave-room').hidden = thread.kind !== 'room';
    byId('composer-label').textContent = `Message ${title}`;
    this.#input.placeholder = `Message ${title}`;
    this.#messages.setAttribute('aria-label', `Messages in ${title}`);
    this.#renderPeople(thread);
    this.#renderHistoryStatus(thread);
    this.#renderMessages(thread);
  }

  #renderConnection(state: ConnectionState): void {
    const indicator = byId('connection');
    indicator.dataset.state = state.state;
    const text = connectionText(state);
    const label = byId('connection-text');
    if (label.textContent !== text) label.textContent = text;
  }

  #renderThreadList(listId: string, threads: Thread[]): void {
    const active = this.#app.activeKey;
    reconcile(
      byId(listId),
      threads,
      (thread) => thread.key,
      (thread, existing) => {
        const item = existing ?? el('li');
        const button =
          item.querySelector('button') ??
          item.appendChild(el('button', { type: 'button', class: 'thread-button', 'data-thread': thread.key }));
        if (!existing) button.addEventListener('click', () => this.actions.selectThread(thread.key));
        const unreadLabel = thread.unread > 0 ? `${thread.unread} unread` : '';
        const presence =
          thread.kind === 'dm'
            ? el('span', {
                class: `dot ${this.#app.isOnline(thread.name) ? 'online' : 'offline'}`,
                'aria-hidden': 'true',
              })
            : null;
        fill(
          button,
          presence,
          el('span', { class: 'thread-name' }, threadTitle(thread)),
          thread.kind === 'dm' && thread.preview ? el('span', { class: 'thread-preview' }, thread.preview) : null,
          thread.unread > 0 ? el('span', { class: 'badge', 'aria-hidden': 'true' }, String(thread.unread)) : null,
          unreadLabel ? el('span', { class: 'sr-only' }, `, ${unreadLabel}`) : null,
        );
        if (thread.key === active) button.setAttribute('aria-current', 'page');
        else button.removeAttribute('aria-current');
        return item;
      },
    );
  }

  #renderPeople(thread: Thread): void {
    const heading = byId('people-heading');
    let people: Person[];
    if (thread.kind === 'room') {
      people = [...thread.people.values()];
      if (!thread.people.has(this.#app.me.userId)) {
        people.push({ userId: this.#app.me.userId, userName: this.#app.me.userName, online: true });
      }
      heading.textContent = `People in #${thread.name}`;
    } else {
      people = [
        { userId: thread.name, userName: thread.peerName ?? thread.name, online: this.#app.isOnline(thread.name) },
      ];
      heading.textContent = 'In this conversation';
    }
    people.sort((a, b) => Number(b.online) - Number(a.online) || a.userName.localeCompare(b.userName));
    byId('people-toggle').textContent = `People (${onlineCount(people, thread)})`;
    reconcile(
      byId('people-list'),
      people,
      (person) => person.userId,
      (person, existing) => {
        const me = person.userId === this.#app.me.userId;
        const status = person.online ? 'online' : 'offline';
        const sig = `${person.userName}|${status}`;
        if (existing?.dataset.sig === sig) return existing;
        const content = [
          el('span', { class: `dot ${status}`, 'aria-hidden': 'true' }),
          el('span', { class: 'person-name' }, me ? `${person.userName} (you)` : person.userName),
          el('span', { class: 'sr-only' }, `, ${status}`),
        ];
        const item = existing ?? el('li');
        item.dataset.sig = sig;
        item.dataset.userId = person.userId;
        item.dataset.status = status;
        if (me || thread.kind === 'dm') {
          item.replaceChildren(el('span', { class: 'person' }, ...content));
        } else {
          const button = el(
            'button',
            { type: 'button', class: 'person', title: `Message ${person.userName}` },
            ...content,
          );
          button.addEventListener('click', () => this.actions.openDirect(person.userId, person.userName));
          item.replaceChildren(button);
        }
        return item;
      },
    );
  }

  #renderHistoryStatus(thread: Thread): void {
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

  #renderMessages(thread: Thread): void {
    const switched = this.#renderedThread !== thread.key;
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
      (item, existing) => this.#renderMessage(thread, item, existing),
    );
    if (bulk) this.#messages.setAttribute('aria-busy', 'false');
    if (stick) {
      this.#scroller.scrollTop = this.#scroller.scrollHeight;
    } else if (anchor?.isConnected) {
      this.#scroller.scrollTop = anchor.offsetTop - anchorOffset;
    }
    // A first page that does not fill the screen cannot be scrolled up: fetch the next one now.
    if (
      typeof thread.cursor === 'string' &&
      !thread.loading &&
      this.#scroller.scrollHeight <= this.#scroller.clientHeight + NEAR_TOP_PX
    ) {
      queueMicrotask(() => this.actions.loadOlder());
    }
  }

  #renderMessage(thread: Thread, item: ChatItem, existing: HTMLElement | undefined): HTMLElement {
    const sig = [item.delivery, item.deleted, item.timestamp, item.text, item.reply?.content, thread.kind].join('|');
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
      thread.kind === 'dm' && item.mine && !item.deleted && item.delivery !== 'pending' && item.delivery !== 'failed'
        ? el(
            'button',
            { type: 'button', class: 'link-button', 'data-action': 'delete', 'aria-label': 'Delete message' },
            'Delete',
          )
        : null,
    );
    return li;
  }

  #renderError(message: string | undefined): void {
    const box = byId('composer-error');
    const text = byId('composer-error-text');
    box.hidden = message === undefined;
    if (text.textContent !== (message ?? '')) text.textContent = message ?? '';
  }

  #submitComposer(): void {
    const text = this.#input.value;
    if (!this.actions.send(text)) return;
    this.#input.value = '';
    this.#autosize();
    this.#stickToBottom = true;
  }

  #autosize(): void {
    this.#input.style.height = 'auto';
    this.#input.style.height = `${Math.min(this.#input.scrollHeight, 160)}px`;
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

  #toggle(buttonId: string, className: string): void {
    const button = byId(buttonId);
    const open = !this.#root.classList.contains(className);
    this.#root.classList.toggle(className, open);
    button.setAttribute('aria-expanded', String(open));
  }

  #closePanels(): void {
    for (const [buttonId, className] of [
      ['menu-toggle', 'nav-open'],
      ['people-toggle', 'people-open'],
    ] as const) {
      this.#root.classList.remove(className);
      byId(buttonId).setAttribute('aria-expanded', 'false');
    }
  }
}
