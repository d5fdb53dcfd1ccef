import type { ChatSnapshot } from '#client-core/chat-client';
import type { Person, ThreadView } from '#client-core/threads';
import { byId, el, fill, reconcile } from './dom.js';
import { isPrivate, onlineCount, threadTitle } from './labels.js';

export interface SidebarActions {
  selectThread(key: string): void;
  openDirect(peerId: string, peerName?: string): void;
}

/** The room and conversation lists: name, presence dot, preview, unread badge. */
export function renderThreadList(
  listId: string,
  threads: readonly ThreadView[],
  chat: ChatSnapshot,
  actions: SidebarActions,
): void {
  reconcile(
    byId(listId),
    threads,
    (thread) => thread.key,
    (thread, existing) => {
      const item = existing ?? el('li');
      const button =
        item.querySelector('button') ??
        item.appendChild(el('button', { type: 'button', class: 'thread-button', 'data-thread': thread.key }));
      if (!existing) button.addEventListener('click', () => actions.selectThread(thread.key));
      const unreadLabel = thread.unread > 0 ? `${thread.unread} unread` : '';
      const info = thread.kind === 'room' ? chat.roomInfo(thread.name) : undefined;
      const presence =
        thread.kind === 'dm'
          ? el('span', { class: `dot ${chat.isOnline(thread.name) ? 'online' : 'offline'}`, 'aria-hidden': 'true' })
          : null;
      fill(
        button,
        presence,
        isPrivate(info) ? el('span', { class: 'lock', 'aria-hidden': 'true' }, '🔒') : null,
        el('span', { class: 'thread-name' }, threadTitle(thread, info)),
        isPrivate(info) ? el('span', { class: 'sr-only' }, ', private room') : null,
        thread.kind === 'dm' && thread.preview ? el('span', { class: 'thread-preview' }, thread.preview) : null,
        thread.unread > 0 ? el('span', { class: 'badge', 'aria-hidden': 'true' }, String(thread.unread)) : null,
        unreadLabel ? el('span', { class: 'sr-only' }, `, ${unreadLabel}`) : null,
      );
      if (thread.key === chat.activeKey) button.setAttribute('aria-current', 'page');
      else button.removeAttribute('aria-current');
      return item;
    },
  );
}

/** Who is in the active room (online first), or the peer of a direct conversation. */
export function renderPeople(thread: ThreadView, chat: ChatSnapshot, actions: SidebarActions): void {
  const heading = byId('people-heading');
  let people: Readonly<Person>[];
  const info = thread.kind === 'room' ? chat.roomInfo(thread.name) : undefined;
  if (thread.kind === 'room') {
    // Presence keeps those who left as offline; someone removed from a created room is not a member.
    people = [...thread.people.values()].filter((person) => !info?.removed.has(person.userId));
    if (!thread.people.has(chat.me.userId)) {
      people.push({ userId: chat.me.userId, userName: chat.me.userName, online: true });
    }
    // The room's members with their roles (listMembers, then single changes), online or not.
    for (const userId of info?.roles.keys() ?? []) {
      if (!people.some((person) => person.userId === userId)) people.push({ userId, userName: userId, online: false });
    }
    heading.textContent = `${info?.role ? 'Members of' : 'People in'} ${threadTitle(thread, info)}`;
  } else {
    people = [{ userId: thread.name, userName: thread.peerName ?? thread.name, online: chat.isOnline(thread.name) }];
    heading.textContent = 'In this conversation';
  }
  people.sort((a, b) => Number(b.online) - Number(a.online) || a.userName.localeCompare(b.userName));
  byId('people-toggle').textContent = `People (${onlineCount(people, thread)})`;
  reconcile(
    byId('people-list'),
    people,
    (person) => person.userId,
    (person, existing) => {
      const me = person.userId === chat.me.userId;
      const status = person.online ? 'online' : 'offline';
      const role = info?.roles.get(person.userId);
      const sig = `${person.userName}|${status}|${role ?? ''}`;
      if (existing?.dataset.sig === sig) return existing;
      const content = [
        el('span', { class: `dot ${status}`, 'aria-hidden': 'true' }),
        el('span', { class: 'person-name' }, me ? `${person.userName} (you)` : person.userName),
        el('span', { class: 'sr-only' }, `, ${status}`),
        role ? el('span', { class: 'role-tag' }, role) : null,
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
        button.addEventListener('click', () => actions.openDirect(person.userId, person.userName));
        item.replaceChildren(button);
      }
      return item;
    },
  );
}
