import type { AddressInfo, Server } from 'node:net';

/**
 * Starts `server` listening and resolves with its address once bound; a bind error (the port is
 * taken) rejects instead of surfacing later as an unhandled 'error' event.
 */
export function listen(server: Server, port: number | undefined, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
