/** The parts of API Gateway's WebSocket proxy event that Switchboard reads. */
export interface WebSocketRequestContext {
  routeKey: string;
  eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
  connectionId: string;
  connectedAt: number;
  requestTimeEpoch: number;
  domainName: string;
  stage: string;
  messageId?: string;
  requestId?: string;
  identity?: { sourceIp?: string; userAgent?: string };
  /** Stringified context from the $connect authorizer, repeated on every route. */
  authorizer?: Record<string, unknown>;
  disconnectStatusCode?: number;
  disconnectReason?: string;
}

export interface WebSocketEvent {
  requestContext: WebSocketRequestContext;
  body?: string | null;
  isBase64Encoded?: boolean;
  queryStringParameters?: Record<string, string | undefined> | null;
  headers?: Record<string, string | undefined> | null;
}

/** The integration response: for two-way routes API Gateway sends `body` back to the client. */
export interface WebSocketResult {
  statusCode: number;
  body?: string;
}
