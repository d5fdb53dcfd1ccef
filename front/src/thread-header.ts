import type { ChatSnapshot } from '#client-core/chat-client';
import type { ConnectionState } from '#client-core/reconnecting-socket';
import type { ThreadView } from '#client-core/threads';
import { byId, el, fill } from './dom.js';
import { connectionText, isPrivate, onlineCount, threadTitle } from './labels.js';

/** The thread's heading (a lock for a private room), subtitle and the labels named after it. */
export function renderThreadHeader(thread: ThreadView, chat: ChatSnapshot): void {
  const info = thread.kind === 'room' ? chat.roomInfo(thread.name) : undefined;
  const title = threadTitle(thread, info);
  fill(
    byId('thread-title'),
    isPrivate(info) && el('span', { class: 'lock', role: 'img', 'aria-label': 'Private room' }, '🔒'),
    isPrivate(info) && ' ',
    title,
  );
  byId('thread-subtitle').textContent =
    thread.kind === 'room'
      ? `${onlineCount([...thread.people.values()], thread)} online`
      : `${thread.name} · ${chat.isOnline(thread.name) ? 'online' : 'offline'}`;
  // A private room is left for good (quitRoom, in its settings): unsubscribing one device would
  // only hide a membership that nothing in the UI brings back.
  byId('leave-room').hidden = thread.kind !== 'room' || isPrivate(info);
  byId('composer-label').textContent = `Message ${title}`;
  byId<HTMLTextAreaElement>('composer-input').placeholder = `Message ${title}`;
  byId('messages').setAttribute('aria-label', `Messages in ${title}`);
}

export function renderConnection(state: ConnectionState): void {
  const indicator = byId('connection');
  indicator.dataset.state = state.state;
  const text = connectionText(state);
  const label = byId('connection-text');
  if (label.textContent !== text) label.textContent = text;
}

/** The error line above the composer: the server's refusals and the client's notices. */
export function renderError(message: string | undefined): void {
  const box = byId('composer-error');
  const text = byId('composer-error-text');
  box.hidden = message === undefined;
  if (text.textContent !== (message ?? '')) text.textContent = message ?? '';
}
