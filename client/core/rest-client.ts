import type {
  ConversationHistoryPage,
  ConversationsBody,
  RoomHistoryPage,
  RoomPresenceBody,
} from '#protocol/http-bodies';
import type { AttachmentFrame } from '#protocol/server-frames';

export class RestError extends Error {
  override name = 'RestError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RestClient {
  roomHistory(room: string, before?: string, limit?: number): Promise<RoomHistoryPage>;
  roomPresence(room: string): Promise<RoomPresenceBody>;
  conversations(): Promise<ConversationsBody>;
  conversationHistory(conversationId: string, before?: string, limit?: number): Promise<ConversationHistoryPage>;
  /** A download URL for a file on a message (members only). */
  attachment(attachmentId: string): Promise<AttachmentFrame>;
}

/** The part of `fetch` the REST client uses: given by the runtime, like the WebSocket constructor. */
export type HttpGet = (
  url: string,
  init: { headers: Record<string, string> },
) => Promise<{ ok: boolean; status: number; statusText: string; json(): Promise<unknown> }>;

/**
 * The HTTP API: reads only, for both UIs. `headers` supplies the identity (x-user-id, or a fresh
 * bearer token) per call.
 */
export function createRestClient(
  baseUrl: string,
  headers: () => Promise<Record<string, string>> | Record<string, string>,
  httpGet: HttpGet,
): RestClient {
  async function get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const search = params.size > 0 ? `?${params}` : '';
    const response = await httpGet(`${baseUrl.replace(/\/+$/, '')}${path}${search}`, { headers: await headers() });
    const body: unknown = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = body as { error?: unknown; message?: unknown };
      throw new RestError(
        response.status,
        typeof detail.error === 'string' ? detail.error : `http_${response.status}`,
        typeof detail.message === 'string' ? detail.message : response.statusText,
      );
    }
    return body as T;
  }
  const segment = encodeURIComponent;
  return {
    roomHistory: (room, before, limit = 50) => get(`/rooms/${segment(room)}/messages`, { limit, before }),
    roomPresence: (room) => get(`/rooms/${segment(room)}/presence`),
    conversations: () => get('/conversations'),
    conversationHistory: (id, before, limit = 50) => get(`/conversations/${segment(id)}/messages`, { limit, before }),
    attachment: (attachmentId) => get(`/attachments/${segment(attachmentId)}`),
  };
}
