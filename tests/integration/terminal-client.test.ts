import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort } from '../../local/free-port.js';
import { type LocalStack, repoRoot, startLocalStack } from '../../local/stack.js';
import { deleteConnection } from '../helpers/local-stack.js';

type Frame = Record<string, unknown> & { type?: string };

/** Waits until `find` returns something for one of the lines seen so far or arriving later. */
function lineWaiter<T>(lines: T[], subscribers: Set<() => void>) {
  return <R>(find: (line: T) => R | undefined, what: string, timeoutMs = 20_000): Promise<R> =>
    new Promise((resolveFound, reject) => {
      const check = () => {
        for (const line of lines) {
          const found = find(line);
          if (found !== undefined) {
            subscribers.delete(check);
            clearTimeout(timer);
            resolveFound(found);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        subscribers.delete(check);
        reject(
          new Error(`timed out waiting for ${what}; saw:\n${lines.map((line) => JSON.stringify(line)).join('\n')}`),
        );
      }, timeoutMs);
      subscribers.add(check);
      check();
    });
}

interface SpawnedClient {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  stderr: () => string;
  waitFor: <R>(find: (line: string) => R | undefined, what: string, timeoutMs?: number) => Promise<R>;
  waitForFrame: (find: (frame: Frame) => boolean, what: string, timeoutMs?: number) => Promise<Frame>;
  type(line: string): void;
  stop(): Promise<number | null>;
}

const clients: SpawnedClient[] = [];
const sockets: WebSocket[] = [];

/** Runs the terminal client as a user would, via tsx, with stdout and stdin as pipes. */
function spawnClient(args: string[], env: Record<string, string> = {}): SpawnedClient {
  const child = spawn(resolve(repoRoot, 'node_modules/.bin/tsx'), ['client/terminal-client.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
  });
  const lines: string[] = [];
  const subscribers = new Set<() => void>();
  let buffered = '';
  let errors = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts.filter((line) => line !== ''));
    for (const notify of [...subscribers]) notify();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk;
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const waitFor = lineWaiter(lines, subscribers);
  const parse = (line: string): Frame | undefined => {
    try {
      return JSON.parse(line) as Frame;
    } catch {
      return undefined;
    }
  };
  const client: SpawnedClient = {
    child,
    lines,
    stderr: () => errors,
    waitFor,
    waitForFrame: (find, what, timeoutMs) =>
      waitFor(
        (line) => {
          const frame = parse(line);
          return frame && find(frame) ? frame : undefined;
        },
        what,
        timeoutMs,
      ),
    type: (line) => child.stdin.write(`${line}\n`),
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.stdin.write('/quit\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  clients.push(client);
  return client;
}

interface RawClient {
  frames: Frame[];
  waitFor: (find: (frame: Frame) => boolean, what: string, timeoutMs?: number) => Promise<Frame>;
  send(frame: object): void;
}

/** A plain `ws` client, the other side of the conversation. */
async function rawClient(url: string): Promise<RawClient> {
  const socket = new WebSocket(url);
  sockets.push(socket);
  const frames: Frame[] = [];
  const subscribers = new Set<() => void>();
  socket.on('message', (data: WebSocket.RawData) => {
    frames.push(JSON.parse(String(data)) as Frame);
    for (const notify of [...subscribers]) notify();
  });
  await new Promise((resolveOpen, reject) => {
    socket.once('open', resolveOpen);
    socket.once('error', reject);
  });
  const waitFor = lineWaiter(frames, subscribers);
  return {
    frames,
    waitFor: (find, what, timeoutMs) => waitFor((frame) => (find(frame) ? frame : undefined), what, timeoutMs),
    send: (frame) => socket.send(JSON.stringify(frame)),
  };
}

const messagesOf = (frame: Frame) =>
  (frame.messages as Array<{ messageId: string; message: string }> | undefined) ?? [];

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    restPort: 0,
    webSocketPort: 0,
    dynamoDbPort: await freePort(),
    eventBridgePort: 0,
    stepFunctionsPort: 0,
    parameters: { LogLevel: 'ERROR' },
  });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.stop();
  for (const socket of sockets.splice(0)) socket.close();
});

afterAll(async () => {
  await stack?.close();
});

/** Has `sender` post `message` to `room` and waits for the ack, so it is stored. */
async function post(sender: RawClient, room: string, message: string, messageId: string): Promise<void> {
  sender.send({ action: 'sendMessage', room, message, messageId });
  await sender.waitFor((frame) => frame.type === 'ack' && frame.messageId === messageId, `ack of ${messageId}`);
}

const clientArgs = (room: string, user: string, ...extra: string[]) => [
  '--room',
  room,
  '--user',
  user,
  '--url',
  stack.urls.webSocket,
  '--rest',
  stack.urls.rest,
  ...extra,
];

