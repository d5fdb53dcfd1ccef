import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient } from '#client-core/chat-client';
import type { RoomMessageFrame } from '#protocol/server-frames';
import { painter } from '../../../client/ansi.js';
import type { ClientOptions } from '../../../client/cli-options.js';
import { TerminalShell } from '../../../client/terminal-shell.js';
import { FakeWebSocket } from '../../helpers/fake-websocket.js';

const options: ClientOptions = {
  rooms: ['general'],
  user: 'alice',
  url: 'ws://127.0.0.1:3001',
  rest: 'http://127.0.0.1:3000',
  json: false,
  historyLimit: 0,
  reconnectBaseMs: 1_000,
  reconnectMaxMs: 1_000,
};

const settle = () => vi.advanceTimersByTimeAsync(0);

function harness(uploadFile?: (path: string) => Promise<string>) {
  const client = new ChatClient({
    me: { userId: 'alice', userName: 'alice' },
    rooms: options.rooms,
    rest: {
      roomHistory: async (room) => ({ room, messages: [] }),
      roomPresence: async (room) => ({ room, online: [] }),
      conversations: async () => ({ conversations: [] }),
      conversationHistory: async (conversationId) => ({ conversationId, messages: [] }),
    },
    storage: { getItem: () => null, setItem: () => undefined },
    WebSocket: FakeWebSocket,
    webSocketUrl: () => 'ws://test/',
    newMessageId: () => 'mine-1',
    backoff: { baseMs: 1_000, maxMs: 1_000 },
  });
  const printed: string[] = [];
  const statuses: string[] = [];
  const shell = new TerminalShell({
    client,
    options,
    output: { print: (line) => printed.push(line), status: (line) => statuses.push(line) },
    format: { paint: painter(false), clock: (iso) => iso.slice(11, 19) },
    quit: () => undefined,
    ...(uploadFile ? { uploadFile } : {}),
  });
  client.start();
  return { shell, printed, statuses };
}

async function connected(h: ReturnType<typeof harness>) {
  await vi.advanceTimersByTimeAsync(1_000);
  FakeWebSocket.latest.open();
  FakeWebSocket.latest.receive({
    type: 'welcome',
    connectionId: 'c',
    user: { userId: 'alice', userName: 'alice' },
    rooms: ['general'],
    online: { general: [] },
    pending: 0,
  });
  await settle();
  await h.shell.showStartupHistory();
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});
afterEach(() => vi.useRealTimers());

describe('TerminalShell /upload', () => {
  it('hands the path to the uploader and prints its answer', async () => {
    const uploads: string[] = [];
    const h = harness(async (path) => {
      uploads.push(path);
      return `sent ${path}`;
    });
    await connected(h);
    h.shell.input('/upload ./photos/cat 1.png');
    await settle();
    expect(uploads).toEqual(['./photos/cat 1.png']);
    expect(h.statuses.slice(-2)).toEqual(['uploading ./photos/cat 1.png…', 'sent ./photos/cat 1.png']);
    h.shell.input('/upload');
    expect(h.statuses.at(-1)).toBe('/upload needs a file path');
  });

  it("prints a message's files after its text", async () => {
    const h = harness();
    await connected(h);
    const frame: RoomMessageFrame = {
      type: 'message',
      action: 'message',
      messageId: 'm-1',
      room: 'general',
      user_id: 'bob',
      userName: 'bob',
      message: 'look',
      timestamp: '2026-03-01T12:00:00.000Z',
      attachments: [{ attachmentId: 'a1', fileName: 'cat.png', contentType: 'image/png', size: 2048 }],
    };
    FakeWebSocket.latest.receive(frame);
    await settle();
    expect(h.printed.at(-1)).toMatch(/look \[file: cat\.png, image\/png, 2 KB · a1\]$/);
  });
});
