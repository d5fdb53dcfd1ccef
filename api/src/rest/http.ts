import type { APIGatewayProxyEventV2WithLambdaAuthorizer } from 'aws-lambda';
import { logger } from '#aws/observability';
import { DomainError } from '#core/domain/errors';

/** An HTTP API payload 2.0 event; the Lambda authorizer's context arrives under `authorizer.lambda`. */
export type HttpEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>;

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export const json = (statusCode: number, body: unknown): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** Domain errors become 4xx with their reason; anything else is a 500 whose details stay in the logs. */
export function errorResponse(error: unknown, requestId?: string): HttpResult {
  if (error instanceof DomainError) {
    const issues =
      'issues' in error && Array.isArray(error.issues) && error.issues.length > 0 ? { issues: error.issues } : {};
    return json(error.httpStatus, { error: error.code, message: error.message, ...issues });
  }
  logger.error('request failed', { error: error as Error });
  return json(500, { error: 'internal_error', message: 'Internal server error', requestId });
}
