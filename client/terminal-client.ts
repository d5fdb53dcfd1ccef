import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { clearLine, createInterface, cursorTo } from 'node:readline';
import WebSocket from 'ws';
import { AttachmentError, Attachments } from '#client-core/attachments';
import { ChatClient } from '#client-core/chat-client';
import { createRestClient } from '#client-core/rest-client';
import { colorEnabled, type Painter, painter } from './ansi.js';
import { type ClientOptions, connectUrl, parseClientOptions, USAGE, UsageError } from './cli-options.js';
import { localClock } from './frame-format.js';
import { TerminalShell } from './terminal-shell.js';

/** Under API Gateway's 10-minute idle timeout. */
const KEEPALIVE_MS = 9 * 60 * 1000;
const HTTP_TIMEOUT_MS = 10_000;
/** A 10 MB file over a slow link. */
const UPLOAD_TIMEOUT_MS = 120_000;

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

  let shell: TerminalShell | undefined;
  // Incoming lines are printed above the prompt, keeping what the user is typing intact.
  const write = (stream: NodeJS.WriteStream, line: string) => {
    if (!interactive) {
      stream.write(`${line}\n`);
      return;
    }
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
    stream.write(`${line}\n`);
    rl.setPrompt(shell?.prompt ?? `#${settings.rooms[0]}> `);
    rl.prompt(true);
  };

  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });

  const client = new ChatClient({
    me: { userId: settings.user ?? '', userName: settings.name ?? settings.user ?? '' },
    rooms: settings.rooms,
    rest: terminalRest(settings),
    // The rooms come from --room each run; nothing is remembered between runs.
    storage: memoryStore(),
    WebSocket: TerminalWebSocket,
    webSocketUrl: (rooms) => connectUrl(settings, rooms),
    newMessageId: randomUUID,
    backoff: { baseMs: settings.reconnectBaseMs, maxMs: settings.reconnectMaxMs },
    heartbeatMs: KEEPALIVE_MS,
    onFailedAttempt: () => {
      if (refusedWith !== 401 && refusedWith !== 403) return 'retry';
      write(process.stderr, paint.error(`the server refused the connection (${refusedWith}); check --user or --token`));
      finish(2);
      return 'stop';
    },
  });
  const attachments = new Attachments(client, {
    put: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS) }),
    attachment: (attachmentId) => terminalRest(settings).attachment(attachmentId),
    newMessageId: randomUUID,
  });
  shell = new TerminalShell({
    client,
    options: settings,
    output: {
      print: (line) => write(process.stdout, line),
      status: (line) => write(settings.json ? process.stderr : process.stdout, line),
    },
    format: { paint, clock: localClock() },
    quit: (code) => finish(code),
    refusedWith: () => refusedWith,
    uploadFile: (path) => uploadFile(attachments, path, paint),
  });
  const terminal = shell;
  client.start();

  rl.on('line', (line) => terminal.input(line));
  if (interactive) {
    // Readline turns stdin into keypress events; typing a message (not a /command) tells the room,
    // at most once every 3 s (the client throttles).
    process.stdin.on('keypress', (_text: string, key: { name?: string } | undefined) => {
      if (key?.name === 'return' || key?.name === 'enter') return;
      if (rl.line.trim() !== '' && !rl.line.startsWith('/')) client.typing();
    });
  }
  rl.on('close', () => void terminal.endOfInput());
  rl.on('SIGINT', () => finish(0));
  process.once('SIGINT', () => finish(0));
  process.once('SIGTERM', () => finish(0));

  await terminal.showStartupHistory();
  if (interactive) {
    rl.setPrompt(terminal.prompt);
    rl.prompt();
  }

  const code = await finished;
  terminal.dispose();
  rl.close();
  await client.stop();
  process.stdin.destroy();
  return code;
}

/** The HTTP API with the socket's identity: a bearer token, or the demo mode's x-user-id. */
function terminalRest(options: ClientOptions) {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  else {
    if (options.user) headers['x-user-id'] = options.user;
    if (options.name) headers['x-user-name'] = options.name;
  }
  const rest = createRestClient(
    options.rest,
    () => headers,
    (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) }),
  );
  // A room's first page is what --history asks to see at start.
  const pageSize = Math.max(options.historyLimit, 1);
  return { ...rest, roomHistory: (room: string, before?: string) => rest.roomHistory(room, before, pageSize) };
}

/** Types the server accepts by default, by extension; anything else is sent as application/octet-stream (and refused). */
const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
};

/** /upload <path>: reads the file and sends it to the active room or conversation. */
async function uploadFile(attachments: Attachments, path: string, paint: Painter): Promise<string> {
  try {
    const body = new Uint8Array(await readFile(path));
    const name = basename(path);
    const type = CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
    const { attachmentId } = await attachments.sendFile({ name, type, size: body.length, body });
    return paint.dim(`sent ${name} (${attachmentId})`);
  } catch (error) {
    const message = error instanceof AttachmentError ? error.message : (error as Error).message;
    return paint.error(`upload failed: ${message}`);
  }
}

function memoryStore() {
  const values = new Map<string, string>();
  return {
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
  };
}

process.exitCode = await main(process.argv.slice(2));
// Anything still holding the event loop open (a history request in flight) must not keep us here.
setTimeout(() => process.exit(), 1_000).unref();
