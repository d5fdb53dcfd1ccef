import type { ChatSnapshot } from '#client-core/chat-client';
import { type FileActions, mountComposerFiles } from './attachment-view.js';
import { byId } from './dom.js';
import { MessageList } from './message-list.js';
import { mountRoomAdmin, type RoomAdminActions, renderRoomAdmin } from './room-admin-view.js';
import { renderPeople, renderThreadList } from './sidebar.js';
import { renderConnection, renderError, renderThreadHeader } from './thread-header.js';
import { renderTyping } from './typing-line.js';

export interface ChatActions {
  selectThread(key: string): void;
  send(text: string): boolean;
  joinRoom(room: string): void;
  leaveRoom(room: string): void;
  openDirect(peerId: string, peerName?: string): void;
  loadOlder(): void;
  retry(messageId: string): void;
  deleteMessage(messageId: string): void;
  editMessage(messageId: string, text: string): boolean;
  toggleReaction(messageId: string, emoji: string): boolean;
  /** The user's newest editable message in the active thread: the up arrow's target. */
  lastOwnMessage(): { id: string; text: string } | undefined;
  dismissError(): void;
  signOut(): void;
  /** The tab became visible again. */
  visible(): void;
  /** The user typed in the composer (the client throttles what it sends). */
  typing(): void;
  /** Files: the attach button, drag and drop, previews and download links. */
  files?: FileActions;
  /** Private rooms and roles; without it the create form and room settings do nothing. */
  rooms?: RoomAdminActions;
}

/** Renders ChatClient snapshots into index.html's skeleton and turns DOM events into ChatActions. */
export class ChatView {
  readonly actions: ChatActions;
  readonly #root = byId('chat');
  readonly #input = byId<HTMLTextAreaElement>('composer-input');
  readonly #messages: MessageList;
  readonly #abort = new AbortController();
  /** The last snapshot rendered: what the buttons act on. */
  #shown: ChatSnapshot | undefined;
  /** The message the composer is editing, instead of writing a new one. */
  #editing: string | undefined;

