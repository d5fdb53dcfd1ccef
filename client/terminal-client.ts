import { randomUUID } from 'node:crypto';
import { clearLine, createInterface, cursorTo } from 'node:readline';
import WebSocket from 'ws';
import { ReconnectingSocket } from '#client-core/reconnecting-socket';
import { colorEnabled, painter } from './ansi.js';
import { ChatSession } from './chat-session.js';
import { connectUrl, parseClientOptions, USAGE, UsageError } from './cli-options.js';
import { localClock } from './frame-format.js';
import { fetchRoomHistory } from './history.js';

/** Under API Gateway's 10-minute idle timeout. */
const KEEPALIVE_MS = 9 * 60 * 1000;

/** The HTTP status of the last refused handshake: a browser cannot see it, a terminal can. */
let refusedWith: number | undefined;

/** `ws`, keeping the status of a refused handshake (401/403 means retrying cannot help). */
class TerminalWebSocket extends WebSocket {
  constructor(url: string) {
    super(url);
    refusedWith = undefined;
    this.on('unexpected-response', (request, response) => {
      refusedWith = response.statusCode;
      response.resume();
      request.destroy();
    });
  }
}

/**
 * Terminal chat client (seed 000's websocket_client.py, over a real WebSocket):
 * `npm run client -- --room general --user alice`. Prints the room's recent history, then
 * live messages; lines typed are sent to the room; reconnects and catches up on its own.
 */
async function main(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseClientOptions>;
  try {
    options = parseClientOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const settings = options;

  const paint = painter(!settings.json && colorEnabled(process.stdout, process.env));
  const interactive = !settings.json && process.stdin.isTTY === true && process.stdout.isTTY === true;
  const rl = createInterface({
    input: process.stdin,
    ...(interactive ? { output: process.stdout } : {}),
    terminal: interactive,
  });

  let session: ChatSession | undefined;
  // Incoming lines are printed above the prompt, keeping what the user is typing intact.
  const write = (stream: NodeJS.WriteStream, line: string) => {
    if (!interactive) {
      stream.write(`${line}\n`);
      return;
    }
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
    stream.write(`${line}\n`);
    rl.setPrompt(`#${session?.currentRoom ?? settings.rooms[0]}> `);
    rl.prompt(true);
  };

  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });

  let socket: ReconnectingSocket | undefined;
  const chat = new ChatSession({
    options: settings,
    send: (text) => socket?.send(text) ?? false,
    output: {
      print: (line) => write(process.stdout, line),
      status: (line) => write(settings.json ? process.stderr : process.stdout, line),
    },
    format: { paint, clock: localClock() },
    fetchHistory: (room, limit) => fetchRoomHistory(settings, room, limit),
    quit: (code) => finish(code),
    newMessageId: randomUUID,
    now: () => new Date(),
  });
  session = chat;
  socket = new ReconnectingSocket({
    WebSocket: TerminalWebSocket,
    backoff: { baseMs: settings.reconnectBaseMs, maxMs: settings.reconnectMaxMs },
    heartbeatMs: KEEPALIVE_MS,
    url: () => connectUrl(settings, chat.connectRooms()),
    onOpen: (reconnected) => chat.onOpen(reconnected),
    onMessage: (text) => chat.onMessage(text),
    onState: (state) => {
      if (state.state !== 'waiting' || state.code === undefined) return;
      const reason = state.reason || (refusedWith ? `HTTP ${refusedWith}` : '');
      chat.onDisconnect({ code: state.code, reason, retryInMs: state.delayMs });
    },
    onFailedAttempt: () => {
      if (refusedWith !== 401 && refusedWith !== 403) return 'retry';
      write(process.stderr, paint.error(`the server refused the connection (${refusedWith}); check --user or --token`));
      finish(2);
      return 'stop';
    },
  });
  socket.start();

  rl.on('line', (line) => chat.input(line));
  rl.on('close', () => void chat.endOfInput());
  rl.on('SIGINT', () => finish(0));
  process.once('SIGINT', () => finish(0));
  process.once('SIGTERM', () => finish(0));

  await chat.showStartupHistory();
  if (interactive) {
    rl.setPrompt(`#${chat.currentRoom}> `);
    rl.prompt();
  }

  const code = await finished;
  chat.dispose();
  rl.close();
  await socket.stop();
  process.stdin.destroy();
  return code;
}

process.exitCode = await main(process.argv.slice(2));
// Anything still holding the event loop open (a history request in flight) must not keep us here.
setTimeout(() => process.exit(), 1_000).unref();
