import { instrumented, logger } from '#aws/observability';
import { closeConnection } from '../composition.js';
import type { WebSocketEvent, WebSocketResult } from '../websocket/event.js';

/** $disconnect: remove this connection and announce the departure. */
export const handler = instrumented('disconnect', async (event: WebSocketEvent): Promise<WebSocketResult> => {
  const { connectionId, disconnectStatusCode, disconnectReason } = event.requestContext;
  logger.appendKeys({ connectionId });
  const { removed } = await closeConnection(connectionId);
  logger.info('disconnected', { removed, disconnectStatusCode, disconnectReason });
  return { statusCode: 200 };
});
