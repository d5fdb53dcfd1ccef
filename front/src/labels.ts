import type { RoomInfo } from '#client-core/chat-client';
import type { ConnectionState } from '#client-core/reconnecting-socket';
import type { Person, ThreadView } from '#client-core/threads';
import type { ChatItem } from '#client-core/timeline';

export const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
export const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A room by its title when it has one (a private room's id says nothing), else by its name. */
export const roomTitle = (name: string, info: RoomInfo | undefined) => info?.title ?? `#${name}`;

export const threadTitle = (thread: ThreadView, info?: RoomInfo) =>
  thread.kind === 'room' ? roomTitle(thread.name, info) : (thread.peerName ?? thread.name);

export const isPrivate = (info: RoomInfo | undefined) => info?.visibility === 'private';

/** How many are online; `100+` while only part of a big room's list is known. */
export const onlineCount = (people: readonly Readonly<Person>[], thread: ThreadView) =>
  `${people.filter((person) => person.online).length}${thread.onlineTruncated ? '+' : ''}`;

export const deliveryLabel: Record<ChatItem['delivery'], string> = {
  pending: 'Sending',
  failed: 'Not sent',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
};

export const deliveryTicks: Record<ChatItem['delivery'], string> = {
  pending: '…',
  failed: '!',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓',
};

export function connectionText(state: ConnectionState): string {
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
