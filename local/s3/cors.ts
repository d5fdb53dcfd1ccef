import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './errors.js';

/** One rule of a bucket's CorsConfiguration, as the template writes it. */
export interface CorsRule {
  AllowedOrigins: string[];
  AllowedMethods: string[];
  AllowedHeaders?: string[];
  ExposedHeaders?: string[];
  MaxAge?: number;
}

/** S3 CORS wildcards: one `*` anywhere in an origin or header name. */
const matches = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(value);

function ruleFor(rules: CorsRule[], origin: string, method: string, requestHeaders: string[]) {
  return rules.find(
    (rule) =>
      rule.AllowedOrigins.some((allowed) => matches(allowed, origin)) &&
      rule.AllowedMethods.includes(method) &&
      requestHeaders.every((header) => (rule.AllowedHeaders ?? []).some((allowed) => matches(allowed, header))),
  );
}

/** The answer to a preflight (OPTIONS), as S3 evaluates the bucket's rules; refused with S3's 403. */
export function preflight(rules: CorsRule[], headers: IncomingHttpHeaders): Record<string, string> {
  const origin = typeof headers.origin === 'string' ? headers.origin : undefined;
  const method = headers['access-control-request-method'];
  if (!origin || typeof method !== 'string') {
    throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.', 400);
  }
  const requested = String(headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const rule = ruleFor(rules, origin, method, requested);
  if (!rule) {
    throw new S3Error(
      'AccessForbidden',
      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
      403,
      { Method: method, ResourceType: 'OBJECT' },
    );
  }
  return {
    'access-control-allow-origin': rule.AllowedOrigins.includes('*') ? '*' : origin,
    'access-control-allow-methods': rule.AllowedMethods.join(', '),
    ...(requested.length > 0 ? { 'access-control-allow-headers': requested.join(', ') } : {}),
    ...(rule.MaxAge !== undefined ? { 'access-control-max-age': String(rule.MaxAge) } : {}),
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
}

/** CORS headers on an actual request from `origin`, when a rule allows it (none otherwise, as S3 does). */
export function corsHeaders(rules: CorsRule[], origin: string | undefined, method: string): Record<string, string> {
  if (!origin) return {};
  const rule = ruleFor(rules, origin, method === 'HEAD' ? 'GET' : method, []);
  if (!rule) return {};
  return {
    'access-control-allow-origin': rule.AllowedOrigins.includes('*') ? '*' : origin,
    ...(rule.ExposedHeaders ? { 'access-control-expose-headers': rule.ExposedHeaders.join(', ') } : {}),
    vary: 'Origin',
  };
}
