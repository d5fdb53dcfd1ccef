import { z } from 'zod';
import { hasControlCharacters, hasLoneSurrogate } from './text.js';

/** User ids: Cognito subs, usernames, seed 004's ids. No separators we use in keys (`#`). */
export const userIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.@:+-]+$/, 'may contain only letters, digits and _ . @ : + -');

export const userNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine((name) => !hasControlCharacters(name), 'must not contain control characters')
  .refine((name) => !hasLoneSurrogate(name), 'must be valid Unicode');

/** Who a connection is, fixed by the authorizer at $connect and never taken from a message body. */
export interface Identity {
  userId: string;
  userName: string;
}

/**
 * Reads the identity the authorizer attached to the request. API Gateway stringifies context
 * values, so everything arrives as strings.
 */
export function identityFromAuthorizer(authorizer: unknown): Identity | undefined {
  if (!authorizer || typeof authorizer !== 'object') return undefined;
  const context = authorizer as Record<string, unknown>;
  // HTTP API simple-response authorizers nest their context under `lambda`.
  const source = (context.lambda && typeof context.lambda === 'object' ? context.lambda : context) as Record<
    string,
    unknown
  >;
  const userId = source.userId;
  if (typeof userId !== 'string' || userId === '') return undefined;
  const userName = typeof source.userName === 'string' && source.userName !== '' ? source.userName : userId;
  return { userId, userName };
}
