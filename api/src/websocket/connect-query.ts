import { ValidationError } from '#core/domain/errors';
import { DEFAULT_ROOM, roomNameSchema } from '#core/domain/room';
import { MAX_CONNECT_ROOMS } from '#protocol/connect';

/** The rooms named by `?room=` (comma-separated), or the default room. */
export function roomsFromQuery(query: Record<string, string | undefined> | null | undefined): string[] {
  const raw = query?.room;
  if (raw === undefined || raw === '') return [DEFAULT_ROOM];
  const rooms = [...new Set(raw.split(',').map((room) => room.trim()))];
  if (rooms.length > MAX_CONNECT_ROOMS) throw new ValidationError(`at most ${MAX_CONNECT_ROOMS} rooms at connect`);
  for (const room of rooms) {
    const parsed = roomNameSchema.safeParse(room);
    if (!parsed.success) throw new ValidationError(`invalid room: ${parsed.error.issues[0]?.message ?? 'bad name'}`);
  }
  return rooms;
}
