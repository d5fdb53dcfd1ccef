import { parseArgs } from 'node:util';
import { roomNameSchema } from '#protocol/client-frames';

export interface ClientOptions {
  /** Rooms to join at connect; the first is where typed lines go. */
  rooms: string[];
  /** Demo identity (AUTH_MODE=none); ignored by the server when a token is given. */
  user?: string;
  name?: string;
  /** WebSocket URL, e.g. ws://127.0.0.1:3001 or wss://{api}.execute-api.{region}.amazonaws.com/prod */
  url: string;
  /** HTTP API base URL, for history. */
  rest: string;
  token?: string;
  /** One JSON frame per line on stdout, and JSON frames accepted on stdin. */
  json: boolean;
  /** Messages of history printed per room at start; 0 skips history. */
  historyLimit: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
}

/** Bad command-line arguments; the message says which. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `npm run client -- --room <room>[,<room>...] --user <id> [options]
  --room <names>          rooms to join, comma-separated (default general); typed lines go to the first
  --user <id>             who you are (demo mode, AUTH_MODE=none)
  --name <display name>   shown to others (demo mode; defaults to the id)
  --token <jwt>           sign in with a token instead (cognito mode)     SWITCHBOARD_TOKEN
  --url <ws url>          default ws://127.0.0.1:3001                      SWITCHBOARD_WS_URL
  --rest <http url>       default http://127.0.0.1:3000                    SWITCHBOARD_REST_URL
  --history <n>           recent messages shown per room at start (default 20, 0 = none)
  --json                  print every received frame as one JSON line; stdin lines that are
                          JSON objects are sent as frames as they are
  --reconnect-base-ms <n> first reconnect delay ceiling (default 500; doubles, capped at 30 s)
Commands: /join <room>, /leave [room], /rooms, /ping, /retry (resend what the server refused), /help, /quit,
/upload <path> (send a file to this room or conversation),
/edit <text> (your last message here), /react <emoji> (on the last message here; again to take it back),
/create-private <title>, /create-room <name> [title], and in the room you are in (or add it last):
/invite <user>, /kick <user>, /ban <user> [minutes], /unban <user>, /role <user> <owner|moderator|member>,
/members, /quit-room, /delete-room;
anything else is a message.`;

function positiveInteger(value: string, flag: string, minimum: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum) throw new UsageError(`${flag} must be an integer ≥ ${minimum}`);
  return number;
}

function urlOption(value: string, flag: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} is not a URL: ${value}`);
  }
  if (!protocols.includes(url.protocol)) throw new UsageError(`${flag} must start with ${protocols.join(' or ')}//`);
  return value;
}

/** Validates a room name with the server's own rule, so a typo fails here rather than at connect. */
export function checkRoomName(room: string): string {
  const parsed = roomNameSchema.safeParse(room);
  if (!parsed.success) throw new UsageError(`invalid room "${room}": ${parsed.error.issues[0]?.message ?? 'bad name'}`);
  return parsed.data;
}

/** Reads the command line; `undefined` means --help was asked for. */
export function parseClientOptions(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): ClientOptions | undefined {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return undefined;
  const rooms = [...new Set((values.room ?? 'general').split(',').map((room) => room.trim()))].map(checkRoomName);
  const token = values.token ?? env.SWITCHBOARD_TOKEN;
  return {
    rooms,
    ...(values.user ? { user: values.user } : {}),
    ...(values.name ? { name: values.name } : {}),
    ...(token ? { token } : {}),
    url: urlOption(values.url ?? env.SWITCHBOARD_WS_URL ?? 'ws://127.0.0.1:3001', '--url', ['ws:', 'wss:']),
    rest: urlOption(values.rest ?? env.SWITCHBOARD_REST_URL ?? 'http://127.0.0.1:3000', '--rest', ['http:', 'https:']),
    json: values.json ?? false,
    historyLimit: positiveInteger(values.history ?? '20', '--history', 0),
    reconnectBaseMs: positiveInteger(values['reconnect-base-ms'] ?? '500', '--reconnect-base-ms', 1),
    reconnectMaxMs: 30_000,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      room: { type: 'string' },
      user: { type: 'string' },
      name: { type: 'string' },
      token: { type: 'string' },
      url: { type: 'string' },
      rest: { type: 'string' },
      history: { type: 'string' },
      json: { type: 'boolean' },
      'reconnect-base-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** The handshake URL: identity and starting rooms travel in the query string (browsers cannot set headers). */
export function connectUrl(options: ClientOptions, rooms: string[]): string {
  const url = new URL(options.url);
  if (options.token) url.searchParams.set('token', options.token);
  else {
    if (options.user) url.searchParams.set('userId', options.user);
    if (options.name) url.searchParams.set('userName', options.name);
  }
  if (rooms.length > 0) url.searchParams.set('room', rooms.join(','));
  return url.toString();
}
