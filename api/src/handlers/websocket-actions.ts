import { instrumented, logger } from '#aws/observability';
import { allowFrame, identityForFrame } from '../composition.js';
import { actions } from '../websocket/actions.js';
import type { WebSocketEvent } from '../websocket/event.js';
import { dispatch } from '../websocket/router.js';

/** Every WebSocket action route, and $default, lands here. */
export const handler = instrumented('websocketActions', (event: WebSocketEvent) => {
  logger.appendKeys({ connectionId: event.requestContext.connectionId, routeKey: event.requestContext.routeKey });
  return dispatch(event, actions, {
    allowFrame,
    resolveIdentity: ({ connectionId, identity, authorizer, frame, admitted }) =>
      identityForFrame({
        connectionId,
        identity,
        guest: authorizer.guest === 'true',
        claimedUserId: frame.user_id ?? frame.senderId,
        admitted,
      }),
  });
});
