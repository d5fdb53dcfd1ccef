import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from '../../../local/listen.js';

const servers = [createServer(), createServer()];
afterEach(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('listen', () => {
  it('resolves with the bound address, and rejects when the port is taken instead of emitting an error later', async () => {
    const [first, second] = servers as [ReturnType<typeof createServer>, ReturnType<typeof createServer>];
    const address = await listen(first, 0, '127.0.0.1');
    expect(address.address).toBe('127.0.0.1');
    expect(address.port).toBeGreaterThan(0);
    await expect(listen(second, address.port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(second.listenerCount('error')).toBe(0);
  });
});
