import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { tracer } from '../observability.js';

const clients = new Map<string, ApiGatewayManagementApiClient>();

/**
 * One Management API client per endpoint (API + stage), cached for the container's life.
 * Each endpoint gets its own client so no call ever mutates another's options.
 */
export function managementApi(endpoint: string): ApiGatewayManagementApiClient {
  let client = clients.get(endpoint);
  if (!client) {
    // 3 attempts: the SDK's standard retry covers 429 and 5xx with jittered backoff. cacheMiddleware
    // builds the middleware chain once instead of on every post (~10% of a post's CPU); the tracer
    // adds its middleware right here, before the first send.
    client = tracer.captureAWSv3Client(
      new ApiGatewayManagementApiClient({ endpoint, maxAttempts: 3, cacheMiddleware: true }),
    );
    clients.set(endpoint, client);
  }
  return client;
}
