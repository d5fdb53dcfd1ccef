import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BaselineServer, startBaselineServer } from '../../../bench/baseline-server.js';
import { ClientPool } from '../../../bench/lib/harness.js';

let server: BaselineServer;
let pool: ClientPool;

beforeAll(async () => {
  server = await startBaselineServer({ port: 0 });
  pool = new ClientPool({ urlFor: (index) => `${server.url}/?userId=u${index}&room=${index < 3 ? 'a' : 'b'}` });
  await pool.connect(4, 4);
});

afterAll(async () => {
  await pool?.close();
  await server?.close();
});

describe('the ws baseline with the benchmark harness', () => {
  it('welcomes every socket, so the harness knows it is ready', () => {
    expect(pool.sockets.map((socket) => socket.connectionId)).toEqual([
      expect.any(String),
      expect.any(String),
      expect.any(String),
      expect.any(String),
    ]);
  });

  it('delivers a message to every member of the room, the sender included, and nobody else', async () => {
    const members = new Set([0, 1, 2]);
    const flight = pool.send(pool.sockets[1] as never, 'a', 'm-1', 3, 'hello', members);
    expect(await pool.settle(flight, 5_000)).toBe(true);
    expect([...flight.receivedBy].sort()).toEqual([0, 1, 2]);
    expect(pool.counters.misrouted).toBe(0);
    expect(pool.counters.duplicates).toBe(0);
  });

  it('adds a socket to a room on joinRoom', async () => {
    const outsider = pool.sockets[3];
    if (!outsider) throw new Error('no fourth socket');
    const joined = pool.waitForFrames((socket, frame) => socket === outsider && frame.type === 'joined', 1, 5_000);
    outsider.ws.send(JSON.stringify({ action: 'joinRoom', room: 'a' }));
    await joined;
    const flight = pool.send(outsider, 'a', 'm-2', 4);
    expect(await pool.settle(flight, 5_000)).toBe(true);
    expect(flight.receivedBy.has(3)).toBe(true);
  });

  it('counts a second copy of a message as a duplicate and a stranger as unexpected', async () => {
    const flight = pool.send(pool.sockets[0] as never, 'a', 'm-3', 4);
    expect(await pool.settle(flight, 5_000)).toBe(true);
    const before = pool.counters.duplicates;
    const repeat = pool.waitForFrames((_socket, frame) => frame.messageId === 'm-3', 4, 5_000);
    // Same id again: the server broadcasts it a second time, the harness drops every copy.
    pool.sockets[0]?.ws.send(JSON.stringify({ action: 'sendMessage', room: 'a', message: 'again', messageId: 'm-3' }));
    await repeat;
    expect(pool.counters.duplicates - before).toBe(4);
  });
});
