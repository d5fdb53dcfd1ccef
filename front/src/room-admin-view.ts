import type { ChatSnapshot, RoomRole } from '#client-core/chat-client';
import { permissionsOf } from '#client-core/chat-client';
import type { ThreadView } from '#client-core/threads';
import { byId } from './dom.js';
import { roomTitle } from './labels.js';

/** Private rooms and roles; the server checks every one of them again. */
export interface RoomAdminActions {
  createPrivateRoom(title: string): void;
  invite(room: string, userId: string): void;
  kick(room: string, userId: string): void;
  /** `minutes` undefined: until lifted. */
  ban(room: string, userId: string, minutes?: number): void;
  unban(room: string, userId: string): void;
  setRole(room: string, userId: string, role: RoomRole): void;
  quit(room: string): void;
  deleteRoom(room: string): void;
}

const ROLES: readonly string[] = ['owner', 'moderator', 'member'] satisfies RoomRole[];
const isRole = (value: string): value is RoomRole => ROLES.includes(value);

/**
 * Wires the create form (sidebar) and the room settings (people panel). `activeRoom` is the room on
 * screen when a button is pressed, so a render in between cannot send an action to another room.
 */
export function mountRoomAdmin(
  actions: RoomAdminActions,
  activeRoom: () => string | undefined,
  signal: AbortSignal,
): void {
  const on = (id: string, type: string, listener: (event: Event) => void) =>
    byId(id).addEventListener(type, listener, { signal });
  const input = (id: string) => byId<HTMLInputElement>(id);

  on('create-form', 'submit', (event) => {
    event.preventDefault();
    actions.createPrivateRoom(input('create-title').value);
    input('create-title').value = '';
  });
  on('invite-form', 'submit', (event) => {
    event.preventDefault();
    const room = activeRoom();
    if (room) actions.invite(room, input('invite-user').value);
    input('invite-user').value = '';
  });
  // Every action has its own button (type=button): Enter in the user field must not kick anyone.
  on('manage-form', 'submit', (event) => event.preventDefault());
  on('manage-form', 'click', (event) => {
    const what = (event.target as Element).closest<HTMLButtonElement>('button[data-admin]')?.dataset.admin;
    const room = activeRoom();
    const user = input('manage-user');
    if (!what || !room) return;
    const userId = user.value.trim();
    if (userId === '') {
      user.focus();
      return;
    }
    if (what === 'kick') actions.kick(room, userId);
    if (what === 'unban') actions.unban(room, userId);
    if (what === 'ban') {
      const minutes = Number.parseInt(input('ban-minutes').value, 10);
      actions.ban(room, userId, Number.isInteger(minutes) && minutes > 0 ? minutes : undefined);
      input('ban-minutes').value = '';
    }
    const role = byId<HTMLSelectElement>('role-select').value;
    if (what === 'role' && isRole(role)) actions.setRole(room, userId, role);
    user.value = '';
  });
  on('quit-room', 'click', () => {
    const room = activeRoom();
    if (room && window.confirm('Leave this room for good? You will need a new invite to come back.')) {
      actions.quit(room);
    }
  });
  on('delete-room', 'click', () => {
    const room = activeRoom();
    if (room && window.confirm('Delete this room and its membership for everyone?')) actions.deleteRoom(room);
  });
}

/** Shows the settings of a created room, with only the controls this user's role can use. */
export function renderRoomAdmin(thread: ThreadView, chat: ChatSnapshot): void {
  const info = thread.kind === 'room' ? chat.roomInfo(thread.name) : undefined;
  const section = byId('room-admin');
  section.hidden = info?.role === undefined;
  if (!info?.role) return;
  const can = permissionsOf(info.role);
  const kind = info.visibility === 'private' ? 'Private room' : 'Public room';
  byId('room-admin-heading').textContent = `Settings of ${roomTitle(thread.name, info)}`;
  byId('room-role').textContent = `${kind} · your role: ${info.role}`;
  byId('invite-form').hidden = !can.invite;
  byId('manage-form').hidden = !can.remove && !can.setRole;
  byId('manage-remove').hidden = !can.remove;
  byId('manage-role').hidden = !can.setRole;
  byId('delete-room').hidden = !can.deleteRoom;
}
