import type {
  APIGatewayAuthorizerWithContextResult,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerResult,
} from 'aws-lambda';
import { instrumented, logger } from '#aws/observability';
import { UnauthorizedError } from '#core/domain/errors';
import type { Identity } from '#core/domain/identity';
import { authMode, identityFromClaim, identityFromToken } from '../auth/identity-resolver.js';
import type { WebSocketAuthorizerEvent } from '../websocket/event.js';

/** WebSocket $connect REQUEST authorizer (IAM policy response) or HTTP API payload 2.0 (simple response). */
type AuthorizerEvent = WebSocketAuthorizerEvent | APIGatewayRequestAuthorizerEventV2;

/** What both APIs pass on to the routes, in `requestContext.authorizer` (`.lambda` on the HTTP API). */
type AuthorizerContext = { userId: string; userName: string; guest?: 'true' };

const isHttpApi = (event: AuthorizerEvent): event is APIGatewayRequestAuthorizerEventV2 =>
  'version' in event && event.version === '2.0';

function bearer(headers: Record<string, string | undefined> | null | undefined): string | undefined {
  const value = headers?.authorization ?? headers?.Authorization;
  return value?.replace(/^Bearer\s+/i, '') || undefined;
}

async function resolve(event: AuthorizerEvent): Promise<Identity & { guest?: boolean }> {
  const query = event.queryStringParameters ?? {};
  if (authMode() === 'none') {
    const headers = event.headers ?? {};
    const claimed = query.userId ?? headers['x-user-id'];
    const identity = identityFromClaim(claimed, query.userName ?? headers['x-user-name']);
    // No usable id: a made-up guest, which seed 002's first message may name (demo mode only).
    return identity.userId === claimed ? identity : { ...identity, guest: true };
  }
  return identityFromToken(isHttpApi(event) ? (bearer(event.headers) ?? query.token) : query.token);
}

/**
 * One authorizer for both APIs, so a user is the same identity over WebSocket and REST. The
 * identity travels in the authorizer context and is fixed for the connection's life.
 */
export const handler = instrumented(
  'authorizer',
  async (
    event: AuthorizerEvent,
  ): Promise<APIGatewaySimpleAuthorizerResult | APIGatewayAuthorizerWithContextResult<AuthorizerContext>> => {
    try {
      const identity = await resolve(event);
      const context: AuthorizerContext = {
        userId: identity.userId,
        userName: identity.userName,
        ...(identity.guest ? { guest: 'true' as const } : {}),
      };
      if (isHttpApi(event)) return { isAuthorized: true, context };
      return {
        principalId: identity.userId,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
        },
        context,
      };
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
      logger.info('authorization refused', { reason: error.message });
      if (isHttpApi(event)) return { isAuthorized: false };
      // API Gateway turns this exact message into a 401.
      throw new Error('Unauthorized');
    }
  },
);
