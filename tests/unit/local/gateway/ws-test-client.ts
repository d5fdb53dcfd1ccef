import WebSocket from 'ws';

/** A ws client that queues what it receives, so tests can await frames and the close in order. */
export interface TestClient {
  socket: WebSocket;
  nextMessage(): Promise<string>;
  closed: Promise<{ code: number; reason: string }>;
}

/** The handshake was refused: API Gateway answered with an HTTP status instead of 101. */
export class HandshakeRejected extends Error {
  override readonly name = 'HandshakeRejected';
  constructor(readonly statusCode: number) {
    super(`handshake rejected with ${statusCode}`);
  }
}

/** Opens a connection and resolves once it is open, or rejects with HandshakeRejected. */
export function connectClient(url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}) {
  return new Promise<TestClient>((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
    const queue: string[] = [];
    const waiters: Array<(message: string) => void> = [];
    socket.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      const waiter = waiters.shift();
      if (waiter) waiter(text);
      else queue.push(text);
    });
    const closed = new Promise<{ code: number; reason: string }>((resolveClose) => {
      socket.on('close', (code, reason) => resolveClose({ code, reason: reason.toString('utf8') }));
    });
    socket.on('unexpected-response', (_req, res) => {
      res.resume();
      reject(new HandshakeRejected(res.statusCode ?? 0));
      socket.terminate();
    });
    socket.on('error', reject);
    socket.on('open', () =>
      resolve({
        socket,
        closed,
        nextMessage: () => {
          const queued = queue.shift();
          if (queued !== undefined) return Promise.resolve(queued);
          return new Promise((resolveMessage) => waiters.push(resolveMessage));
        },
      }),
    );
  });
}

/** Resolves with the status code of a refused handshake; fails the test if the handshake succeeds. */
export async function expectHandshakeRejected(
  url: string,
  options: { headers?: Record<string, string> } = {},
): Promise<number> {
  try {
    const client = await connectClient(url, options);
    client.socket.terminate();
  } catch (err) {
    if (err instanceof HandshakeRejected) return err.statusCode;
    throw err;
  }
  throw new Error('the handshake was accepted');
}
