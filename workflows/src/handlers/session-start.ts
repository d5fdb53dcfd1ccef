import type { EventBridgeEvent } from 'aws-lambda';
import { instrumented, logger } from '#aws/observability';
import { type ConnectionOpenedDetail, connectionOpened } from '#core/events/connection-opened';
import { startSession } from '../composition.js';

/** ConnectionOpened → welcome frame, pending direct messages, presence. */
export const handler = instrumented(
  'sessionStart',
  async (event: EventBridgeEvent<'ConnectionOpened', ConnectionOpenedDetail>) => {
    const detail = connectionOpened.schema.parse(event.detail);
    logger.appendKeys({ connectionId: detail.connectionId });
    const result = await startSession(detail);
    logger.info('session started', { ...result });
    return result;
  },
);
