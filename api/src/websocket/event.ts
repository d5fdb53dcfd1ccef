import type {
  APIGatewayEventIdentity,
  APIGatewayEventLambdaAuthorizerContext,
  APIGatewayEventWebsocketRequestContextV2,
  APIGatewayProxyEventHeaders,
  APIGatewayProxyEventMultiValueHeaders,
  APIGatewayProxyStructuredResultV2,
  APIGatewayProxyWebsocketEventV2WithRequestContext,
  APIGatewayRequestAuthorizerEvent,
} from 'aws-lambda';

/**
 * `requestContext.authorizer` on every route once the $connect authorizer allowed the connection:
 * its context with the values stringified, plus principalId and integrationLatency. The
 * @types/aws-lambda type wants the context's keys up front; API Gateway passes on whatever keys the
 * authorizer returned.
 */
export type WebSocketAuthorizerContext = APIGatewayEventLambdaAuthorizerContext<Record<never, never>> &
  Record<string, string | number>;

/**
 * The WebSocket request context from @types/aws-lambda, narrowed and extended to what API Gateway
 * sends: `messageId` only on MESSAGE events (the type has it on every event), and what the type
 * leaves out: the caller's address, the authorizer's context and, on $disconnect, why it closed.
 */
export type WebSocketRequestContext = Omit<APIGatewayEventWebsocketRequestContextV2, 'messageId'> & {
  messageId?: string;
  identity: Pick<APIGatewayEventIdentity, 'sourceIp' | 'userAgent'>;
  authorizer?: WebSocketAuthorizerContext;
  disconnectStatusCode?: number;
  disconnectReason?: string;
};

/**
 * API Gateway's WebSocket proxy event, for every route. $connect and $disconnect also carry headers
 * (the client's on $connect, API Gateway's own on $disconnect), which the @types/aws-lambda type
 * leaves out. The local gateway builds exactly this type, so it and the handlers agree.
 */
export type WebSocketEvent = APIGatewayProxyWebsocketEventV2WithRequestContext<WebSocketRequestContext> & {
  headers?: APIGatewayProxyEventHeaders;
  multiValueHeaders?: APIGatewayProxyEventMultiValueHeaders;
};

/**
 * The input of the REQUEST authorizer on $connect. @types/aws-lambda's REQUEST authorizer event is
 * the REST API's: a WebSocket API sends no path, method, resource or path parameters, leaves the
 * query maps out when the URL has no query string, and its request context is the WebSocket one.
 */
export type WebSocketAuthorizerEvent = Pick<
  APIGatewayRequestAuthorizerEvent,
  'type' | 'methodArn' | 'headers' | 'multiValueHeaders' | 'stageVariables'
> &
  Partial<Pick<APIGatewayRequestAuthorizerEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>> & {
    requestContext: WebSocketRequestContext;
  };

/** The integration response: for two-way routes API Gateway sends `body` back to the client. */
export type WebSocketResult = APIGatewayProxyStructuredResultV2 & { statusCode: number };
