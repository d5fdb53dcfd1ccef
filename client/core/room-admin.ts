import type { ClientFrame } from '#protocol/client-frames';
import type {
  InvitedFrame,
  MembersFrame,
  RemovedFrame,
  RoomCreatedFrame,
  RoomMemberFrame,
  RoomsFrame,
} from '#protocol/server-frames';
import type { ChatContext } from './chat-context.js';
import type { RoomInfo, RoomRole } from './room-info.js';
import type { RoomList } from './room-list.js';
import { roomKey } from './threads.js';

export type { RoomInfo, RoomPermissions, RoomRole } from './room-info.js';
export { permissionsOf } from './room-info.js';

const REMOVED_TEXT: Record<RemovedFrame['reason'], string> = {
  kicked: 'you were removed from the room',
  banned: 'you were banned from the room',
  left: 'you left the room',
  deleted: 'the room was deleted',
};

interface MutableRoomInfo {
  visibility: 'public' | 'private';
  title?: string;
  role?: RoomRole;
  roles: Map<string, RoomRole>;
  removed: Set<string>;
}

/**
 * Created rooms (private or public with an owner): their titles and roles, the admin actions, and the
 * frames that answer them. An invite enters the room at once (the server added the user already), and
 * a `removed` frame drops the room with a notice that says why.
 */
export class RoomAdmin {
  readonly #context: ChatContext;
  readonly #roomList: RoomList;
  readonly #rooms = new Map<string, MutableRoomInfo>();

  constructor(context: ChatContext, roomList: RoomList) {
    this.#context = context;
    this.#roomList = roomList;
  }

  info(room: string): RoomInfo | undefined {
    return this.#rooms.get(room);
  }

  /** Private rooms this client is in whose title and role it has not learnt yet (a reload): ask listRooms. */
  needsList(): boolean {
    return this.#context.threads
      .rooms()
      .some((thread) => thread.name.startsWith('priv_') && !this.#rooms.has(thread.name));
  }

  createPrivate(title: string): boolean {
    const trimmed = title.trim();
    return this.#send(
      { action: 'createRoom', visibility: 'private', ...(trimmed ? { title: trimmed } : {}) },
      'create the room',
    );
  }

  invite(room: string, userId: string): boolean {
    return this.#memberAction('inviteMember', room, userId);
  }

  kick(room: string, userId: string): boolean {
    return this.#memberAction('kickMember', room, userId);
  }

  unban(room: string, userId: string): boolean {
    return this.#memberAction('unbanMember', room, userId);
  }

  /** A ban for `minutes` (at least one), or until lifted when undefined. */
  ban(room: string, userId: string, minutes?: number): boolean {
    const id = userId.trim();
    if (id === '') return false;
    const duration = minutes === undefined ? {} : { durationSeconds: Math.max(60, Math.round(minutes * 60)) };
    return this.#send({ action: 'banMember', room, userId: id, ...duration }, 'ban');
  }

  setRole(room: string, userId: string, role: RoomRole): boolean {
    const id = userId.trim();
    if (id === '') return false;
    return this.#send({ action: 'setRole', room, userId: id, role }, 'change the role');
  }

  /** Gives up membership on every device; the `removed` frame that follows drops the room. */
  quit(room: string): boolean {
    return this.#send({ action: 'quitRoom', room }, 'leave the room');
  }

  deleteRoom(room: string): boolean {
    return this.#send({ action: 'deleteRoom', room }, 'delete the room');
  }

  /** createRoom's reply: remember the room and enter it (the join's `joined` frame selects it). */
  onCreated(frame: RoomCreatedFrame): void {
    this.#remember(frame.room, { visibility: frame.visibility, title: frame.title, role: frame.role });
    this.#roomList.join(frame.room);
  }

  /** Someone added this user: the membership exists, so enter the room (without taking the user there). */
  onInvited(frame: InvitedFrame): void {
    this.#remember(frame.room, { visibility: frame.visibility, title: frame.title, role: 'member' });
    if (!this.#context.threads.has(roomKey(frame.room))) this.#context.send({ action: 'joinRoom', room: frame.room });
  }

  onRooms(frame: RoomsFrame): void {
    for (const entry of frame.rooms) {
      if (!entry.visibility) continue;
      const known = this.#rooms.has(entry.room);
      this.#remember(entry.room, entry);
      // A reload learns the room only now, after its `joined`: fetch its members here instead.
      if (!known && this.#context.threads.has(roomKey(entry.room))) this.#listMembers(entry.room);
    }
  }

  /** Entered a created room: learn its members and their roles (offline ones too). */
  onJoined(room: string): void {
    if (this.#rooms.has(room)) this.#listMembers(room);
  }

  /** The full member list replaces what this client pieced together from single changes. */
  onMembers(frame: MembersFrame): void {
    const info = this.#rooms.get(frame.room);
    if (!info) return;
    info.roles = new Map(frame.members.map((member) => [member.userId, member.role]));
    for (const member of frame.members) info.removed.delete(member.userId);
    const mine = info.roles.get(this.#context.me().userId);
    if (mine) info.role = mine;
  }

  onMember(frame: RoomMemberFrame): void {
    const info = this.#rooms.get(frame.room);
    if (!info) return;
    const me = frame.userId === this.#context.me().userId;
    if (frame.role && (frame.change === 'invited' || frame.change === 'role')) {
      info.roles.set(frame.userId, frame.role);
      info.removed.delete(frame.userId);
      if (me) info.role = frame.role;
    } else if (frame.change !== 'unbanned') {
      info.roles.delete(frame.userId);
      info.removed.add(frame.userId);
    }
  }

  /** The room is gone for this user (kicked, banned, quit, deleted): forget it and say why. */
  onRemoved(frame: Pick<RemovedFrame, 'room' | 'reason' | 'until'>): void {
    const name = this.displayName(frame.room);
    this.#rooms.delete(frame.room);
    if (!this.#context.threads.has(roomKey(frame.room))) return;
    const until = frame.until ? ` until ${frame.until}` : '';
    this.#context.showError(frame.reason, `${name}: ${REMOVED_TEXT[frame.reason]}${until}.`);
  }

  /** A room's name for people: its title when it has one. */
  displayName(room: string): string {
    const title = this.#rooms.get(room)?.title;
    return title ? `“${title}”` : `#${room}`;
  }

  #remember(room: string, given: { visibility?: 'public' | 'private'; title?: string; role?: RoomRole }): void {
    const known = this.#rooms.get(room);
    const info: MutableRoomInfo = known ?? {
      visibility: given.visibility ?? 'public',
      roles: new Map(),
      removed: new Set(),
    };
    if (given.visibility) info.visibility = given.visibility;
    if (given.title !== undefined) info.title = given.title;
    if (given.role) {
      info.role = given.role;
      info.roles.set(this.#context.me().userId, given.role);
    }
    this.#rooms.set(room, info);
  }

  #listMembers(room: string): void {
    this.#context.send({ action: 'listMembers', room });
  }

  #memberAction(action: 'inviteMember' | 'kickMember' | 'unbanMember', room: string, userId: string): boolean {
    const id = userId.trim();
    if (id === '') return false;
    return this.#send({ action, room, userId: id }, action === 'inviteMember' ? 'invite' : 'change the membership');
  }

  #send(frame: ClientFrame, what: string): boolean {
    if (this.#context.send(frame)) return true;
    this.#context.showError('offline', `Not connected: ${what} once the connection is back.`);
    return false;
  }
}
