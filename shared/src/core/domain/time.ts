/** API Gateway closes every WebSocket after 2 hours; records outlive that by a small margin. */
export const CONNECTION_LIFETIME_SECONDS = 2 * 60 * 60 + 10 * 60;

export const epochSeconds = (ms: number = Date.now()) => Math.floor(ms / 1000);

/** When a connection opened at `connectedAtMs` must be considered gone. */
export const connectionExpiry = (connectedAtMs: number) => epochSeconds(connectedAtMs) + CONNECTION_LIFETIME_SECONDS;

export const retentionExpiry = (nowMs: number, retentionDays: number) =>
  epochSeconds(nowMs) + Math.round(retentionDays * 24 * 60 * 60);
