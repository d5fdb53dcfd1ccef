import type { IncomingMessage } from 'node:http';
import type { WebSocketAuthorizerContext, WebSocketRequestContext } from '#api/websocket/event';
import { formatClfTime, isRecord, newAwsStyleId } from './gateway-support.js';

/** The API an event comes from, as its request context names it. */
export interface WebSocketApiEndpoint {
  apiId: string;
  stage: string;
  /** `host:port` the clients connected to. */
  domainName: string;
}

/** What every event's request context repeats about the connection it belongs to. */
export interface ConnectionFacts {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly authorizer?: WebSocketAuthorizerContext;
}

/** The `requestContext` of one event, with a fresh request id and time. */
export function requestContext(
  api: WebSocketApiEndpoint,
  conn: ConnectionFacts,
  routeKey: string,
  eventType: WebSocketRequestContext['eventType'],
): WebSocketRequestContext {
  const now = Date.now();
  const requestId = newAwsStyleId();
  const context: WebSocketRequestContext = {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: formatClfTime(now),
    messageDirection: 'IN',
    stage: api.stage,
    connectedAt: conn.connectedAt,
    requestTimeEpoch: now,
    identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
    requestId,
    domainName: api.domainName,
    connectionId: conn.connectionId,
    apiId: api.apiId,
  };
  if (conn.authorizer) context.authorizer = conn.authorizer;
  return context;
}

/**
 * What a handshake request carries that the `$connect` event and the authorizer event both need
 * (`WebSocketEvent` and `WebSocketAuthorizerEvent` of api/src/websocket/event.ts).
 */
export interface HandshakeRequestParts {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
}

/**
 * Headers and query string of the upgrade request, in the REST-style (1.0) shape WebSocket events
 * use: header names keep the client's case, single-value maps keep the last value, and API Gateway's
 * forwarding headers are added.
 */
export function handshakeRequestParts(
  req: IncomingMessage,
  query: URLSearchParams,
  forwarded: { sourceIp: string; port: number; traceId: string },
): HandshakeRequestParts {
  const multiValueHeaders: Record<string, string[]> = {};
  const add = (name: string, value: string) => {
    const existing = multiValueHeaders[name];
    if (existing) existing.push(value);
    else multiValueHeaders[name] = [value];
  };
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    add(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  }
  add('X-Amzn-Trace-Id', forwarded.traceId);
  add('X-Forwarded-For', forwarded.sourceIp);
  add('X-Forwarded-Port', String(forwarded.port));
  add('X-Forwarded-Proto', 'http');
  const headers = lastValues(multiValueHeaders);

  const multiValueQuery: Record<string, string[]> = {};
  for (const [key, value] of query) {
    const existing = multiValueQuery[key];
    if (existing) existing.push(value);
    else multiValueQuery[key] = [value];
  }
  const parts: HandshakeRequestParts = { headers, multiValueHeaders };
  // Like API Gateway, the query maps are absent (not empty) when the URL has no query string.
  if (Object.keys(multiValueQuery).length > 0) {
    parts.queryStringParameters = lastValues(multiValueQuery);
    parts.multiValueQueryStringParameters = multiValueQuery;
  }
  return parts;
}

function lastValues(multi: Record<string, string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, values] of Object.entries(multi)) out[key] = values[values.length - 1] ?? '';
  return out;
}

/** The headers API Gateway puts on `$disconnect` events: not the client's, which are long gone. */
export function disconnectHeaders(domainName: string): Pick<HandshakeRequestParts, 'headers' | 'multiValueHeaders'> {
  const headers = { Host: domainName, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' };
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(headers)) multiValueHeaders[key] = [value];
  return { headers, multiValueHeaders };
}

/**
 * Reads one authorizer identity source (`route.request.querystring.token`,
 * `route.request.header.Authorization`) from the handshake; undefined when it is missing or empty,
 * which API Gateway answers with 401 without calling the authorizer.
 */
export function identitySourceValue(source: string, parts: HandshakeRequestParts): string | undefined {
  const query = /^route\.request\.querystring\.(.+)$/.exec(source);
  if (query?.[1] !== undefined) return nonEmpty(parts.queryStringParameters?.[query[1]]);
  const header = /^route\.request\.header\.(.+)$/.exec(source);
  if (header?.[1] !== undefined) {
    const wanted = header[1].toLowerCase();
    const entry = Object.entries(parts.headers).find(([name]) => name.toLowerCase() === wanted);
    return nonEmpty(entry?.[1]);
  }
  throw new Error(`unsupported WebSocket identity source: ${source}`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Compiles a route selection expression such as `$request.body.action` (or `${request.body.action}`)
 * into a function returning the candidate route key of a message, or undefined when the message is
 * not JSON or has no usable value at that path.
 */
export function compileRouteSelection(expression: string): (body: string) => string | undefined {
  const match = /^\$request\.body\.(.+)$/.exec(expression) ?? /^\$\{request\.body\.(.+)\}$/.exec(expression);
  if (match?.[1] === undefined) {
    throw new Error(`unsupported route selection expression: ${expression} (expected $request.body.<path>)`);
  }
  const path = match[1].split('.');
  return (body) => {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return undefined;
    }
    for (const key of path) {
      if (!isRecord(value)) return undefined;
      value = value[key];
    }
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return undefined;
  };
}

/**
 * The route a message goes to: its own route key when one exists, else `$default` when that exists,
 * else undefined (API Gateway answers with a "Forbidden" error frame). `$connect` and `$disconnect`
 * can never be selected by a message.
 */
export function chooseMessageRoute(candidate: string | undefined, routeKeys: ReadonlySet<string>): string | undefined {
  if (candidate !== undefined && candidate !== '$connect' && candidate !== '$disconnect' && routeKeys.has(candidate)) {
    return candidate;
  }
  return routeKeys.has('$default') ? '$default' : undefined;
}

/**
 * The error frame API Gateway sends a client when a message could not be handled, byte for byte in
 * API Gateway's own (oddly spaced) layout, e.g. `{"message": "Forbidden", "connectionId":"…", "requestId":"…"}`.
 */
export function errorFrame(message: string, connectionId: string, requestId: string): string {
  return `{"message": ${JSON.stringify(message)}, "connectionId":${JSON.stringify(connectionId)}, "requestId":${JSON.stringify(requestId)}}`;
}

const CLOSE_REASONS: Record<number, string> = {
  1000: 'Connection Closed Normally',
  1001: 'Going away',
  1003: 'Unsupported data',
  1005: 'Client-side close frame status not set',
  1006: 'Connection closed abnormally',
  1009: 'Message too big',
};

/** The `disconnectReason` text for a close code when the closing side gave none. */
export function defaultCloseReason(code: number): string {
  return CLOSE_REASONS[code] ?? '';
}
