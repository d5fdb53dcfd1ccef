import { InvalidJsonError, PayloadTooLargeError, ValidationError } from '#core/domain/errors';

/** Inbound frames above this many bytes are refused before parsing: chat frames are small. */
export const MAX_FRAME_BYTES = 16 * 1024;
export const MAX_JSON_DEPTH = 8;

function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_JSON_DEPTH) return depth;
  if (value === null || typeof value !== 'object') return depth;
  let deepest = depth + 1;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child, depth + 1));
  return deepest;
}

/** Parses a WebSocket body into a JSON object, within size and nesting limits. */
export function parseFrame(body: string | undefined | null): Record<string, unknown> {
  if (body === undefined || body === null || body === '') throw new InvalidJsonError('frame is empty');
  if (Buffer.byteLength(body, 'utf8') > MAX_FRAME_BYTES) {
    throw new PayloadTooLargeError(`frame exceeds ${MAX_FRAME_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new InvalidJsonError('frame is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidJsonError('frame must be a JSON object');
  }
  if (depthOf(value) > MAX_JSON_DEPTH) throw new ValidationError(`frame nests deeper than ${MAX_JSON_DEPTH} levels`);
  return value as Record<string, unknown>;
}
