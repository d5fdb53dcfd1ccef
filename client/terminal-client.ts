import { randomUUID } from 'node:crypto';
import { clearLine, createInterface, cursorTo } from 'node:readline';
import { colorEnabled, painter } from './ansi.js';
import { ChatSession } from './chat-session.js';
import { connectUrl, parseClientOptions, USAGE, UsageError } from './cli-options.js';
import { localClock } from './frame-format.js';
import { fetchRoomHistory } from './history.js';
import { ReconnectingSocket } from './reconnecting-socket.js';

/** Under API Gateway's 10-minute idle timeout. */
const KEEPALIVE_MS = 9 * 60 * 1000;

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
    baseMs: settings.reconnectBaseMs,
    maxMs: settings.reconnectMaxMs,
    url: () => connectUrl(settings, chat.connectRooms()),
    onOpen: (reconnected) => chat.onOpen(reconnected),
    onMessage: (text) => chat.onMessage(text),
    onDisconnect: (info) => chat.onDisconnect(info),
    onFatal: (error) => {
      write(process.stderr, paint.error(error.message));
      finish(2);
    },
  });
  socket.start();

  rl.on('line', (line) => chat.input(line));
  rl.on('close', () => void chat.endOfInput());
  rl.on('SIGINT', () => finish(0));
  process.once('SIGINT', () => finish(0));
  process.once('SIGTERM', () => finish(0));
  const keepalive = setInterval(() => chat.keepalive(), KEEPALIVE_MS);

  await chat.showStartupHistory();
  if (interactive) {
    rl.setPrompt(`#${chat.currentRoom}> `);
    rl.prompt();
  }

  const code = await finished;
  clearInterval(keepalive);
  chat.dispose();
  rl.close();
  await socket.close();
  process.stdin.destroy();
  return code;
}

process.exitCode = await main(process.argv.slice(2));
// Anything still holding the event loop open (a history request in flight) must not keep us here.
setTimeout(() => process.exit(), 1_000).unref();
