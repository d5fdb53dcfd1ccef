import { numberFromEnv } from '#aws/config';
import { instrumented, logger } from '#aws/observability';
import { adapters } from '../../../shared/src/wiring.js';
import { actions } from '../websocket/actions.js';
import type { WebSocketEvent } from '../websocket/event.js';
import { dispatch } from '../websocket/router.js';

const rateLimit = {
  ratePerSecond: numberFromEnv('RATE_LIMIT_PER_SECOND', 10),
  burst: numberFromEnv('RATE_LIMIT_BURST', 20),
};

const allowFrame = (connectionId: string) =>
  adapters.connections().consumeRateToken(connectionId, Date.now(), rateLimit);

/** Every WebSocket action route, and $default, lands here. */
export const handler = instrumented('websocketActions', (event: WebSocketEvent) => {
  logger.appendKeys({ connectionId: event.requestContext.connectionId, routeKey: event.requestContext.routeKey });
  return dispatch(event, actions, { allowFrame });
});
