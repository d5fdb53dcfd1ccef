import type { AttachmentLimits } from '#core/domain/attachment';
import type { ModerationFailMode } from '#core/domain/moderation';

/** Thrown at cold start when a function is deployed without a setting it needs. */
export class MissingConfigError extends Error {
  override name = 'MissingConfigError';
}

/** Reads a required environment variable, naming it when it is missing. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new MissingConfigError(`Environment variable ${name} is not set`);
  }
  return value;
}

/** Reads an optional numeric environment variable. */
export function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new MissingConfigError(`Environment variable ${name} is not a number: ${raw}`);
  return value;
}

/** Table names, read lazily so a function only needs the tables it touches. */
export const tables = {
  connections: () => requireEnv('CONNECTIONS_TABLE'),
  subscriptions: () => requireEnv('SUBSCRIPTIONS_TABLE'),
  messages: () => requireEnv('MESSAGES_TABLE'),
  conversations: () => requireEnv('CONVERSATIONS_TABLE'),
  deliveryFailures: () => requireEnv('DELIVERY_FAILURES_TABLE'),
  rooms: () => requireEnv('ROOMS_TABLE'),
};

export const eventBusName = () => requireEnv('EVENT_BUS_NAME');
export const managementApiEndpoint = () => requireEnv('MANAGEMENT_API_ENDPOINT');
export const messageRetentionDays = () => numberFromEnv('MESSAGE_RETENTION_DAYS', 30);

/** DeliveryFailures TTL in seconds. No default: the template's value is the only one (the ASL uses it too). */
export function deliveryFailureRetentionSeconds(): number {
  requireEnv('DELIVERY_FAILURE_RETENTION_SECONDS');
  return numberFromEnv('DELIVERY_FAILURE_RETENTION_SECONDS', 0);
}

export const attachmentsTable = () => requireEnv('ATTACHMENTS_TABLE');
export const attachmentsBucket = () => requireEnv('ATTACHMENTS_BUCKET');

/** The deployment's attachment limits (ATTACHMENT_MAX_BYTES, ATTACHMENT_ALLOWED_TYPES, ATTACHMENT_QUOTA_BYTES_PER_DAY). */
export function attachmentLimits(): AttachmentLimits {
  return {
    maxBytes: numberFromEnv('ATTACHMENT_MAX_BYTES', 10 * 1024 * 1024),
    allowedTypes: requireEnv('ATTACHMENT_ALLOWED_TYPES')
      .split(',')
      .map((type) => type.trim())
      .filter(Boolean),
    quotaBytesPerDay: numberFromEnv('ATTACHMENT_QUOTA_BYTES_PER_DAY', 100 * 1024 * 1024),
  };
}

/** The moderation hook's settings; undefined when the deployment has none (ModerationFunction empty). */
export function moderationConfig():
  | { functionName: string; timeoutMs: number; failMode: ModerationFailMode }
  | undefined {
  const functionName = process.env.MODERATION_FUNCTION;
  if (!functionName) return undefined;
  const failMode = process.env.MODERATION_FAIL_MODE ?? 'closed';
  if (failMode !== 'open' && failMode !== 'closed') {
    throw new MissingConfigError(`Environment variable MODERATION_FAIL_MODE must be open or closed: ${failMode}`);
  }
  return { functionName, timeoutMs: numberFromEnv('MODERATION_TIMEOUT_MS', 1000), failMode };
}
