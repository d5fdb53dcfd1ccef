import type { ConnectionState } from '#client-core/reconnecting-socket';
import type { Person, ThreadView } from '#client-core/threads';
import type { ChatItem } from '#client-core/timeline';

export const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
export const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export const threadTitle = (thread: ThreadView) =>
  thread.kind === 'room' ? `#${thread.name}` : (thread.peerName ?? thread.name);

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
