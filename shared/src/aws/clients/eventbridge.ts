import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { tracer } from '../observability.js';

let client: EventBridgeClient | undefined;

/** The container's EventBridge client, built once and traced. */
export function eventBridge(): EventBridgeClient {
  if (!client) {
    // cacheMiddleware: the chain is built once; the tracer adds its own before the first send.
    client = tracer.captureAWSv3Client(new EventBridgeClient({ maxAttempts: 5, cacheMiddleware: true }));
  }
  return client;
}
