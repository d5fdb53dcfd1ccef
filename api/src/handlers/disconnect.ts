import { instrumented, logger } from '#aws/observability';
import { closeConnection } from '#core/use-cases/close-connection';
import { adapters } from '../../../shared/src/wiring.js';
import type { WebSocketEvent, WebSocketResult } from '../websocket/event.js';

/** $disconnect: remove this connection and announce the departure. */
export const handler = instrumented('disconnect', async (event: WebSocketEvent): Promise<WebSocketResult> => {
  const { connectionId, disconnectStatusCode, disconnectReason } = event.requestContext;
  logger.appendKeys({ connectionId });
  const { removed } = await closeConnection(connectionId, {
    connections: adapters.connections(),
    subscriptions: adapters.subscriptions(),
    events: adapters.events(),
  });
  logger.info('disconnected', { removed, disconnectStatusCode, disconnectReason });
  return { statusCode: 200 };
});
