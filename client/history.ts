import { type RoomMessageFrame, roomMessageFrameSchema } from '#protocol/server-frames';
import type { ClientOptions } from './cli-options.js';

/** A room's recent messages, oldest first. */
export interface RoomHistory {
  room: string;
  messages: RoomMessageFrame[];
  hasMore: boolean;
}

/** The REST call failed or answered something other than a history page. */
export class HistoryUnavailableError extends Error {
  override name = 'HistoryUnavailableError';
}

/**
 * `GET /rooms/{room}/messages?limit=` with the same identity as the socket: a bearer token, or
 * the demo mode's `x-user-id`. The API pages newest first; the terminal wants oldest first.
 */
export async function fetchRoomHistory(
  options: Pick<ClientOptions, 'rest' | 'token' | 'user' | 'name'>,
  room: string,
  limit: number,
  fetchImpl: typeof fetch = fetch,
): Promise<RoomHistory> {
  const base = options.rest.replace(/\/+$/, '');
  const url = `${base}/rooms/${encodeURIComponent(room)}/messages?limit=${limit}`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  else {
    if (options.user) headers['x-user-id'] = options.user;
    if (options.name) headers['x-user-name'] = options.name;
  }
  let response: Response;
  try {
    response = await fetchImpl(url, { headers, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new HistoryUnavailableError(
      `cannot reach ${base}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const text = await response.text();
  if (!response.ok) throw new HistoryUnavailableError(`${response.status} from ${url}: ${text.slice(0, 200)}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HistoryUnavailableError(`${url} did not answer JSON`);
  }
  const page = body as { messages?: unknown; nextCursor?: unknown };
  if (!Array.isArray(page.messages)) throw new HistoryUnavailableError(`${url} answered no messages list`);
  const messages = page.messages.flatMap((message) => {
    const parsed = roomMessageFrameSchema.safeParse(message);
    return parsed.success ? [parsed.data] : [];
  });
  return { room, messages: messages.reverse(), hasMore: typeof page.nextCursor === 'string' };
}
