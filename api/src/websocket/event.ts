import type {
  APIGatewayEventWebsocketRequestContextV2,
  APIGatewayProxyEventHeaders,
  APIGatewayProxyEventQueryStringParameters,
  APIGatewayProxyStructuredResultV2,
  APIGatewayProxyWebsocketEventV2WithRequestContext,
} from 'aws-lambda';

/**
 * The WebSocket request context from @types/aws-lambda, plus what API Gateway sends and that type
 * leaves out: the caller's address, the $connect authorizer's context (stringified, repeated on every
 * route) and, on $disconnect, why the connection closed.
 */
export type WebSocketRequestContext = APIGatewayEventWebsocketRequestContextV2 & {
  identity?: { sourceIp?: string; userAgent?: string };
  authorizer?: Record<string, unknown> | null;
  disconnectStatusCode?: number;
  disconnectReason?: string;
};

/** API Gateway's WebSocket proxy event for every route; $connect also carries the query string and headers. */
export type WebSocketEvent = APIGatewayProxyWebsocketEventV2WithRequestContext<WebSocketRequestContext> & {
  queryStringParameters?: APIGatewayProxyEventQueryStringParameters | null;
  headers?: APIGatewayProxyEventHeaders | null;
};

/** The integration response: for two-way routes API Gateway sends `body` back to the client. */
export type WebSocketResult = APIGatewayProxyStructuredResultV2 & { statusCode: number };
