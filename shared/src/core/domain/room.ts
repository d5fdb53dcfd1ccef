import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const DEFAULT_ROOM = 'general';

/** Room names are short, URL-safe and cannot collide with internal partitions (which contain `#`). */
export const roomNameSchema = z
  .string()
  .min(1, 'room must not be empty')
  .max(64, 'room must be at most 64 characters')
  .regex(/^[A-Za-z0-9_-]+$/, 'room may contain only letters, digits, _ and -');

/** Subscription topics: one namespace for rooms, per-user inboxes and dashboard feeds. */
export const topics = {
  room: (room: string) => `room#${room}`,
  user: (userId: string) => `user#${userId}`,
  metricsType: (entityType: string) => `metrics#type#${entityType}`,
  metricsEntity: (entityId: string) => `metrics#id#${entityId}`,
};

export function roomFromTopic(topic: string): string | undefined {
  return topic.startsWith('room#') ? topic.slice('room#'.length) : undefined;
}

/**
 * Private rooms get server-assigned ids: this prefix and 22 random base64url characters (128 bits),
 * so an id can be neither guessed nor claimed by a public join (public names with it are refused).
 */
export const PRIVATE_ROOM_PREFIX = 'priv_';

export const isPrivateRoomId = (room: string): boolean => room.startsWith(PRIVATE_ROOM_PREFIX);

export const newPrivateRoomId = (): string => `${PRIVATE_ROOM_PREFIX}${randomBytes(16).toString('base64url')}`;

export const ROOM_ROLES = ['owner', 'moderator', 'member'] as const;
export type RoomRole = (typeof ROOM_ROLES)[number];
export const roomRoleSchema = z.enum(ROOM_ROLES);

export type RoomVisibility = 'public' | 'private';

/** A private room's display name (its id says nothing). */
export const roomTitleSchema = z
  .string()
  .trim()
  .min(1, 'title must not be empty')
  .max(100, 'title must be at most 100 characters')
  .regex(/^[^\p{Cc}]*$/u, 'title may not contain control characters');
