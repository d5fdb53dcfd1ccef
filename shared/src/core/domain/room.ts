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
