import type { RoomMemberFrame } from '#protocol/server-frames';

export type RoomRole = NonNullable<RoomMemberFrame['role']>;

/** What the client knows of a created room: its title, this user's role, and the roles it has seen. */
export interface RoomInfo {
  readonly visibility: 'public' | 'private';
  readonly title?: string;
  readonly role?: RoomRole;
  /** Roles learnt this session (from the replies to this user's own invites and role changes). */
  readonly roles: ReadonlyMap<string, RoomRole>;
  /** Users this user kicked, banned or saw quit this session: presence still lists them as offline. */
  readonly removed: ReadonlySet<string>;
}

/** What a role may do (docs/protocol.md, "Private rooms and roles"); the server decides all the same. */
export interface RoomPermissions {
  invite: boolean;
  /** Kick, ban and unban. */
  remove: boolean;
  setRole: boolean;
  deleteRoom: boolean;
}

export function permissionsOf(role: RoomRole | undefined): RoomPermissions {
  const moderator = role === 'owner' || role === 'moderator';
  return { invite: moderator, remove: moderator, setRole: role === 'owner', deleteRoom: role === 'owner' };
}
