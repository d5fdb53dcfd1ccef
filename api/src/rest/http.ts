import { logger } from '#aws/observability';
import { DomainError } from '#core/domain/errors';

/** The parts of an HTTP API (payload 2.0) event that the REST routes read. */
export interface HttpEvent {
  routeKey: string;
  rawPath: string;
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined>;
  pathParameters?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { requestId?: string; authorizer?: Record<string, unknown> };
}

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
