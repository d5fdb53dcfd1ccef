import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { listen } from '../local/listen.js';

/** A running baseline server. */
export interface BaselineServer {
  /** `ws://host:port`; connect to `${url}/?room=<room>`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface BaselineServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
}

/**
 * The floor to compare Switchboard with: one process, rooms in memory, no storage, no queue. On a
 * `sendMessage` frame it sends the same message frame Switchboard sends to every socket in the
 * room (the sender included). Clients join with `?room=a,b` or a `joinRoom` frame and get a
 * welcome frame, so the benchmark harness drives both servers the same way.
 */
export async function startBaselineServer(options: BaselineServerOptions): Promise<BaselineServer> {
  const host = options.host ?? '127.0.0.1';
  const rooms = new Map<string, Set<WebSocket>>();
  const server = createServer((_request, response) => {
    response.writeHead(426).end();
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });

  wss.on('connection', (ws, request) => {
    const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
    const userId = query.get('userId') ?? 'anonymous';
    const joined = new Set<string>();
    const join = (room: string) => {
      let members = rooms.get(room);
      if (!members) {
        members = new Set();
        rooms.set(room, members);
      }
      members.add(ws);
      joined.add(room);
    };
    for (const room of (query.get('room') ?? 'general').split(',')) join(room);
    const connectionId = randomBytes(11).toString('base64url');
    ws.send(JSON.stringify({ type: 'welcome', connectionId, rooms: [...joined] }));
    ws.on('message', (data) => {
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        return;
      }
      if (frame.action === 'joinRoom' && typeof frame.room === 'string') {
        join(frame.room);
        ws.send(JSON.stringify({ type: 'joined', room: frame.room }));
        return;
      }
      if (frame.action !== 'sendMessage' || typeof frame.room !== 'string') return;
      const text = JSON.stringify({
        type: 'message',
        action: 'message',
        messageId: String(frame.messageId ?? randomBytes(8).toString('hex')),
        room: frame.room,
        user_id: userId,
        userName: userId,
        message: String(frame.message ?? ''),
        timestamp: new Date().toISOString(),
      });
      for (const member of rooms.get(frame.room) ?? []) member.send(text);
    });
    ws.on('close', () => {
      for (const room of joined) {
        const members = rooms.get(room);
        members?.delete(ws);
        if (members?.size === 0) rooms.delete(room);
      }
    });
    ws.on('error', () => {});
  });

  const { port } = await listen(server, options.port, host);
  return {
    url: `ws://${host}:${port}`,
    port,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
