import { LambdaClient } from '@aws-sdk/client-lambda';
import { tracer } from '../observability.js';

let client: LambdaClient | undefined;

/**
 * The container's Lambda client (the moderation hook's Invoke), built once and traced. One attempt:
 * the hook has a budget of ModerationTimeoutMs, enforced per call with an abort signal, and a retry
 * would only spend it. The endpoint comes from AWS_ENDPOINT_URL_LAMBDA when set (the local stack).
 */
export function lambda(): LambdaClient {
  client ??= tracer.captureAWSv3Client(new LambdaClient({ maxAttempts: 1 }));
  return client;
}