describe('terminal client against the local stack', () => {
  it('prints earlier history, sends what is typed, and prints what others send (--json)', async () => {
    const bob = await rawClient(`${stack.urls.webSocket}?userId=bob&room=lobby`);
    await post(bob, 'lobby', 'first, before the client started', 'early-1');
    await post(bob, 'lobby', 'second, before the client started', 'early-2');

    const alice = spawnClient(clientArgs('lobby', 'alice', '--json'));
    const history = await alice.waitForFrame(
      (frame) => frame.type === 'history' && frame.room === 'lobby',
      'the start-up history',
    );
    expect(messagesOf(history).map((message) => message.messageId)).toEqual(['early-1', 'early-2']);
    await alice.waitForFrame((frame) => frame.type === 'welcome', 'the welcome frame');

    // Terminal → room: a typed line becomes a sendMessage that others receive.
    alice.type('hello from the terminal');
    const received = await bob.waitFor(
      (frame) => frame.type === 'message' && frame.message === 'hello from the terminal',
      'the typed message at bob',
    );
    expect(received).toMatchObject({ room: 'lobby', user_id: 'alice', userName: 'alice' });
    await alice.waitForFrame(
      (frame) => frame.type === 'ack' && frame.messageId === received.messageId,
      'the ack of the typed message',
    );

    // Room → terminal: what bob sends is printed as one JSON frame per line.
    bob.send({ action: 'sendMessage', room: 'lobby', message: 'hi terminal', messageId: 'live-1' });
    const printed = await alice.waitForFrame(
      (frame) => frame.type === 'message' && frame.messageId === 'live-1',
      'bob’s live message on stdout',
    );
    expect(printed).toMatchObject({ room: 'lobby', user_id: 'bob', message: 'hi terminal' });

    // A JSON line on stdin is sent as the frame it is.
    alice.type(JSON.stringify({ action: 'listRooms' }));
    const rooms = await alice.waitForFrame((frame) => frame.type === 'rooms', 'the rooms frame');
    expect(rooms.rooms).toEqual(expect.arrayContaining([expect.objectContaining({ room: 'lobby' })]));

    for (const line of alice.lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(await alice.stop()).toBe(0);
  });

  it('catches up on what was said while it was disconnected, via resume', async () => {
    const bob = await rawClient(`${stack.urls.webSocket}?userId=bob&room=comeback`);
    await post(bob, 'comeback', 'said while carol was here', 'before-drop');

    // A slow first reconnect (2-4 s) leaves a gap that bob's message falls into.
    const carol = spawnClient(clientArgs('comeback', 'carol', '--json', '--reconnect-base-ms', '4000'));
    const welcome = await carol.waitForFrame((frame) => frame.type === 'welcome', 'the welcome frame');
    await carol.waitForFrame(
      (frame) => frame.type === 'history' && messagesOf(frame).some((message) => message.messageId === 'before-drop'),
      'the start-up history',
    );

    expect(await deleteConnection(stack, String(welcome.connectionId))).toBe(204);
    await post(bob, 'comeback', 'said while carol was away', 'missed-1');

    const catchUp = await carol.waitForFrame(
      (frame) => frame.type === 'history' && messagesOf(frame).some((message) => message.messageId === 'missed-1'),
      'the resumed history with the missed message',
    );
    // Resume reaches a short window back (for late writes), so it may repeat what carol had; the
    // missed message comes once, after what she saw.
    const ids = messagesOf(catchUp).map((message) => message.messageId);
    expect(ids.filter((id) => id !== 'before-drop')).toEqual(['missed-1']);
    expect(ids.at(-1)).toBe('missed-1');
    // The new connection's welcome comes from SessionStartFunction, which EventBridge invokes
    // asynchronously: it may arrive after the resume reply.
    await carol.waitForFrame(
      (frame) => frame.type === 'welcome' && frame.connectionId !== welcome.connectionId,
      "the new connection's welcome",
    );
    expect(carol.lines.filter((line) => JSON.parse(line).type === 'welcome')).toHaveLength(2);
    expect(carol.stderr()).toMatch(/reconnecting in \d+\.\d s/);
  });

  it('prints history and live messages as plain lines when stdout is not a terminal', async () => {
    const bob = await rawClient(`${stack.urls.webSocket}?userId=bob&room=plain`);
    await post(bob, 'plain', 'an earlier line', 'plain-1');

    const dave = spawnClient(clientArgs('plain', 'dave'));
    await dave.waitFor((line) => (line.includes('bob: an earlier line') ? line : undefined), 'the history line');
    await dave.waitFor((line) => (line.startsWith('connected as dave') ? line : undefined), 'the welcome line');

    bob.send({ action: 'sendMessage', room: 'plain', message: 'a live line', messageId: 'plain-2' });
    const live = await dave.waitFor((line) => (line.includes('bob: a live line') ? line : undefined), 'the live line');
    expect(live).toMatch(/^\d\d:\d\d:\d\d #plain bob: a live line$/);

    dave.type('/quit');
    expect(await dave.stop()).toBe(0);
    // No ANSI escapes in piped output, and each message shown once.
    expect(dave.lines.join('\n')).not.toContain('\x1b[');
    expect(dave.lines.filter((line) => line.includes('an earlier line'))).toHaveLength(1);
  });
});
