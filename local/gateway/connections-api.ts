import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsServiceError, readBody, sendAwsError, sendJson } from '../aws-protocol.js';
import type { HopTimer } from '../latency/model.js';

/** API Gateway's limit for one WebSocket message, inbound or posted through @connections. */
export const MAX_MESSAGE_BYTES = 128 * 1024;

/** What the @connections API may see and do to a connection: only open connections are visible. */
export interface ConnectionRegistry {
  /** Details of an open connection, or undefined when it is connecting, closed or unknown. */
  describe(
    connectionId: string,
  ): { connectedAt: number; lastActiveAt: number; sourceIp: string; userAgent: string } | undefined;
  /**
   * Sends data to an open connection; false when it is not open (any more). With `hop` (the latency
   * model's post, started when the request arrived), the frame goes out once the hop is due.
   */
  post(connectionId: string, data: Buffer, hop?: HopTimer): Promise<boolean>;
  /** Closes an open connection; false when it is not open. */
  disconnect(connectionId: string): boolean;
}

/**
 * Decides whether a management API call may go ahead: throws an AwsServiceError (AccessDeniedException,
 * UnrecognizedClientException...) to refuse it. `method` is POST, GET or DELETE.
 */
export type ConnectionsAuthorizer = (req: IncomingMessage, method: string, connectionId: string) => void;

/** Counters the @connections API keeps. */
export interface ConnectionsApiStats {
  postsAccepted: number;
  postsGone: number;
  gets: number;
  deletes: number;
}

/**
 * Serves the @connections management API on the gateway's own port, the way API Gateway serves
 * `https://{api}.execute-api.{region}.amazonaws.com/{stage}/@connections/{id}`. Both `/@connections/{id}`
 * and `/{stage}/@connections/{id}` are accepted, so the unmodified SDK works whether its endpoint
 * includes the stage or not. With an `authorize` hook, each call is authorised before anything else.
 *
 * Errors carry `x-amzn-errortype`, which is what the SDK (and the AWS CLI) use to raise GoneException,
 * PayloadTooLargeException and ForbiddenException.
 */
export async function handleConnectionsRequest(
  req: IncomingMessage,
  res: ServerResponse,
  stage: string,
  registry: ConnectionRegistry,
  stats: ConnectionsApiStats,
  authorize?: ConnectionsAuthorizer,
  postHop?: () => HopTimer,
): Promise<void> {
  // The hop's clock starts on arrival: checking the signature and reading the body are part of it.
  const hop = req.method === 'POST' ? postHop?.() : undefined;
  const connectionId = managementConnectionId(req.url ?? '/', stage);
  if (connectionId === undefined) {
    req.resume();
    sendError(res, 403, 'ForbiddenException', 'Forbidden');
    return;
  }
  if (authorize && ['POST', 'GET', 'DELETE'].includes(req.method ?? '')) {
    try {
      authorize(req, req.method ?? '', connectionId);
    } catch (error) {
      if (!(error instanceof AwsServiceError)) throw error;
      req.resume();
      sendAwsError(res, 'rest-json', error);
      return;
    }
  }

  switch (req.method) {
    case 'POST': {
      const { body, tooLarge } = await readBody(req, MAX_MESSAGE_BYTES);
      if (tooLarge) {
        sendError(res, 413, 'PayloadTooLargeException', 'Message too long');
        return;
      }
      if (!(await registry.post(connectionId, body, hop))) {
        stats.postsGone += 1;
        sendError(res, 410, 'GoneException', 'Gone');
        return;
      }
      stats.postsAccepted += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '0' });
      res.end();
      return;
    }
    case 'GET': {
      req.resume();
      stats.gets += 1;
      const connection = registry.describe(connectionId);
      if (!connection) {
        sendError(res, 410, 'GoneException', 'Gone');
        return;
      }
      sendJson(res, 200, {
        connectedAt: new Date(connection.connectedAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
      return;
    }
    case 'DELETE': {
      req.resume();
      stats.deletes += 1;
      if (!registry.disconnect(connectionId)) {
        sendError(res, 410, 'GoneException', 'Gone');
        return;
      }
      res.writeHead(204);
      res.end();
      return;
    }
    default:
      req.resume();
      sendError(res, 403, 'ForbiddenException', 'Forbidden');
  }
}

/** The connection id of a management API path, or undefined when the path is not one. */
export function managementConnectionId(url: string, stage: string): string | undefined {
  const pathname = url.split('?')[0] ?? '';
  let segments: string[];
  try {
    // Decoded segment by segment: the SDK sends `=` as %3D, and some clients send `@` as %40.
    segments = pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (segments[0] === stage) segments = segments.slice(1);
  if (segments.length !== 2 || segments[0] !== '@connections' || !segments[1]) return undefined;
  return segments[1];
}

function sendError(res: ServerResponse, statusCode: number, errorType: string, message: string): void {
  sendJson(res, statusCode, { message }, { 'x-amzn-errortype': errorType });
}
