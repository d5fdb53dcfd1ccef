/**
 * The `aws:SourceArn` API Gateway presents when it invokes a function, read from the event it sends,
 * which a Lambda permission's SourceArn condition must match: `API/STAGE/ROUTEKEY` for a WebSocket
 * route, `API/STAGE/METHOD/PATH` for an HTTP API route, `API/authorizers/ID` for an authorizer.
 */

export interface ApiIds {
  webSocketApiId: string;
  webSocketAuthorizerId?: string;
  httpApiId?: string;
}

export function apiGatewaySourceArn(
  event: unknown,
  apis: ApiIds,
  region: string,
  accountId: string,
): string | undefined {
  const e = (event ?? {}) as {
    type?: string;
    methodArn?: string;
    routeArn?: string;
    routeKey?: string;
    requestContext?: { routeKey?: string; stage?: string; http?: { method?: string } };
  };
  const prefix = `arn:aws:execute-api:${region}:${accountId}:`;
  if (e.type === 'REQUEST' && e.methodArn)
    return `${prefix}${apis.webSocketApiId}/authorizers/${apis.webSocketAuthorizerId}`;
  if (e.type === 'REQUEST' && e.routeArn) return `${prefix}${apis.httpApiId}/authorizers/local`;
  const context = e.requestContext;
  if (!context?.stage) return undefined;
  if (context.http?.method) {
    const path = (e.routeKey ?? '').replace(/^\S+\s+/, '');
    return `${prefix}${apis.httpApiId}/${context.stage}/${context.http.method}${path}`;
  }
  return `${prefix}${apis.webSocketApiId}/${context.stage}/${context.routeKey}`;
}
