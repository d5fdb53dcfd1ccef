import { instrumented, logger } from '#aws/observability';
import { allowFrame } from '../composition.js';
import { actions } from '../websocket/actions.js';
import type { WebSocketEvent } from '../websocket/event.js';
import { dispatch } from '../websocket/router.js';

/** Every WebSocket action route, and $default, lands here. */
export const handler = instrumented('websocketActions', (event: WebSocketEvent) => {
  logger.appendKeys({ connectionId: event.requestContext.connectionId, routeKey: event.requestContext.routeKey });
  return dispatch(event, actions, { allowFrame });
});
