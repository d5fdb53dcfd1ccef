import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { silentLogger } from '../../../../local/gateway/gateway-support.js';
import { type Connection, WebSocketConnections } from '../../../../local/gateway/websocket-connections.js';

function registry() {
  const ends: Array<{ connectionId: string; code: number; reason: string }> = [];
  const connections = new WebSocketConnections({
    idleTimeoutMs: 60_000,
    maxConnectionMs: 60_000,
    logger: silentLogger,
    onEnd: (conn, code, reason) => ends.push({ connectionId: conn.connectionId, code, reason }),
  });
  return { connections, ends };
}

const servers: WebSocketServer[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** A real server-side socket and its client, over loopback. */
async function socketPair(): Promise<{ server: WebSocket; client: WebSocket }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(wss);
  await once(wss, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  clients.push(client);
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  await once(client, 'open');
  return { server, client };
}

describe('the WebSocket connection registry', () => {
  it('hides a connection from @connections while its $connect runs', async () => {
    const { connections } = registry();
    const conn = connections.begin('203.0.113.10', 'test');
    expect(conn.state).toBe('connecting');
    expect(connections.describe(conn.connectionId)).toBeUndefined();
    expect(await connections.post(conn.connectionId, Buffer.from('hi'))).toBe(false);
    expect(connections.disconnect(conn.connectionId)).toBe(false);
    expect(connections.openIds()).toEqual([]);
  });

  it('forgets a refused handshake without reporting an end', () => {
    const { connections, ends } = registry();
    const conn = connections.begin('203.0.113.10', 'test');
    connections.forget(conn);
    expect(conn.state).toBe('gone');
    expect(ends).toEqual([]);
    expect(connections.stats()).toMatchObject({ connectionsClosed: 0, openConnections: 0 });
  });

  it('reports an end once, however often it ends, and ignores stale references after it', async () => {
    const { connections, ends } = registry();
    const conn: Connection = connections.begin('203.0.113.10', 'test');
    connections.end(conn, 1006, 'Connection closed abnormally');
    connections.end(conn, 1000, 'again');
    connections.close(conn, 1001, 'Going away');
    expect(ends).toEqual([{ connectionId: conn.connectionId, code: 1006, reason: 'Connection closed abnormally' }]);
    expect(await connections.send(conn, 'late', false)).toBe(false);
    expect(connections.stats().connectionsClosed).toBe(1);
  });

  it('opens, posts to, and disconnects by id like @connections, reporting 1000 once', async () => {
    const { connections, ends } = registry();
    const { server, client } = await socketPair();
    const conn = connections.begin('203.0.113.10', 'test');
    connections.open(conn, server);
    expect(connections.openIds()).toEqual([conn.connectionId]);
    expect(connections.describe(conn.connectionId)).toMatchObject({ sourceIp: '203.0.113.10', userAgent: 'test' });

    const received = once(client, 'message');
    expect(await connections.post(conn.connectionId, Buffer.from('hello'))).toBe(true);
    const [data, isBinary] = await received;
    expect(String(data)).toBe('hello');
    expect(isBinary).toBe(false);

    const closed = once(client, 'close');
    expect(connections.disconnect(conn.connectionId)).toBe(true);
    const [code] = await closed;
    expect(code).toBe(1000);
    await vi.waitFor(() => expect(server.readyState).toBe(WebSocket.CLOSED));
    expect(ends).toEqual([{ connectionId: conn.connectionId, code: 1000, reason: 'Connection Closed Normally' }]);
    expect(connections.stats()).toMatchObject({ openConnections: 0, connectionsOpened: 1, connectionsClosed: 1 });
    expect(connections.describe(conn.connectionId)).toBeUndefined();
  });
});
