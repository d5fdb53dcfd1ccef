import { instrumented, logger } from '#aws/observability';
import { errorResponse, type HttpEvent, type HttpResult } from '../rest/http.js';
import { routeFor } from '../rest/routes.js';

/** The history REST API (HTTP API, payload 2.0): one function, a route-key table. */
export const handler = instrumented('restApi', async (event: HttpEvent): Promise<HttpResult> => {
  logger.appendKeys({ routeKey: event.routeKey });
  try {
    return await routeFor(event)(event);
  } catch (error) {
    return errorResponse(error, event.requestContext.requestId);
  }
});
