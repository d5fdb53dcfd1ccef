import type { ConnectionNotifier, PostOutcome } from '#core/ports';
import type { Frame } from '#protocol/server-frames';
import type { ConnectionsPoster } from '../clients/connections-poster.js';
import { logger } from '../observability.js';

/**
 * Posts frames through the Management API. 410 means that one connection is gone; throttling and
 * 5xx were already retried by the poster, so what is left is reported as failed, never thrown, so
 * one bad connection cannot stop a broadcast.
 */
export function createConnectionNotifier(poster: ConnectionsPoster): ConnectionNotifier {
  return {
    async post(connectionId: string, frame: Frame): Promise<PostOutcome> {
      try {
        await poster.post(connectionId, JSON.stringify(frame));
        return 'delivered';
      } catch (error) {
        if ((error as Error).name === 'GoneException') return 'gone';
        logger.warn('postToConnection failed', { connectionId, error: (error as Error).name });
        return 'failed';
      }
    },
  };
}
