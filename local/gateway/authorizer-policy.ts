import { isRecord } from './gateway-support.js';

/**
 * The authorizer answered with something API Gateway cannot use (no policy, a context value that is
 * an object). API Gateway answers 500 in that case, and so do the local gateways.
 */
export class AuthorizerConfigurationError extends Error {
  override readonly name = 'AuthorizerConfigurationError';
}

/** What an IAM-policy authorizer answered, once validated. */
export interface PolicyAuthorizerResult {
  principalId: string;
  allowed: boolean;
  context: Record<string, string | number | boolean>;
}

/**
 * Validates an IAM-policy authorizer response and decides it against `methodArn`: an explicit
 * matching Deny wins, otherwise a matching Allow is needed (IAM's default-deny).
 */
export function evaluatePolicyResult(result: unknown, methodArn: string): PolicyAuthorizerResult {
  if (!isRecord(result) || !isRecord(result.policyDocument)) {
    throw new AuthorizerConfigurationError('authorizer response has no policyDocument');
  }
  const statements = toArray(result.policyDocument.Statement);
  let allowed = false;
  for (const statement of statements) {
    if (!isRecord(statement)) continue;
    if (!toStrings(statement.Action).some((action) => globMatches(action.toLowerCase(), 'execute-api:invoke'))) {
      continue;
    }
    if (!toStrings(statement.Resource).some((resource) => globMatches(resource, methodArn))) continue;
    if (statement.Effect === 'Deny') return { principalId: principalOf(result), allowed: false, context: {} };
    if (statement.Effect === 'Allow') allowed = true;
  }
  return { principalId: principalOf(result), allowed, context: primitiveContext(result.context) };
}

/**
 * The authorizer context as API Gateway passes it on: only string, number and boolean values are
 * accepted (anything else fails the authorizer with a 500).
 */
export function primitiveContext(context: unknown): Record<string, string | number | boolean> {
  if (context === undefined || context === null) return {};
  if (!isRecord(context)) throw new AuthorizerConfigurationError('authorizer context must be an object');
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(context)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      out[key] = value;
    } else if (value !== null && value !== undefined) {
      throw new AuthorizerConfigurationError(`authorizer context value "${key}" is not a string, number or boolean`);
    }
  }
  return out;
}

function principalOf(result: Record<string, unknown>): string {
  return typeof result.principalId === 'string' ? result.principalId : String(result.principalId ?? '');
}

function toArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function toStrings(value: unknown): string[] {
  return toArray(value).filter((v): v is string => typeof v === 'string');
}

/** IAM-style wildcard match: `*` is any run of characters, `?` exactly one. */
export function globMatches(pattern: string, value: string): boolean {
  const source = pattern
    .split('')
    .map((ch) => {
      if (ch === '*') return '.*';
      if (ch === '?') return '.';
      return ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`, 's').test(value);
}
