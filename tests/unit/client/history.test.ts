import { describe, expect, it } from 'vitest';
import { fetchRoomHistory, HistoryUnavailableError } from '../../../client/history.js';

const frame = (id: string, timestamp: string) => ({
  type: 'message',
  action: 'message',
  messageId: id,
  room: 'general',
  user_id: 'bob',
  userName: 'bob',
  message: `text ${id}`,
  timestamp,
});

function fakeFetch(status: number, body: unknown) {
  const requests: Array<{ url: string; headers: Record<string, string> }> = [];
  const impl = (async (url: string | URL | Request, init?: RequestInit) => {
    requests.push({ url: String(url), headers: (init?.headers ?? {}) as Record<string, string> });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  }) as typeof fetch;
  return { impl, requests };
}

describe('fetchRoomHistory', () => {
  it('asks for the room with the demo identity and returns the page oldest first', async () => {
    const { impl, requests } = fakeFetch(200, {
      room: 'general',
      messages: [frame('m-2', '2026-03-01T10:00:02Z'), frame('m-1', '2026-03-01T10:00:01Z')],
      nextCursor: 'abc',
    });
    const history = await fetchRoomHistory({ rest: 'http://127.0.0.1:3000/', user: 'alice' }, 'general', 5, impl);
    expect(history.messages.map((message) => message.messageId)).toEqual(['m-1', 'm-2']);
    expect(history.hasMore).toBe(true);
    expect(requests).toEqual([
      {
        url: 'http://127.0.0.1:3000/rooms/general/messages?limit=5',
        headers: { accept: 'application/json', 'x-user-id': 'alice' },
      },
    ]);
  });

  it('sends a token as a bearer token instead', async () => {
    const { impl, requests } = fakeFetch(200, { room: 'general', messages: [] });
    const history = await fetchRoomHistory({ rest: 'https://api.example.com/prod', token: 't' }, 'general', 1, impl);
    expect(history).toEqual({ room: 'general', messages: [], hasMore: false });
    expect(requests[0]?.url).toBe('https://api.example.com/prod/rooms/general/messages?limit=1');
    expect(requests[0]?.headers.authorization).toBe('Bearer t');
  });

  it.each([
    [401, { message: 'Unauthorized' }],
    [200, 'not json'],
    [200, { messages: 'nope' }],
  ])('fails with HistoryUnavailableError on %s %j', async (status, body) => {
    const { impl } = fakeFetch(status, body);
    await expect(fetchRoomHistory({ rest: 'http://x', user: 'a' }, 'general', 5, impl)).rejects.toThrow(
      HistoryUnavailableError,
    );
  });
});