  constructor(actions: ChatActions) {
    this.actions = actions;
    this.#messages = new MessageList(() => actions.loadOlder(), actions.files);
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
      } else if (key.key === 'ArrowUp' && this.#input.value === '' && !this.#editing) {
        const last = this.actions.lastOwnMessage();
        if (last) {
          event.preventDefault();
          this.#startEdit(last.id, last.text);
        }
      } else if (key.key === 'Escape' && this.#editing) {
        event.preventDefault();
        event.stopPropagation();
        this.#stopEdit();
      }
    });
    on('composer-input', 'input', () => {
      this.#autosize();
      if (this.#input.value.trim() !== '') this.actions.typing();
    });
    on('edit-cancel', 'click', () => this.#stopEdit());
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
      this.#messages.stickToBottom(false);
      this.actions.loadOlder();
    });
    on('leave-room', 'click', () => {
      const room = this.#activeRoom();
      if (room) this.actions.leaveRoom(room);
    });
    on('error-dismiss', 'click', () => this.actions.dismissError());
    on('sign-out', 'click', () => this.actions.signOut());
    on('menu-toggle', 'click', () => this.#toggle('menu-toggle', 'nav-open'));
    on('people-toggle', 'click', () => this.#toggle('people-toggle', 'people-open'));
    on('scroller', 'scroll', () => this.#messages.scrolled());
    // One delegated listener per list: the buttons inside are rebuilt freely.
    on('messages', 'click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
      const messageId = button?.closest<HTMLElement>('[data-message-id]')?.dataset.messageId;
      if (!button || !messageId) return;
      if (button.dataset.action === 'retry') this.actions.retry(messageId);
      if (button.dataset.action === 'edit') {
        const item = this.#shown?.activeThread?.timeline.get(messageId);
        if (item) this.#startEdit(item.id, item.text);
      }
      if (button.dataset.action === 'react-menu') this.#togglePicker(messageId);
      if (button.dataset.action === 'toggle-reaction' && button.dataset.emoji) {
        this.actions.toggleReaction(messageId, button.dataset.emoji);
        if (button.closest('.reaction-picker')) this.#togglePicker(undefined, messageId);
      }
      if (button.dataset.action === 'delete' && window.confirm('Delete this message for everyone?')) {
        this.actions.deleteMessage(messageId);
      }
    });
    on('messages', 'keydown', (event) => {
      const open = this.#messages.pickerFor;
      if ((event as KeyboardEvent).key === 'Escape' && open) {
        event.stopPropagation();
        this.#togglePicker(undefined, open);
      }
    });
    const onDocument = (type: string, listener: (event: Event) => void) =>
      document.addEventListener(type, listener, { signal });
    onDocument('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.actions.visible();
    });
    onDocument('keydown', (event) => {
      if ((event as KeyboardEvent).key === 'Escape') this.#closePanels();
    });

    if (this.actions.files) mountComposerFiles(this.actions.files, signal);
    if (this.actions.rooms) mountRoomAdmin(this.actions.rooms, () => this.#activeRoom(), signal);

    this.#root.hidden = false;
    // On a phone, focusing the composer would throw the keyboard over the messages.
    if (window.matchMedia('(min-width: 721px)').matches) this.#input.focus();
  }

  unmount(): void {
    this.#abort.abort();
    this.#root.hidden = true;
    this.#messages.clear();
    for (const id of ['room-list', 'conversation-list', 'people-list']) byId(id).replaceChildren();
  }

  /** The next render shows the newest messages of the newly selected thread. */
  threadChanged(): void {
    this.#messages.stickToBottom();
    this.#closePanels();
  }

  render(chat: ChatSnapshot): void {
    this.#shown = chat;
    const thread = chat.activeThread;
    renderConnection(chat.connection);
    byId('me').textContent = chat.me.userName;
    renderThreadList('room-list', chat.rooms, chat, this.actions);
    renderThreadList('conversation-list', chat.conversations, chat, this.actions);
    renderError(chat.lastError);
    document.title = chat.unreadTotal > 0 ? `(${chat.unreadTotal}) Switchboard` : 'Switchboard';
    if (!thread) return;

    renderThreadHeader(thread, chat);
    renderPeople(thread, chat, this.actions);
    renderRoomAdmin(thread, chat);
    this.#messages.render(thread);
    renderTyping(chat.typingIn(thread.key));
  }

  #activeRoom(): string | undefined {
    const thread = this.#shown?.activeThread;
    return thread?.kind === 'room' ? thread.name : undefined;
  }

  #submitComposer(): void {
    const text = this.#input.value;
    if (this.#editing) {
      // An unchanged or emptied text saves nothing; either way the edit is over.
      this.actions.editMessage(this.#editing, text);
      this.#stopEdit();
      return;
    }
    if (!this.actions.send(text)) return;
    this.#input.value = '';
    this.#autosize();
    this.#messages.stickToBottom();
  }

  #startEdit(messageId: string, text: string): void {
    this.#editing = messageId;
    this.#input.value = text;
    this.#autosize();
    byId('composer-editing').hidden = false;
    byId('composer-submit').textContent = 'Save';
    byId('composer').classList.add('editing');
    this.#input.focus();
    this.#input.setSelectionRange(text.length, text.length);
  }

  #stopEdit(): void {
    this.#editing = undefined;
    this.#input.value = '';
    this.#autosize();
    byId('composer-editing').hidden = true;
    byId('composer-submit').textContent = 'Send';
    byId('composer').classList.remove('editing');
    this.#input.focus();
  }

  /** Opens or closes a message's reaction picker; focus follows (into the picker, or back to its button). */
  #togglePicker(messageId: string | undefined, closing?: string): void {
    const open = this.#messages.togglePicker(messageId);
    const thread = this.#shown?.activeThread;
    if (thread) this.#messages.render(thread);
    const id = open ? messageId : closing;
    const row = id ? byId('messages').querySelector<HTMLElement>(`[data-message-id="${CSS.escape(id)}"]`) : null;
    const target = open
      ? row?.querySelector<HTMLButtonElement>('.reaction-picker button')
      : row?.querySelector<HTMLButtonElement>('[data-action="react-menu"]');
    target?.focus();
  }

  #autosize(): void {
    this.#input.style.height = 'auto';
    this.#input.style.height = `${Math.min(this.#input.scrollHeight, 160)}px`;
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
