import { instrumented, logger } from '#aws/observability';
import { DomainError } from '#core/domain/errors';
import { identityFromAuthorizer } from '#core/domain/identity';
import { openConnection } from '../composition.js';
import { roomsFromQuery } from '../websocket/connect-query.js';
import type { WebSocketEvent, WebSocketResult } from '../websocket/event.js';

/** $connect: the authorizer already fixed the identity; record the connection and its rooms. */
export const handler = instrumented('connect', async (event: WebSocketEvent): Promise<WebSocketResult> => {
  const { connectionId, connectedAt, identity: source, authorizer } = event.requestContext;
  logger.appendKeys({ connectionId });
  const identity = identityFromAuthorizer(authorizer);
  if (!identity) return { statusCode: 401, body: 'Unauthorized' };
  try {
    const rooms = roomsFromQuery(event.queryStringParameters);
    await openConnection({
      connectionId,
      identity,
      rooms,
      connectedAt,
      sourceIp: source.sourceIp,
      userAgent: source.userAgent ?? undefined,
      guest: authorizer?.guest === 'true',
    });
    logger.info('connected', { userId: identity.userId, rooms });
    return { statusCode: 200 };
  } catch (error) {
    if (error instanceof DomainError) return { statusCode: error.httpStatus, body: error.message };
    throw error;
  }
});
