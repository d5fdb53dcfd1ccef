import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { tracer } from '../observability.js';
import { attachRequestCounter } from './request-counter.js';

let client: EventBridgeClient | undefined;

/** The container's EventBridge client, built once and traced. */
export function eventBridge(): EventBridgeClient {
  if (!client) {
    client = tracer.captureAWSv3Client(new EventBridgeClient({ maxAttempts: 5 }));
    attachRequestCounter(client);
  }
  return client;
}
